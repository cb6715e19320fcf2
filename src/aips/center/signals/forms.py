"""Forms of the signal explorer and of the center's decisions on correlation findings."""

from datetime import datetime, timedelta
from typing import Any, cast

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aips.center.signals.models import KIND_CHOICES, FindingState

# Preset periods of the explorer: the histogram covers 24 hours or 7 days.
PERIODS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
PERIOD_CHOICES = [
    ("", _("All online")),
    ("1h", _("Last hour")),
    ("24h", _("Last 24 hours")),
    ("7d", _("Last 7 days")),
    ("custom", _("From / to")),
]


class SignalFilterForm(forms.Form):
    organization = forms.TypedChoiceField(
        label=_("Organization"), required=False, coerce=int, empty_value=None
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES, required=False)
    since = forms.DateTimeField(
        label=_("From"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    until = forms.DateTimeField(
        label=_("To"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    indicator = forms.CharField(
        label=_("Indicator"),
        required=False,
        max_length=512,
        help_text=_("An IP address, a file hash, a sender address, a domain or a URL"),
    )

    def __init__(self, *args: Any, organizations: list[tuple[int, str]] | None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["kind"]).choices = [("", _("All kinds")), *KIND_CHOICES]
        if organizations is None:
            # An organization sees only its own signals: nothing to choose.
            del self.fields["organization"]
        else:
            cast(forms.ChoiceField, self.fields["organization"]).choices = [
                ("", _("All organizations")),
                *organizations,
            ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since >= until:
            self.add_error("until", _("The end must be after the start."))
        return data

    def window(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        """The period asked for: a preset counts back from now; otherwise the dates given
        (none: everything still online, newest first)."""
        period = self.cleaned_data.get("period") or ""
        if period in PERIODS:
            return now - PERIODS[period], None
        return self.cleaned_data.get("since"), self.cleaned_data.get("until")


class FindingFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["state"]).choices = [
            ("", _("All")),
            *FindingState.choices,
        ]


class DismissForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    # Dismissing cannot be undone: the page asks for the same confirmation as the items'
    # irreversible workflow steps (workflow/_confirm.html).
    confirm = forms.BooleanField(label=_("I confirm: this cannot be undone."), required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Built per form, in the reader's language (a lazy text would be formatted at import).
        self.fields["confirm"].error_messages["required"] = gettext(
            "“%(action)s” cannot be undone: tick “I confirm” and press the button again."
        ) % {"action": gettext("Dismiss")}
