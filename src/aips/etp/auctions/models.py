"""An auction is one attempt of a lot's procedure; its bids are an append-only hash chain.

`Auction` carries the rule set's parameters (fixed when scheduled), the state the server's clock
moves (`scheduled → running → closed | unsuccessful`), the best bid and the chain's head. `Bid`
rows are never updated or deleted (database triggers, `db.py`); each names the previous one's
hash, so a changed, removed or inserted row breaks the chain (`chain.verify_auction`)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aips.core.actors import Actor
from aips.core.tenancy import TenantQuerySet
from aips.etp.applications.models import Application, Procedure
from aips.etp.auctions import rules
from aips.etp.permissions import EtpPerm
from aips.shared.eds.models import Signature
from aips.shared.files.models import StoredFile
from aips.shared.organizations.models import Organization

ZERO_HASH = "0" * 64


class AuctionRule(models.TextChoices):
    ASCENDING = "ascending", _("Ascending auction")
    DESCENDING = "descending", _("Descending auction")
    SEALED = "sealed", _("Sealed-bid auction")


class AuctionState(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    RUNNING = "running", _("Running")
    CLOSED = "closed", _("Closed")
    UNSUCCESSFUL = "unsuccessful", _("Unsuccessful")


class AuctionPhase(models.TextChoices):
    MAIN = "main", _("Main round")
    SEALED = "sealed", _("Sealed-bid round")
    BEST_BID = "best_bid", _("Best-bid round")


class AuctionQuerySet(TenantQuerySet["Auction"]):
    """An auction's state is public (anonymised); the working read follows the lot's seller."""

    tenant_field = "procedure__lot__organization"
    view_perm = EtpPerm.LOT_VIEW

    def center_scope(self, actor: Actor) -> "AuctionQuerySet":
        return self.all()


class Auction(models.Model):
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="auctions")
    attempt = models.PositiveIntegerField(_("attempt"), default=1)
    repeat_of = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="repeat"
    )
    rule = models.CharField(_("rule set"), max_length=16, choices=AuctionRule.choices)
    # The rule set's parameters, fixed when scheduled.
    start_price = models.DecimalField(_("start price"), max_digits=18, decimal_places=2)
    min_step = models.DecimalField(_("minimal step"), max_digits=18, decimal_places=2)
    extension_minutes = models.PositiveIntegerField(_("extension, minutes"), default=5)
    # Ascending and sealed: from the start to the planned end (before any extension).
    duration_minutes = models.PositiveIntegerField(_("duration, minutes"), default=60)
    floor_price = models.DecimalField(_("floor price"), max_digits=18, decimal_places=2, default=0)
    descending_step = models.DecimalField(
        _("price step down"), max_digits=18, decimal_places=2, default=0
    )
    descending_interval_seconds = models.PositiveIntegerField(_("step interval, s"), default=60)
    sealed_round_minutes = models.PositiveIntegerField(_("sealed round, minutes"), default=10)
    sealed_finish = models.BooleanField(_("sealed-bid finish"), default=False)
    # What the server's clock moves.
    state = models.CharField(
        _("state"), max_length=16, choices=AuctionState.choices, default=AuctionState.SCHEDULED
    )
    phase = models.CharField(
        _("round"), max_length=16, choices=AuctionPhase.choices, default=AuctionPhase.MAIN
    )
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    ends_at = models.DateTimeField(_("ends"), db_index=True)  # moves with extensions
    best_amount = models.DecimalField(
        _("best bid"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    best_application = models.ForeignKey(
        Application, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    accepted_price = models.DecimalField(
        _("accepted price"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    accepter = models.ForeignKey(
        Application, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    winner = models.ForeignKey(
        Application, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    winning_amount = models.DecimalField(
        _("winning bid"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    outcome_reason = models.CharField(_("outcome"), max_length=32, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # The bid chain's head: the row lock on the auction makes one writer at a time.
    bid_count = models.PositiveIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default=ZERO_HASH)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    objects = AuctionQuerySet.as_manager()
    procedure_id: int
    repeat_of_id: int | None
    best_application_id: int | None
    accepter_id: int | None
    winner_id: int | None
    protocol: "Protocol"  # made at a close with a winner (results.py)
    result: "AuctionResult"

    class Meta:
        ordering = ["-id"]
        verbose_name = _("auction")
        verbose_name_plural = _("auctions")
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "attempt"], name="etp_auction_one_per_attempt"
            )
        ]

    def __str__(self) -> str:
        return f"AUC-{self.pk:06d}" if self.pk else "AUC-new"

    @property
    def reference(self) -> str:
        return str(self)

    def params(self) -> rules.Params:
        return rules.Params(
            rule=rules.Rule(self.rule),
            start_price=self.start_price,
            min_step=self.min_step,
            extension=timedelta(minutes=self.extension_minutes),
            floor_price=self.floor_price,
            descending_step=self.descending_step,
            descending_interval=timedelta(seconds=self.descending_interval_seconds),
            sealed_round=timedelta(minutes=self.sealed_round_minutes),
            sealed_finish=self.sealed_finish,
        )

    def rule_state(self, bid_in_phase: frozenset[int] = frozenset()) -> rules.State:
        return rules.State(
            params=self.params(),
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            phase=rules.Phase(self.phase),
            best_amount=self.best_amount,
            best_bidder=self.best_application_id,
            accepted_price=self.accepted_price,
            accepter=self.accepter_id,
            bid_in_phase=bid_in_phase,
        )


class Bid(models.Model):
    """One bid, accepted or refused, as the server received it. Append-only (R57.17)."""

    auction = models.ForeignKey(Auction, on_delete=models.PROTECT, related_name="bids")
    sequence = models.PositiveIntegerField()  # 1, 2, … per auction: the one order of arrival
    # The bidder: the admitted application; a refused bid of someone not admitted has none.
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    seen_price = models.DecimalField(max_digits=18, decimal_places=2)
    phase = models.CharField(max_length=16, choices=AuctionPhase.choices)
    accepted = models.BooleanField()
    refusal = models.CharField(max_length=32, blank=True)
    at = models.DateTimeField()  # the server's time
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects: "models.Manager[Bid]" = models.Manager()
    auction_id: int
    application_id: int | None
    organization_id: int
    placed_by_id: int

    class Meta:
        ordering = ["auction", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["auction", "sequence"], name="etp_bid_one_order")
        ]

    def __str__(self) -> str:
        return f"bid {self.sequence} of auction {self.auction_id}"


# The results, the protocol and the contracting (auctions/results.py, protocol.py, contracts.py).


class ResultsQuerySet(TenantQuerySet["AuctionResult"]):
    """The seller's and the operator's read (the public reads the signed protocol only)."""

    tenant_field = "auction__procedure__lot__organization"
    view_perm = EtpPerm.LOT_VIEW

    def center_scope(self, actor: Actor) -> "ResultsQuerySet":
        return self.all()


class ResultOutcome(models.TextChoices):
    CONTRACTING = "contracting", _("Contracting")
    SOLD = "sold", _("Sold")
    UNSUCCESSFUL = "unsuccessful", _("Unsuccessful: no contract")


class AuctionResult(models.Model):
    """What an auction closed with a winner decided: the winner, the runner-up (the best bid of
    another participant) and how the contracting ended."""

    auction = models.OneToOneField(Auction, on_delete=models.PROTECT, related_name="result")
    winner = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="+")
    winning_amount = models.DecimalField(max_digits=18, decimal_places=2)
    runner_up = models.ForeignKey(
        Application, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    runner_up_amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    outcome = models.CharField(
        _("outcome"),
        max_length=16,
        choices=ResultOutcome.choices,
        default=ResultOutcome.CONTRACTING,
    )
    outcome_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    objects = ResultsQuerySet.as_manager()
    auction_id: int
    winner_id: int
    runner_up_id: int | None

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"results of AUC-{self.auction_id:06d}"

    @property
    def outcome_label(self) -> str:
        return str(ResultOutcome(self.outcome).label)


class ProtocolQuerySet(TenantQuerySet["Protocol"]):
    tenant_field = "auction__procedure__lot__organization"
    view_perm = EtpPerm.LOT_VIEW

    def center_scope(self, actor: Actor) -> "ProtocolQuerySet":
        return self.all()


class Protocol(models.Model):
    """The auction's protocol: the canonical JSON made at the close (`document`, the bytes the
    operator's auctioneer signs), the EDS signature, and the PDF rendered at the signing. Public
    once signed."""

    auction = models.OneToOneField(Auction, on_delete=models.PROTECT, related_name="protocol")
    document = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    signature = models.ForeignKey(
        Signature, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)

    objects = ProtocolQuerySet.as_manager()
    auction_id: int
    signature_id: int | None

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"protocol of AUC-{self.auction_id:06d}"

    @property
    def signed(self) -> bool:
        return self.signature_id is not None


class ProtocolFile(StoredFile):
    """The protocol's PDF (stored under its SHA-256, like a lot's files)."""

    protocol = models.OneToOneField(Protocol, on_delete=models.PROTECT, related_name="pdf")

    objects: "models.Manager[ProtocolFile]" = models.Manager()


class ContractState(models.TextChoices):
    AWAITING_SIGNATURE = "awaiting_signature", _("Awaiting the buyer's signature")
    AWAITING_PAYMENT = "awaiting_payment", _("Signed; awaiting payment")
    PAID = "paid", _("Paid")
    REFUSED = "refused", _("Refused by the buyer")
    LAPSED = "lapsed", _("Deadline missed")


class ContractQuerySet(TenantQuerySet["Contract"]):
    """The operator sees every contract; the seller those of its lots; the buyer its own."""

    def center_scope(self, actor: Actor) -> "ContractQuerySet":
        return self.all()

    def organization_scope(self, actor: Actor) -> "ContractQuerySet":
        return self.filter(
            models.Q(auction__procedure__lot__organization_id=actor.organization_id)
            | models.Q(application__organization_id=actor.organization_id)
        )


class Contract(models.Model):
    """The contract offered to the winner (rank 1) or, after the winner's refusal or a missed
    deadline, to the runner-up (rank 2) at their own bid."""

    auction = models.ForeignKey(Auction, on_delete=models.PROTECT, related_name="contracts")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="+")
    rank = models.PositiveSmallIntegerField()
    price = models.DecimalField(_("price"), max_digits=18, decimal_places=2)
    # The exact bytes the buyer signs (the canonical form).
    document = models.BinaryField()
    state = models.CharField(
        _("state"),
        max_length=24,
        choices=ContractState.choices,
        default=ContractState.AWAITING_SIGNATURE,
    )
    offered_at = models.DateTimeField(_("offered"))
    sign_deadline = models.DateTimeField(_("sign by"))
    signature = models.ForeignKey(
        Signature, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)
    pay_deadline = models.DateTimeField(_("pay by"), null=True, blank=True)
    paid_at = models.DateTimeField(_("payment confirmed"), null=True, blank=True)
    paid_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    # The "deadline approaching" notice went out for the current deadline.
    reminded = models.BooleanField(default=False)

    objects = ContractQuerySet.as_manager()
    auction_id: int
    application_id: int
    signature_id: int | None

    class Meta:
        ordering = ["auction", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["auction", "rank"], name="etp_contract_one_per_rank")
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"CTR-{self.pk:06d}" if self.pk else "CTR-new"

    @property
    def state_label(self) -> str:
        return str(ContractState(self.state).label)

    @property
    def open(self) -> bool:
        return self.state in {ContractState.AWAITING_SIGNATURE, ContractState.AWAITING_PAYMENT}
