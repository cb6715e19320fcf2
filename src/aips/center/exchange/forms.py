from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aips.center.exchange.parsing import MAX_BYTES


class ImportForm(forms.Form):
    FORMATS = [("stix", _("STIX 2.1 bundle")), ("misp", _("MISP event"))]

    format = forms.ChoiceField(label=_("Format"), choices=FORMATS, initial="stix")
    file = forms.FileField(
        label=_("File"),
        help_text=_("A STIX 2.1 bundle or a MISP event exported as JSON (.json)."),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size is not None and upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(n)d MB."), params={"n": MAX_BYTES // 2**20}
            )
        return upload


class PartnerSourceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    api_root_url = forms.CharField(
        label=_("API root URL"),
        max_length=500,
        help_text=_(
            "The partner's TAXII 2.1 API root, e.g. https://cti.partner.kz/taxii2/api1/. Its "
            "host must be on the server's allow-list (AIPS_TAXII_PARTNER_HOSTS)."
        ),
    )
    collection_id = forms.CharField(label=_("Collection id"), max_length=100)
    username = forms.CharField(
        label=_("User name"),
        max_length=200,
        required=False,
        help_text=_(
            "With a user name the credential is sent as HTTP Basic, else as a Bearer token."
        ),
    )
    credential = forms.CharField(
        label=_("Password or token"),
        max_length=4000,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Kept encrypted and never shown again; leave empty to keep the stored one."),
    )
    poll_minutes = forms.IntegerField(
        label=_("Poll interval, minutes"), min_value=5, max_value=7 * 24 * 60, initial=60
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
