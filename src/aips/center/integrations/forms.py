from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aips.center.integrations.ca import MAX_CSR_LENGTH
from aips.center.integrations.models import ModuleKind
from aips.center.integrations.selectors import HEALTH_CHOICES


class ModuleForm(forms.Form):
    organization = forms.TypedChoiceField(label=_("Organization"), coerce=int)
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Unique within the organization, e.g. “agent-dc1”."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=ModuleKind.choices)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Where it runs and which systems feed it."),
    )

    def __init__(self, *args: Any, organizations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = organizations  # type: ignore[attr-defined]


class ModuleUpdateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class CertificateForm(forms.Form):
    csr = forms.CharField(
        label=_("Certificate signing request (PEM, optional)"),
        required=False,
        max_length=MAX_CSR_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text=_(
            "Paste the module's CSR to keep its private key on the module. Leave empty and AIPS "
            "generates a key pair: the file with the key downloads once and is not kept."
        ),
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FilterForm(forms.Form):
    organization = forms.TypedChoiceField(
        label=_("Organization"), coerce=int, required=False, empty_value=None
    )
    state = forms.ChoiceField(
        label=_("Health"), choices=[("", "—"), *HEALTH_CHOICES], required=False
    )

    def __init__(self, *args: Any, organizations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = [("", "—"), *organizations]  # type: ignore[attr-defined]
