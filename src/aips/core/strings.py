"""Text fields that a service requires (R57.28.4). The services strip a value and refuse an empty
one with their own translated field error; the schema says the same, so a client (or the API
fuzz test) that follows the schema is not refused: at least one character that is not white
space (Python's `str.strip` also strips the separators U+001C–U+001F). NUL and lone surrogates
are refused in every text (`aips.core.text`), which the API description states once."""

from typing import Annotated

from pydantic import Field

# At least one character that `str.strip()` keeps. Unanchored, as JSON Schema patterns are.
VISIBLE = r"[^\s\x1c-\x1f]"

RequiredText = Annotated[str, Field(json_schema_extra={"minLength": 1, "pattern": VISIBLE})]

# An e-mail address (`Fields.email`: Django's validate_email, at most EMAIL_MAX characters, the
# length of Django's EmailField column).
EMAIL_MAX = 254
EmailText = Annotated[str, Field(json_schema_extra={"format": "email", "maxLength": EMAIL_MAX})]
