from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from aips.core import ratelimit
from aips.core.access import public, require
from aips.core.actors import acting
from aips.core.errors import AppError, ValidationFailed
from aips.core.forms import apply_errors
from aips.core.ratelimit import RateLimited
from aips.core.request_context import client_ip
from aips.etp.participants import selectors, services
from aips.etp.participants.forms import (
    BiometricRegistrationForm,
    ProfileForm,
    RegistrationForm,
)
from aips.etp.permissions import EtpPerm
from aips.shared.accounts import identity
from aips.shared.accounts.sessions import acting_person
from aips.shared.biometrics import providers as biometric_providers
from aips.shared.biometrics import web as biometric_web

EDS_USE = "register"


@public
@never_cache
@sensitive_post_parameters("password", "password_confirm")
def register(request: HttpRequest) -> HttpResponse:
    """Self-registration from the public site (R57.9): the EDS authentication key signs the
    page's challenge; the certificate says whether an individual or a legal entity registers."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = RegistrationForm(request.POST or None)
    status, retry_after = 200, 0
    if request.method == "POST" and form.is_valid():
        try:
            ratelimit.hit("etp-register-ip", client_ip(request) or "-", settings.AIPS_AUTH_RATE_IP)
            if not form.cleaned_data["eds_cms"]:
                raise ValidationFailed.field(
                    "eds_cms", _("Sign with your EDS authentication key to register.")
                )
            eds = identity.prove_signer(
                cms=form.cleaned_data["eds_cms"],
                challenge=identity.take_challenge(request, use=EDS_USE),
            )
            services.participant_register(
                eds=eds,
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                phone=form.cleaned_data["phone"],
                language=(get_language() or "ru")[:2],
            )
        except RateLimited as exc:
            form.add_error(None, exc.message)
            status = 429
            retry_after = exc.retry_after
        except ValidationFailed as exc:
            apply_errors(form, exc)
            status = 422
        except AppError as exc:
            services.registration_refused(reason=exc.code)
            form.add_error(None, exc.message)
            status = 422
        else:
            messages.success(
                request,
                _(
                    "You are registered. We sent a link to %(email)s: open it to confirm your "
                    "address (until then you cannot submit applications). Sign in with your "
                    "e-mail and password; the second step is your EDS or biometrics."
                )
                % {"email": form.cleaned_data["email"]},
            )
            return redirect("accounts:login")
    elif request.method == "POST":
        status = 422
    response = render(
        request,
        "etp_participants/register.html",
        {"form": form, "eds_challenge": identity.issue_challenge(request, use=EDS_USE)},
        status=status,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@public
@never_cache
def register_biometrics(request: HttpRequest) -> HttpResponse:
    """Self-registration of an individual by biometric identification (R57.9): the form, then
    the provider's check of the face against the IIN's record; a passed check binds the IIN and
    leads to the invitation page, where the person sets the password."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    enabled = biometric_providers.enabled()
    form = BiometricRegistrationForm(request.POST or None)
    status, retry_after = 200, 0
    if request.method == "POST" and enabled and form.is_valid():
        try:
            ratelimit.hit("etp-register-ip", client_ip(request) or "-", settings.AIPS_AUTH_RATE_IP)
            session, token = services.participant_register_biometric(
                **form.cleaned_data, language=(get_language() or "ru")[:2]
            )
        except RateLimited as exc:
            form.add_error(None, exc.message)
            status = 429
            retry_after = exc.retry_after
        except ValidationFailed as exc:
            apply_errors(form, exc)
            status = 422
        except AppError as exc:
            services.registration_refused(reason=exc.code)
            form.add_error(None, exc.message)
            status = 422
        else:
            back = reverse("accounts:invitation_accept", kwargs={"token": token})
            biometric_web.remember(request, session, back=back, token=token)
            # A form may not redirect to another site under the CSP (form-action 'self'): a
            # provider elsewhere is reached by the link on the platform's session page.
            if session.client_url.startswith("/") and not session.client_url.startswith("//"):
                return redirect(session.client_url)
            return redirect("biometrics:session", public_id=session.public_id)
    elif request.method == "POST":
        status = 422
    response = render(
        request,
        "etp_participants/register_biometrics.html",
        {"form": form, "enabled": enabled},
        status=status,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@require(EtpPerm.PARTICIPANT_PROFILE)
def profile(request: HttpRequest) -> HttpResponse:
    """The participant's own contacts and refund account."""
    actor = acting(request)
    current = selectors.own_profile(actor)
    form = ProfileForm(
        request.POST or None,
        initial={
            "phone": current.phone,
            "address": current.address,
            "iban": current.iban,
            "bic": current.bic,
        },
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.profile_update(actor=actor, **form.cleaned_data)
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Your participant profile is saved."))
                return redirect("etp_participants:profile")
        status = 422
    return render(
        request, "etp_participants/profile.html", {"form": form, "profile": current}, status=status
    )


@require(EtpPerm.PARTICIPANT_VIEW)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A participant's profile as the operator's staff (or the participant) read it."""
    item = selectors.get_profile_for(acting(request), pk)
    return render(request, "etp_participants/detail.html", {"profile": item})


@public
@never_cache
def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the confirmation e-mail: the page names the address and a button confirms it
    (a POST, so a mail scanner's look at the link spends nothing). An unknown link answers 404,
    a spent or expired one 410, each with a page that says what to do."""
    done = False
    address = ""
    try:
        if request.method == "POST":
            ratelimit.hit(
                "etp-email-confirm-ip", client_ip(request) or "-", settings.AIPS_AUTH_RATE_IP
            )
            address = services.email_confirm(token=token).email
            done = True
        else:
            address = services.confirmation_for_token(token).email
    except RateLimited as exc:
        response = render(request, "core/429.html", {"status": 429}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    except services.ConfirmationRefused as exc:
        return render(
            request,
            "etp_participants/email_confirm.html",
            {"refused": exc.message, "code": exc.code},
            status=exc.status,
        )
    return render(
        request,
        "etp_participants/email_confirm.html",
        {"done": done, "address": address},
    )


@require_POST
@require(EtpPerm.PARTICIPANT_PROFILE)
def email_confirm_resend(request: HttpRequest) -> HttpResponse:
    """ "Send the link again" from the banner: a new link, the old one stops working; at most
    AIPS_ETP_EMAIL_CONFIRM_RESEND_RATE per person."""
    user = acting_person(request)
    rate = str(getattr(settings, "AIPS_ETP_EMAIL_CONFIRM_RESEND_RATE", "3/h"))
    try:
        ratelimit.hit("etp-email-confirm-resend", str(user.pk), rate)
        services.email_confirmation_resend(actor=user)
    except RateLimited as exc:
        response = render(request, "core/429.html", {"status": 429}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    except AppError as exc:
        messages.info(request, exc.message)
    else:
        messages.success(
            request,
            _("A new confirmation link is sent to %(email)s.") % {"email": user.email},
        )
    return redirect("etp_portal:workspace")
