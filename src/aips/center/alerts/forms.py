from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aips.center.alerts.importers import MAX_BYTES
from aips.center.alerts.models import AlertKind, AlertState, ThreatLevel
from aips.core.tlp import Tlp

# The largest advisory file the import page reads (CSAF documents of big vendors run to a few MB).
# The importer's own limit; it refuses a bigger file with the file's real size.
IMPORT_MAX_BYTES = MAX_BYTES


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


class AffectedField(forms.CharField):
    """Affected products, one per line: "vendor | product | versions | cpe" (versions separated
    by commas; only the product is required). A list of dicts for the service."""

    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value: object) -> list[dict[str, Any]]:  # type: ignore[override]
        text = super().to_python(value)
        items: list[dict[str, Any]] = []
        for line in str(text).splitlines():
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) > 4:
                raise forms.ValidationError(
                    _("“%(line)s”: at most four parts separated by “|”."),
                    params={"line": line.strip()[:100]},
                )
            vendor, product, versions, cpe = [*parts, "", "", ""][:4]
            if len(parts) == 1:  # a bare product name
                vendor, product = "", parts[0]
            items.append(
                {
                    "vendor": vendor,
                    "product": product,
                    "versions": [v.strip() for v in versions.split(",") if v.strip()],
                    "cpe": cpe,
                }
            )
        return items

    def prepare_value(self, value: object) -> object:
        if isinstance(value, list):
            return "\n".join(
                " | ".join(
                    [
                        str(item.get("vendor") or ""),
                        str(item.get("product") or ""),
                        ", ".join(str(v) for v in item.get("versions") or []),
                        str(item.get("cpe") or ""),
                    ]
                ).rstrip(" |")
                for item in value
                if isinstance(item, dict)
            )
        return value


_DT = forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S")

COMMON_FIELDS = (
    "kind",
    "title",
    "source",
    "level",
    "tlp",
    "description",
    "recommendations",
    "indicators",
    "valid_until",
    "anonymous",
)
THREAT_FIELDS = ("threat_type_id",)
VULNERABILITY_FIELDS = ("cve_ids", "cvss_vector", "affected", "references", "known_exploited")


class AlertForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of alert"), choices=AlertKind.choices)
    title = forms.CharField(label=_("Title"), max_length=300)
    source = forms.CharField(
        label=_("Source"),
        max_length=300,
        help_text=_("Where the information comes from: a vendor, a CERT, our own analysis."),
    )
    level = forms.ChoiceField(label=_("Threat level"), choices=ThreatLevel.choices)
    tlp = forms.ChoiceField(
        label=_("Confidentiality (TLP)"),
        choices=Tlp.choices,
        help_text=_(
            "TLP:CLEAR and TLP:GREEN go to every active organization; TLP:AMBER, "
            "TLP:AMBER+STRICT and TLP:RED only to the organizations the center chooses. In those "
            "organizations, TLP:AMBER+STRICT and TLP:RED content is shown only to the IS-unit "
            "heads and responsible employees they have when the alert is published."
        ),
    )
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}))
    recommendations = forms.CharField(
        label=_("Recommendations"), widget=forms.Textarea(attrs={"rows": 4})
    )
    indicators = LinesField(
        label=_("Indicators of compromise"),
        required=False,
        help_text=_(
            "One per line: IP addresses, domains, URLs, MD5/SHA-1/SHA-256 hashes, e-mail addresses."
        ),
    )
    valid_until = forms.DateTimeField(label=_("Valid until"), widget=_DT, required=False)
    anonymous = forms.BooleanField(
        label=_("Publish without naming our organization"),
        required=False,
        help_text=_("The center publishes the alert as its own."),
    )
    # Threat alerts (R67.3.3).
    threat_type_id = forms.TypedChoiceField(
        label=_("Threat type"), coerce=int, required=False, empty_value=None
    )
    # Vulnerability alerts (R67.3.5).
    cve_ids = LinesField(
        label=_("CVE ids"), required=False, help_text=_("One per line, for example CVE-2024-3400.")
    )
    cvss_vector = forms.CharField(
        label=_("CVSS vector"),
        max_length=200,
        required=False,
        help_text=_(
            "CVSS v3.1 or v4.0, for example CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H; "
            "the score is computed from it."
        ),
    )
    affected = AffectedField(
        label=_("Affected products"),
        required=False,
        help_text=_(
            "One per line: vendor | product | versions (comma-separated) | CPE 2.3, for example "
            "“Palo Alto Networks | PAN-OS | 10.2.0, 11.0.0 | cpe:2.3:o:paloaltonetworks:pan-os”."
        ),
    )
    references = LinesField(label=_("References"), required=False, help_text=_("One URL per line."))
    known_exploited = forms.BooleanField(label=_("Known to be exploited"), required=False)

    def __init__(
        self,
        *args: Any,
        threat_types: list[tuple[int, str]],
        center: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["threat_type_id"].choices = [("", "—"), *threat_types]  # type: ignore[attr-defined]
        if center:
            # The center's own alert names no other organization.
            del self.fields["anonymous"]

    def groups(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """(id, legend, fields) for the template: common, threat-only, vulnerability-only."""
        return [
            (
                group,
                str(legend),
                [self[name] for name in names if name in self.fields],
            )
            for group, legend, names in (
                ("common", _("Alert"), COMMON_FIELDS),
                ("threat", _("Threat alert"), THREAT_FIELDS),
                ("vulnerability", _("Vulnerability alert"), VULNERABILITY_FIELDS),
            )
        ]


class _DraftTermsForm(forms.Form):
    """The terms every imported draft starts with: its TLP and, unless the CVSS severity
    decides, its threat level."""

    tlp = forms.ChoiceField(
        label=_("Confidentiality (TLP)"), choices=Tlp.choices, initial=Tlp.AMBER
    )
    level = forms.ChoiceField(
        label=_("Threat level"),
        choices=[("", _("From the CVSS severity")), *ThreatLevel.choices],
        required=False,
    )


class ImportForm(_DraftTermsForm):
    field_order = ["file", "tlp", "level"]
    file = forms.FileField(
        label=_("Advisory file"),
        help_text=_("A CSAF 2.0 advisory or an NVD CVE JSON 2.0 record (.json)."),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        return upload


class CsafBatchForm(_DraftTermsForm):
    """A ROLIE feed or a provider's metadata, as a file or as the URL to fetch it from."""

    field_order = ["file", "url", "tlp", "level"]
    file = forms.FileField(
        label=_("ROLIE feed or provider-metadata.json"),
        help_text=_("The file itself (.json); or give its URL below."),
        required=False,
    )
    url = forms.CharField(
        label=_("Or its URL"),
        help_text=_(
            "An https:// address on a CSAF provider the center has allowed, e.g. "
            "https://www.example.com/.well-known/csaf/provider-metadata.json."
        ),
        required=False,
        max_length=2000,
    )


class TransitionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    organizations = forms.TypedMultipleChoiceField(
        label=_("Receiving organizations"), coerce=int, required=False
    )

    def __init__(
        self, *args: Any, organizations: list[tuple[int, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organizations"].choices = organizations or []  # type: ignore[attr-defined]


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for declining"), widget=forms.Textarea(attrs={"rows": 2})
    )


class FilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", "—"), *AlertKind.choices], required=False
    )
    state = forms.ChoiceField(
        label=_("Status"), choices=[("", "—"), *AlertState.choices], required=False
    )


class ThreatTypeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=64)
    name_en = forms.CharField(label=_("Name in English"), max_length=200)
    name_ru = forms.CharField(label=_("Name in Russian"), max_length=200)
    name_kk = forms.CharField(label=_("Name in Kazakh"), max_length=200)
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)
