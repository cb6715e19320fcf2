from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aips.center.incidents.models import CardState, IncidentKind
from aips.core.numbers import form_bounds
from aips.core.tlp import Tlp


class LinesField(forms.CharField):
    """One value per line in the form; a list of strings for the service, which validates."""

    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value: object) -> list[str]:  # type: ignore[override]
        text = super().to_python(value)
        return [line.strip() for line in str(text).splitlines() if line.strip()]

    def prepare_value(self, value: object) -> object:
        if isinstance(value, list):
            return "\n".join(v["value"] if isinstance(v, dict) else str(v) for v in value)
        return value


# Seconds kept: a card made through the API must not change when edited in the browser.
_DT = forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S")


class IncidentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type of incident (R67.12)"), choices=IncidentKind.choices)
    title = forms.CharField(label=_("Title"), max_length=300)
    tlp = forms.ChoiceField(label=_("Confidentiality (TLP)"), choices=Tlp.choices)
    detected_at = forms.DateTimeField(label=_("Detected at"), widget=_DT)
    started_at = forms.DateTimeField(label=_("Started at"), widget=_DT)
    ended_at = forms.DateTimeField(label=_("Ended at"), widget=_DT, required=False)
    affected_systems = forms.CharField(
        label=_("Affected systems"), widget=forms.Textarea(attrs={"rows": 3})
    )
    downtime_minutes = forms.IntegerField(
        label=_("Downtime, minutes"),
        **form_bounds("count"),
        required=False,
        help_text=_("Required for “other IS incident”: more than 60."),
    )
    transfers_count = forms.IntegerField(
        label=_("Unsanctioned transfers, count"),
        **form_bounds("count"),
        required=False,
        help_text=_("Required for unsanctioned transfers of money."),
    )
    transfers_amount_kzt = forms.DecimalField(
        label=_("Unsanctioned transfers, total in KZT"),
        **form_bounds("kzt"),
        required=False,
        help_text=_("Required for unsanctioned transfers of money."),
    )
    cve_ids = LinesField(
        label=_("Exploited vulnerabilities (CVE ids)"),
        required=False,
        help_text=_(
            "One per line, for example CVE-2024-3400. For exploitation of vulnerabilities."
        ),
    )
    attack_source = forms.CharField(
        label=_("Attack source"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    attack_vector = forms.CharField(
        label=_("Attack vector"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    indicators = LinesField(
        label=_("Indicators of compromise"),
        required=False,
        help_text=_(
            "One per line: IP addresses, domains, URLs, MD5/SHA-1/SHA-256 hashes, e-mail addresses."
        ),
    )
    impact = forms.CharField(label=_("Impact"), widget=forms.Textarea(attrs={"rows": 3}))
    measures = forms.CharField(label=_("Measures taken"), widget=forms.Textarea(attrs={"rows": 3}))


class TransitionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}))
    internal = forms.BooleanField(label=_("Internal note (the center only)"), required=False)

    def __init__(self, *args: Any, center: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not center:
            del self.fields["internal"]


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))


class FilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Type"), choices=[("", "—"), *IncidentKind.choices], required=False
    )
    state = forms.ChoiceField(
        label=_("Status"), choices=[("", "—"), *CardState.choices], required=False
    )
    organization = forms.TypedChoiceField(
        label=_("Organization"), coerce=int, required=False, empty_value=None
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args: Any, organizations: list[tuple[int, str]] | None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if organizations is None:
            del self.fields["organization"]
        else:
            self.fields["organization"].choices = [("", "—"), *organizations]  # type: ignore[attr-defined]
