"""The lots' pages: the seller's list, forms and lot page, the operator's verification queue, and
the public lot page (`/lots/<id>/`, no sign-in, the public card only)."""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aips.core.access import has_perm, public, require
from aips.core.errors import AppError, NotFound, ValidationFailed
from aips.core.forms import apply_errors
from aips.etp.lots import selectors, services
from aips.etp.lots.forms import FileForm, LotForm, ReasonForm, TapeForm
from aips.etp.lots.models import EDITABLE_STATES_FOR_FORM, Lot, LotState
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.sessions import acting_person
from aips.shared.files.web import download_response
from aips.shared.workflow.web import form_status, raise_for_status, run_action, save_form


def _lot(request: HttpRequest, pk: int) -> Lot:
    try:
        return selectors.get_lot_for(acting_person(request), pk)
    except NotFound as exc:
        raise Http404 from exc


def _done(_result: object, message: str = "") -> str:
    return message or _("Done.")


@require(EtpPerm.LOT_VIEW)
def lot_list(request: HttpRequest) -> HttpResponse:
    user = acting_person(request)
    return render(
        request,
        "etp_lots/list.html",
        {
            "lots": selectors.lot_list(actor=user)[:500],
            "can_create": has_perm(user, EtpPerm.LOT_EDIT) and not user.is_center,
            "title": _("Lots"),
        },
    )


@require(EtpPerm.LOT_VERIFY)
def lot_queue(request: HttpRequest) -> HttpResponse:
    lots = selectors.verification_queue(actor=acting_person(request))[:500]
    return render(
        request,
        "etp_lots/list.html",
        {"lots": lots, "can_create": False, "title": _("Lots awaiting verification")},
    )


@require(EtpPerm.LOT_EDIT)
def lot_create(request: HttpRequest) -> HttpResponse:
    user = acting_person(request)
    form = LotForm(request.POST or None)
    try:
        lot = save_form(
            request, form, lambda data: services.lot_create(actor=user, **form.service_data())
        )
    except AppError as exc:
        raise_for_status(exc)
        raise
    if lot is not None:
        messages.success(request, _("The lot is saved as a draft."))
        return redirect("etp_lots:detail", pk=lot.pk)
    return render(
        request,
        "etp_lots/form.html",
        {"form": form, "title": _("New lot")},
        status=form_status(form),
    )


@require(EtpPerm.LOT_EDIT)
def lot_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    lot = _lot(request, pk)
    initial: dict[str, Any] = selectors.form_values(lot)
    initial["guarantor_identifiers"] = "\n".join(initial.get("guarantor_identifiers") or [])
    form = LotForm(request.POST or None, initial=initial)
    try:
        saved = save_form(
            request,
            form,
            lambda data: services.lot_update(actor=user, lot=lot, **form.service_data()),
        )
    except AppError as exc:
        raise_for_status(exc)
        messages.error(request, exc.message)
        return redirect("etp_lots:detail", pk=lot.pk)
    if saved is not None:
        messages.success(request, _("The lot is saved."))
        return redirect("etp_lots:detail", pk=lot.pk)
    return render(
        request,
        "etp_lots/form.html",
        {"form": form, "lot": lot, "title": _("Change %(lot)s") % {"lot": lot.reference}},
        status=form_status(form),
    )


@require(EtpPerm.LOT_VIEW)
def lot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    lot = _lot(request, pk)
    return render(
        request,
        "etp_lots/detail.html",
        {
            "lot": lot,
            "card": selectors.public_card(lot),
            "parties": selectors.lot_parties(actor=user, lot=lot),
            "files": selectors.lot_files(actor=user, lot=lot),
            "actions": selectors.lot_actions(actor=user, lot=lot),
            "reasons": selectors.lot_reasons(lot=lot),
            "versions": selectors.lot_versions(lot=lot),
            "can_edit": has_perm(user, EtpPerm.LOT_EDIT)
            and user.organization_id == lot.organization_id
            and lot.state in EDITABLE_STATES_FOR_FORM,
            # The operator's way to the announcement page (etp_applications:announce), once per
            # lot: `procedure` is the applications app's one-to-one, absent until announced.
            "can_announce": has_perm(user, EtpPerm.PROCEDURE_MANAGE)
            and lot.state == LotState.PUBLISHED
            and not hasattr(lot, "procedure"),
            "can_upload": has_perm(user, EtpPerm.LOT_EDIT)
            and user.organization_id == lot.organization_id
            and lot.state in (LotState.DRAFT, LotState.RETURNED),
            "tape_form": TapeForm(),
            "file_form": FileForm(),
            "reason_form": ReasonForm(),
        },
    )


@require_POST
@require(EtpPerm.LOT_VIEW)
def lot_act(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    user = acting_person(request)
    lot = _lot(request, pk)
    comment = request.POST.get("comment", "")
    return run_action(
        request,
        lambda: _done(services.lot_transition(actor=user, lot=lot, name=name, comment=comment)),
        then=lambda: redirect("etp_lots:detail", pk=lot.pk),
    )


@require_POST
@require(EtpPerm.LOT_EDIT)
def lot_tape(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    lot = _lot(request, pk)
    form = TapeForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file."))
        return redirect("etp_lots:detail", pk=lot.pk)
    try:
        services.lot_tape_upload(actor=user, lot=lot, upload=form.cleaned_data["file"])
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return render(request, "etp_lots/tape_errors.html", {"lot": lot, "form": form}, status=422)
    except AppError as exc:
        raise_for_status(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The loan tape is accepted."))
    return redirect("etp_lots:detail", pk=lot.pk)


@require_POST
@require(EtpPerm.LOT_EDIT)
def lot_file(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    lot = _lot(request, pk)
    form = FileForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file."))
        return redirect("etp_lots:detail", pk=lot.pk)
    return run_action(
        request,
        lambda: _done(
            services.lot_file_add(
                actor=user,
                lot=lot,
                upload=form.cleaned_data["file"],
                purpose=form.cleaned_data["purpose"],
            ),
            _("The file is added."),
        ),
        then=lambda: redirect("etp_lots:detail", pk=lot.pk),
    )


@require(EtpPerm.LOT_VIEW)
def file_download(request: HttpRequest, pk: int, file_id: int) -> HttpResponseBase:
    """Always a download (the platform's rule); every opening is in the audit journal."""
    user = acting_person(request)
    lot = _lot(request, pk)
    try:
        stored = selectors.get_lot_file_for(user, lot, file_id)
    except NotFound as exc:
        raise Http404 from exc
    return download_response(
        stored, served=lambda: services.lot_file_downloaded(actor=user, lot_file=stored)
    )


@public
def public_photo(request: HttpRequest, pk: int, file_id: int) -> HttpResponseBase:
    """A published lot's photo, for everyone (as a download, like every stored file)."""
    try:
        stored = selectors.get_public_photo(selectors.get_public_lot(pk), file_id)
    except NotFound as exc:
        raise Http404 from exc
    return download_response(stored, served=lambda: None)


@public
def public_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A published or withdrawn lot for everyone: its public card, a portfolio's aggregates and
    its versions since publication. Never a debtor's data."""
    try:
        lot = selectors.get_public_lot(pk)
    except NotFound as exc:
        raise Http404 from exc
    return render(
        request,
        "etp_lots/public_detail.html",
        {
            "card": selectors.public_card(lot),
            "versions": selectors.public_versions(lot),
            "photos": selectors.public_photos(lot),
        },
    )
