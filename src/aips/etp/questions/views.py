"""The pages of questions and complaints: asking on a lot's public page, the working lists of
the seller and the operator (overdue ones marked), the complaints' pages and the public list of
answered complaints (`/complaints/`, no sign-in, the complainant left out)."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aips.core.access import has_perm, public, require
from aips.core.errors import AppError, NotFound, ValidationFailed
from aips.core.forms import apply_errors
from aips.etp.permissions import EtpPerm
from aips.etp.questions import selectors, services
from aips.etp.questions.forms import (
    AnswerForm,
    ComplaintAnswerForm,
    ComplaintForm,
)
from aips.etp.questions.models import Complaint
from aips.shared.accounts.sessions import acting_person
from aips.shared.files.web import download_response
from aips.shared.workflow.web import flash_errors, raise_for_status, run_action


def _done(_result: object, message: str) -> str:
    return message


@require_POST
@require(EtpPerm.QUESTION_ASK)
def ask(request: HttpRequest, pk: int) -> HttpResponse:
    """A participant's question on a published lot; back to the lot's public page."""
    user = acting_person(request)
    text = request.POST.get("text", "")
    try:
        services.question_ask(actor=user, lot_id=pk, text=text)
    except services.QuestionsClosed as exc:
        # 409 with the reason and the way back to the lot, not a redirect that hides it.
        return render(
            request,
            "etp_questions/closed.html",
            {"message": exc.message, "code": exc.code, "lot_id": pk},
            status=exc.status,
        )
    except ValidationFailed as exc:
        flash_errors(request, exc)
    except AppError as exc:
        raise_for_status(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your question is sent. Its answer will appear on this page."))
    return redirect("etp_lots:public_detail", pk=pk)


@require(EtpPerm.QUESTION_VIEW)
def question_list(request: HttpRequest) -> HttpResponse:
    user = acting_person(request)
    return render(
        request,
        "etp_questions/list.html",
        {
            "questions": selectors.question_list(actor=user),
            "can_answer": has_perm(user, EtpPerm.QUESTION_ANSWER),
            "answer_form": AnswerForm(),
        },
    )


@require_POST
@require(EtpPerm.QUESTION_ANSWER)
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    text = request.POST.get("answer", "")
    return run_action(
        request,
        lambda: _done(
            services.question_answer(actor=user, question_id=pk, answer=text),
            _("The answer is published on the lot's page."),
        ),
        then=lambda: redirect("etp_questions:list"),
    )


@public
def public_complaints(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "etp_questions/public_complaints.html",
        {"complaints": selectors.public_complaints()},
    )


@require(EtpPerm.COMPLAINT_VIEW)
def complaint_list(request: HttpRequest) -> HttpResponse:
    user = acting_person(request)
    return render(
        request,
        "etp_questions/complaint_list.html",
        {
            "complaints": selectors.complaint_list(actor=user),
            "can_file": has_perm(user, EtpPerm.COMPLAINT_FILE),
        },
    )


@require(EtpPerm.COMPLAINT_FILE)
def complaint_create(request: HttpRequest) -> HttpResponse:
    user = acting_person(request)
    form = ComplaintForm(
        request.POST or None, request.FILES or None, initial={"lot": request.GET.get("lot", "")}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                upload = form.cleaned_data["file"]
                complaint = services.complaint_file(
                    actor=user,
                    lot_id=form.cleaned_data["lot"],
                    text=form.cleaned_data["text"],
                    files=[upload] if upload else [],
                )
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Your complaint is filed."))
                return redirect("etp_questions:complaint_detail", pk=complaint.pk)
        status = 422
    return render(request, "etp_questions/complaint_form.html", {"form": form}, status=status)


@require(EtpPerm.COMPLAINT_VIEW)
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    complaint = _complaint(request, pk)
    return render(
        request,
        "etp_questions/complaint_detail.html",
        {
            "complaint": complaint,
            "can_answer": has_perm(user, EtpPerm.COMPLAINT_ANSWER)
            and complaint.answered_at is None,
            "form": ComplaintAnswerForm(),
            "files": selectors.complaint_files(actor=user, complaint=complaint),
        },
    )


def _complaint(request: HttpRequest, pk: int) -> Complaint:
    try:
        return selectors.get_complaint_for(acting_person(request), pk)
    except NotFound as exc:
        raise Http404 from exc


@require(EtpPerm.COMPLAINT_VIEW)
def complaint_file_download(request: HttpRequest, pk: int, file_id: int) -> HttpResponseBase:
    """Always a download (the platform's rule); every opening is in the audit journal."""
    user = acting_person(request)
    complaint = _complaint(request, pk)
    try:
        item = selectors.get_complaint_file_for(user, complaint, file_id)
    except NotFound as exc:
        raise Http404 from exc
    return download_response(
        item, served=lambda: services.complaint_file_downloaded(actor=user, item=item)
    )


@require_POST
@require(EtpPerm.COMPLAINT_ANSWER)
def complaint_answer(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    form = ComplaintAnswerForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed(fields={k: [str(m) for m in v] for k, v in form.errors.items()})
        services.complaint_answer(
            actor=user,
            complaint_id=pk,
            outcome=form.cleaned_data["outcome"],
            answer=form.cleaned_data["answer"],
        )
    except ValidationFailed as exc:
        for errors in exc.fields.values():
            for message in errors:
                messages.error(request, message)
    except AppError as exc:
        raise_for_status(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The decision is published."))
    return redirect("etp_questions:complaint_detail", pk=pk)
