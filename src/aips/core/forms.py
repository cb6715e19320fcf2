from django import forms

from aips.core.errors import ValidationFailed


def apply_errors(form: forms.Form, exc: ValidationFailed) -> None:
    """Show a service's field errors next to the fields they belong to."""
    for name, messages in exc.fields.items():
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)
    if not exc.fields:
        form.add_error(None, exc.message)


class PhonesField(forms.CharField):
    """One phone per line in the form; a list of strings for the service, which normalizes."""

    widget = forms.Textarea(attrs={"rows": 2})

    def to_python(self, value: object) -> list[str]:  # type: ignore[override]
        text = super().to_python(value)
        return [line.strip() for line in str(text).replace(",", "\n").splitlines() if line.strip()]

    def prepare_value(self, value: object) -> object:
        if isinstance(value, list):
            return "\n".join(str(v) for v in value)
        return value
