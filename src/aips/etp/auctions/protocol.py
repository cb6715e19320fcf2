"""The auction's protocol: a canonical JSON made at the close (`protocol_create`), signed with
EDS by the operator's auctioneer (`protocol_sign`: CMS over the JSON's exact bytes, verified and
stored by the platform's EDS module) and then rendered as a PDF (WeasyPrint) kept among the
stored files. Once signed it is public: the JSON, the PDF and the CMS on the lot's page and in
the public API.

The protocol names the participants only by their public number ("Participant N", the order of
the admitted applications), never who they are; the lot only by its reference, title and
seller, never a debtor. The PDF's headings are in Kazakh and Russian side by side (the state
language first), whatever the signer's language; the values are the JSON's."""

import base64
import binascii
import hashlib
import json
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aips.core.access import ensure_perm
from aips.core.actors import Actor, Viewer
from aips.core.errors import AppError, Conflict, NotFound, ValidationFailed
from aips.etp.auctions import clock, notices
from aips.etp.auctions.models import Auction, AuctionResult, Bid, Protocol, ProtocolFile
from aips.etp.auctions.selectors import participant_numbers
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.models import User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.eds.canonical import canonical_json
from aips.shared.eds.services import signature_store
from aips.shared.eds.types import EdsRefused, Purpose, Refusal
from aips.shared.eds.verify import verify_cms
from aips.shared.files.services import stored_fields

MAX_SIGNATURE_CHARS = 200_000
PROTOCOL_VERSION = 1


def _participant(numbers: dict[int, int], application_id: int | None) -> int | None:
    return numbers.get(application_id) if application_id is not None else None


def protocol_data(auction: Auction, result: AuctionResult, now: datetime) -> dict[str, Any]:
    lot = auction.procedure.lot
    numbers = participant_numbers(auction)
    bids = Bid.objects.filter(auction=auction).order_by("sequence")
    return {
        "type": "etp_auction_protocol",
        "version": PROTOCOL_VERSION,
        "auction": auction.reference,
        "auction_id": auction.pk,
        "attempt": auction.attempt,
        "repeat_of": auction.repeat_of_id,
        "lot": lot.reference,
        "lot_id": lot.pk,
        "lot_title": lot.title,
        "seller": lot.organization.name,
        "currency": lot.currency,
        "rule": auction.rule,
        "parameters": {
            "start_price": str(auction.start_price),
            "min_step": str(auction.min_step),
            "extension_minutes": auction.extension_minutes,
            "duration_minutes": auction.duration_minutes,
            "floor_price": str(auction.floor_price),
            "descending_step": str(auction.descending_step),
            "descending_interval_seconds": auction.descending_interval_seconds,
            "sealed_round_minutes": auction.sealed_round_minutes,
            "sealed_finish": auction.sealed_finish,
        },
        "starts_at": auction.starts_at.isoformat(),
        "ends_at": auction.ends_at.isoformat(),
        "closed_at": (auction.closed_at or now).isoformat(),
        "participants": sorted(numbers.values()),
        "bids": [
            {
                "sequence": bid.sequence,
                "at": bid.at.isoformat(),
                "participant": _participant(numbers, bid.application_id),
                "amount": str(bid.amount),
                "seen_price": str(bid.seen_price),
                "round": bid.phase,
                "accepted": bid.accepted,
                "refusal": bid.refusal,
            }
            for bid in bids
        ],
        "chain": {"count": auction.bid_count, "head": auction.head_hash},
        "winner": {
            "participant": _participant(numbers, result.winner_id),
            "amount": str(result.winning_amount),
        },
        "runner_up": (
            {
                "participant": _participant(numbers, result.runner_up_id),
                "amount": str(result.runner_up_amount),
            }
            if result.runner_up_id
            else None
        ),
    }


def protocol_create(*, auction: Auction, result: AuctionResult, now: datetime) -> Protocol:
    """The protocol's JSON, made once at the close (in its transaction)."""
    document = canonical_json(protocol_data(auction, result, now))
    protocol: Protocol = Protocol.objects.create(
        auction=auction,
        document=document,
        sha256=hashlib.sha256(document).hexdigest(),
        created_at=now,
    )
    return protocol


def decode_signature(raw: str) -> bytes:
    text = "".join((raw or "").split())
    if not text:
        raise ValidationFailed.field("eds_signature", _("Sign the document with EDS."))
    if len(text) > MAX_SIGNATURE_CHARS:
        raise EdsRefused(Refusal.MALFORMED, "too long")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EdsRefused(Refusal.MALFORMED, "not base64") from exc


# The PDF's headings, each rendered in Kazakh and Russian (`_bilingual`).
HEADINGS = {
    "title": gettext_noop("Auction protocol"),
    "lot": gettext_noop("Lot"),
    "seller": gettext_noop("Seller"),
    "rule": gettext_noop("Rule set"),
    "parameters": gettext_noop("Parameters"),
    "participants": gettext_noop("Admitted participants"),
    "bids": gettext_noop("Bids"),
    "sequence": gettext_noop("No."),
    "time": gettext_noop("Time"),
    "participant": gettext_noop("Participant"),
    "amount": gettext_noop("Amount"),
    "result": gettext_noop("Accepted or refused"),
    "accepted": gettext_noop("accepted"),
    "winner": gettext_noop("Winner"),
    "runner_up": gettext_noop("Runner-up"),
    "chain": gettext_noop("Bid chain: count and last hash"),
    "signed": gettext_noop("Signed with EDS"),
    "sha256": gettext_noop("SHA-256 of the protocol's JSON"),
}


def _bilingual() -> dict[str, str]:
    labels: dict[str, str] = {}
    for key, text in HEADINGS.items():
        parts = []
        for language in ("kk", "ru"):
            with translation.override(language):
                parts.append(str(_(text)))
        labels[key] = parts[0] if parts[0] == parts[1] else f"{parts[0]} / {parts[1]}"
    return labels


def protocol_pdf(protocol: Protocol, signer: str) -> bytes:
    """The signed protocol as a PDF (WeasyPrint, DejaVu fonts for the Kazakh letters)."""
    import weasyprint  # a heavy import, needed only here

    data = json.loads(bytes(protocol.document))
    html = render_to_string(
        "etp_auctions/results/protocol_pdf.html",
        {
            "p": data,
            "h": _bilingual(),
            "signer": signer,
            "signed_at": protocol.signed_at,
            "sha256": protocol.sha256,
        },
    )
    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf


@transaction.atomic
def protocol_sign(*, actor: Actor, protocol: Protocol, eds_signature: str) -> Protocol:
    """The operator's auctioneer signs the protocol's JSON; the PDF is rendered and stored, and
    the protocol is published."""
    ensure_perm(actor, EtpPerm.AUCTION_RUN)
    if not isinstance(actor, User):
        raise Conflict(_("Only a person signs the protocol."))
    protocol = Protocol.objects.select_for_update().get(pk=protocol.pk)
    if protocol.signed:
        raise Conflict(_("The protocol is already signed."), code="already_signed")
    if not actor.iin:
        raise AppError(
            _("Your account has no IIN bound to it: sign in with EDS first."),
            code="eds_iin_not_bound",
            status=422,
        )
    cms = decode_signature(eds_signature)
    document = bytes(protocol.document)
    verification = verify_cms(cms, purpose=Purpose.SIGNING, data=document, expected_iin=actor.iin)
    signer_bin = verification.signer.bin
    if signer_bin and signer_bin != actor.organization.bin:
        raise EdsRefused(Refusal.BIN_MISMATCH, f"certificate BIN {signer_bin}")
    signature = signature_store(actor=actor, verification=verification, cms=cms)
    protocol.signature = signature
    protocol.signed_by = actor
    protocol.signed_at = clock.now()
    protocol.save(update_fields=["signature", "signed_by", "signed_at"])
    signer = f"{verification.signer.common_name} ({actor.organization.name})"
    pdf = protocol_pdf(protocol, signer)
    name = f"protocol-{protocol.auction.reference}.pdf"
    ProtocolFile.objects.create(
        protocol=protocol,
        uploaded_by=actor,
        **stored_fields(SimpleUploadedFile(name, pdf, content_type="application/pdf")),
    )
    auction = protocol.auction
    record(
        actor=actor,
        event=EventType.AUCTION_PROTOCOL_SIGNED,
        target=auction,
        organization_id=auction.procedure.lot.organization_id,
        details={"protocol_sha256": protocol.sha256, "signature": signature.pk},
    )
    notices.protocol_published(actor=actor, protocol=protocol)
    return protocol


def public_protocol(auction_id: int) -> Protocol | None:
    """The signed protocol of a public lot's auction, or None."""
    from aips.etp.lots.models import PUBLIC_STATES

    return (
        Protocol.objects.select_related("auction__procedure__lot", "signature")
        .filter(
            auction_id=auction_id,
            signature__isnull=False,
            auction__procedure__lot__state__in=PUBLIC_STATES,
        )
        .first()
    )


def get_protocol_for(actor: Viewer, auction_id: int) -> Protocol:
    """An auction's protocol for its lot's seller and the operator; 404 for the others."""
    found = Protocol.objects.visible_to(actor).filter(auction_id=auction_id).first()
    if found is None:
        raise NotFound()
    return found
