"""Kazakhstan identifiers. No maintained package checks IIN/BIN, so the check digit is ours:
the official algorithm weighs the first 11 digits 1..11 (mod 11); a result of 10 triggers a second
pass with weights 3..11,1,2; a second 10 means the number cannot be valid."""

from typing import Annotated

import phonenumbers
from django.utils.translation import gettext as _
from pydantic import Field

# A BIN in an API request (R57.28.4): the schema says "12 digits", which is all a pattern can say;
# the check digit is written in the description and refused by `bin_error` as a field error.
BIN_PATTERN = r"^[0-9]{12}$"
BinText = Annotated[
    str,
    Field(
        json_schema_extra={
            "pattern": BIN_PATTERN,
            "description": "12 digits; the last is the BIN check digit (mod 11).",
        }
    ),
]

_FIRST_WEIGHTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def bin_check_digit(first11: str) -> int | None:
    digits = [int(c) for c in first11]
    check = sum(d * w for d, w in zip(digits, _FIRST_WEIGHTS, strict=True)) % 11
    if check == 10:
        check = sum(d * w for d, w in zip(digits, _SECOND_WEIGHTS, strict=True)) % 11
        if check == 10:
            return None
    return check


def bin_error(value: str) -> str | None:
    """Why `value` is not a valid BIN/IIN, or None if it is."""
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        return _("A BIN has exactly 12 digits.")
    expected = bin_check_digit(value[:11])
    if expected is None or expected != int(value[11]):
        return _("This BIN's check digit is wrong; check the number for a typo.")
    return None


def normalize_phone(raw: str) -> str:
    """A phone in E.164; Kazakhstan numbers may be written locally (8 701 123 45 67).

    Raises ValueError with a user-facing message."""
    text = raw.strip()
    if not text:
        raise ValueError(_("Enter a phone number."))
    try:
        number = phonenumbers.parse(text, "KZ")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(_("“%(value)s” is not a phone number.") % {"value": text}) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(_("“%(value)s” is not a valid phone number.") % {"value": text})
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalize_phones(raw: list[str]) -> list[str]:
    """Normalized, de-duplicated, order kept; the first bad one raises ValueError."""
    out: list[str] = []
    for item in raw:
        if not item.strip():
            continue
        phone = normalize_phone(item)
        if phone not in out:
            out.append(phone)
    return out
