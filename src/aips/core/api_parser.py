"""The API's entry for request data (R57.28.4): every JSON body, query string, form field and
uploaded file name passes here before a schema or a service sees it.

- Size: Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE before reading it
  (RequestDataTooBig); `api_errors` answers that 413. Multipart uploads are limited by
  `aips.core.uploads.LimitedUploadHandler` the same way, before the parts are parsed.
- Encoding and depth: a body must be UTF-8 JSON nested at most MAX_JSON_DEPTH deep. The C
  decoder stops by itself at the interpreter's recursion limit (a body of 100,000 `[` is refused
  after about 1,000), and an iterative walk refuses anything deeper than MAX_JSON_DEPTH before
  the text rule (whose walk recurses) or a schema sees it. NaN and Infinity (not JSON) are
  refused.
- Text: `aips.core.text`, the one rule for NUL and lone surrogates, applied to every string of
  the body, query and form, and to uploaded file names.
- Shape of the query: a repeated key or `name[]`/`name[key]` reaches the schema as a list or an
  object, so a scalar parameter refuses it with a field error instead of silently taking one
  value.

Refusals raised here carry their own status; `api_errors` unwraps them from the 400 that
django-ninja puts around any parser exception."""

import functools
import json
import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja.parser import Parser

from aips.core.errors import AppError, FieldErrors, ValidationFailed
from aips.core.text import find_unsafe_text, unsafe_text_message

# The deepest legitimate body (an alert's affected products with their versions) is 3 levels.
MAX_JSON_DEPTH = 32
# \u0000 and \ud800–\udfff as JSON escapes (a valid pair also matches; the walk then decides).
_UNSAFE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89abcdefABCDEF][0-9a-fA-F]{2})")
_BRACKETED_KEY = re.compile(r"([^\[\]]+)\[([^\[\]]*)\]")


class BadJson(AppError):
    status = 400
    code = "bad_request"


def too_deep(data: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether decoded JSON nests arrays and objects more than `limit` deep. Level by level, so
    it cannot itself run out of stack."""
    level = [data] if isinstance(data, dict | list) else []
    depth = 1
    while level:
        if depth > limit:
            return True
        below = []
        for value in level:
            for child in value.values() if isinstance(value, dict) else value:
                if isinstance(child, dict | list):
                    below.append(child)
        level = below
        depth += 1
    return False


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def _too_deep_error() -> ValidationFailed:
    return ValidationFailed.field(
        "__all__", _("JSON may nest at most %(n)d levels deep.") % {"n": MAX_JSON_DEPTH}
    )


def parse_json(body: bytes) -> Any:
    """Decode a request body by the rules above; raises AppError (400 or 422)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadJson(_("The request body must be JSON encoded as UTF-8.")) from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        # The C decoder counts its nesting against the interpreter's recursion limit and stops
        # cleanly there (about 1,000 levels), long before the stack could overflow.
        raise _too_deep_error() from None
    except ValueError:
        raise BadJson(_("The request body is not valid JSON.")) from None
    # Both walks are skipped when the text shows they cannot find anything, as for nearly every
    # real body: few brackets, and no escape that decodes to NUL or a surrogate (raw NUL is not
    # valid JSON, and valid UTF-8 cannot carry a surrogate).
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and too_deep(data):
        raise _too_deep_error()
    if _UNSAFE_ESCAPE.search(text):
        fields: FieldErrors = {}
        for path, message in find_unsafe_text(data):
            fields.setdefault(path, []).append(message)
        if fields:
            raise ValidationFailed(fields=fields)
    return data


class AipsParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        return parse_json(request.body)

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        fields: FieldErrors = {}
        for key in data:
            values = data.getlist(key)
            name, value = key, values if key in list_fields or len(values) > 1 else values[0]
            bracketed = _BRACKETED_KEY.fullmatch(key)
            if bracketed:
                # `status[]=x` or `status[a]=x`: an array or object where the schema decides.
                name, inner = bracketed.groups()
                value = values if not inner else {inner: values[-1]}
            for item in values:
                text = getattr(item, "name", item)  # an uploaded file is checked by its name
                message = unsafe_text_message(text) if isinstance(text, str) else None
                if message is not None:
                    fields.setdefault(name, []).append(message)
            result[name] = value
        if fields:
            raise ValidationFailed(fields=fields)
        return result


def refuse_unsafe_path_text(view: Callable[..., Any]) -> Callable[..., Any]:
    """The text rule for path parameters (`/signals/indicators/{value}`, transition names):
    applied to every operation by `api.add_decorator`, after the parameters are decoded and
    before the view runs."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        fields: FieldErrors = {}
        for name, value in kwargs.items():
            message = unsafe_text_message(value) if isinstance(value, str) else None
            if message is not None:
                fields[name] = [message]
        if fields:
            raise ValidationFailed(fields=fields)
        return view(request, *args, **kwargs)

    return checked
