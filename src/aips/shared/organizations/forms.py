from django import forms
from django.utils.translation import gettext_lazy as _

from aips.shared.organizations.models import Organization, OrganizationKind, OrganizationStatus


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
    # The strong identification policy (R57.9, R57.10, R57.11): the labels and help texts are the
    # model fields' own.
    strong_auth_required = forms.BooleanField(
        label=Organization._meta.get_field("strong_auth_required").verbose_name,
        help_text=Organization._meta.get_field("strong_auth_required").help_text,
        required=False,
    )
    eds_approvals_required = forms.BooleanField(
        label=Organization._meta.get_field("eds_approvals_required").verbose_name,
        help_text=Organization._meta.get_field("eds_approvals_required").help_text,
        required=False,
    )
    eds_password_change_allowed = forms.BooleanField(
        label=Organization._meta.get_field("eds_password_change_allowed").verbose_name,
        help_text=Organization._meta.get_field("eds_password_change_allowed").help_text,
        required=False,
    )
