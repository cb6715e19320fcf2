from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import File, Query, Router, Schema, Status
from ninja.params.functions import Path

from aips.center.inquiries import selectors, services
from aips.center.inquiries.lifecycle import INQUIRY_MACHINE, THREAD_MACHINE
from aips.center.inquiries.models import Inquiry, InquiryThread
from aips.core.actors import Actor, acting
from aips.core.numbers import Id, PageLimit
from aips.core.pagination import Page, keyset_page
from aips.core.permissions import Perm
from aips.core.strings import RequiredText
from aips.core.tlp import TlpLevel
from aips.shared.accounts.api_auth import api_auth
from aips.shared.accounts.sessions import acting_person
from aips.shared.files.schemas import AttachmentOut, NonEmptyFile
from aips.shared.workflow import signing
from aips.shared.workflow.api_schemas import (
    BUNDLE_RESPONSE,
    CommentIn,
    CommentOut,
    DocumentOut,
    SignatureOut,
    TransitionIn,
    transition_names,
)
from aips.shared.workflow.web import bundle_response

router = Router(tags=["requests"])

# The public API calls an inquiry a "request" (`/api/v1/requests/{request_id}`), and that name
# stays on the wire; in Python `request` is Django's HttpRequest, so the handlers receive the
# inquiry's id as `inquiry_id`. The title keeps the published schema as it was.
InquiryId = Annotated[Id, Path(alias="request_id", title="Request Id")]

Category = Literal["threat", "indicators", "vulnerability", "fraud", "regulatory", "other"]
State = Literal["draft", "awaiting_approval", "sent", "returned"]
ThreadStateName = Literal[
    "received",
    "accepted",
    "declined",
    "answer_awaiting_approval",
    "answered",
    "answer_returned",
    "closed",
]
Box = Literal["sent", "received"]


class ThreadOut(Schema):
    id: int
    request_id: int
    organization_id: int
    state: ThreadStateName
    received_at: datetime
    deadline_at: datetime | None
    deadline_reason: str
    due_at: datetime | None
    late: bool
    responded_at: datetime | None
    answered_at: datetime | None
    answer: str | None
    version: int


class RequestOut(Schema):
    id: int
    reference: str
    organization_id: int
    state: State
    subject: str
    body: str
    category: Category
    tlp: TlpLevel
    addressee_ids: list[int] | None
    version: int
    sent_at: datetime | None
    deadline_at: datetime | None
    deadline_reason: str
    created_at: datetime
    updated_at: datetime
    threads: list[ThreadOut]


class RequestIn(Schema):
    subject: RequiredText
    body: RequiredText
    category: Category
    tlp: TlpLevel
    addressee_ids: list[Id]


class RequestPatch(Schema):
    subject: str | None = None
    body: str | None = None
    category: Category | None = None
    tlp: TlpLevel | None = None
    addressee_ids: list[Id] | None = None


class RequestFilter(Schema):
    after: Id | None = None
    limit: PageLimit = 50
    box: Box | None = None
    state: State | None = None
    category: Category | None = None
    organization_id: Id | None = None
    overdue: bool = False


class AnswerIn(Schema):
    answer: str


def _thread(user: Actor, thread: InquiryThread) -> dict[str, Any]:
    return {
        "id": thread.pk,
        "request_id": thread.inquiry_id,
        "organization_id": thread.organization_id,
        "state": thread.state,
        "received_at": thread.received_at,
        "deadline_at": thread.deadline_at,
        "deadline_reason": thread.deadline_reason,
        "due_at": thread.due_at,
        "late": thread.late,
        "responded_at": thread.responded_at,
        "answered_at": thread.answered_at,
        # The addressee's working copy for the addressee; the approved answer for the others.
        "answer": selectors.answer_for(actor=user, thread=thread),
        "version": thread.version,
    }


def _out(request: HttpRequest, inquiry: Inquiry) -> dict[str, Any]:
    """What this caller may see: an addressee sees its own thread only, not the other
    addressees (nor who they are)."""
    user = acting_person(request)
    requester = user.is_center or user.organization_id == inquiry.organization_id
    return {
        "id": inquiry.pk,
        "reference": inquiry.reference,
        "organization_id": inquiry.organization_id,
        "state": inquiry.state,
        "subject": inquiry.subject,
        "body": inquiry.body,
        "category": inquiry.category,
        "tlp": inquiry.tlp,
        "addressee_ids": services.addressee_ids(inquiry) if requester else None,
        "version": inquiry.version,
        "sent_at": inquiry.sent_at,
        "deadline_at": inquiry.deadline_at,
        "deadline_reason": inquiry.deadline_reason,
        "created_at": inquiry.created_at,
        "updated_at": inquiry.updated_at,
        "threads": [_thread(user, t) for t in selectors.threads(actor=user, inquiry=inquiry)],
    }


def _shown(request: HttpRequest, inquiry: Inquiry) -> dict[str, Any]:
    # Every view of a TLP:AMBER or stricter request is on the record.
    services.inquiry_viewed(actor=acting(request), inquiry=inquiry)
    return _out(request, inquiry)


@router.get(
    "", response=Page[RequestOut], operation_id="requests_list", auth=api_auth(Perm.REQUEST_VIEW)
)
def requests_list(request: HttpRequest, filters: Query[RequestFilter]) -> Any:
    qs = selectors.inquiry_list(
        actor=acting(request),
        box=filters.box or "",
        state=filters.state or "",
        category=filters.category or "",
        organization_id=filters.organization_id,
        overdue=filters.overdue,
    )
    page = keyset_page(qs, after=filters.after, limit=filters.limit)
    page["items"] = [_shown(request, i) for i in page["items"]]
    return page


@router.post(
    "", response={201: RequestOut}, operation_id="requests_create", auth=api_auth(Perm.REQUEST_EDIT)
)
def requests_create(request: HttpRequest, payload: RequestIn) -> Any:
    return Status(
        201, _out(request, services.inquiry_create(actor=acting_person(request), **payload.dict()))
    )


@router.get(
    "/{request_id}",
    response=RequestOut,
    operation_id="requests_get",
    auth=api_auth(Perm.REQUEST_VIEW),
)
def requests_get(request: HttpRequest, inquiry_id: InquiryId) -> Any:
    return _shown(request, selectors.get_inquiry_for(acting(request), inquiry_id))


@router.patch(
    "/{request_id}",
    response=RequestOut,
    operation_id="requests_update",
    auth=api_auth(Perm.REQUEST_EDIT),
)
def requests_update(request: HttpRequest, inquiry_id: InquiryId, payload: RequestPatch) -> Any:
    inquiry = selectors.get_inquiry_for(acting(request), inquiry_id)
    changes = payload.dict(exclude_unset=True)
    return _out(request, services.inquiry_update(actor=acting(request), inquiry=inquiry, **changes))


@router.post(
    "/{request_id}/transitions/{name}",
    response=RequestOut,
    operation_id="requests_transition",
    auth=api_auth(Perm.REQUEST_VIEW),
)
def requests_transition(
    request: HttpRequest,
    inquiry_id: InquiryId,
    name: Annotated[str, transition_names(INQUIRY_MACHINE)],
    payload: TransitionIn,
) -> Any:
    """request_approval, approve, send_back (comment), return (comment, the center),
    send_direct (the center's own request). The head's `approve` may carry `eds_signature` over
    `GET …/transitions/approve/document` (mandatory when the organization requires it)."""
    inquiry = selectors.get_inquiry_for(acting(request), inquiry_id)
    moved = services.inquiry_transition(
        actor=acting_person(request),
        inquiry=inquiry,
        name=name,
        comment=payload.comment,
        eds_signature=payload.eds_signature,
    )
    return _out(request, moved)


@router.get(
    "/{request_id}/transitions/{name}/document",
    response=DocumentOut,
    operation_id="requests_transition_document",
    auth=api_auth(Perm.REQUEST_VIEW),
)
def requests_transition_document(
    request: HttpRequest,
    inquiry_id: InquiryId,
    name: Annotated[str, transition_names(INQUIRY_MACHINE)],
    comment: str = "",
) -> Any:
    """The canonical document (base64) an EDS signature of this step covers, as the request
    stands now and with this comment; 404 `not_signed` for a step that is not signed."""
    user = acting_person(request)
    inquiry = selectors.get_inquiry_for(user, inquiry_id)
    document = services.inquiry_document(actor=user, inquiry=inquiry, name=name, comment=comment)
    return signing.document_out(actor=user, document=document)


@router.get(
    "/{request_id}/signatures",
    response=list[SignatureOut],
    operation_id="requests_signatures",
    auth=api_auth(Perm.REQUEST_VIEW),
)
def requests_signatures(request: HttpRequest, inquiry_id: InquiryId) -> Any:
    """EDS-signed acts: the request's approval (the requester and the center) and each visible
    thread's acceptance, refusal and approved answers."""
    user = acting_person(request)
    inquiry = selectors.get_inquiry_for(user, inquiry_id)
    return [signing.signature_out(act) for act in selectors.signatures(actor=user, inquiry=inquiry)]


@router.get(
    "/{request_id}/signatures/{signature_id}/bundle",
    openapi_extra=BUNDLE_RESPONSE,
    operation_id="requests_signature_bundle",
    auth=api_auth(Perm.REQUEST_VIEW),
)
def requests_signature_bundle(request: HttpRequest, inquiry_id: InquiryId, signature_id: Id) -> Any:
    """The signed act as a zip bundle that `aips eds verify` checks offline."""
    user = acting_person(request)
    inquiry = selectors.get_inquiry_for(user, inquiry_id)
    act = selectors.get_signature_for(user, inquiry, signature_id)
    return bundle_response(
        act, served=lambda: services.signature_exported(actor=user, inquiry=inquiry, act=act)
    )


@router.get(
    "/{request_id}/comments",
    response=list[CommentOut],
    operation_id="requests_comments",
    auth=api_auth(Perm.REQUEST_VIEW),
)
def requests_comments(request: HttpRequest, inquiry_id: InquiryId) -> Any:
    inquiry = selectors.get_inquiry_for(acting(request), inquiry_id)
    return selectors.timeline(actor=acting(request), inquiry=inquiry)


@router.post(
    "/{request_id}/comments",
    response={201: CommentOut},
    operation_id="requests_comment_add",
    auth=api_auth(Perm.REQUEST_COMMENT),
)
def requests_comment_add(request: HttpRequest, inquiry_id: InquiryId, payload: CommentIn) -> Any:
    inquiry = selectors.get_inquiry_for(acting(request), inquiry_id)
    comment = services.comment_add(
        actor=acting_person(request), inquiry=inquiry, body=payload.body, internal=payload.internal
    )
    return Status(201, comment)


@router.post(
    "/{request_id}/attachments",
    response={201: AttachmentOut},
    operation_id="requests_attachment_add",
    auth=api_auth(Perm.REQUEST_EDIT),
)
def requests_attachment_add(
    request: HttpRequest, inquiry_id: InquiryId, file: File[NonEmptyFile]
) -> Any:
    inquiry = selectors.get_inquiry_for(acting(request), inquiry_id)
    return Status(
        201, services.attachment_add(actor=acting_person(request), inquiry=inquiry, upload=file)
    )


@router.get(
    "/{request_id}/threads/{thread_id}",
    response=ThreadOut,
    operation_id="requests_thread_get",
    auth=api_auth(Perm.REQUEST_VIEW),
)
def requests_thread_get(request: HttpRequest, inquiry_id: InquiryId, thread_id: Id) -> Any:
    thread = selectors.get_thread_for(acting(request), inquiry_id, thread_id)
    services.inquiry_viewed(actor=acting(request), inquiry=thread.inquiry)
    return _thread(acting(request), thread)


@router.put(
    "/{request_id}/threads/{thread_id}/answer",
    response=ThreadOut,
    operation_id="requests_answer_update",
    auth=api_auth(Perm.REQUEST_EDIT),
)
def requests_answer_update(
    request: HttpRequest, inquiry_id: InquiryId, thread_id: Id, payload: AnswerIn
) -> Any:
    """The addressee writes its answer while the thread is accepted or returned (R67.14)."""
    thread = selectors.get_thread_for(acting(request), inquiry_id, thread_id)
    saved = services.answer_update(actor=acting(request), thread=thread, answer=payload.answer)
    return _thread(acting(request), saved)


@router.post(
    "/{request_id}/threads/{thread_id}/transitions/{name}",
    response=ThreadOut,
    operation_id="requests_thread_transition",
    auth=api_auth(Perm.REQUEST_VIEW),
)
def requests_thread_transition(
    request: HttpRequest,
    inquiry_id: InquiryId,
    thread_id: Id,
    name: Annotated[str, transition_names(THREAD_MACHINE)],
    payload: TransitionIn,
) -> Any:
    """accept, decline (comment), request_approval, approve, send_back (comment), answer_direct
    (the center's own thread), return_answer (the requester, comment), center_return_answer
    (comment), close (the requester)."""
    thread = selectors.get_thread_for(acting(request), inquiry_id, thread_id)
    moved = services.thread_transition(
        actor=acting_person(request),
        thread=thread,
        name=name,
        comment=payload.comment,
        eds_signature=payload.eds_signature,
    )
    return _thread(acting(request), moved)


@router.get(
    "/{request_id}/threads/{thread_id}/transitions/{name}/document",
    response=DocumentOut,
    operation_id="requests_thread_transition_document",
    auth=api_auth(Perm.REQUEST_VIEW),
)
def requests_thread_transition_document(
    request: HttpRequest,
    inquiry_id: InquiryId,
    thread_id: Id,
    name: Annotated[str, transition_names(THREAD_MACHINE)],
    comment: str = "",
) -> Any:
    """The canonical document (base64) an EDS signature of accepting, declining or approving
    the answer covers, with this comment; 404 `not_signed` for a step that is not signed."""
    user = acting_person(request)
    thread = selectors.get_thread_for(user, inquiry_id, thread_id)
    document = services.thread_document(actor=user, thread=thread, name=name, comment=comment)
    return signing.document_out(actor=user, document=document)


@router.get(
    "/{request_id}/threads/{thread_id}/comments",
    response=list[CommentOut],
    operation_id="requests_thread_comments",
    auth=api_auth(Perm.REQUEST_VIEW),
)
def requests_thread_comments(request: HttpRequest, inquiry_id: InquiryId, thread_id: Id) -> Any:
    thread = selectors.get_thread_for(acting(request), inquiry_id, thread_id)
    return selectors.thread_timeline(actor=acting(request), thread=thread)


@router.post(
    "/{request_id}/threads/{thread_id}/comments",
    response={201: CommentOut},
    operation_id="requests_thread_comment_add",
    auth=api_auth(Perm.REQUEST_COMMENT),
)
def requests_thread_comment_add(
    request: HttpRequest, inquiry_id: InquiryId, thread_id: Id, payload: CommentIn
) -> Any:
    thread = selectors.get_thread_for(acting(request), inquiry_id, thread_id)
    comment = services.thread_comment_add(
        actor=acting_person(request), thread=thread, body=payload.body, internal=payload.internal
    )
    return Status(201, comment)


@router.post(
    "/{request_id}/threads/{thread_id}/attachments",
    response={201: AttachmentOut},
    operation_id="requests_thread_attachment_add",
    auth=api_auth(Perm.REQUEST_EDIT),
)
def requests_thread_attachment_add(
    request: HttpRequest, inquiry_id: InquiryId, thread_id: Id, file: File[NonEmptyFile]
) -> Any:
    thread = selectors.get_thread_for(acting(request), inquiry_id, thread_id)
    return Status(
        201,
        services.answer_attachment_add(actor=acting_person(request), thread=thread, upload=file),
    )
