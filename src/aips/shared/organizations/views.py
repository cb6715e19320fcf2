from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from aips.core.access import has_perm, require
from aips.core.actors import acting
from aips.core.errors import ValidationFailed
from aips.core.forms import apply_errors
from aips.core.permissions import Perm
from aips.shared.accounts.selectors import user_list
from aips.shared.organizations import selectors, services
from aips.shared.organizations.forms import OrganizationForm


@require(Perm.ORGANIZATION_VIEW)
def organization_list(request: HttpRequest) -> HttpResponse:
    organizations = selectors.organization_list(actor=request.user)
    return render(request, "organizations/list.html", {"organizations": organizations})


@require(Perm.ORGANIZATION_VIEW)
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = selectors.get_organization_for(request.user, pk)
    users = (
        user_list(actor=request.user).filter(organization=org)
        if has_perm(request.user, Perm.USER_VIEW)
        else None
    )
    return render(request, "organizations/detail.html", {"organization": org, "users": users})


@require(Perm.ORGANIZATION_CREATE)
def organization_create(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None, initial={"status": "active"})
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organization_create(actor=acting(request), **form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Organization “%(name)s” created.") % {"name": org.name})
            return redirect("organizations:detail", pk=org.pk)
    return render(
        request,
        "organizations/form.html",
        {"form": form, "title": _("New organization")},
        status=422 if form.errors else 200,
    )


@require(Perm.ORGANIZATION_UPDATE)
def organization_update(request: HttpRequest, pk: int) -> HttpResponse:
    org = selectors.get_organization_for(request.user, pk)
    initial = {f: getattr(org, f) for f in OrganizationForm.base_fields}
    form = OrganizationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_update(
                actor=acting(request), organization=org, **form.cleaned_data
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("organizations:detail", pk=org.pk)
    return render(
        request,
        "organizations/form.html",
        {"form": form, "title": _("Edit organization"), "organization": org},
        status=422 if form.errors else 200,
    )
