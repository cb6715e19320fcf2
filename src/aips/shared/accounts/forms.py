from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aips.core.forms import PhonesField
from aips.shared.accounts.identity import CMS_MAX_CHARS
from aips.shared.accounts.models import Language, role_choices


class LoginForm(forms.Form):
    email = forms.CharField(
        label=_("E-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )


class PersonForm(forms.Form):
    surname = forms.CharField(label=_("Surname"), max_length=150)
    given_name = forms.CharField(label=_("Given name"), max_length=150)
    patronymic = forms.CharField(label=_("Patronymic (if any)"), max_length=150, required=False)
    position = forms.CharField(label=_("Position"), max_length=255)
    email = forms.CharField(
        label=_("E-mail"),
        max_length=254,
        widget=forms.EmailInput,
        help_text=_("The e-mail is the login; one person, one account."),
    )
    phones = PhonesField(
        label=_("Contact phones"),
        help_text=_("One per line, for example 8 701 123 45 67 or +7 701 123 45 67."),
    )
    language = forms.ChoiceField(label=_("Preferred language"), choices=Language.choices)
    # The active product's roles, read when the form is built.
    role = forms.ChoiceField(label=_("Role"), choices=role_choices)

    def __init__(self, *args: Any, roles: list[tuple[str, Any]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if roles is not None:
            self.fields["role"].choices = roles  # type: ignore[attr-defined]


class UserForm(PersonForm):
    organization_id = forms.TypedChoiceField(label=_("Organization"), coerce=int)
    is_active = forms.BooleanField(label=_("Account active"), required=False)
    eds_required = forms.BooleanField(
        label=_("Registration with EDS"),
        required=False,
        help_text=_(
            "The person signs with their EDS (through NCALayer) to accept the invitation; the IIN "
            "in the certificate is bound to the account."
        ),
    )

    field_order = ["organization_id"]

    def __init__(
        self,
        *args: Any,
        organizations: list[tuple[int, str]],
        with_active: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization_id"].choices = organizations  # type: ignore[attr-defined]
        if not with_active:
            del self.fields["is_active"]
        else:
            # Editing an account: the invitation (and its EDS requirement) is already out.
            del self.fields["eds_required"]


class RejectForm(forms.Form):
    comment = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=100)
    expires_at = forms.DateTimeField(
        label=_("Expires"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Leave empty for a token that lives until revoked."),
    )


class SetPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=_("At least 12 characters; not a common password."),
    )
    password_again = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


class EdsField(forms.CharField):
    """The base64 CMS that static/aips/ncalayer.js puts in a hidden input."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.HiddenInput)
        kwargs.setdefault("max_length", 2 * CMS_MAX_CHARS)  # PEM armour and line breaks
        super().__init__(**kwargs)


class InvitationForm(SetPasswordForm):
    eds_cms = EdsField()


class EdsForm(forms.Form):
    eds_cms = EdsField(required=True)


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Preferred language"), choices=Language.choices)


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app or a recovery code"),
        max_length=32,
        required=False,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "characters",
                "autofocus": True,
            }
        ),
    )
    webauthn_response = forms.CharField(required=False, widget=forms.HiddenInput)
    eds_cms = EdsField()


class TotpConfirmForm(forms.Form):
    code = forms.CharField(
        label=_("6-digit code from the app"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class ReauthForm(SecondFactorForm):
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "off"})
    )
    field_order = ["password", "code"]


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    new_password = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=_("At least 12 characters; not a common password."),
    )
    new_password_again = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=8,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    webauthn_response = forms.CharField(required=False, widget=forms.HiddenInput)
    # Where the organization allows it, an EDS signature instead of the biometric check (R57.11).
    eds_cms = EdsField()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _("The two passwords differ."))
        return data


class PasswordResetForm(forms.Form):
    email = forms.CharField(
        label=_("E-mail"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )


class NewPasswordForm(SetPasswordForm):
    pass


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
