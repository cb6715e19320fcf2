"""The journal screen's filter (GET) and the export's format on top of it."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aips.shared.audit.models import EventType

# Times typed into the filter and shown on the screen are Almaty time (the center's clock).
LOCAL_TIME_ZONE = ZoneInfo("Asia/Almaty")


class LocalDateTimeField(forms.DateTimeField):
    """A date-time without an offset is Almaty time, whatever zone the request runs in."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def to_python(self, value: Any) -> datetime | None:
        with timezone.override(LOCAL_TIME_ZONE):
            return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, datetime) and timezone.is_aware(value):
            return value.astimezone(LOCAL_TIME_ZONE)
        return value


class AuditFilterForm(forms.Form):
    actor = forms.CharField(
        label=_("Actor"),
        required=False,
        max_length=254,
        help_text=_("Part of the e-mail address or label of whoever acted."),
    )
    organization = forms.TypedChoiceField(
        label=_("Organization"), required=False, coerce=int, empty_value=None
    )
    event = forms.ChoiceField(label=_("Event"), required=False)
    since = LocalDateTimeField(
        label=_("From"), required=False, help_text=_("Almaty time; entries from this moment.")
    )
    until = LocalDateTimeField(
        label=_("To"), required=False, help_text=_("Almaty time; entries before this moment.")
    )

    def __init__(
        self, *args: Any, organizations: list[tuple[int, str]] | None = None, **kwargs: Any
    ) -> None:
        """`organizations`: the choices for a center user; None removes the field (an
        organization's head sees only its own organization anyway)."""
        super().__init__(*args, **kwargs)
        if organizations is None:
            del self.fields["organization"]
        else:
            self.fields["organization"].choices = [  # type: ignore[attr-defined]
                ("", _("All organizations")),
                *organizations,
            ]
        self.fields["event"].choices = [  # type: ignore[attr-defined]
            ("", _("All events")),
            *EventType.choices,
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since is not None and until is not None and since >= until:
            self.add_error("until", _("“To” must be later than “From”."))
        return data

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for selectors.event_search (call after is_valid())."""
        data = self.cleaned_data
        return {
            "actor_contains": data.get("actor") or "",
            "organization_id": data.get("organization"),
            "event": data.get("event") or "",
            "since": data.get("since"),
            "until": data.get("until"),
        }

    def filters_for_record(self) -> dict[str, Any]:
        """The same filters as JSON-safe values for the audit entry (times in UTC)."""
        record: dict[str, Any] = {}
        for key, value in self.filters().items():
            if value is None or value == "":
                continue
            if isinstance(value, datetime):
                value = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            record[key] = value
        return record


class AuditExportForm(AuditFilterForm):
    format = forms.ChoiceField(
        label=_("Format"),
        required=False,
        choices=[("csv", "CSV"), ("jsonl", "JSON Lines")],
    )

    def export_format(self) -> str:
        return str(self.cleaned_data.get("format") or "csv")
