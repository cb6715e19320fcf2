"""Request pages (R67.3.7, R67.11, R67.14, R67.15): the list (sent, received, and for the center
all), the form with the addressees, the request with one block per addressee's thread (its
actions, answer, clarification comments, files), and the center's deadline overview."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from aips.center.inquiries import selectors, services
from aips.center.inquiries.forms import (
    AnswerForm,
    AttachmentForm,
    CommentForm,
    DeadlineFilterForm,
    FilterForm,
    InquiryForm,
    TransitionForm,
)
from aips.center.inquiries.lifecycle import INQUIRY_MACHINE, THREAD_MACHINE
from aips.center.inquiries.models import (
    ANSWER_EDITABLE,
    Inquiry,
    InquiryState,
    InquiryThread,
    overall_state,
)
from aips.core.access import has_perm, require
from aips.core.actors import Actor, acting
from aips.core.errors import AppError, ValidationFailed
from aips.core.forms import apply_errors
from aips.core.listing import Column, ListSpec, register, when
from aips.core.permissions import Perm
from aips.shared.accounts.listing import list_context, list_csv
from aips.shared.accounts.sessions import acting_person
from aips.shared.files.web import download_response
from aips.shared.organizations.selectors import organization_list
from aips.shared.workflow import signing
from aips.shared.workflow.pages import item_context
from aips.shared.workflow.web import (
    bundle_response,
    form_status,
    raise_for_status,
    run_action,
    save_form,
    unconfirmed,
)


def _act(request: HttpRequest, pk: int, act: Callable[[], str]) -> HttpResponse:
    """Run one action; field errors and refusals become messages (403 and 404 stay statuses)."""
    return run_action(request, act, then=lambda: redirect("inquiries:detail", pk=pk))


def _center_organizations(user: Actor) -> list[tuple[int, str]] | None:
    if not user.is_center:
        return None
    return [(o.pk, o.display_name) for o in organization_list(actor=user) if not o.is_center]


LIST = register(
    ListSpec(
        name="inquiries",
        url_name="inquiries:list",
        columns=(
            Column("reference", "id", _lazy("Request")),
            Column("subject", "subject", _lazy("Subject")),
            Column("requester", "organization__name", _lazy("Requester")),
            Column("category", "category", _lazy("Category")),
            Column("state", "state", _lazy("Status")),
            Column("deadline", "deadline_at", _lazy("Deadline")),
        ),
        default_sort="-reference",
        search_fields=("subject",),
    )
)


def _filtered_inquiries(request: HttpRequest) -> tuple[FilterForm, Any]:
    user = acting_person(request)
    form = FilterForm(request.GET or None, organizations=_center_organizations(user))
    filters: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "box": data.get("box") or "",
            "state": data.get("state") or "",
            "category": data.get("category") or "",
            "organization_id": data.get("organization"),
            "overdue": bool(data.get("overdue")),
        }
    return form, selectors.inquiry_list(actor=user, **filters)


@require(Perm.REQUEST_VIEW)
def inquiry_list(request: HttpRequest) -> HttpResponse:
    user = acting_person(request)
    form, qs = _filtered_inquiries(request)
    context = list_context(request, LIST, qs)
    inquiries = context["listing"].rows
    ids = [i.pk for i in inquiries]
    own = selectors.own_threads(actor=user, inquiry_ids=ids)
    threads = selectors.sent_threads(actor=user, inquiry_ids=ids)
    rows = []
    for i in inquiries:
        mine = own.get(i.pk)
        shown = (
            threads.get(i.pk, [])
            if (user.is_center or i.organization_id == user.organization_id)
            else []
        )
        # An addressee judges the request by its own thread alone: others' are not its business.
        counted = shown or ([mine] if mine else [])
        rows.append((i, mine, shown, overall_state(i.state, (t.state for t in counted))))
    return render(
        request,
        "inquiries/list.html",
        {**context, "rows": rows, "filter_form": form, "csv_url": reverse("inquiries:list_csv")},
    )


@require(Perm.REQUEST_VIEW)
def inquiry_list_csv(request: HttpRequest) -> HttpResponse:
    _form, qs = _filtered_inquiries(request)
    return list_csv(
        request,
        LIST,
        qs,
        header=["request", "subject", "requester", "category", "status", "tlp", "deadline_at"],
        cells=lambda i: [
            i.reference,
            i.subject,
            i.organization.display_name,
            i.get_category_display(),
            i.state_label,
            i.tlp,
            when(i.deadline_at),
        ],
    )


def _addressees(user: Actor) -> list[tuple[int, str]]:
    return selectors.addressee_choices(actor=user)


@require(Perm.REQUEST_EDIT)
def inquiry_create(request: HttpRequest) -> HttpResponse:
    user = acting_person(request)
    form = InquiryForm(
        request.POST or None,
        addressees=_addressees(user),
        initial={"tlp": "AMBER", "category": "threat"},
    )
    inquiry = save_form(request, form, lambda data: services.inquiry_create(actor=user, **data))
    if inquiry is not None:
        messages.success(request, _("Draft %(ref)s saved.") % {"ref": inquiry.reference})
        return redirect("inquiries:detail", pk=inquiry.pk)
    return render(
        request,
        "inquiries/form.html",
        {"form": form, "title": _("New request")},
        status=form_status(form),
    )


@require(Perm.REQUEST_EDIT)
def inquiry_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    inquiry = selectors.get_inquiry_for(user, pk)
    if inquiry.state not in services.EDITABLE or inquiry.organization_id != user.organization_id:
        messages.error(request, _("Only a draft or a returned request can be changed."))
        return redirect("inquiries:detail", pk=inquiry.pk)
    initial = {
        "subject": inquiry.subject,
        "category": inquiry.category,
        "tlp": inquiry.tlp,
        "body": inquiry.body,
        "addressee_ids": services.addressee_ids(inquiry),
    }
    form = InquiryForm(
        request.POST or None,
        addressees=_addressees(user),
        locked=inquiry.version >= 1,
        initial=initial,
    )
    try:
        saved = save_form(
            request,
            form,
            lambda data: services.inquiry_update(actor=user, inquiry=inquiry, **data),
        )
    except AppError as exc:
        raise_for_status(exc)
        messages.error(request, exc.message)
        return redirect("inquiries:detail", pk=inquiry.pk)
    if saved is not None:
        messages.success(request, _("Changes saved."))
        return redirect("inquiries:detail", pk=inquiry.pk)
    return render(
        request,
        "inquiries/form.html",
        {"form": form, "title": _("Edit %(ref)s") % {"ref": inquiry.reference}, "inquiry": inquiry},
        status=form_status(form),
    )


@require(Perm.REQUEST_VIEW)
def inquiry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    inquiry = selectors.get_inquiry_for(user, pk)
    services.inquiry_viewed(actor=user, inquiry=inquiry)
    actions = [
        t
        for t in INQUIRY_MACHINE.allowed(user, inquiry)
        # The center sends its own requests directly; it has no head to ask.
        if not (user.is_center and t.name == "request_approval")
    ]
    requester = user.is_center or user.organization_id == inquiry.organization_id
    editable = (
        inquiry.state in services.EDITABLE
        and has_perm(user, Perm.REQUEST_EDIT)
        and user.organization_id == inquiry.organization_id
    )
    blocks = []
    thread_states: list[str] = []
    signed = selectors.signatures(actor=user, inquiry=inquiry)

    def bundle_url(act: Any) -> str:
        return reverse("inquiries:signature_bundle", args=[inquiry.pk, act.pk])

    for thread in selectors.threads(actor=user, inquiry=inquiry):
        thread_states.append(thread.state)
        mine = thread.organization_id == user.organization_id
        blocks.append(
            {
                "thread": thread,
                "actions": services.thread_actions(user, thread),
                "page": item_context(
                    item=thread,
                    machine=THREAD_MACHINE,
                    comments=selectors.thread_timeline(actor=user, thread=thread),
                    versions=selectors.versions(thread),
                    model=InquiryThread,
                ),
                "files": selectors.answer_attachments(actor=user, thread=thread),
                "mine": mine,
                "answer_editable": mine
                and thread.state in ANSWER_EDITABLE
                and inquiry.state == InquiryState.SENT
                and has_perm(user, Perm.REQUEST_EDIT),
                # The answer is the addressee's own work until its head approves it.
                "answer": selectors.answer_for(actor=user, thread=thread),
                # The head's acceptance, refusal and approval of the answer may be signed with
                # EDS (issue 16, item 4).
                "eds": services.thread_page_documents(actor=user, thread=thread),
                "signatures": signing.shown(signing.on(signed, thread), url=bundle_url),
            }
        )
    return render(
        request,
        "inquiries/detail.html",
        {
            "inquiry": inquiry,
            "overall": overall_state(inquiry.state, thread_states),
            "requester": requester,
            "actions": actions if requester else [],
            "editable": editable,
            "addressees": [name for _pk, name in _names(inquiry)],
            "files": selectors.attachments(actor=user, inquiry=inquiry),
            **item_context(
                item=inquiry,
                machine=INQUIRY_MACHINE,
                comments=selectors.timeline(actor=user, inquiry=inquiry),
                versions=selectors.versions(inquiry) if requester else [],
                model=Inquiry,
                steps=requester,
            ),
            "blocks": blocks,
            "eds": services.inquiry_page_documents(actor=user, inquiry=inquiry)
            if requester
            else {},
            "signatures": signing.shown(signing.on(signed, inquiry), url=bundle_url),
            "any_eds": any(b["eds"] for b in blocks),
            "transition_form": TransitionForm(),
            "comment_form": CommentForm(center=user.is_center),
            "attachment_form": AttachmentForm(),
            "answer_form": AnswerForm(),
        },
    )


def _names(inquiry: Any) -> list[tuple[int, str]]:
    return [(o.pk, o.display_name) for o in inquiry.addressees.all()]


@require(Perm.REQUEST_VIEW)
@require_POST
def inquiry_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    user = acting_person(request)
    inquiry = selectors.get_inquiry_for(user, pk)
    if unconfirmed(request, INQUIRY_MACHINE, name, actor=user, item=inquiry):
        return redirect("inquiries:detail", pk=pk)
    form = TransitionForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""

    def act() -> str:
        moved = services.inquiry_transition(
            actor=user,
            inquiry=inquiry,
            name=name,
            comment=comment,
            eds_signature=request.POST.get("eds_signature", ""),
        )
        return _("Status: %(state)s.") % {"state": moved.state_label}

    return _act(request, pk, act)


@require(Perm.REQUEST_VIEW)
@require_POST
def thread_transition(request: HttpRequest, pk: int, tid: int, name: str) -> HttpResponse:
    user = acting_person(request)
    thread = selectors.get_thread_for(user, pk, tid)
    if unconfirmed(request, THREAD_MACHINE, name, actor=user, item=thread):
        return redirect("inquiries:detail", pk=pk)
    form = TransitionForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""

    def act() -> str:
        moved = services.thread_transition(
            actor=user,
            thread=thread,
            name=name,
            comment=comment,
            eds_signature=request.POST.get("eds_signature", ""),
        )
        return _("%(organization)s: %(state)s.") % {
            "organization": moved.organization.display_name,
            "state": moved.state_label,
        }

    return _act(request, pk, act)


@require(Perm.REQUEST_EDIT)
def thread_answer(request: HttpRequest, pk: int, tid: int) -> HttpResponse:
    """The addressee writes its answer (R67.14); its head approves it from the request page."""
    user = acting_person(request)
    thread: InquiryThread = selectors.get_thread_for(user, pk, tid)
    if thread.organization_id != user.organization_id or thread.state not in ANSWER_EDITABLE:
        messages.error(request, _("The answer can be changed only while the request is in work."))
        return redirect("inquiries:detail", pk=pk)
    form = AnswerForm(request.POST or None, initial={"answer": thread.answer})
    if request.method == "POST" and form.is_valid():
        try:
            services.answer_update(actor=user, thread=thread, answer=form.cleaned_data["answer"])
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except AppError as exc:
            raise_for_status(exc)
            messages.error(request, exc.message)
            return redirect("inquiries:detail", pk=pk)
        else:
            messages.success(request, _("Answer saved."))
            return redirect("inquiries:detail", pk=pk)
    return render(
        request,
        "inquiries/answer.html",
        {"form": form, "inquiry": thread.inquiry, "thread": thread},
        status=form_status(form),
    )


@require(Perm.REQUEST_COMMENT)
@require_POST
def inquiry_comment(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    inquiry = selectors.get_inquiry_for(user, pk)
    form = CommentForm(request.POST, center=user.is_center)
    if not form.is_valid():
        messages.error(request, _("Write something first."))
        return redirect("inquiries:detail", pk=pk)
    data = form.cleaned_data

    def act() -> str:
        services.comment_add(
            actor=user, inquiry=inquiry, body=data["body"], internal=bool(data.get("internal"))
        )
        return _("Comment added.")

    return _act(request, pk, act)


@require(Perm.REQUEST_COMMENT)
@require_POST
def thread_comment(request: HttpRequest, pk: int, tid: int) -> HttpResponse:
    """The clarification thread between the requester and one addressee."""
    user = acting_person(request)
    thread = selectors.get_thread_for(user, pk, tid)
    form = CommentForm(request.POST, center=user.is_center)
    if not form.is_valid():
        messages.error(request, _("Write something first."))
        return redirect("inquiries:detail", pk=pk)
    data = form.cleaned_data

    def act() -> str:
        services.thread_comment_add(
            actor=user, thread=thread, body=data["body"], internal=bool(data.get("internal"))
        )
        return _("Comment added.")

    return _act(request, pk, act)


@require(Perm.REQUEST_EDIT)
@require_POST
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    inquiry = selectors.get_inquiry_for(user, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file."))
        return redirect("inquiries:detail", pk=pk)

    def act() -> str:
        services.attachment_add(actor=user, inquiry=inquiry, upload=form.cleaned_data["file"])
        return _("File attached.")

    return _act(request, pk, act)


@require(Perm.REQUEST_EDIT)
@require_POST
def thread_attachment_upload(request: HttpRequest, pk: int, tid: int) -> HttpResponse:
    user = acting_person(request)
    thread = selectors.get_thread_for(user, pk, tid)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file."))
        return redirect("inquiries:detail", pk=pk)

    def act() -> str:
        services.answer_attachment_add(actor=user, thread=thread, upload=form.cleaned_data["file"])
        return _("File attached.")

    return _act(request, pk, act)


@require(Perm.REQUEST_VIEW)
def attachment_download(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponseBase:
    """Always a download, never rendered inline: the browser must not interpret the file."""
    attachment = selectors.get_attachment_for(acting(request), pk, attachment_pk)
    return download_response(
        attachment,
        served=lambda: services.attachment_downloaded(actor=acting(request), attachment=attachment),
    )


@require(Perm.REQUEST_VIEW)
def inquiry_signature_bundle(request: HttpRequest, pk: int, sid: int) -> HttpResponseBase:
    """The verifiable bundle of an EDS-signed approval, acceptance, refusal or approved answer,
    for whoever may see that act on the request's page; anyone else gets 404."""
    user = acting_person(request)
    inquiry = selectors.get_inquiry_for(user, pk)
    act = selectors.get_signature_for(user, inquiry, sid)
    return bundle_response(
        act, served=lambda: services.signature_exported(actor=user, inquiry=inquiry, act=act)
    )


@require(Perm.REQUEST_VIEW)
def inquiry_deadlines(request: HttpRequest) -> HttpResponse:
    """The center's view of every request's deadlines (issue 7, item 4): each addressee's thread
    and each request in rework, on time, due soon or overdue."""
    user = acting_person(request)
    if not user.is_center:
        raise PermissionDenied
    organizations = _center_organizations(user) or []
    form = DeadlineFilterForm(request.GET or None, organizations=organizations)
    filters: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "status": data.get("status") or "",
            "state": data.get("state") or "",
            "organization_id": data.get("organization"),
        }
    rows = selectors.deadline_overview(actor=user, **filters)
    counts = dict.fromkeys(("overdue", "due_soon", "on_time", "stopped"), 0)
    for row in rows:
        counts[row.status] += 1
    return render(
        request, "inquiries/deadlines.html", {"rows": rows, "filter_form": form, "counts": counts}
    )
