from django import forms
from django.utils.translation import gettext_lazy as _

from aips.shared.organizations.models import OrganizationKind, OrganizationStatus


class OrganizationForm(forms.Form):
    name = forms.CharField(label=_("Official name"), max_length=255)
    name_kk = forms.CharField(label=_("Name in Kazakh"), max_length=255, required=False)
    name_ru = forms.CharField(label=_("Name in Russian"), max_length=255, required=False)
    name_en = forms.CharField(label=_("Name in English"), max_length=255, required=False)
    bin = forms.CharField(
        label=_("BIN"),
        max_length=12,
        help_text=_("12 digits; the last one is a check digit."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "pattern": "[0-9]{12}"}),
    )
    email = forms.CharField(label=_("E-mail"), max_length=254, widget=forms.EmailInput)
    kind = forms.ChoiceField(label=_("Kind"), choices=OrganizationKind.choices)
    status = forms.ChoiceField(label=_("Status"), choices=OrganizationStatus.choices)
