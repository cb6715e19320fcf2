"""Integration-module pages (R67.7, R57.28.3): the center registers modules, issues and revokes
their credentials and watches every organization's module health; an organization's head sees
their own organization's modules, read-only."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from aips.center.integrations import selectors, services
from aips.center.integrations.forms import (
    CertificateForm,
    FilterForm,
    ModuleForm,
    ModuleUpdateForm,
    RevokeForm,
)
from aips.core.access import has_perm, require
from aips.core.actors import Actor
from aips.core.errors import AppError, ValidationFailed
from aips.core.forms import apply_errors
from aips.core.permissions import Perm
from aips.shared.accounts.sessions import acting_person
from aips.shared.organizations.selectors import get_organization_for, organization_list


def _organizations(actor: Actor) -> list[tuple[int, str]]:
    """Organizations that can hold modules: active, and not the center itself."""
    return [
        (o.pk, o.display_name)
        for o in organization_list(actor=actor).exclude(kind="center").filter(status="active")
    ]


def _posted(request: HttpRequest) -> Any:
    # A POST with every field empty is still a submission (request.POST or None would not be).
    return request.POST if request.method == "POST" else None


@require(Perm.INTEGRATION_VIEW)
def module_list(request: HttpRequest) -> HttpResponse:
    user = acting_person(request)
    organizations = _organizations(user) if user.is_center else []
    form = FilterForm(request.GET or None, organizations=organizations)
    organization_id = state = None
    if form.is_valid():
        organization_id = form.cleaned_data["organization"]
        state = form.cleaned_data["state"] or None
    rows = selectors.module_health(user, organization_id=organization_id, state=state)
    return render(
        request,
        "integrations/list.html",
        {"rows": rows, "filter_form": form, "show_filters": user.is_center},
    )


@require(Perm.INTEGRATION_MANAGE)
def module_create(request: HttpRequest) -> HttpResponse:
    user = acting_person(request)
    form = ModuleForm(
        _posted(request),
        organizations=_organizations(user),
        initial={"organization": request.GET.get("organization"), "kind": "agent"},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            module = services.module_register(
                actor=user,
                organization=get_organization_for(user, data["organization"]),
                name=data["name"],
                kind=data["kind"],
                description=data["description"],
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Module “%(name)s” registered. Issue its token or certificate below.")
                % {"name": module.name},
            )
            return redirect("integrations:detail", pk=module.pk)
    return render(
        request,
        "integrations/form.html",
        {"form": form, "title": _("Register an integration module")},
        status=422 if form.errors else 200,
    )


@require(Perm.INTEGRATION_VIEW)
@never_cache
def module_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    module = selectors.get_module_for(user, pk)
    health = selectors.module_health(user, modules=[module])[0]
    hourly = selectors.module_hourly(user, module)
    peak = max([h.accepted + h.rejected for h in hourly] + [1])
    return render(
        request,
        "integrations/detail.html",
        {
            "module": module,
            "health": health,
            "hourly": hourly,
            "peak": peak,
            "can_manage": has_perm(user, Perm.INTEGRATION_MANAGE),
            "common_name": services.common_name_for(module),
        },
    )


@require(Perm.INTEGRATION_MANAGE)
def module_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    module = selectors.get_module_for(user, pk)
    form = ModuleUpdateForm(
        _posted(request), initial={"name": module.name, "description": module.description}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.module_update(actor=user, module=module, **form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("integrations:detail", pk=module.pk)
    return render(
        request,
        "integrations/form.html",
        {"form": form, "title": _("Edit integration module"), "module": module},
        status=422 if form.errors else 200,
    )


@require(Perm.INTEGRATION_MANAGE, fresh=True)
@require_POST
@never_cache
def module_token(request: HttpRequest, pk: int) -> HttpResponse:
    """A new agent token, shown once on this response; the previous token stops at once."""
    user = acting_person(request)
    module = selectors.get_module_for(user, pk)
    try:
        module, raw = services.token_issue(actor=user, module=module)
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect("integrations:detail", pk=module.pk)
    return render(request, "integrations/token.html", {"module": module, "token": raw})


@require(Perm.INTEGRATION_MANAGE, fresh=True)
@never_cache
def module_certificate(request: HttpRequest, pk: int) -> HttpResponse:
    """Issue a client certificate. The answer to a successful POST is the file itself: the
    generated private key exists only in that one response."""
    user = acting_person(request)
    module = selectors.get_module_for(user, pk)
    form = CertificateForm(_posted(request))
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.cert_issue(
                actor=user, module=module, csr_pem=form.cleaned_data["csr"] or None
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except AppError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            if issued.private_key_pem is not None:
                body = issued.certificate_pem + issued.private_key_pem
                filename = f"aips-module-{module.pk}.pem"
            else:
                body = issued.certificate_pem
                filename = f"aips-module-{module.pk}.crt"
            response = HttpResponse(body, content_type="application/x-pem-file")
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response
    return render(
        request,
        "integrations/certificate.html",
        {
            "form": form,
            "module": module,
            "ca": selectors.ca_info(),
            "common_name": services.common_name_for(module),
        },
        status=422 if form.errors else status,
    )


@require(Perm.INTEGRATION_MANAGE)
def module_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    module = selectors.get_module_for(user, pk)
    form = RevokeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        services.module_revoke(actor=user, module=module, reason=form.cleaned_data["reason"])
        messages.success(request, _("Module revoked: its token and certificate are refused."))
        return redirect("integrations:detail", pk=module.pk)
    return render(
        request,
        "integrations/revoke.html",
        {"form": form, "module": module},
        status=422 if form.errors else 200,
    )


@require(Perm.INTEGRATION_VIEW)
def ca_certificate(request: HttpRequest) -> HttpResponse:
    """The center's CA certificate (public): to configure nginx and to check agents' chains."""
    info = selectors.ca_info()
    if info is not None and "download" in request.GET:
        response = HttpResponse(info.pem, content_type="application/x-pem-file")
        response["Content-Disposition"] = 'attachment; filename="aips-integration-ca.pem"'
        return response
    return render(request, "integrations/ca.html", {"ca": info})
