"""Every write of the data room: a participant's acceptance of the NDA, the journal entries of
an opening and of a download (the download's stamped bytes are made here, so what is journaled
is what is sent). Each runs in its own transaction with its audit event."""

import hashlib
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aips.core.access import ensure_perm
from aips.core.errors import Conflict, NotFound
from aips.etp.dataroom import selectors
from aips.etp.dataroom.models import NdaAcceptance
from aips.etp.dataroom.nda import NDA_VERSION, nda_language, nda_sha256, nda_text
from aips.etp.dataroom.stamp import Stamp, Stamped, stamp_file
from aips.etp.lots.models import Lot, LotFile
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.models import User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.files.selectors import servable_path


def _entry(actor: User, lot: Lot) -> selectors.Entry:
    ensure_perm(actor, EtpPerm.DATAROOM_VIEW)
    entry = selectors.entry_of(actor, lot)
    if entry is None:
        raise NotFound()
    return entry


@transaction.atomic
def nda_accept(*, actor: User, lot: Lot, shown_sha256: str = "") -> NdaAcceptance:
    """An admitted participant's person accepts the lot's NDA for the organization: the text in
    the person's language, its version and SHA-256. `shown_sha256`, when given, is the hash of
    the text the person read; a different one (the text changed meanwhile) is refused with 409
    `nda_changed`. A second acceptance by the same organization answers the first."""
    if _entry(actor, lot) != "participant":
        raise Conflict(
            _("The seller and the operator enter the data room without an agreement."),
            code="nda_not_needed",
        )
    text = nda_text(lot)
    digest = nda_sha256(text)
    if shown_sha256 and shown_sha256 != digest:
        raise Conflict(
            _("The agreement's text has changed: read it again and accept it."),
            code="nda_changed",
        )
    existing = selectors.acceptance_of(actor, lot)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            acceptance: NdaAcceptance = NdaAcceptance.objects.create(
                lot=lot,
                organization_id=actor.organization_id,
                accepted_by=actor,
                accepted_at=timezone.now(),
                nda_version=NDA_VERSION,
                nda_language=nda_language(),
                nda_sha256=digest,
            )
    except IntegrityError:
        # A colleague accepted at the same moment: theirs stands.
        raced = selectors.acceptance_of(actor, lot)
        if raced is None:
            raise
        return raced
    record(
        actor=actor,
        event=EventType.DATAROOM_NDA_ACCEPTED,
        target=acceptance,
        organization_id=actor.organization_id,
        details={
            "lot": lot.pk,
            "nda_version": NDA_VERSION,
            "nda_language": acceptance.nda_language,
            "nda_sha256": digest,
        },
    )
    return acceptance


@transaction.atomic
def room_opened(*, actor: User, lot: Lot, channel: str = "web") -> None:
    """Journal an opening of the room (its file list and parties shown): every time."""
    entry = _entry(actor, lot)
    selectors.ensure_open(actor, lot, entry)
    record(
        actor=actor,
        event=EventType.DATAROOM_OPENED,
        target=lot,
        organization_id=actor.organization_id,
        details={"lot": lot.pk, "as": entry, "channel": channel},
    )


@dataclass(frozen=True)
class Download:
    stamped: Stamped
    download_id: str
    original_sha256: str
    stamped_sha256: str


@transaction.atomic
def file_download(*, actor: User, lot: Lot, lot_file: LotFile) -> Download:
    """Stamp a room file for its reader and journal the download (the file's id, the SHA-256 of
    the original and of the bytes sent, the download id) before it is sent."""
    entry = _entry(actor, lot)
    selectors.ensure_open(actor, lot, entry)
    if lot_file.lot != lot:
        raise NotFound()
    # The platform's anti-virus gate: NotServable unless the file was scanned clean (R57.12).
    path = servable_path(lot_file)
    if path is None:
        raise NotFound()
    content = path.read_bytes()
    organization = actor.organization
    download_id = uuid.uuid4().hex
    stamp = Stamp(
        lot=lot.reference,
        reader=actor.full_name or actor.email,
        email=actor.email,
        organization=organization.display_name if organization is not None else "",
        identifier=organization.bin if organization is not None else "",
        at=timezone.now(),
        download_id=download_id,
    )
    stamped = stamp_file(content, lot_file.file_name, stamp)
    original_sha256 = hashlib.sha256(content).hexdigest()
    stamped_sha256 = hashlib.sha256(stamped.content).hexdigest()
    record(
        actor=actor,
        event=EventType.DATAROOM_FILE_DOWNLOADED,
        target=lot,
        organization_id=actor.organization_id,
        details={
            "lot": lot.pk,
            "file_id": lot_file.pk,
            "purpose": lot_file.purpose,
            "as": entry,
            "download_id": download_id,
            "stamp": stamped.method,
            "sha256": original_sha256,
            "stamped_sha256": stamped_sha256,
        },
    )
    return Download(stamped, download_id, original_sha256, stamped_sha256)
