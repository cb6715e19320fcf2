from django import forms
from django.utils.translation import gettext_lazy as _

from aips.shared.accounts.forms import EdsField


class RegistrationForm(forms.Form):
    """E-mail, phone and password; the EDS signature of the page's challenge says who registers."""

    email = forms.EmailField(
        label=_("E-mail"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    password_confirm = forms.CharField(
        label=_("Password again"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    eds_cms = EdsField()

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_confirm"):
            self.add_error("password_confirm", _("The two passwords differ."))
        return data


class ProfileForm(forms.Form):
    phone = forms.CharField(label=_("Registered phone"), max_length=32)
    address = forms.CharField(label=_("Postal address"), max_length=500, required=False)
    iban = forms.CharField(
        label=_("IBAN for deposit refunds"),
        max_length=40,
        required=False,
        help_text=_("KZ and 18 more characters, for example KZ86125KZT5004100100."),
    )
    bic = forms.CharField(label=_("Bank BIC"), max_length=11, required=False)


class BiometricRegistrationForm(forms.Form):
    """An individual's registration by biometrics: the IIN the provider checks the face against,
    and how to reach the person; the password comes after the check, with the invitation link."""

    iin = forms.CharField(
        label=_("IIN"), max_length=12, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    surname = forms.CharField(label=_("Surname"), max_length=150)
    given_name = forms.CharField(label=_("Given name"), max_length=150)
    email = forms.EmailField(
        label=_("E-mail"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
