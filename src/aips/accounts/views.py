from typing import Any

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from aips.accounts import selectors, services
from aips.accounts.forms import (
    LanguageForm,
    LoginForm,
    PersonForm,
    RejectForm,
    SetPasswordForm,
    TokenForm,
    UserForm,
)
from aips.accounts.models import ROLE_CHOICES, User, UserRequestStatus
from aips.core.access import has_perm, public, require
from aips.core.errors import AppError, NotFound, ValidationFailed
from aips.core.forms import apply_errors
from aips.core.permissions import CENTER_ROLES, Perm
from aips.organizations.selectors import organization_list

# --- signing in and out ----------------------------------------------------------------------


@public
@never_cache
@sensitive_post_parameters("password")
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        user = authenticate(request, username=email, password=form.cleaned_data["password"])
        if isinstance(user, User):
            login(request, user)
            services.login_succeeded(user=user)
            target = request.POST.get("next") or request.GET.get("next") or ""
            if not url_has_allowed_host_and_scheme(
                target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                target = ""
            return redirect(target or "home")
        services.login_failed(email=email)
        # One message for every failure, so the form does not reveal which accounts exist.
        form.add_error(None, _("Wrong e-mail or password, or the account is not active."))
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": request.GET.get("next", "")},
        status=401 if form.errors else 200,
    )


@public
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if isinstance(user, User):
        services.logged_out(user=user)
    logout(request)
    response = redirect("login")
    response["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


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
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_accept(raw_token=token, password=form.cleaned_data["password"])
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except NotFound as exc:
            return render(
                request, "accounts/invitation_invalid.html", {"message": exc.message}, status=404
            )
        else:
            messages.success(request, _("Your password is set. Sign in to continue."))
            return redirect("login")
    return render(
        request,
        "accounts/invitation_accept.html",
        {"form": form, "invited": invitation.user},
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
        response = redirect("profile")
        response.delete_cookie("aips_language")
        return response
    return render(request, "accounts/profile.html", {"form": form, "person": user})


@require(Perm.TOKEN_MANAGE)
@never_cache
def token_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # noqa: S101
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
    return redirect("token_list")


# --- accounts, managed by the center ---------------------------------------------------------


def _org_choices(actor: Any) -> list[tuple[int, str]]:
    return [(o.pk, o.display_name) for o in organization_list(actor=actor)]


@require(Perm.USER_VIEW)
def user_list(request: HttpRequest) -> HttpResponse:
    users = selectors.user_list(actor=request.user)
    return render(request, "accounts/user_list.html", {"users": users})


@require(Perm.USER_VIEW)
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.get_user_for(request.user, pk)
    return render(request, "accounts/user_detail.html", {"person": person})


@require(Perm.USER_CREATE)
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserForm(
        request.POST or None,
        organizations=_org_choices(request.user),
        initial={"language": "ru", "organization_id": request.GET.get("organization")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            person = services.user_create(actor=request.user, **form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Account created; an invitation was sent to %(email)s.")
                % {"email": person.email},
            )
            return redirect("user_detail", pk=person.pk)
    return render(
        request,
        "accounts/user_form.html",
        {"form": form, "title": _("New user")},
        status=422 if form.errors else 200,
    )


@require(Perm.USER_UPDATE)
def user_update(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.get_user_for(request.user, pk)
    initial = {f: getattr(person, f) for f in UserForm.base_fields if hasattr(person, f)}
    form = UserForm(
        request.POST or None,
        organizations=_org_choices(request.user),
        with_active=True,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(actor=request.user, user=person, **form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("user_detail", pk=person.pk)
    return render(
        request,
        "accounts/user_form.html",
        {"form": form, "title": _("Edit user"), "person": person},
        status=422 if form.errors else 200,
    )


@require(Perm.USER_UPDATE)
@require_POST
def user_reinvite(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.get_user_for(request.user, pk)
    try:
        services.user_reinvite(actor=request.user, user=person)
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("A new invitation was sent to %(email)s.") % {"email": person.email}
        )
    return redirect("user_detail", pk=person.pk)


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
    org_roles = [(value, label) for value, label in ROLE_CHOICES if value not in CENTER_ROLES]
    form = PersonForm(request.POST or None, roles=org_roles, initial={"language": user.language})
    if request.method == "POST" and form.is_valid():
        try:
            created = services.user_request_create(actor=user, **form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Request sent to the center."))
            return redirect("user_request_detail", pk=created.pk)
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


@require(Perm.USER_REQUEST_DECIDE)
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
            return redirect("user_detail", pk=created.pk)
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
    return redirect("user_request_detail", pk=item.pk)
