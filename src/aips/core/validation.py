"""Collects field errors so a service reports every bad field at once, as one ValidationFailed."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from aips.core.errors import FieldErrors, ValidationFailed
from aips.core.strings import EMAIL_MAX


class Fields:
    def __init__(self) -> None:
        self.errors: FieldErrors = {}

    def add(self, name: str, message: Any) -> None:
        self.errors.setdefault(name, []).append(str(message))

    def required_text(self, name: str, value: str, *, max_length: int) -> str:
        text = (value or "").strip()
        if not text:
            self.add(name, _("This field is required."))
        elif len(text) > max_length:
            self.add(name, _("At most %(n)d characters.") % {"n": max_length})
        return text

    def optional_text(self, name: str, value: str | None, *, max_length: int) -> str:
        text = (value or "").strip()
        if len(text) > max_length:
            self.add(name, _("At most %(n)d characters.") % {"n": max_length})
        return text

    def email(self, name: str, value: str) -> str:
        text = (value or "").strip().lower()
        if not text:
            self.add(name, _("This field is required."))
            return text
        if len(text) > EMAIL_MAX:
            # validate_email takes 320 characters; the EmailField column holds 254.
            self.add(name, _("At most %(n)d characters.") % {"n": EMAIL_MAX})
            return text
        try:
            validate_email(text)
        except ValidationError:
            self.add(name, _("Enter a valid e-mail address."))
        return text

    def choice(self, name: str, value: str, choices: Any) -> str:
        if value not in choices.values:
            self.add(name, _("“%(value)s” is not one of the allowed values.") % {"value": value})
        return value

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(fields=self.errors)
