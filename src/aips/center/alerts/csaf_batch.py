"""CSAF batches: a ROLIE feed or a provider's metadata imported as many draft alerts (R67.3.5).

The request only reads what it is given: an uploaded feed's list of advisories, or an uploaded
provider metadata's feeds and directories, or a URL checked against the allow-list
(`csaf_fetch.check_url`). Everything fetched from a provider is fetched by the worker's job
"alerts.csaf_batches" (registered by AlertsConfig), never in a web request:

1. a queued batch's lists are read (its URL, a provider's ROLIE feeds, a directory's index.txt)
   into one item per advisory (at most `csaf_feeds.MAX_DOCUMENTS`; more is said, not dropped
   silently);
2. each item is fetched, its `.sha512` / `.sha256` sidecar checked when the feed names one, read
   by the importer and made a draft, unless the organization already has an alert of the same
   CSAF tracking id and version (then it is "already imported"); a failure is kept with its
   reason and the batch goes on;
3. with no item left the batch is done, audited with its counts.

Work is claimed row by row (`claimed_at`), the network is used outside any transaction, and
each result is written in its own short one, so the job is safe on several workers and never
holds the database while a provider answers.
"""

import hashlib
import hmac
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.db import models, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aips.center.alerts import csaf_feeds
from aips.center.alerts.csaf_feeds import ListedDocument
from aips.center.alerts.csaf_fetch import FetchRefused, check_url, fetch, policy
from aips.center.alerts.importers import (
    MAX_URL,
    ImportProblem,
    detect_and_parse,
    read_limited,
)
from aips.center.alerts.models import (
    Alert,
    CsafBatch,
    CsafBatchItem,
    CsafBatchState,
    CsafItemState,
    ThreatLevel,
)
from aips.center.alerts.services import alert_from_draft
from aips.core.access import ensure_perm
from aips.core.actors import Actor
from aips.core.db_locks import try_xact_lock
from aips.core.errors import AppError, ValidationFailed
from aips.core.permissions import Perm
from aips.core.tlp import Tlp
from aips.shared.accounts.models import User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record

__all__ = [
    "batch_counts",
    "csaf_batch_start",
    "get_batch_for",
    "run",
    "visible_batches",
]

# A claim older than this is taken to be a dead worker's.
CLAIM_TIMEOUT = timedelta(minutes=10)


# --- Reads --------------------------------------------------------------------------------------


def visible_batches(*, actor: Actor) -> "models.QuerySet[CsafBatch]":
    return CsafBatch.objects.visible_to(actor).select_related("created_by").order_by("-id")


def get_batch_for(actor: Actor, pk: int) -> CsafBatch:
    try:
        return CsafBatch.objects.visible_to(actor).select_related("created_by").get(pk=pk)
    except CsafBatch.DoesNotExist as exc:
        raise Http404 from exc


def batch_counts(batch: CsafBatch) -> dict[str, int]:
    """How many advisories the batch found, and how many of each outcome."""
    rows = batch.items.values("state").annotate(n=models.Count("id"))
    counts = dict.fromkeys(CsafItemState.values, 0)
    for row in rows:
        counts[row["state"]] = row["n"]
    counts["found"] = sum(counts[s] for s in CsafItemState.values)
    return counts


# --- Starting a batch (the request) ----------------------------------------------------------


def _items(batch: CsafBatch, documents: list[ListedDocument]) -> None:
    """One item per advisory not yet in the batch, within the batch's limit."""
    present = set(batch.items.values_list("url", flat=True))
    room = csaf_feeds.MAX_DOCUMENTS - len(present)
    fresh = [d for d in documents if d.url not in present and len(d.url) <= MAX_URL]
    if len(fresh) > room:
        _note(
            batch,
            ngettext(
                "The lists name %(n)d more advisory than a batch takes (%(max)d); start "
                "another batch for the rest.",
                "The lists name %(n)d more advisories than a batch takes (%(max)d); start "
                "another batch for the rest.",
                len(fresh) - max(room, 0),
            )
            % {"n": len(fresh) - max(room, 0), "max": csaf_feeds.MAX_DOCUMENTS},
        )
        fresh = fresh[: max(room, 0)]
    CsafBatchItem.objects.bulk_create(
        [CsafBatchItem(batch=batch, url=d.url, hash_url=d.hash_url) for d in fresh]
    )


def _note(batch: CsafBatch, text: str) -> None:
    batch.error = f"{batch.error}\n{text}".strip()


@transaction.atomic
def csaf_batch_start(
    *,
    actor: User,
    data: bytes | IO[bytes] | None = None,
    size: int | None = None,
    file_name: str = "",
    url: str = "",
    tlp: str = Tlp.AMBER,
    level: str = "",
) -> CsafBatch:
    """A batch from an uploaded ROLIE feed or provider-metadata.json (`data`), or from the URL
    of one (`url`); the worker does the fetching."""
    ensure_perm(actor, Perm.ALERT_EDIT)
    url = (url or "").strip()
    if (data is None) == (not url):
        raise ValidationFailed.field("file", _("Give either a file or a URL, one of the two."))
    if tlp not in Tlp.values:
        raise ValidationFailed.field("tlp", _("Choose a TLP level."))
    if level and level not in ThreatLevel.values:
        raise ValidationFailed.field("level", _("Choose a threat level."))
    batch = CsafBatch(
        organization_id=actor.organization_id,
        created_by=actor,
        tlp=tlp,
        level=level,
        file_name=file_name[:300],
    )
    if data is not None:
        try:
            raw = data if isinstance(data, bytes) else read_limited(data, size)
            listing = csaf_feeds.read_distribution(raw)
        except ImportProblem as exc:
            raise ValidationFailed.field("file", str(exc)) from exc
        batch.source_kind = listing.kind
        batch.title = listing.title
        batch.pending_sources = listing.sources
        if listing.kind == "rolie_feed":
            if not listing.documents:
                raise ValidationFailed.field("file", _("The ROLIE feed lists no advisories."))
            batch.state = CsafBatchState.RUNNING
        rules = policy()
        for source in listing.sources:
            try:
                check_url(source, rules)
            except FetchRefused as exc:
                raise ValidationFailed.field(
                    "file", _("%(url)s: %(reason)s") % {"url": source[:200], "reason": exc}
                ) from exc
        batch.save()
        _items(batch, listing.documents)
        batch.save(update_fields=["error"])
    else:
        if len(url) > MAX_URL:
            raise ValidationFailed.field("url", _("The URL is too long."))
        try:
            check_url(url, policy())
        except FetchRefused as exc:
            raise ValidationFailed.field("url", str(exc)) from exc
        batch.source_url = url
        batch.pending_sources = [url]
        batch.save()
    record(
        actor=actor,
        event=EventType.ALERT_BATCH_STARTED,
        target=batch,
        organization_id=batch.organization_id,
        details={
            "batch_id": batch.pk,
            "source_url": batch.source_url,
            "file_name": batch.file_name,
            "kind": batch.source_kind,
            "listed": batch.items.count(),
        },
    )
    return batch


# --- The worker -------------------------------------------------------------------------------


def _claim_batch() -> CsafBatch | None:
    stale = timezone.now() - CLAIM_TIMEOUT
    with transaction.atomic():
        batch = (
            CsafBatch.objects.select_for_update(skip_locked=True)
            .filter(state=CsafBatchState.QUEUED)
            .filter(models.Q(claimed_at__isnull=True) | models.Q(claimed_at__lt=stale))
            .order_by("id")
            .first()
        )
        if batch is None:
            return None
        batch.claimed_at = timezone.now()
        batch.save(update_fields=["claimed_at"])
    return batch


def _read_lists(batch: CsafBatch) -> None:
    """Fetch the batch's lists (outside a transaction), then write its items in one."""
    documents: list[ListedDocument] = []
    notes: list[str] = []
    pending = list(batch.pending_sources)
    kind, title, failure = batch.source_kind, batch.title, ""
    read = 0
    while pending and read < 50:  # a provider has a handful of feeds and directories
        source = pending.pop(0)
        read += 1
        is_own = source == batch.source_url
        try:
            body = fetch(source)
            if source.endswith("/index.txt") and not is_own:
                documents.extend(csaf_feeds.read_index_txt(body, url=source))
                continue
            listing = csaf_feeds.read_distribution(body, url=source)
        except (FetchRefused, ImportProblem) as exc:
            if is_own:
                failure = str(exc)
                break
            notes.append(_("%(url)s: %(reason)s") % {"url": source[:200], "reason": exc})
            continue
        if is_own:
            kind, title = listing.kind, listing.title
        elif listing.kind != "rolie_feed":
            notes.append(
                _("%(url)s: a provider's feed is not a ROLIE feed; skipped.") % {"url": source}
            )
            continue
        documents.extend(listing.documents)
        pending.extend(s for s in listing.sources if s not in pending)
    with transaction.atomic():
        locked = CsafBatch.objects.select_for_update().get(pk=batch.pk)
        locked.source_kind, locked.title = kind, title
        locked.pending_sources = []
        locked.claimed_at = None
        for note in notes:
            _note(locked, note)
        if failure:
            locked.state = CsafBatchState.FAILED
            _note(locked, failure)
            locked.finished_at = timezone.now()
            locked.save()
            _finished(locked)
            return
        _items(locked, documents)
        if not locked.items.exists():
            locked.state = CsafBatchState.FAILED
            _note(locked, _("The lists name no advisories."))
            locked.finished_at = timezone.now()
            locked.save()
            _finished(locked)
            return
        locked.state = CsafBatchState.RUNNING
        locked.save()


def _claim_item() -> CsafBatchItem | None:
    stale = timezone.now() - CLAIM_TIMEOUT
    with transaction.atomic():
        item = (
            # Only the item's row: the batch's must stay free for the other workers.
            CsafBatchItem.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=CsafItemState.PENDING, batch__state=CsafBatchState.RUNNING)
            .filter(models.Q(claimed_at__isnull=True) | models.Q(claimed_at__lt=stale))
            .order_by("id")
            .first()
        )
        if item is None:
            return None
        item.claimed_at = timezone.now()
        item.save(update_fields=["claimed_at"])
    return item


def _check_hash(item: CsafBatchItem, body: bytes) -> None:
    """The advisory's digest against its sidecar: "<hex>  <file name>" (sha256sum's format)."""
    algorithm = "sha512" if item.hash_url.lower().endswith(".sha512") else "sha256"
    try:
        sidecar = fetch(item.hash_url)
    except FetchRefused as exc:
        raise FetchRefused(
            _("The hash file %(url)s could not be read: %(reason)s")
            % {"url": item.hash_url, "reason": exc}
        ) from exc
    words = sidecar.decode("ascii", errors="replace").split()
    expected = words[0].lower() if words else ""
    actual = hashlib.new(algorithm, body).hexdigest()
    if not hmac.compare_digest(expected, actual):
        raise FetchRefused(
            _("The %(algorithm)s digest does not match the provider's hash file %(url)s.")
            % {"algorithm": algorithm.upper(), "url": item.hash_url}
        )


def _process(item: CsafBatchItem) -> None:
    batch = item.batch
    try:
        body = fetch(item.url)
        if item.hash_url:
            _check_hash(item, body)
        draft = detect_and_parse(body)
    except (FetchRefused, ImportProblem) as exc:
        _item_done(item, CsafItemState.FAILED, str(exc))
        return
    with transaction.atomic():
        locked = CsafBatchItem.objects.select_for_update().get(pk=item.pk)
        if locked.state != CsafItemState.PENDING:
            return
        locked.tracking_id = draft.tracking_id
        locked.tracking_version = draft.tracking_version
        earlier = None
        if draft.tracking_id:
            # Two workers on the same revision (two batches, two mirrors) take turns, so the
            # second sees the first's draft; the one that waits tries again a minute later.
            key = f"alerts.csaf.{batch.organization_id}.{draft.tracking_id}"
            if not try_xact_lock(key):
                locked.claimed_at = timezone.now() - CLAIM_TIMEOUT + timedelta(minutes=1)
                locked.save(update_fields=["claimed_at"])
                return
            earlier = (
                Alert.objects.filter(
                    organization_id=batch.organization_id,
                    csaf_tracking_id=draft.tracking_id,
                    csaf_version=draft.tracking_version,
                )
                .order_by("id")
                .first()
            )
        if earlier is not None:
            locked.alert = earlier
            _item_done(
                locked,
                CsafItemState.DUPLICATE,
                _("Already imported as %(ref)s.") % {"ref": earlier.reference},
            )
            return
        try:
            with transaction.atomic():
                alert = alert_from_draft(
                    actor=batch.created_by, draft=draft, tlp=batch.tlp, level=batch.level
                )
        except AppError as exc:
            _item_done(locked, CsafItemState.FAILED, _error_text(exc))
            return
        locked.alert = alert
        _item_done(locked, CsafItemState.IMPORTED, "")


def _error_text(exc: AppError) -> str:
    if isinstance(exc, ValidationFailed) and exc.fields:
        return "; ".join(f"{name}: {' '.join(map(str, errs))}" for name, errs in exc.fields.items())
    return str(exc)


def _item_done(item: CsafBatchItem, state: str, reason: str) -> None:
    with transaction.atomic():
        item.state = state
        item.reason = reason[:2000]
        item.done_at = timezone.now()
        item.claimed_at = None
        item.save()


def _finish_done_batches() -> int:
    done = 0
    running = CsafBatch.objects.filter(state=CsafBatchState.RUNNING).exclude(
        items__state=CsafItemState.PENDING
    )
    for batch_id in running.values_list("id", flat=True):
        with transaction.atomic():
            batch = CsafBatch.objects.select_for_update().get(pk=batch_id)
            if (
                batch.state != CsafBatchState.RUNNING
                or batch.items.filter(state=CsafItemState.PENDING).exists()
            ):
                continue
            batch.state = CsafBatchState.DONE
            batch.finished_at = timezone.now()
            batch.save(update_fields=["state", "finished_at"])
            _finished(batch)
            done += 1
    return done


def _finished(batch: CsafBatch) -> None:
    """The batch's outcome on the record, in the transaction that ends it."""
    counts = batch_counts(batch)
    record(
        actor=batch.created_by,
        event=EventType.ALERT_BATCH_FINISHED,
        target=batch,
        organization_id=batch.organization_id,
        details={
            "batch_id": batch.pk,
            "state": batch.state,
            "found": counts["found"],
            "imported": counts[CsafItemState.IMPORTED],
            "duplicates": counts[CsafItemState.DUPLICATE],
            "failed": counts[CsafItemState.FAILED],
        },
    )


def run(limit: int | None = None) -> str:
    """The job: read queued batches' lists, fetch up to `limit` advisories, close done batches."""
    limit = limit if limit is not None else settings.AIPS_CSAF_ITEMS_PER_RUN
    lists = 0
    while (batch := _claim_batch()) is not None:
        _read_lists(batch)
        lists += 1
    fetched = 0
    while fetched < limit and (item := _claim_item()) is not None:
        _process(item)
        fetched += 1
    finished = _finish_done_batches()
    return f"{lists} batch lists read, {fetched} advisories fetched, {finished} batches done"


def summary(batch: CsafBatch) -> dict[str, Any]:
    """A batch as the API shows it."""
    counts = batch_counts(batch)
    return {
        "id": batch.pk,
        "state": batch.state,
        "source": batch.source,
        "kind": batch.source_kind,
        "title": batch.title,
        "note": batch.error,
        "found": counts["found"],
        "imported": counts[CsafItemState.IMPORTED],
        "duplicates": counts[CsafItemState.DUPLICATE],
        "failed": counts[CsafItemState.FAILED],
        "pending": counts[CsafItemState.PENDING],
        "created_at": batch.created_at,
        "finished_at": batch.finished_at,
    }
