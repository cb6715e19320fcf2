"""Every change to requests and their threads, each with its audit event in the same transaction
(R67.3.7, R67.11, R67.14, R67.15): the requester writes, its head approves and sends; every
addressee accepts or declines within 1 working day and answers within 10, through its own head;
the requester or the center returns an incomplete answer (3 working days); the center returns an
incomplete request (3 working days)."""

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aips.center.inquiries.lifecycle import INQUIRY_MACHINE, REQUESTER, THREAD_MACHINE
from aips.center.inquiries.models import (
    ANSWER_EDITABLE,
    WAITING_ON_ADDRESSEE,
    Inquiry,
    InquiryAttachment,
    InquiryCategory,
    InquiryState,
    InquiryThread,
    ThreadState,
)
from aips.center.inquiries.notices import inquiry_sent, inquiry_transitioned, thread_transitioned
from aips.core.access import ensure_perm
from aips.core.actors import Actor
from aips.core.errors import AppError, Forbidden, ValidationFailed
from aips.core.permissions import Perm
from aips.core.tlp import Tlp
from aips.core.validation import Fields
from aips.shared.accounts.models import User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.eds.canonical import ActDocument
from aips.shared.files import services as file_services
from aips.shared.organizations.models import Organization, OrganizationStatus
from aips.shared.workdays.calendar import add_working_days
from aips.shared.workflow import engine, signing
from aips.shared.workflow.models import SignedAct
from aips.shared.workflow.signing import PageDocument

FIELDS = ("subject", "body", "category", "tlp", "addressee_ids")
EDITABLE = engine.EDITABLE_STATES
MAX_ANSWER = 50000


def _addressees(actor: Actor, raw: Any, f: Fields) -> list[int]:
    """The center and/or active organizations, never the requester itself (R67.11)."""
    try:
        ids = sorted({int(value) for value in (raw or [])})
    except (TypeError, ValueError):
        f.add("addressee_ids", _("Choose the addressees from the list."))
        return []
    if not ids:
        f.add("addressee_ids", _("Choose at least one addressee: the center or an organization."))
        return []
    if actor.organization_id in ids:
        f.add("addressee_ids", _("A request cannot be addressed to your own organization."))
        return ids
    found = Organization.objects.filter(pk__in=ids, status=OrganizationStatus.ACTIVE).count()
    if found != len(ids):
        f.add("addressee_ids", _("Some chosen addressees are unknown or not active."))
    return ids


def _clean(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Validate a whole request; every problem is reported at once, by field."""
    f = Fields()
    out: dict[str, Any] = {}
    out["subject"] = f.required_text("subject", data.get("subject") or "", max_length=300)
    out["body"] = f.required_text("body", data.get("body") or "", max_length=50000)
    out["category"] = f.choice("category", data.get("category") or "", InquiryCategory)
    out["tlp"] = f.choice("tlp", data.get("tlp") or "", Tlp)
    out["addressee_ids"] = _addressees(actor, data.get("addressee_ids"), f)
    f.raise_if_any()
    return out


def addressee_ids(inquiry: Inquiry) -> list[int]:
    return sorted(inquiry.addressees.values_list("pk", flat=True))


@transaction.atomic
def inquiry_create(*, actor: User, **data: Any) -> Inquiry:
    """A draft request of the actor's own organization (the responsible employee, R67.11)."""
    ensure_perm(actor, Perm.REQUEST_EDIT)
    clean = _clean(actor, data)
    ids = clean.pop("addressee_ids")
    inquiry = Inquiry.objects.create(
        organization_id=actor.organization_id,
        created_by=actor,
        state=InquiryState.DRAFT,
        **clean,
    )
    inquiry.addressees.set(ids)
    record(
        actor=actor,
        event=EventType.REQUEST_CREATED,
        target=inquiry,
        organization_id=inquiry.organization_id,
        details={"category": inquiry.category, "tlp": inquiry.tlp, "addressees": ids},
    )
    return inquiry


def _values(inquiry: Inquiry) -> dict[str, Any]:
    values = {name: getattr(inquiry, name) for name in FIELDS if name != "addressee_ids"}
    values["addressee_ids"] = addressee_ids(inquiry)
    return values


@transaction.atomic
def inquiry_update(*, actor: Actor, inquiry: Inquiry, **changes: Any) -> Inquiry:
    """Edit a draft or a returned request; the audit event lists what changed. Once a request
    has been sent its addressees are fixed: each of them already holds a thread."""
    locked: Inquiry = engine.lock_for_edit(
        actor=actor, item=inquiry, perm=Perm.REQUEST_EDIT, fields=FIELDS, changes=changes
    )
    before = _values(locked)
    clean = _clean(actor, {**before, **changes})
    changed = sorted(name for name in FIELDS if before[name] != clean[name])
    if "addressee_ids" in changed and locked.version >= 1:
        raise ValidationFailed.field(
            "addressee_ids", _("The addressees cannot be changed once the request has been sent.")
        )
    ids = clean.pop("addressee_ids")
    for name, value in clean.items():
        setattr(locked, name, value)
    if changed:
        locked.save()
        locked.addressees.set(ids)
        record(
            actor=actor,
            event=EventType.REQUEST_UPDATED,
            target=locked,
            organization_id=locked.organization_id,
            details={"changes": changed},
        )
    return locked


def snapshot(inquiry: Any) -> dict[str, Any]:
    """What each sending delivered: the version the addressees read."""
    data = {name: getattr(inquiry, name) for name in FIELDS if name != "addressee_ids"}
    data["addressee_ids"] = addressee_ids(inquiry)
    return data


def answer_snapshot(thread: Any) -> dict[str, Any]:
    return {"answer": thread.answer}


# The legal acts (R67.11, R67.14): the requester's head approving the request; an addressee's
# head accepting or declining it, and approving the answer. Each may be signed with EDS.
SIGNED_ACTS = {"approve": "approve"}
THREAD_SIGNED_ACTS = {"accept": "accept", "decline": "decline", "approve": "approve_answer"}


def _request_files(inquiry: Inquiry) -> list[Any]:
    return list(inquiry.attachments.filter(thread__isnull=True).order_by("id"))


def inquiry_document(
    *, actor: User, inquiry: Inquiry, name: str, comment: str = ""
) -> ActDocument | None:
    """What the requester's head signs when approving the request now: the version it becomes
    (its text, addressees and files' digests); None for a step that is not signed."""
    decision = SIGNED_ACTS.get(name)
    if decision is None or actor.organization_id != inquiry.organization_id:
        return None
    return signing.document_for(
        actor=actor,
        kind="request",
        item_id=inquiry.pk,
        reference=inquiry.reference,
        version=inquiry.version + 1,
        content=snapshot(inquiry),
        decision=decision,
        files=signing.files_of(_request_files(inquiry)),
        reason=comment,
    )


def thread_document(
    *, actor: User, thread: InquiryThread, name: str, comment: str = ""
) -> ActDocument | None:
    """What an addressee's head signs: accepting or declining the request as it was sent (its
    last version), or approving the answer (the version of the answer it becomes, with its
    files); None for a step that is not signed."""
    decision = THREAD_SIGNED_ACTS.get(name)
    # Only the addressee's own people sign its thread's acts (and only they may read a draft).
    if decision is None or actor.organization_id != thread.organization_id:
        return None
    inquiry = thread.inquiry
    if decision == "approve_answer":
        return signing.document_for(
            actor=actor,
            kind="request_answer",
            item_id=thread.pk,
            reference=inquiry.reference,
            version=thread.version + 1,
            content=answer_snapshot(thread),
            decision=decision,
            files=signing.files_of(thread.attachments.order_by("id")),
            reason=comment,
        )
    sent = signing.latest_version(inquiry)
    return signing.document_for(
        actor=actor,
        kind="request",
        item_id=inquiry.pk,
        reference=inquiry.reference,
        version=inquiry.version,
        content=sent.snapshot if sent is not None else snapshot(inquiry),
        decision=decision,
        files=signing.files_of(_request_files(inquiry)),
        reason=comment,
    )


def inquiry_page_documents(*, actor: User, inquiry: Inquiry) -> dict[str, PageDocument]:
    documents: dict[str, PageDocument] = {}
    for transition in INQUIRY_MACHINE.allowed(actor, inquiry):
        page = signing.page_document(
            actor=actor,
            document=inquiry_document(actor=actor, inquiry=inquiry, name=transition.name),
        )
        if page is not None:
            documents[transition.name] = page
    return documents


def thread_page_documents(*, actor: User, thread: InquiryThread) -> dict[str, PageDocument]:
    documents: dict[str, PageDocument] = {}
    for transition in thread_actions(actor, thread):
        page = signing.page_document(
            actor=actor,
            document=thread_document(actor=actor, thread=thread, name=transition.name),
            reason_field="comment" if transition.name in ("accept", "decline") else "",
        )
        if page is not None:
            documents[transition.name] = page
    return documents


@transaction.atomic
def inquiry_transition(
    *, actor: User, inquiry: Inquiry, name: str, comment: str = "", eds_signature: str = ""
) -> Inquiry:
    """One transaction: the move, its audit event, the threads it opens and the notifications;
    the head's approval with its EDS signature when given (or required)."""
    if name == "request_approval" and actor.is_center:
        # The center sends its own requests directly; it has no IS-unit head to ask.
        raise Forbidden()
    locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    transition = INQUIRY_MACHINE.transitions.get(name)
    checked = signing.check(
        actor=actor,
        document=inquiry_document(actor=actor, inquiry=locked, name=name, comment=comment),
        eds_signature=eds_signature,
        allowed=transition is not None and transition in INQUIRY_MACHINE.allowed(actor, locked),
    )
    result = engine.apply(
        actor=actor,
        item=locked,
        machine=INQUIRY_MACHINE,
        name=name,
        comment=comment,
        snapshot=snapshot,
        details=signing.audit_details(checked),
    )
    assert isinstance(result, Inquiry)  # noqa: S101 - the engine returns the same model
    signing.keep(actor=actor, checked=checked, item=result, act=SIGNED_ACTS.get(name, name))
    threads = InquiryThread.objects.select_for_update().filter(inquiry=result)
    if name == "return":
        # Checked after the engine's own checks (so a stranger still gets 403, not 409); raising
        # here rolls the whole move back.
        if result.organization.is_center:
            raise Forbidden()
        if threads.exclude(state=ThreadState.RECEIVED).exists():
            raise AppError(
                _(
                    "An addressee has already accepted or declined this request; return its "
                    "answer instead."
                ),
                code="request_taken_up",
                status=409,
            )
        # The addressees' clocks stop while the request is being fixed; sending it again
        # restarts them.
        threads.update(deadline_at=None)
    if result.state == InquiryState.SENT:
        opened = _send(actor, result)
        inquiry_sent(actor=actor, inquiry=result, threads=opened, again=result.version > 1)
    inquiry_transitioned(actor=actor, inquiry=result, name=name, comment=comment)
    return result


def _send(actor: User, inquiry: Inquiry) -> list[InquiryThread]:
    """Open a thread per addressee, or restart the clock of one that waits (sent again after
    a return): 1 working day to accept or decline (R67.14)."""
    now = timezone.now()
    due = add_working_days(now, 1)
    inquiry.sent_at = now
    inquiry.save(update_fields=["sent_at", "updated_at"])
    existing = {t.organization_id: t for t in InquiryThread.objects.filter(inquiry=inquiry)}
    opened: list[InquiryThread] = []
    for organization_id in addressee_ids(inquiry):
        thread = existing.get(organization_id)
        if thread is None:
            thread = InquiryThread.objects.create(
                inquiry=inquiry,
                organization_id=organization_id,
                state=ThreadState.RECEIVED,
                created_by=actor,
                received_at=now,
                due_at=due,
                deadline_at=due,
                deadline_reason="acknowledge",
            )
        elif thread.state == ThreadState.RECEIVED:
            thread.received_at = now
            thread.due_at = due
            thread.deadline_at = due
            thread.deadline_reason = "acknowledge"
            thread.save()
        else:
            continue
        opened.append(thread)
    return opened


def thread_actions(actor: Actor, thread: InquiryThread) -> list[engine.Transition]:
    """What the page may offer this person on this thread."""
    if thread.inquiry.state != InquiryState.SENT:
        return []
    return [t for t in THREAD_MACHINE.allowed(actor, thread) if _refusal(actor, thread, t) is None]


def _refusal(actor: Actor, thread: InquiryThread, transition: engine.Transition) -> str | None:
    """The checks the engine cannot make: the requester's side, and who has a head."""
    requester_id = thread.inquiry.organization_id
    if transition.side == REQUESTER and actor.organization_id != requester_id:
        return "side"
    if transition.name == "request_approval" and actor.is_center:
        return "no head"  # the center answers directly
    if transition.name == "center_return_answer" and (
        thread.organization.is_center or requester_id == actor.organization_id
    ):
        # The center does not return its own answer, and as the requester it uses return_answer.
        return "own"
    return None


@transaction.atomic
def thread_transition(
    *, actor: User, thread: InquiryThread, name: str, comment: str = "", eds_signature: str = ""
) -> InquiryThread:
    """One addressee's move (R67.14, R67.15), its audit event and the notifications; the head's
    acceptance, refusal or approval of the answer with its EDS signature when given (or
    required)."""
    locked = (
        InquiryThread.objects.select_for_update()
        .select_related("inquiry", "organization")
        .get(pk=thread.pk)
    )
    transition = THREAD_MACHINE.transitions.get(name)
    if transition is not None and _refusal(actor, locked, transition) is not None:
        raise Forbidden()
    if locked.inquiry.state != InquiryState.SENT:
        raise AppError(
            _("The request is back with its author; wait until it is sent again."),
            code="request_not_sent",
            status=409,
        )
    checked = signing.check(
        actor=actor,
        document=thread_document(actor=actor, thread=locked, name=name, comment=comment),
        eds_signature=eds_signature,
        allowed=transition is not None and transition in thread_actions(actor, locked),
    )
    text = (comment or "").strip()
    if name == "accept" and not text:
        # R67.14: the acceptance is stated in the request's comments.
        text = _("Accepted into work.")
    now = timezone.now()
    # The journal keeps whether the addressee acted after its clock ran out (the next clock
    # replaces due_at, so the thread itself no longer shows it).
    late = locked.state in WAITING_ON_ADDRESSEE and bool(locked.due_at and now > locked.due_at)
    result = engine.apply(
        actor=actor,
        item=locked,
        machine=THREAD_MACHINE,
        name=name,
        comment=text,
        snapshot=answer_snapshot,
        details={
            "inquiry_id": locked.inquiry_id,
            "requester_id": locked.inquiry.organization_id,
            "late": late,
            **signing.audit_details(checked),
        },
    )
    assert isinstance(result, InquiryThread)  # noqa: S101 - the engine returns the same model
    signing.keep(
        actor=actor,
        checked=checked,
        item=result,
        act=THREAD_SIGNED_ACTS.get(name, name),
        # Accepting or declining covers the request as sent; approving, the answer's version.
        version_of=result if name == "approve" else result.inquiry,
    )
    if name in ("request_approval", "answer_direct") and not result.answer.strip():
        # After the engine's checks, so a stranger or a wrong state is told that instead;
        # raising here rolls the move back.
        raise ValidationFailed.field("answer", _("Write the answer first."))
    if name in ("accept", "decline"):
        result.responded_at = now
        result.responded_by = actor
    if name in ("approve", "answer_direct"):
        result.answered_at = now
        result.answered_by = actor
    if result.deadline_at is not None and transition is not None and transition.deadline_days:
        result.due_at = result.deadline_at
    result.save()
    thread_transitioned(actor=actor, thread=result, name=name, comment=text)
    return result


@transaction.atomic
def answer_update(*, actor: Actor, thread: InquiryThread, answer: str) -> InquiryThread:
    """The addressee writes (or fixes) its answer while the thread is in work (R67.14)."""
    ensure_perm(actor, Perm.REQUEST_EDIT)
    locked = InquiryThread.objects.select_for_update().select_related("inquiry").get(pk=thread.pk)
    if actor.organization_id != locked.organization_id:
        raise Forbidden()
    if locked.state not in ANSWER_EDITABLE or locked.inquiry.state != InquiryState.SENT:
        raise AppError(
            _("The answer can be changed only while the request is in work."),
            code="not_editable",
            status=409,
        )
    f = Fields()
    text = f.optional_text("answer", answer, max_length=MAX_ANSWER)
    f.raise_if_any()
    if text != locked.answer:
        locked.answer = text
        locked.save()
        record(
            actor=actor,
            event=EventType.REQUEST_ANSWER_UPDATED,
            target=locked,
            organization_id=locked.organization_id,
            details={"inquiry_id": locked.inquiry_id, "length": len(text)},
        )
    return locked


def comment_add(*, actor: User, inquiry: Inquiry, body: str, internal: bool = False) -> Any:
    """A comment on the request itself: the requester's organization and the center only (the
    addressees talk with the requester in their own threads)."""
    if not (actor.is_center or actor.organization_id == inquiry.organization_id):
        raise Forbidden()
    return engine.comment_add(
        actor=actor, item=inquiry, body=body, internal=internal, perm=Perm.REQUEST_COMMENT
    )


def thread_comment_add(
    *, actor: User, thread: InquiryThread, body: str, internal: bool = False
) -> Any:
    """The clarification thread between the requester and one addressee (the center reads it)."""
    parties = {thread.organization_id, thread.inquiry.organization_id}
    if not (actor.is_center or actor.organization_id in parties):
        raise Forbidden()
    return engine.comment_add(
        actor=actor, item=thread, body=body, internal=internal, perm=Perm.REQUEST_COMMENT
    )


@transaction.atomic
def inquiry_viewed(*, actor: Actor, inquiry: Inquiry) -> None:
    """Every view of a TLP:AMBER or stricter request is audited, under the viewer's own
    organization (an organization's journal names its own people only)."""
    if inquiry.is_audited:
        record(
            actor=actor,
            event=EventType.REQUEST_VIEWED,
            target=inquiry,
            organization_id=actor.organization_id,
            details={"tlp": inquiry.tlp, "requester_id": inquiry.organization_id},
        )


def _attachment(
    actor: User, inquiry: Inquiry, thread: InquiryThread | None, upload: "UploadedFile[Any]"
) -> InquiryAttachment:
    attachment = InquiryAttachment.objects.create(
        inquiry=inquiry, thread=thread, uploaded_by=actor, **file_services.stored_fields(upload)
    )
    target: Any = thread if thread is not None else inquiry
    record(
        actor=actor,
        event=EventType.ATTACHMENT_ADDED,
        target=target,
        organization_id=target.organization_id,
        details={
            "attachment_id": attachment.pk,
            "sha256": attachment.sha256,
            "size": attachment.size,
        },
    )
    return attachment


@transaction.atomic
def attachment_add(
    *, actor: User, inquiry: Inquiry, upload: "UploadedFile[Any]"
) -> InquiryAttachment:
    """A file of the request, while it is a draft or returned (R67.3.7)."""
    ensure_perm(actor, Perm.REQUEST_EDIT)
    # Locked, so the request cannot be sent while the file is being attached.
    locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    if actor.organization_id != locked.organization_id:
        raise Forbidden()
    if locked.state not in EDITABLE:
        raise AppError(
            _("Only a draft or a returned request can be changed."),
            code="not_editable",
            status=409,
        )
    return _attachment(actor, locked, None, upload)


@transaction.atomic
def answer_attachment_add(
    *, actor: User, thread: InquiryThread, upload: "UploadedFile[Any]"
) -> InquiryAttachment:
    """A file of one addressee's answer, while the answer is being written."""
    ensure_perm(actor, Perm.REQUEST_EDIT)
    locked = InquiryThread.objects.select_for_update().select_related("inquiry").get(pk=thread.pk)
    if actor.organization_id != locked.organization_id:
        raise Forbidden()
    if locked.state not in ANSWER_EDITABLE or locked.inquiry.state != InquiryState.SENT:
        raise AppError(
            _("The answer can be changed only while the request is in work."),
            code="not_editable",
            status=409,
        )
    return _attachment(actor, locked.inquiry, locked, upload)


@transaction.atomic
def attachment_downloaded(*, actor: Actor, attachment: InquiryAttachment) -> None:
    target: Any = attachment.thread if attachment.thread_id else attachment.inquiry
    record(
        actor=actor,
        event=EventType.ATTACHMENT_DOWNLOADED,
        target=target,
        organization_id=actor.organization_id,
        details={"attachment_id": attachment.pk, "inquiry_id": attachment.inquiry_id},
    )


@transaction.atomic
def signature_exported(*, actor: Actor, inquiry: Inquiry, act: SignedAct) -> None:
    """Every export of a signed act's bundle is on the record: it names a person and their IIN."""
    signing.bundle_exported(actor=actor, target=inquiry, act=act)
