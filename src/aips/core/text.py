"""The one input-sanitation rule for text (R57.28.4): no NUL and no lone UTF-16 surrogate reaches
a service or the database. PostgreSQL refuses NUL in text columns, and a lone surrogate
(a JSON string like "\\ud800") cannot be encoded as UTF-8, so either would otherwise surface as a
5xx deep inside a write or when a page renders the value. Every entry point (the API's body
parser, query and path parameters, the signal batch decoder) asks this module, and refuses the
value with a field error naming where it was found."""

import re
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext_lazy as _

# NUL, and any code point in the surrogate range: in a Python str these only appear as lone
# surrogates (JSON "\ud800" decodes to one), because a valid pair decodes to one code point.
_UNSAFE = re.compile("[\x00\ud800-\udfff]")

NUL_MESSAGE = _("Text may not contain the NUL character (\\u0000).")
SURROGATE_MESSAGE = _("Text may not contain an unpaired UTF-16 surrogate (\\ud800–\\udfff).")


def unsafe_text_message(value: str) -> str | None:
    """The reason `value` is refused, or None when it is safe to store."""
    found = _UNSAFE.search(value)
    if found is None:
        return None
    return str(NUL_MESSAGE if found.group() == "\x00" else SURROGATE_MESSAGE)


def find_unsafe_text(data: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (field path, message) for unsafe strings anywhere in decoded JSON `data`: keys and
    values of objects, items of arrays. Paths read like `indicators.2.value`."""
    if isinstance(data, str):
        message = unsafe_text_message(data)
        if message is not None:
            yield (path or "__all__", message)
    elif isinstance(data, dict):
        for key, value in data.items():
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and unsafe_text_message(key) is not None:
                # A key cannot be named safely in a message; report it at the parent.
                yield (path or "__all__", str(unsafe_text_message(key)))
                continue
            yield from find_unsafe_text(value, name)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from find_unsafe_text(value, f"{path}.{index}" if path else str(index))
