from django import forms
from django.utils.translation import gettext_lazy as _

from aips.shared.biometrics.fake import SCENARIOS


class IinForm(forms.Form):
    iin = forms.CharField(
        label=_("IIN"),
        min_length=12,
        max_length=12,
        help_text=_("Your 12-digit individual identification number."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class ScenarioForm(forms.Form):
    scenario = forms.ChoiceField(choices=[(str(k), v.label) for k, v in SCENARIOS.items()])
