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
