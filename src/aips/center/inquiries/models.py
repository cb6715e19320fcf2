"""Requests (R67.3.7, R67.11, R67.14, R67.15): a formal appeal on IS matters from a financial
organization to the regulator (the center) or to other organizations, through AIPS's protected
channel. In code the noun is "inquiry" (HttpRequest and accounts' UserRequest already use
"request"); in the UI, the URLs, the API and the permissions it is "request".

An `Inquiry` is the requester's document: written by the responsible employee, approved by the
IS-unit head, sent. Each addressee gets its own `InquiryThread`, with its own state, clocks,
answer and clarification comments, so several addressees progress independently."""

from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aips.core.actors import Actor
from aips.core.permissions import Perm
from aips.core.tenancy import TenantQuerySet
from aips.core.tlp import AMBER_OR_STRICTER, Tlp
from aips.shared.files.models import StoredFile
from aips.shared.workflow.models import WorkflowItem

# Every view of a request at TLP:AMBER or stricter is audited (issue 7, item 5).
AUDITED_TLP = AMBER_OR_STRICTER


class InquiryCategory(models.TextChoices):
    THREAT = "threat", _("Threat or incident information")
    INDICATORS = "indicators", _("Indicators of compromise")
    VULNERABILITY = "vulnerability", _("Vulnerability")
    FRAUD = "fraud", _("Fraud and unsanctioned transfers")
    REGULATORY = "regulatory", _("IS requirements and regulation")
    OTHER = "other", _("Other IS matter")


class InquiryState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting the head's approval")
    SENT = "sent", pgettext_lazy("request status", "Sent")
    RETURNED = "returned", _("Returned for rework")


class ThreadState(models.TextChoices):
    RECEIVED = "received", _("Received")
    ACCEPTED = "accepted", _("Accepted into work")
    DECLINED = "declined", _("Declined")
    ANSWER_AWAITING_APPROVAL = "answer_awaiting_approval", _("Answer awaiting the head's approval")
    ANSWERED = "answered", _("Answered")
    ANSWER_RETURNED = "answer_returned", _("Answer returned for rework")
    CLOSED = "closed", pgettext_lazy("request status", "Closed")


# The thread states in which the addressee owes something, and its clock runs (R67.14, R67.15).
WAITING_ON_ADDRESSEE = frozenset(
    {
        ThreadState.RECEIVED,
        ThreadState.ACCEPTED,
        ThreadState.ANSWER_AWAITING_APPROVAL,
        ThreadState.ANSWER_RETURNED,
    }
)
# The answer can be written in these states.
ANSWER_EDITABLE = frozenset({ThreadState.ACCEPTED, ThreadState.ANSWER_RETURNED})


def overall_state(state: str, thread_states: Iterable[str]) -> tuple[str, str]:
    """What a sent request as a whole stands at, from its threads (state code, label).

    A request is "sent" while any addressee still owes an answer or a decision. Once none does,
    it is "answered" while the requester still has an answer to close (or return); "closed" once
    every thread is closed or declined; "declined" if every addressee declined. Before it is
    sent, and without threads, it is its own state."""
    states = set(thread_states)
    if state != InquiryState.SENT or not states:
        return state, str(InquiryState(state).label)
    if states == {ThreadState.DECLINED}:
        shown = ThreadState.DECLINED
    elif states <= {ThreadState.CLOSED, ThreadState.DECLINED}:
        shown = ThreadState.CLOSED
    elif states <= {ThreadState.ANSWERED, ThreadState.CLOSED, ThreadState.DECLINED}:
        shown = ThreadState.ANSWERED
    else:
        return state, str(InquiryState(state).label)
    return str(shown), str(shown.label)


class InquiryQuerySet(TenantQuerySet["Inquiry"]):
    """The requester's organization sees its requests in every state. An addressee sees a request
    only while it stands sent (never the requester's drafts or rework). The center sees its own
    requests and every request once sent (`version >= 1`, so one it returned stays in sight, with
    its deadline, while it is fixed). Nobody else sees anything."""

    view_perm = Perm.REQUEST_VIEW

    def center_scope(self, actor: Actor) -> "InquiryQuerySet":
        return self.filter(
            models.Q(organization_id=actor.organization_id) | models.Q(version__gte=1)
        )

    def organization_scope(self, actor: Actor) -> "InquiryQuerySet":
        received = InquiryThread.objects.filter(
            models.Q(organization_id=actor.organization_id)
        ).values("inquiry_id")
        return self.filter(
            models.Q(organization_id=actor.organization_id)
            | models.Q(state=InquiryState.SENT, pk__in=received)
        )


class Inquiry(WorkflowItem):
    """`organization` is the requester's. The chosen addressees are kept on the request; a
    thread is opened for each when it is first sent."""

    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text of the request"))
    category = models.CharField(_("category"), max_length=32, choices=InquiryCategory.choices)
    tlp = models.CharField(_("confidentiality (TLP)"), max_length=16, choices=Tlp.choices)
    addressees = models.ManyToManyField(
        "organizations.Organization", related_name="+", verbose_name=_("addressees")
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    objects = InquiryQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("request")
        verbose_name_plural = _("requests")

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def reference(self) -> str:
        return f"REQ-{self.pk:06d}" if self.pk else "REQ-new"

    @property
    def state_label(self) -> str:
        return str(InquiryState(self.state).label)

    @property
    def is_audited(self) -> bool:
        return self.tlp in AUDITED_TLP


class ThreadQuerySet(TenantQuerySet["InquiryThread"]):
    """The requester sees every addressee's thread; an addressee only its own, and only while the
    request stands sent; the center all of them."""

    view_perm = Perm.REQUEST_VIEW

    def organization_scope(self, actor: Actor) -> "ThreadQuerySet":
        return self.filter(
            models.Q(inquiry__organization_id=actor.organization_id)
            | models.Q(organization_id=actor.organization_id, inquiry__state=InquiryState.SENT)
        )


class InquiryThread(WorkflowItem):
    """One addressee's copy of a request: `organization` is the addressee (the center is an
    organization too). It moves on its own machine (`workflow.THREAD_MACHINE`): accept or
    decline within 1 working day, answer within 10, fix a returned answer within 3."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.PROTECT, related_name="threads")
    received_at = models.DateTimeField(_("received"))
    # The due moment of the current clock, kept after the clock stops (deadline_at is cleared):
    # lateness is judged against it.
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    responded_at = models.DateTimeField(_("accepted or declined"), null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ThreadQuerySet.as_manager()

    class Meta:
        ordering = ["inquiry_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["inquiry", "organization"], name="inquiry_thread_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.inquiry_id} → {self.organization_id}"

    @property
    def requester_organization_id(self) -> int:
        """For the workflow engine: the requester's people take the "requester" steps."""
        return int(self.inquiry.organization_id)

    @property
    def state_label(self) -> str:
        return str(ThreadState(self.state).label)

    @property
    def tlp(self) -> str:
        """The request's TLP (reminders and e-mails follow it)."""
        return self.inquiry.tlp

    @property
    def waiting_on_addressee(self) -> bool:
        return self.state in WAITING_ON_ADDRESSEE

    @property
    def overdue(self) -> bool:
        from django.utils import timezone

        return (
            self.waiting_on_addressee
            and self.deadline_at is not None
            and self.deadline_at < timezone.now()
        )

    @property
    def late(self) -> bool:
        """Overdue now, or the last act (accept/decline, answer) came after its due moment."""
        if self.waiting_on_addressee:
            return self.overdue
        done = self.responded_at if self.state == ThreadState.DECLINED else self.answered_at
        return bool(done and self.due_at and done > self.due_at)


class InquiryAttachmentQuerySet(TenantQuerySet["InquiryAttachment"]):
    """A request's files follow the request; an answer's files follow its thread, and outside the
    addressee only once approved with the answer (uploaded before it was sent). The same rule for
    the center and organizations."""

    tenant_field = None

    def center_scope(self, actor: Actor) -> "InquiryAttachmentQuerySet":
        return self.organization_scope(actor)

    def organization_scope(self, actor: Actor) -> "InquiryAttachmentQuerySet":
        sent = models.Q(thread__organization_id=actor.organization_id) | models.Q(
            thread__answered_at__gte=models.F("uploaded_at")
        )
        return self.filter(
            models.Q(thread__isnull=True, inquiry__in=Inquiry.objects.visible_to(actor))
            | (models.Q(thread__in=InquiryThread.objects.visible_to(actor)) & sent)
        )


class InquiryAttachment(StoredFile):
    """A file of the request (thread empty) or of one addressee's answer (the platform's stored
    file, owned by the request and, for an answer, its thread)."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.PROTECT, related_name="attachments")
    thread = models.ForeignKey(
        InquiryThread,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attachments",
    )

    objects = InquiryAttachmentQuerySet.as_manager()
