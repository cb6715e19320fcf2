"""The one application error type. Services raise it; views and the API turn it into a response
of one shape: {"error": {"code", "message", "fields", "request_id"}}."""

from typing import Any

from django.utils.translation import gettext_lazy as _

FieldErrors = dict[str, list[str]]


class AppError(Exception):
    status = 400
    code = "bad_request"
    default_message: Any = _("The request could not be processed.")

    def __init__(
        self,
        message: Any = None,
        *,
        code: str | None = None,
        fields: FieldErrors | None = None,
        status: int | None = None,
    ) -> None:
        self.message = str(message if message is not None else self.default_message)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.fields: FieldErrors = fields or {}
        super().__init__(self.message)


class ValidationFailed(AppError):
    status = 422
    code = "validation_error"
    default_message = _("Some fields are not valid.")

    @classmethod
    def field(cls, name: str, message: Any) -> "ValidationFailed":
        return cls(fields={name: [str(message)]})


class NotFound(AppError):
    status = 404
    code = "not_found"
    default_message = _("Not found.")


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    default_message = _("You do not have permission to do this.")


class Conflict(AppError):
    status = 409
    code = "conflict"
    default_message = _("The object changed in the meantime.")
