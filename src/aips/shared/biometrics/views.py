"""Pages: start a check (sign-in, password change, IIN binding when signed in or from an
invitation), the session page the provider's client returns to, and the fake provider's client."""

from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from aips.core import ratelimit
from aips.core.access import public, require
from aips.core.errors import AppError, NotFound, ValidationFailed
from aips.core.forms import apply_errors
from aips.core.permissions import Perm
from aips.core.ratelimit import RateLimited
from aips.core.request_context import client_ip
from aips.shared.accounts import services as account_services
from aips.shared.accounts import sessions
from aips.shared.accounts.models import User
from aips.shared.biometrics import fake, selectors, services, web
from aips.shared.biometrics.forms import IinForm, ScenarioForm
from aips.shared.biometrics.models import BiometricSession, Purpose, Refusal, SessionState
from aips.shared.biometrics.providers import enabled, get_provider


def _too_many(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = render(request, "core/429.html", {"status": 429}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


def _open(session: BiometricSession) -> HttpResponse:
    """To the provider's client. A form may not redirect to another site under the CSP
    (form-action 'self'), so a provider elsewhere is reached by a link on the session page."""
    if session.client_url.startswith("/") and not session.client_url.startswith("//"):
        return redirect(session.client_url)
    return redirect("biometrics:session", public_id=session.public_id)


def _start(
    request: HttpRequest,
    user: User,
    purpose: Purpose,
    *,
    back: str,
    iin: str = "",
    token: str = "",
    form: IinForm | None = None,
) -> HttpResponse | None:
    """Start and go to the provider; on refusal back to `back` with the reason (or, with a form,
    None after putting the reason on the form)."""
    try:
        ratelimit.hit("biometrics-start", str(user.pk), settings.AIPS_AUTH_RATE_ACCOUNT)
        session = services.session_start(actor=user, purpose=purpose, iin=iin)
    except RateLimited as exc:
        return _too_many(request, exc)
    except ValidationFailed as exc:
        if form is None:
            messages.error(request, exc.message)
            return redirect(back)
        apply_errors(form, exc)
        return None
    except AppError as exc:
        if form is None:
            messages.error(request, exc.message)
            return redirect(back)
        form.add_error(None, exc.message)
        return None
    web.remember(request, session, back=back, token=token)
    return _open(session)


@public
@never_cache
@require_POST
def sign_in_start(request: HttpRequest) -> HttpResponse:
    """The second factor at sign-in (R57.10): for the person who passed the password step."""
    user = sessions.preauth_user(request)
    if user is None:
        return redirect("accounts:login")
    try:
        ratelimit.hit("mfa-ip", client_ip(request) or "-", settings.AIPS_AUTH_RATE_IP)
    except RateLimited as exc:
        return _too_many(request, exc)
    response = _start(request, user, Purpose.SECOND_FACTOR, back=reverse("accounts:login_verify"))
    assert response is not None  # noqa: S101 - without a form _start always answers
    return response


@require(Perm.PROFILE_VIEW)
@never_cache
@require_POST
def password_start(request: HttpRequest) -> HttpResponse:
    """The biometric check that confirms a password change (R57.11)."""
    user = sessions.acting_person(request)
    response = _start(
        request, user, Purpose.PASSWORD_CHANGE, back=reverse("accounts:password_change")
    )
    assert response is not None  # noqa: S101 - without a form _start always answers
    return response


def _bind_page(
    request: HttpRequest, user: User, *, back: str, token: str = "", invited: bool = False
) -> HttpResponse:
    if user.iin:
        messages.info(request, _("Your IIN is already bound to your account."))
        return redirect(back)
    form = IinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        response = _start(
            request,
            user,
            Purpose.REGISTRATION,
            back=back,
            iin=form.cleaned_data["iin"],
            token=token,
            form=form,
        )
        if response is not None:
            return response
    return render(
        request,
        "biometrics/bind.html",
        {"form": form, "enabled": enabled(), "back": back, "invited": invited, "person": user},
        status=422 if form.errors else 200,
    )


@require(Perm.PROFILE_VIEW, fresh=True)
@never_cache
def bind(request: HttpRequest) -> HttpResponse:
    """Bind my IIN to my account by a biometric check (R57.9), once."""
    user = sessions.acting_person(request)
    return _bind_page(request, user, back=reverse("accounts:security"))


@public
@never_cache
def invite(request: HttpRequest, token: str) -> HttpResponse:
    """First registration (R57.9): the invited person proves their IIN before setting a password."""
    try:
        invitation = account_services.invitation_lookup(token)
    except NotFound as exc:
        return render(
            request, "accounts/invitation_invalid.html", {"message": exc.message}, status=404
        )
    back = reverse("accounts:invitation_accept", kwargs={"token": token})
    return _bind_page(request, invitation.user, back=back, token=token, invited=True)


def _person(request: HttpRequest, data: dict[str, Any]) -> User | None:
    """Whoever this browser's session is for, if it is still them."""
    uid = data.get("uid")
    if data.get("purpose") == Purpose.SECOND_FACTOR:
        person = sessions.preauth_user(request)
    elif data.get("token"):
        try:
            person = account_services.invitation_lookup(str(data["token"])).user
        except NotFound:
            person = None
    else:
        person = request.user if isinstance(request.user, User) else None
    return person if person is not None and person.pk == uid else None


def _passed(
    request: HttpRequest, session: BiometricSession, person: User, data: dict[str, Any]
) -> HttpResponse:
    back = str(data.get("next") or "/")
    if session.purpose == Purpose.SECOND_FACTOR:
        if account_services.is_locked_out(person.email):
            sessions.drop_preauth(request)
            web.forget(request)
            return redirect("accounts:login")
        try:
            services.check_use(actor=person, session=session, purpose=Purpose.SECOND_FACTOR)
        except AppError as exc:
            messages.error(request, exc.message)
            return redirect(back)
        next_url = sessions.preauth_next(request)
        web.forget(request)
        sessions.sign_in(request, person, second_factor="biometrics")
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    if session.purpose == Purpose.PASSWORD_CHANGE:
        # Used by the password change itself, in the transaction that changes the password.
        messages.success(request, _("Biometric check passed. Now change your password."))
        return redirect(back)
    web.forget(request)
    if session.refusal:
        messages.error(request, Refusal(session.refusal).label)
    else:
        messages.success(request, _("Your IIN is bound to your account."))
    return redirect(back)


@public
@never_cache
def session_page(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Where the provider's client sends the browser: the result, and what it unlocks."""
    data = web.remembered(request)
    if data is None or data["id"] != str(public_id):
        raise Http404
    person = _person(request, data)
    if person is None:
        web.forget(request)
        return redirect("accounts:login")
    session = selectors.get_session_for(person, public_id)
    if session.state == SessionState.PASSED:
        return _passed(request, session, person, data)
    refused = ""
    if session.state == SessionState.REFUSED:
        refused = services.refused_message(
            max(1, services.refused_minutes(person, session.purpose))
        )
    return render(
        request,
        "biometrics/session.html",
        {
            "session": session,
            "last": session.last_check,
            "expired": session.state == SessionState.EXPIRED
            or (session.state == SessionState.PENDING and not session.is_open),
            "refused": refused,
            "back": data.get("next") or "/",
        },
    )


# --- the fake provider's client ---------------------------------------------------------------


@public
@never_cache
def fake_client(request: HttpRequest, provider_session_id: str) -> HttpResponse:
    """The fake provider's "camera": one button per scenario. Exists only with the fake."""
    if get_provider().name != fake.NAME:
        raise Http404
    session = selectors.provider_session(fake.NAME, provider_session_id)
    if session is None:
        raise Http404
    form = ScenarioForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ratelimit.hit("biometrics-fake", client_ip(request) or "-", settings.AIPS_AUTH_RATE_IP)
        except RateLimited as exc:
            return _too_many(request, exc)
        headers, body = fake.webhook_for(
            session.provider_session_id, fake.Scenario(form.cleaned_data["scenario"])
        )
        try:
            services.webhook_receive(provider_name=fake.NAME, headers=headers, body=body)
        except AppError as exc:
            messages.error(request, exc.message)
        return redirect(session.return_path)
    return render(
        request,
        "biometrics/fake.html",
        {
            "session": session,
            "scenarios": [(str(k), v.label) for k, v in fake.SCENARIOS.items()],
            "iin_tail": session.iin[-4:],
        },
    )
