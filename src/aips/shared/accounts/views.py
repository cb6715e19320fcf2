from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth.signals import user_login_failed
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from aips.core import ratelimit
from aips.core.access import has_perm, public, recently_authenticated, require, safe_local_path
from aips.core.actors import Actor, acting
from aips.core.branding import site_text_lazy
from aips.core.errors import AppError, NotFound, ValidationFailed
from aips.core.forms import apply_errors
from aips.core.listing import clean_query, spec_named
from aips.core.permissions import Perm, active_table
from aips.core.ratelimit import RateLimited
from aips.core.request_context import client_ip
from aips.shared.accounts import identity, selectors, services, sessions
from aips.shared.accounts.forms import (
    EdsForm,
    InvitationForm,
    LanguageForm,
    LoginForm,
    NewPasswordForm,
    PasswordChangeForm,
    PasswordResetForm,
    PersonForm,
    ReasonForm,
    ReauthForm,
    RejectForm,
    SecondFactorForm,
    TokenForm,
    TotpConfirmForm,
    UserForm,
)
from aips.shared.accounts.models import User, UserRequestStatus, role_choices
from aips.shared.biometrics import password as biometric_password
from aips.shared.biometrics import providers as biometric_providers
from aips.shared.biometrics import selectors as biometric_selectors
from aips.shared.biometrics import web as biometric_web
from aips.shared.biometrics.models import Purpose as BiometricPurpose
from aips.shared.eds.types import EdsRefused
from aips.shared.mfa import selectors as mfa_selectors
from aips.shared.mfa import services as mfa_services
from aips.shared.mfa import webauthn
from aips.shared.organizations.selectors import organization_list

RECOVERY_SESSION_KEY = "aips_new_recovery_codes"
RECOVERY_NEXT_KEY = "aips_recovery_next"
LOCKED_MESSAGE = site_text_lazy("locked")

# --- signing in: password, then a second factor (R57.8) ---------------------------------------


def _too_many(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = render(request, "core/429.html", {"status": 429}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


def _safe_next(request: HttpRequest, target: str) -> str:
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _locked_for_signed_in(request: HttpRequest, user: User) -> HttpResponse | None:
    """While the account is locked, a page that takes the password again refuses before checking
    anything: answering a right password differently from a wrong one would let whoever holds the
    session go on guessing through the lock. The session ends, as it does when a
    failure here causes the lock."""
    if not services.is_locked_out(user.email):
        return None
    sessions.sign_out(request)
    return locked_out(request, {"username": user.email})


def _count_failure(request: HttpRequest, email: str) -> None:
    """A failed second factor counts toward lockout exactly like a wrong password (R57.7)."""
    user_login_failed.send(sender=__name__, credentials={"username": email}, request=request)


def locked_out(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """What axes shows once an account or address is locked: one message, no details."""
    credentials = args[-1] if args and isinstance(args[-1], dict) else kwargs.get("credentials")
    email = str((credentials or {}).get("username") or "")
    # Our views and axes' middleware may both end up here for one request: record it once.
    if not getattr(request, "_aips_lockout_recorded", False):
        request._aips_lockout_recorded = True  # type: ignore[attr-defined]
        services.login_locked_out(email=email)
    sessions.drop_preauth(request)
    response = render(
        request,
        "accounts/login.html",
        {
            "form": LoginForm(),
            "next": "",
            "error_message": LOCKED_MESSAGE
            % {"minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)},
        },
        status=429,
    )
    # The whole lock: a client may not retry sooner (the same for a right or wrong password).
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


@public
@never_cache
@sensitive_post_parameters("password")
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request.POST or None)
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next") or "")
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        try:
            ratelimit.hit("login-ip", client_ip(request) or "-", settings.AIPS_AUTH_RATE_IP)
            ratelimit.hit("login-account", email, settings.AIPS_AUTH_RATE_ACCOUNT)
        except RateLimited as exc:
            return _too_many(request, exc)
        user = authenticate(request, username=email, password=form.cleaned_data["password"])
        if getattr(request, "axes_locked_out", False):
            return locked_out(request, {"username": email})
        if isinstance(user, User):
            sessions.start_preauth(request, user, next_url)
            if _has_a_second_factor(user):
                return redirect("accounts:login_verify")
            return redirect("accounts:login_enroll")
        services.login_failed(email=email)
        # One message for every failure, so the form does not reveal which accounts exist.
        form.add_error(None, _("Wrong e-mail or password, or the account is not active."))
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": next_url},
        status=401 if form.errors else 200,
    )


def _check_second_factor(request: HttpRequest, user: User, form: forms.Form) -> str | None:
    """The factor the form proves — a WebAuthn assertion or a typed code — or None."""
    assertion = form.cleaned_data.get("webauthn_response") or ""
    if assertion:
        ok = webauthn.authentication_verify(request, user, assertion, require_uv=True)
        return "webauthn" if ok else None
    code = form.cleaned_data.get("code") or ""
    return mfa_services.verify_code(user=user, code=code) if code else None


def _has_a_second_factor(user: User) -> bool:
    """A TOTP app, a security key, or an EDS (the account is bound to an IIN)."""
    return mfa_services.has_second_factor(user) or identity.has_eds(user)


def _eds_mode(user: User, strong: bool) -> str:
    """How EDS figures on the second step (R57.10): "signin" when the account is bound to an IIN
    (that EDS is the factor), "bind" when a strong factor is required but none is bound yet (the
    person's code and an EDS signature together bind it and sign in), else "" (not offered)."""
    if identity.has_eds(user):
        return "signin"
    if strong and mfa_services.has_second_factor(user):
        return "bind"
    return ""


def _eds_refused(request: HttpRequest, user: User, exc: AppError) -> HttpResponse | None:
    """A refused EDS second factor counts toward lockout like a wrong code (R57.7)."""
    reason = exc.reason.value if isinstance(exc, EdsRefused) else exc.code
    detail = exc.detail if isinstance(exc, EdsRefused) else ""
    services.eds_signin_failed(user=user, reason=reason, detail=detail)
    _count_failure(request, user.email)
    if services.is_locked_out(user.email):
        return locked_out(request, {"username": user.email})
    return None


def _eds_sign_in(
    request: HttpRequest, user: User, form: forms.Form, *, use: str, bind: bool
) -> HttpResponse | None:
    """Password + EDS: a complete two-factor sign-in (R57.10). With `bind` the EDS's IIN is bound
    to the account first (R57.9). None = refused, with the reason on the form."""
    challenge = identity.take_challenge(request, use=use)
    try:
        eds = identity.prove_identity(
            cms=form.cleaned_data["eds_cms"], challenge=challenge, user=user
        )
        if bind:
            services.iin_bind(actor=user, user=user, eds=eds)
        else:
            identity.signer_must_be(eds, user)
    except identity.ChallengeExpired as exc:
        form.add_error(None, exc.message)
        return None
    except AppError as exc:
        if bind and not isinstance(exc, EdsRefused):
            services.iin_bind_refused(user=user, reason=exc.code)
        if (refused := _eds_refused(request, user, exc)) is not None:
            return refused
        form.add_error(None, exc.message)
        return None
    next_url = sessions.preauth_next(request)
    services.eds_signin_succeeded(user=user, eds=eds)
    sessions.sign_in(request, user, second_factor="eds")
    return redirect(next_url or settings.LOGIN_REDIRECT_URL)


@public
@never_cache
def login_verify(request: HttpRequest) -> HttpResponse:
    user = sessions.preauth_user(request)
    if user is None:
        return redirect("accounts:login")
    if not _has_a_second_factor(user):
        return redirect("accounts:login_enroll")
    strong = identity.is_strong_factor_required(user)
    eds_mode = _eds_mode(user, strong)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ratelimit.hit("mfa-ip", client_ip(request) or "-", settings.AIPS_AUTH_RATE_IP)
            ratelimit.hit("mfa-account", user.email, settings.AIPS_AUTH_RATE_ACCOUNT)
        except RateLimited as exc:
            return _too_many(request, exc)
        if services.is_locked_out(user.email):
            return locked_out(request, {"username": user.email})
        if eds_mode and form.cleaned_data["eds_cms"]:
            if eds_mode == "bind" and _check_code(request, user, form) is None:
                if (refused := _code_refused(request, user, form)) is not None:
                    return refused
            else:
                response = _eds_sign_in(request, user, form, use="login", bind=eds_mode == "bind")
                if response is not None:
                    return response
        elif strong:
            # A code or a security key alone is not a strong factor (R57.10): nothing was
            # checked, so nothing counts toward lockout.
            form.add_error(
                None,
                _("Your organization requires EDS or biometrics to sign in.")
                if eds_mode == "signin"
                else _(
                    "Your organization requires EDS or biometrics to sign in: enter your code "
                    "and sign with your EDS to bind it to your account."
                ),
            )
        else:
            factor = _check_second_factor(request, user, form)
            if factor is not None:
                next_url = sessions.preauth_next(request)
                sessions.sign_in(request, user, second_factor=factor)
                return redirect(next_url or settings.LOGIN_REDIRECT_URL)
            if (refused := _code_refused(request, user, form)) is not None:
                return refused
    has_codes = mfa_services.has_second_factor(user) and (not strong or eds_mode == "bind")
    return render(
        request,
        "accounts/login_verify.html",
        {
            "form": form,
            "has_codes": has_codes,
            "has_webauthn": not strong and mfa_services.has_webauthn(user),
            "eds_mode": eds_mode,
            "eds_challenge": identity.issue_challenge(request, use="login") if eds_mode else "",
            "strong_required": strong,
        },
        status=401 if form.errors else 200,
    )


def _check_code(request: HttpRequest, user: User, form: forms.Form) -> str | None:
    """A typed TOTP or recovery code only (binding an EDS at sign-in takes one)."""
    code = form.cleaned_data.get("code") or ""
    return mfa_services.verify_code(user=user, code=code) if code else None


def _code_refused(request: HttpRequest, user: User, form: forms.Form) -> HttpResponse | None:
    services.second_factor_failed(user=user)
    _count_failure(request, user.email)
    if services.is_locked_out(user.email):
        return locked_out(request, {"username": user.email})
    form.add_error("code", _("The code is not valid. Check the time on your phone."))
    return None


@public
@never_cache
def login_enroll(request: HttpRequest) -> HttpResponse:
    """First sign-in: a second factor must be set up before anything else (R57.8): an
    authenticator app, or an EDS whose signature binds the IIN and signs in at once (R57.9,
    R57.10). Where a strong factor is required, only the EDS (or biometrics)."""
    user = sessions.preauth_user(request)
    if user is None:
        return redirect("accounts:login")
    if _has_a_second_factor(user):
        return redirect("accounts:login_verify")
    strong = identity.is_strong_factor_required(user)
    form = TotpConfirmForm(None if "eds_cms" in request.POST else (request.POST or None))
    eds_form = EdsForm(request.POST if "eds_cms" in request.POST else None)
    if request.method == "POST" and (form.is_bound or eds_form.is_bound):
        try:
            ratelimit.hit("mfa-ip", client_ip(request) or "-", settings.AIPS_AUTH_RATE_IP)
        except RateLimited as exc:
            return _too_many(request, exc)
        if services.is_locked_out(user.email):
            return locked_out(request, {"username": user.email})
    if eds_form.is_bound and eds_form.is_valid():
        response = _eds_sign_in(request, user, eds_form, use="enroll", bind=True)
        if response is not None:
            return response
    elif form.is_bound and strong:
        form.add_error(None, _("Your organization requires EDS or biometrics to sign in."))
    elif form.is_bound and form.is_valid():
        try:
            codes = mfa_services.totp_confirm(user=user, code=form.cleaned_data["code"])
        except ValidationFailed as exc:
            apply_errors(form, exc)
            _count_failure(request, user.email)
            if services.is_locked_out(user.email):
                return locked_out(request, {"username": user.email})
        else:
            next_url = sessions.preauth_next(request)
            sessions.sign_in(request, user, second_factor="totp")
            request.session[RECOVERY_SESSION_KEY] = codes
            request.session[RECOVERY_NEXT_KEY] = next_url
            return redirect("accounts:recovery_codes")
    device = None if strong else mfa_services.totp_setup(user=user)
    return render(
        request,
        "accounts/login_enroll.html",
        {
            "form": form,
            "eds_form": eds_form,
            "totp": totp_display(device, user) if device is not None else None,
            "eds_challenge": identity.issue_challenge(request, use="enroll"),
            "strong_required": strong,
        },
        status=422 if form.errors or eds_form.errors else 200,
    )


@public
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    sessions.sign_out(request)
    response = redirect("accounts:login")
    response["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@require(Perm.PROFILE_VIEW)
@never_cache
@sensitive_post_parameters("password")
def reauthenticate(request: HttpRequest) -> HttpResponse:
    """Sensitive actions ask for both factors again (within AIPS_REAUTH_SECONDS)."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - require() admits only signed-in users
    form = ReauthForm(request.POST or None)
    # Without an explicit target, back to the page that sent the person here.
    next_url = safe_local_path(
        request,
        request.POST.get("next")
        or request.GET.get("next")
        or ("" if request.method == "POST" else request.headers.get("Referer", "")),
    )
    if next_url.startswith(request.path):
        next_url = ""
    if request.method == "POST" and form.is_valid():
        try:
            ratelimit.hit("reauth-account", user.email, settings.AIPS_AUTH_RATE_ACCOUNT)
        except RateLimited as exc:
            return _too_many(request, exc)
        if (refused := _locked_for_signed_in(request, user)) is not None:
            return refused
        password_ok = user.check_password(form.cleaned_data["password"])
        eds_error = ""
        if password_ok and form.cleaned_data["eds_cms"] and identity.has_eds(user):
            factor, eds_error = _reauth_eds(request, user, form.cleaned_data["eds_cms"])
        else:
            factor = _check_second_factor(request, user, form) if password_ok else None
        if factor is not None:
            sessions.confirm_identity(request, user, factor=factor)
            return redirect(next_url or "accounts:profile")
        _count_failure(request, user.email)
        if services.is_locked_out(user.email):
            sessions.sign_out(request)
            return locked_out(request, {"username": user.email})
        form.add_error(None, eds_error or _("The password or the code is not valid."))
    has_eds = identity.has_eds(user)
    return render(
        request,
        "accounts/reauthenticate.html",
        {
            "form": form,
            "next": next_url,
            "has_webauthn": mfa_services.has_webauthn(user),
            # R57.10: an account bound to an IIN may confirm with its EDS instead of a code.
            "eds_challenge": identity.issue_challenge(request, use="reauth") if has_eds else "",
        },
        status=401 if form.errors else 200,
    )


def _reauth_eds(request: HttpRequest, user: User, cms: str) -> tuple[str | None, str]:
    """The EDS as the fresh factor at re-authentication: a signature of this page's challenge
    by the account's bound IIN. Returns ("eds", "") or (None, why); a refusal is audited."""
    challenge = identity.take_challenge(request, use="reauth")
    try:
        eds = identity.prove_identity(cms=cms, challenge=challenge, user=user)
        identity.signer_must_be(eds, user)
    except identity.ChallengeExpired as exc:
        return None, str(exc.message)
    except AppError as exc:
        reason = exc.reason.value if isinstance(exc, EdsRefused) else exc.code
        detail = exc.detail if isinstance(exc, EdsRefused) else ""
        services.eds_signin_failed(user=user, reason=reason, detail=detail)
        return None, str(exc.message)
    return "eds", ""


@public
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's switcher, and for a signed-in user the choice also becomes their preference."""
    response = django_set_language(request)
    form = LanguageForm(request.POST)
    if isinstance(request.user, User) and form.is_valid():
        services.user_set_language(actor=request.user, language=form.cleaned_data["language"])
    return response


@public
@never_cache
@sensitive_post_parameters("password", "password_again")
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_lookup(token)
    except NotFound as exc:
        return render(
            request, "accounts/invitation_invalid.html", {"message": exc.message}, status=404
        )
    invited = invitation.user
    # R57.9: the inviting administrator, or the organization's strong-factor policy, may make
    # the registration an EDS one; otherwise binding an EDS here is the person's choice.
    eds_required = not invited.iin and (
        invitation.eds_required or identity.is_strong_factor_required(invited)
    )
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ratelimit.hit("invite-ip", client_ip(request) or "-", settings.AIPS_AUTH_RATE_IP)
        except RateLimited as exc:
            return _too_many(request, exc)
        eds = None
        if form.cleaned_data["eds_cms"]:
            try:
                eds = identity.prove_identity(
                    cms=form.cleaned_data["eds_cms"],
                    challenge=identity.take_challenge(request, use="register"),
                    user=invited,
                )
            except AppError as exc:
                if isinstance(exc, EdsRefused):
                    services.iin_bind_refused(user=invited, reason=exc.reason.value)
                form.add_error(None, exc.message)
        if not form.errors:
            try:
                services.invitation_accept(
                    raw_token=token, password=form.cleaned_data["password"], eds=eds
                )
            except ValidationFailed as exc:
                apply_errors(form, exc)
            except NotFound as exc:
                return render(
                    request,
                    "accounts/invitation_invalid.html",
                    {"message": exc.message},
                    status=404,
                )
            except AppError as exc:
                # The IIN is bound to another account, or the certificate has none.
                services.iin_bind_refused(user=invited, reason=exc.code)
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("Your password is set and your EDS is bound. Sign in to continue.")
                    if eds is not None
                    else _("Your password is set. Sign in to continue."),
                )
                return redirect("accounts:login")
    return render(
        request,
        "accounts/invitation_accept.html",
        {
            "form": form,
            "invited": invited,
            "eds_required": eds_required,
            "eds_challenge": identity.issue_challenge(request, use="register"),
        },
        status=422 if form.errors else 200,
    )


# --- my profile and personal API tokens --------------------------------------------------------


@require(Perm.PROFILE_VIEW)
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - require() admits only signed-in users
    form = LanguageForm(request.POST or None, initial={"language": user.language})
    if request.method == "POST" and form.is_valid():
        services.user_set_language(actor=user, language=form.cleaned_data["language"])
        messages.success(request, _("Changes saved."))
        response = redirect("accounts:profile")
        response.delete_cookie("aips_language")
        return response
    return render(request, "accounts/profile.html", {"form": form, "person": user})


@require(Perm.TOKEN_MANAGE)
@never_cache
def token_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # noqa: S101
    if request.method == "POST" and not recently_authenticated(request):
        # Creating a credential is sensitive: both factors again first.
        return redirect(
            f"{reverse('accounts:reauthenticate')}?next={reverse('accounts:token_list')}"
        )
    form = TokenForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_secret = services.token_create(actor=user, **form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            form = TokenForm()
    tokens = selectors.token_list(actor=user)
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "tokens": tokens, "new_secret": new_secret},
        status=422 if form.errors else 200,
    )


@require(Perm.TOKEN_MANAGE)
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # noqa: S101
    token = selectors.get_token_for(user, pk)
    services.token_revoke(actor=user, token=token)
    messages.success(request, _("Token revoked."))
    return redirect("accounts:token_list")


# --- saved list filters (core.listing) ---------------------------------------------------------


def _list_url(list_name: str, query: str = "") -> str:
    spec = spec_named(list_name)
    if spec is None:
        return resolve_url(settings.LOGIN_REDIRECT_URL)
    # Only our own list's address plus a re-encoded query string: never an open redirect.
    return reverse(spec.url_name) + (f"?{query}" if query else "")


@require(Perm.PROFILE_VIEW)
@require_POST
def saved_filter_create(request: HttpRequest) -> HttpResponse:
    user = sessions.acting_person(request)
    list_name = request.POST.get("list_name", "")[:32]
    try:
        saved = services.saved_filter_create(
            actor=user,
            list_name=list_name,
            name=request.POST.get("name", ""),
            query_string=request.POST.get("query_string", "")[:2000],
        )
    except ValidationFailed as exc:
        for errors in exc.fields.values():
            for message in errors:
                messages.error(request, message)
        return redirect(
            _list_url(list_name, clean_query(request.POST.get("query_string", "")[:1000]))
        )
    messages.success(request, _("Filter “%(name)s” saved.") % {"name": saved.name})
    return redirect(_list_url(saved.list_name, saved.query_string))


@require(Perm.PROFILE_VIEW)
@require_POST
def saved_filter_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = sessions.acting_person(request)
    saved = selectors.get_saved_filter_for(user, pk)
    list_name = saved.list_name
    services.saved_filter_delete(actor=user, saved=saved)
    messages.success(request, _("Saved filter deleted."))
    return redirect(_list_url(list_name))


# --- accounts, managed by the center ---------------------------------------------------------


def _org_choices(actor: Actor) -> list[tuple[int, str]]:
    return [(o.pk, o.display_name) for o in organization_list(actor=actor)]


@require(Perm.USER_VIEW)
def user_list(request: HttpRequest) -> HttpResponse:
    # ?eds=bound / ?eds=unbound: who has (not yet) bound an EDS, i.e. an IIN (R57.9).
    eds = request.GET.get("eds", "")
    eds = eds if eds in ("bound", "unbound") else ""
    users = selectors.user_list(actor=request.user, eds=eds)
    return render(request, "accounts/user_list.html", {"users": users, "eds_filter": eds})


@require(Perm.USER_VIEW)
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.get_user_for(request.user, pk)
    return render(
        request,
        "accounts/user_detail.html",
        {
            "person": person,
            "locked_out": services.is_locked_out(person.email),
            "reason_form": ReasonForm(),
            "iin_masked": identity.mask_iin(person.iin),
            "strong_required": identity.is_strong_factor_required(person),
        },
    )


@require(Perm.USER_CREATE, fresh=True)
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserForm(
        request.POST or None,
        organizations=_org_choices(acting(request)),
        initial={"language": "ru", "organization_id": request.GET.get("organization")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            person = services.user_create(actor=acting(request), **form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Account created; an invitation was sent to %(email)s.")
                % {"email": person.email},
            )
            return redirect("accounts:user_detail", pk=person.pk)
    return render(
        request,
        "accounts/user_form.html",
        {"form": form, "title": _("New user")},
        status=422 if form.errors else 200,
    )


@require(Perm.USER_UPDATE, fresh=True)
def user_update(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.get_user_for(request.user, pk)
    initial = {f: getattr(person, f) for f in UserForm.base_fields if hasattr(person, f)}
    form = UserForm(
        request.POST or None,
        organizations=_org_choices(acting(request)),
        with_active=True,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(actor=acting(request), user=person, **form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("accounts:user_detail", pk=person.pk)
    return render(
        request,
        "accounts/user_form.html",
        {"form": form, "title": _("Edit user"), "person": person},
        status=422 if form.errors else 200,
    )


@require(Perm.USER_UPDATE, fresh=True)
@require_POST
def user_reinvite(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.get_user_for(request.user, pk)
    try:
        services.user_reinvite(actor=acting(request), user=person)
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("A new invitation was sent to %(email)s.") % {"email": person.email}
        )
    return redirect("accounts:user_detail", pk=person.pk)


# --- new-user requests: the organization asks, the center decides (R67.6) ----------------------


@require(Perm.USER_REQUEST_VIEW)
def user_request_list(request: HttpRequest) -> HttpResponse:
    requests = selectors.user_request_list(actor=request.user)
    return render(
        request,
        "accounts/user_request_list.html",
        {"user_requests": requests, "pending": UserRequestStatus.PENDING},
    )


@require(Perm.USER_REQUEST_CREATE)
def user_request_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # noqa: S101
    cross_tenant = active_table().cross_tenant_roles
    org_roles = [(value, label) for value, label in role_choices() if value not in cross_tenant]
    form = PersonForm(request.POST or None, roles=org_roles, initial={"language": user.language})
    if request.method == "POST" and form.is_valid():
        try:
            created = services.user_request_create(actor=user, **form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Request sent to the center."))
            return redirect("accounts:user_request_detail", pk=created.pk)
    return render(
        request,
        "accounts/user_request_form.html",
        {"form": form},
        status=422 if form.errors else 200,
    )


@require(Perm.USER_REQUEST_VIEW)
def user_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.get_user_request_for(request.user, pk)
    can_decide = (
        has_perm(request.user, Perm.USER_REQUEST_DECIDE)
        and item.status == UserRequestStatus.PENDING
    )
    return render(
        request,
        "accounts/user_request_detail.html",
        {"item": item, "can_decide": can_decide, "reject_form": RejectForm()},
    )


@require(Perm.USER_REQUEST_DECIDE, fresh=True)
@require_POST
def user_request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # noqa: S101
    item = selectors.get_user_request_for(user, pk)
    try:
        if request.POST.get("decision") == "approve":
            created = services.user_request_approve(actor=user, request=item)
            messages.success(
                request,
                _("Account created; an invitation was sent to %(email)s.")
                % {"email": created.email},
            )
            return redirect("accounts:user_detail", pk=created.pk)
        reject_form = RejectForm(request.POST)
        if not reject_form.is_valid():
            return render(
                request,
                "accounts/user_request_detail.html",
                {"item": item, "can_decide": True, "reject_form": reject_form},
                status=422,
            )
        services.user_request_reject(
            actor=user, request=item, comment=reject_form.cleaned_data["comment"]
        )
        messages.success(request, _("Request rejected."))
    except AppError as exc:
        messages.error(request, exc.message)
        for errors in exc.fields.values():
            for message in errors:
                messages.error(request, message)
    return redirect("accounts:user_request_detail", pk=item.pk)


# --- my security: second factors, recovery codes, sessions, password (R57.7, R57.8, R57.11) -----


def totp_display(device: Any, user: User) -> dict[str, str]:
    """What an authenticator app needs: the secret as text and as a QR code (inline SVG)."""
    import base64

    import segno

    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    uri = str(device.config_url)
    qr = segno.make(uri, error="m").svg_data_uri(scale=4, dark="#0a3d6b")
    return {
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "uri": uri,
        "qr": qr,
    }


@require(Perm.PROFILE_VIEW)
@never_cache
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Shows freshly generated recovery codes once; reloading the page does not show them again."""
    codes = request.session.pop(RECOVERY_SESSION_KEY, None) or []
    next_url = request.session.pop(RECOVERY_NEXT_KEY, "") or ""
    return render(
        request,
        "accounts/recovery_codes.html",
        {
            "codes": codes,
            "next": _safe_next(request, next_url) or resolve_url(settings.LOGIN_REDIRECT_URL),
        },
    )


@require(Perm.PROFILE_VIEW)
@never_cache
def security(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # noqa: S101
    return render(
        request,
        "accounts/security.html",
        {
            "totp_devices": mfa_selectors.totp_devices(actor=user),
            "credentials": mfa_selectors.webauthn_credentials(actor=user),
            "recovery_left": mfa_services.unused_recovery_codes(user),
            "user_sessions": selectors.session_list(actor=user),
            "current_session": request.session.session_key,
            "iin_masked": identity.mask_iin(user.iin),
            "strong_required": identity.is_strong_factor_required(user),
        },
    )


@require(Perm.PROFILE_VIEW, fresh=True)
@never_cache
def eds_bind(request: HttpRequest) -> HttpResponse:
    """The security page's "Bind my EDS" (R57.9): the person signs a challenge with their EDS
    authentication key; the certificate's IIN is bound to the account, and from then on that EDS
    is a second factor."""
    user = sessions.acting_person(request)
    form = EdsForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and not user.iin:
        try:
            ratelimit.hit("eds-bind", user.email, settings.AIPS_AUTH_RATE_ACCOUNT)
        except RateLimited as exc:
            return _too_many(request, exc)
        try:
            eds = identity.prove_identity(
                cms=form.cleaned_data["eds_cms"],
                challenge=identity.take_challenge(request, use="bind"),
                user=user,
            )
            services.iin_bind(actor=user, user=user, eds=eds)
        except identity.ChallengeExpired as exc:
            form.add_error(None, exc.message)
        except AppError as exc:
            reason = exc.reason.value if isinstance(exc, EdsRefused) else exc.code
            services.iin_bind_refused(user=user, reason=reason)
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Your EDS is bound to your account; you can sign in with it.")
            )
            return redirect("accounts:security")
    return render(
        request,
        "accounts/eds_bind.html",
        {
            "form": form,
            "person": user,
            "iin_masked": identity.mask_iin(user.iin),
            "eds_challenge": "" if user.iin else identity.issue_challenge(request, use="bind"),
        },
        status=422 if form.errors else 200,
    )


@require(Perm.PROFILE_VIEW, fresh=True)
@require_POST
def recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # noqa: S101
    request.session[RECOVERY_SESSION_KEY] = mfa_services.recovery_codes_regenerate(user=user)
    request.session[RECOVERY_NEXT_KEY] = reverse("accounts:security")
    return redirect("accounts:recovery_codes")


@require(Perm.PROFILE_VIEW, fresh=True)
@never_cache
def totp_add(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # noqa: S101
    device = mfa_services.totp_setup(user=user)
    form = TotpConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = mfa_services.totp_confirm(user=user, code=form.cleaned_data["code"])
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Authenticator app added."))
            if codes:
                request.session[RECOVERY_SESSION_KEY] = codes
                request.session[RECOVERY_NEXT_KEY] = reverse("accounts:security")
                return redirect("accounts:recovery_codes")
            return redirect("accounts:security")
    return render(
        request,
        "accounts/totp_add.html",
        {"form": form, "totp": totp_display(device, user)},
        status=422 if form.errors else 200,
    )


@require(Perm.PROFILE_VIEW, fresh=True)
@require_POST
def factor_remove(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # noqa: S101
    try:
        if kind == "totp":
            mfa_services.totp_remove(user=user, device_id=pk)
        elif kind == "webauthn":
            mfa_services.webauthn_remove(user=user, credential_id=pk)
        else:
            raise Http404
    except AppError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Second factor removed."))
    return redirect("accounts:security")


@require(Perm.PROFILE_VIEW)
@require_POST
def session_end(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # noqa: S101
    target = selectors.get_session_for(user, pk)
    sessions.end_session(actor=user, user_session=target)
    if target.session_key == request.session.session_key:
        return redirect("accounts:login")
    messages.success(request, _("Session ended."))
    return redirect("accounts:security")


@require(Perm.PROFILE_VIEW)
@never_cache
@sensitive_post_parameters("current_password", "new_password", "new_password_again")
def password_change(request: HttpRequest) -> HttpResponse:
    """Current password, a fresh biometric check (or, where the organization allows it, an EDS
    signature) as R57.11 asks, plus the usual second factor: a WebAuthn assertion with user
    verification when the user has a security key, otherwise a TOTP code."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101
    needs_webauthn = mfa_services.has_webauthn(user)
    form = PasswordChangeForm(request.POST or None)
    if needs_webauthn:
        del form.fields["code"]
    check = biometric_selectors.usable_check(
        user,
        purpose=BiometricPurpose.PASSWORD_CHANGE,
        public_id=biometric_web.remembered_id(request, BiometricPurpose.PASSWORD_CHANGE),
    )
    eds_allowed = biometric_password.eds_allowed(user)

    def page(status: int = 200) -> HttpResponse:
        return render(
            request,
            "accounts/password_change.html",
            {
                "form": form,
                "needs_webauthn": needs_webauthn,
                "biometric_check": check,
                "biometrics_on": biometric_providers.enabled(),
                "fresh_minutes": settings.AIPS_BIOMETRIC_FRESH_MINUTES,
                "eds_allowed": eds_allowed and check is None,
                "eds_challenge": identity.issue_challenge(request, use=biometric_password.EDS_USE)
                if eds_allowed and check is None
                else "",
            },
            status=status,
        )

    if request.method == "POST" and form.is_valid():
        try:
            ratelimit.hit("password-change", user.email, settings.AIPS_AUTH_RATE_ACCOUNT)
        except RateLimited as exc:
            return _too_many(request, exc)
        if (refused := _locked_for_signed_in(request, user)) is not None:
            return refused
        data = form.cleaned_data
        if not user.check_password(data["current_password"]):
            # Checked first, so a typo does not spend the security-key touch or TOTP code; a
            # wrong password here counts toward lockout like one at sign-in.
            _count_failure(request, user.email)
            form.add_error("current_password", _("The current password is wrong."))
            return page(422)
        # R57.11 before the second factor, so that a missing check does not spend the code.
        eds_cms = (data.get("eds_cms") or "") if eds_allowed and check is None else ""
        eds = None
        if check is None and not eds_cms:
            form.add_error(None, _("Confirm it is you with a biometric check first."))
            return page(422)
        if eds_cms:
            try:
                eds = biometric_password.verify_eds(
                    user=user,
                    cms=eds_cms,
                    challenge=identity.take_challenge(request, use=biometric_password.EDS_USE),
                )
            except AppError as exc:
                form.add_error(None, exc.message)
                return page(422)
        if needs_webauthn:
            factor_ok = bool(data["webauthn_response"]) and webauthn.authentication_verify(
                request, user, data["webauthn_response"], require_uv=True
            )
        else:
            code = data.get("code") or ""
            factor_ok = code.isdigit() and mfa_services.verify_code(user=user, code=code) == "totp"
        if not factor_ok:
            _count_failure(request, user.email)
            form.add_error(
                "code" if not needs_webauthn else None,
                _("Confirm the change with your security key.")
                if needs_webauthn
                else _("The code is not valid. Check the time on your phone."),
            )
        else:
            try:
                biometric_password.password_change_confirmed(
                    actor=user,
                    current_password=data["current_password"],
                    new_password=data["new_password"],
                    check=check,
                    eds=eds,
                )
            except ValidationFailed as exc:
                apply_errors(form, exc)
            except AppError as exc:
                form.add_error(None, exc.message)
            else:
                biometric_web.forget(request)
                update_session_auth_hash(request, user)
                sessions.end_other_sessions(user, keep=request.session.session_key or "")
                messages.success(request, _("Your password has been changed."))
                return redirect("accounts:security")
    return page(422 if form.errors else 200)


@public
@never_cache
def password_reset(request: HttpRequest) -> HttpResponse:
    form = PasswordResetForm(request.POST or None)
    sent = False
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        try:
            ratelimit.hit("reset-ip", client_ip(request) or "-", settings.AIPS_AUTH_RATE_IP)
            ratelimit.hit("reset-account", email, settings.AIPS_AUTH_RATE_ACCOUNT)
        except RateLimited as exc:
            return _too_many(request, exc)
        services.password_reset_request(email=email)
        sent = True
    return render(
        request,
        "accounts/password_reset.html",
        {"form": form, "sent": sent, "minutes": settings.PASSWORD_RESET_TIMEOUT // 60},
    )


@public
@never_cache
@sensitive_post_parameters("password", "password_again")
def password_reset_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = services.password_reset_user(uidb64, token)
    if user is None:
        return render(
            request,
            "accounts/invitation_invalid.html",
            {"message": _("This link is not valid any more. Ask for a new one.")},
            status=404,
        )
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset_confirm(
                uidb64=uidb64, token=token, new_password=form.cleaned_data["password"]
            )
        except ValidationFailed as exc:
            for message in exc.fields.get("new_password", []):
                form.add_error("password", message)
        except NotFound as exc:
            return render(
                request, "accounts/invitation_invalid.html", {"message": exc.message}, status=404
            )
        else:
            messages.success(request, _("Your password is set. Sign in to continue."))
            return redirect("accounts:login")
    return render(
        request,
        "accounts/password_reset_confirm.html",
        {"form": form},
        status=422 if form.errors else 200,
    )


# --- blocking, lockout and second-factor reset by an administrator or head (R57.7) -------------


def _security_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    person = selectors.get_user_for(request.user, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason."))
        return redirect("accounts:user_detail", pk=person.pk)
    reason = form.cleaned_data["reason"]
    try:
        if action == "block":
            services.user_block(actor=acting(request), user=person, reason=reason)
            messages.success(request, _("The account is blocked; its sessions were ended."))
        elif action == "unblock":
            services.user_unblock(actor=acting(request), user=person, reason=reason)
            messages.success(request, _("The account can sign in again."))
        else:
            services.user_reset_second_factors(actor=acting(request), user=person, reason=reason)
            messages.success(
                request, _("Second factors removed; the user sets up a new one at sign-in.")
            )
    except AppError as exc:
        messages.error(request, exc.message)
    return redirect("accounts:user_detail", pk=person.pk)


@require(Perm.USER_SECURITY, fresh=True)
@require_POST
def user_block(request: HttpRequest, pk: int) -> HttpResponse:
    return _security_action(request, pk, "block")


@require(Perm.USER_SECURITY, fresh=True)
@require_POST
def user_unblock(request: HttpRequest, pk: int) -> HttpResponse:
    return _security_action(request, pk, "unblock")


@require(Perm.USER_SECURITY, fresh=True)
@require_POST
def user_reset_mfa(request: HttpRequest, pk: int) -> HttpResponse:
    return _security_action(request, pk, "reset_mfa")


@require(Perm.USER_SECURITY, fresh=True)
def user_iin_unbind(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo a person's IIN binding (R57.9): a page that says what follows and asks for the
    reason (the confirmation), then the service."""
    person = selectors.get_user_for(request.user, pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.iin_unbind(
                actor=acting(request), user=person, reason=form.cleaned_data["reason"]
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except AppError as exc:
            messages.error(request, exc.message)
            return redirect("accounts:user_detail", pk=person.pk)
        else:
            messages.success(
                request,
                _("The IIN binding is undone; the person binds an EDS again at the next sign-in."),
            )
            return redirect("accounts:user_detail", pk=person.pk)
    return render(
        request,
        "accounts/user_iin_unbind.html",
        {"person": person, "form": form, "iin_masked": identity.mask_iin(person.iin)},
        status=422 if form.errors else 200,
    )
