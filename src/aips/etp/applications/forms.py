from django import forms
from django.utils.translation import gettext_lazy as _

_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ProcedureForm(forms.Form):
    application_deadline = forms.DateTimeField(label=_("Applications until"), widget=_LOCAL)
    auction_start = forms.DateTimeField(label=_("Auction starts"), widget=_LOCAL)


class ApplyForm(forms.Form):
    moment = forms.DateTimeField(widget=forms.HiddenInput)
    eds_signature = forms.CharField(widget=forms.HiddenInput, required=False)


class StatementForm(forms.Form):
    file = forms.FileField(label=_("Bank statement (CSV or MT940)"))
