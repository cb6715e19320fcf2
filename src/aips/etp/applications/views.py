"""The applications' pages: a participant's own applications with their timeline (application →
deposit → admission), the operator's list with the admission officer's steps (deposit received,
admit, refuse). Another participant's application answers 404."""

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aips.core.access import has_perm, require
from aips.core.errors import AppError, NotFound, ValidationFailed
from aips.core.forms import apply_errors
from aips.etp.applications import clock, rules, selectors, services
from aips.etp.applications.forms import ApplyForm, ProcedureForm, StatementForm
from aips.etp.applications.models import Application
from aips.etp.lots import selectors as lot_selectors
from aips.etp.lots.models import Lot
from aips.etp.participants.selectors import email_confirmed
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.sessions import acting_person
from aips.shared.eds.canonical import b64
from aips.shared.workflow.web import flash_errors, raise_for_status, run_action


def _application(request: HttpRequest, pk: int) -> Application:
    try:
        return selectors.get_application_for(acting_person(request), pk)
    except NotFound as exc:
        raise Http404 from exc


@require(EtpPerm.APPLICATION_VIEW)
def application_list(request: HttpRequest) -> HttpResponse:
    user = acting_person(request)
    return render(
        request,
        "etp_applications/list.html",
        {"title": _("Applications"), "applications": selectors.application_list(actor=user)},
    )


@require(EtpPerm.APPLICATION_VIEW)
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    application = _application(request, pk)
    return render(
        request,
        "etp_applications/detail.html",
        {
            "title": application.reference,
            "application": application,
            "timeline": selectors.timeline(application),
            "can_confirm": has_perm(user, EtpPerm.DEPOSIT_CONFIRM),
            "can_admit": has_perm(user, EtpPerm.PARTICIPANT_ADMIT),
        },
    )


@require_POST
@require(EtpPerm.APPLICATION_VIEW)
def application_act(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    user = acting_person(request)
    application = _application(request, pk)
    steps: dict[str, Callable[[], object]] = {
        "confirm_deposit": lambda: services.deposit_confirm(
            actor=user, deposit=application.deposit
        ),
        "admit": lambda: services.application_admit(actor=user, application=application),
        "refuse": lambda: services.application_refuse(
            actor=user, application=application, reason=request.POST.get("reason", "")
        ),
    }
    step = steps.get(name)
    if step is None:
        raise Http404

    def act() -> str:
        step()
        return _("Done.")

    return run_action(
        request, act, then=lambda: redirect("etp_applications:detail", pk=application.pk)
    )


def _public_lot(pk: int) -> Lot:
    try:
        return lot_selectors.get_public_lot(pk)
    except NotFound as exc:
        raise Http404 from exc


@require(EtpPerm.PROCEDURE_MANAGE)
def procedure_announce(request: HttpRequest, pk: int) -> HttpResponse:
    """The operator announces a published lot's procedure: the schedule; the deposit follows."""
    user = acting_person(request)
    try:
        lot = lot_selectors.get_lot_for(user, pk)
    except NotFound as exc:
        raise Http404 from exc
    form = ProcedureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.procedure_announce(actor=user, lot=lot, **form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except AppError as exc:
            raise_for_status(exc)
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The procedure is announced."))
            return redirect("etp_lots:public_detail", pk=lot.pk)
    return render(
        request,
        "etp_applications/announce.html",
        {
            "title": _("Announce the auction"),
            "lot": lot,
            "form": form,
            "percent": rules.deposit_percent(),
        },
        status=422 if form.errors else 200,
    )


@require(EtpPerm.APPLICATION_SUBMIT)
def application_apply(request: HttpRequest, pk: int) -> HttpResponse:
    """A participant signs the application's canonical form with EDS (NCALayer) and applies."""
    user = acting_person(request)
    lot = _public_lot(pk)
    procedure = selectors.procedure_of(lot.pk)
    if procedure is None:
        raise Http404
    if request.method == "POST":
        form = ApplyForm(request.POST)
        if form.is_valid():
            try:
                application = services.application_submit(
                    actor=user,
                    procedure=procedure,
                    moment=form.cleaned_data["moment"],
                    eds_signature=form.cleaned_data["eds_signature"],
                )
            except ValidationFailed as exc:
                flash_errors(request, exc)
            except AppError as exc:
                raise_for_status(exc)
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Your application is submitted."))
                return redirect("etp_applications:detail", pk=application.pk)
        return redirect("etp_applications:apply", pk=lot.pk)
    moment = clock.now().replace(microsecond=0)
    document = services.application_document(procedure=procedure, actor=user, moment=moment)
    return render(
        request,
        "etp_applications/apply.html",
        {
            "title": _("Apply for the auction"),
            "lot": lot,
            "procedure": procedure,
            "form": ApplyForm(initial={"moment": moment.isoformat()}),
            "document": b64(document),
            "signable": bool(user.iin),
            "email_unconfirmed": (
                services.email_unconfirmed_message() if not email_confirmed(user) else ""
            ),
        },
    )


# A bank statement of a day is a few hundred rows; anything far larger is not one.
MAX_STATEMENT_BYTES = 5 * 1024 * 1024


@require(EtpPerm.DEPOSIT_CONFIRM)
def deposit_statement(request: HttpRequest) -> HttpResponse:
    """The admission officer uploads a bank statement; matching rows confirm deposits."""
    user = acting_person(request)
    form = StatementForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > MAX_STATEMENT_BYTES:
                raise ValidationFailed.field("file", _("The file is too large."))
            result = services.deposit_statement_import(actor=user, content=upload.read())
        except ValidationFailed as exc:
            apply_errors(form, exc)
    return render(
        request,
        "etp_applications/statement.html",
        {"title": _("Bank statement"), "form": form, "result": result},
        status=422 if form.errors else 200,
    )
