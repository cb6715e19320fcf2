"""Sealing old journal entries into signed archive segments (R57.17: at least 3 months online, at
least 5 years in archive). Content leaves the database only after its sealed copy is verified;
the chain rows (AuditEntry) stay forever, so `aips audit verify` still checks the whole chain.

AIPS_AUDIT_ARCHIVE_DIR holds one pair of files per segment:

  audit-{first:012d}-{last:012d}.jsonl.gz       one canonical JSON line per entry:
                                                {"chain_hash","leaf_hash","payload","seq"}
  audit-{first:012d}-{last:012d}.manifest.json  canonical JSON, Ed25519-signed, chained to the
                                                previous manifest and to the previous entry

Data files are reproducible (gzip with mtime 0 and no file name): the same entries always give
the same bytes, so a run that died between writing files and committing simply writes the same
files again. Pruning removes only data files older than the retention; manifests stay, so the
manifest chain still runs from seq 1 and verifier.verify_archive can tell pruning from removal.
"""

import gzip
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from aips.core.actors import SystemActor

# lock_key is re-exported: tests and operators compute the archiver's lock key from here.
from aips.core.db_locks import lock_key as lock_key
from aips.core.db_locks import try_xact_lock
from aips.core.logging import get_logger
from aips.shared.audit import signing
from aips.shared.audit.models import (
    AuditCheckpoint,
    AuditEntry,
    AuditEvent,
    AuditSegment,
    EventType,
)
from aips.shared.audit.services import NewEvent, checkpoint_create, record, record_many
from aips.shared.audit.verifier import (
    MIN_ARCHIVE_YEARS,
    SEGMENT_FORMAT,
    Entry,
    Report,
    canonical_json,
    leaf_hash,
    parse_utc,
    read_jsonl,
    verify_archive,
    verify_signature,
    years_before,
)

# R57.17's three months, enforced here as well as in settings: a test or a hand-edited settings
# module must not be able to archive (and so remove from the database) anything younger.
MIN_ONLINE_DAYS = 92
SEGMENT_MAX_ENTRIES = 100_000
CHUNK = 5000
ZERO_HASH = "0" * 64
LOCK_NAME = "aips.shared.audit.archive"
_NAME = re.compile(r"^\.?audit-(\d{12})-(\d{12})\.(jsonl\.gz|manifest\.json)(\.tmp)?$")

log = get_logger("aips.shared.audit.archive")


class ArchiveError(RuntimeError):
    """The archive or the journal is not in a state that may be sealed; nothing was removed."""


@dataclass(frozen=True)
class _Written:
    first: int
    last: int
    file: str
    file_sha256: str
    manifest: str
    manifest_sha256: str


def archive_dir() -> Path:
    return Path(settings.AIPS_AUDIT_ARCHIVE_DIR)


def segment_names(first: int, last: int) -> tuple[str, str]:
    stem = f"audit-{first:012d}-{last:012d}"
    return f"{stem}.jsonl.gz", f"{stem}.manifest.json"


@transaction.atomic
def archive_run(*, now: datetime | None = None) -> list[AuditSegment]:
    """Seal every entry older than the online period and not yet archived into segments, verify
    them, then record the segments and remove the sealed content from the database.

    One transaction, under a lock, so two archivers (the worker and `aips audit archive`) never
    interleave: the second finds the lock taken and returns nothing."""
    now = now or timezone.now()
    if not try_xact_lock(LOCK_NAME):
        log.warning("audit.archive.busy")
        return []
    directory = archive_dir()
    directory.mkdir(parents=True, exist_ok=True)
    # Everything about to be archived is first covered by a signed tree head, so the content
    # leaving the database is sealed twice: by the checkpoint and by the segment's manifest.
    checkpoint_create()
    previous = AuditSegment.objects.order_by("-last_seq").first()
    start = previous.last_seq + 1 if previous else 1
    # Files from a run that never committed: their content is still in the database, and this
    # run writes them again (same bytes for the same range), or other ranges in their place.
    _discard_uncommitted(directory, start)
    days = max(MIN_ONLINE_DAYS, int(settings.AIPS_AUDIT_ONLINE_DAYS))
    end = _archivable_end(start, now - timedelta(days=days))
    if end < start:
        return []
    created_at = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    previous_manifest = previous.manifest_sha256 if previous else ""
    written: list[_Written] = []
    for first in range(start, end + 1, SEGMENT_MAX_ENTRIES):
        last = min(first + SEGMENT_MAX_ENTRIES - 1, end)
        segment = _write_segment(directory, first, last, previous_manifest, created_at)
        written.append(segment)
        previous_manifest = segment.manifest_sha256
    _verify_written(directory, written, now)

    sealed: list[AuditSegment] = []
    entries: list[NewEvent] = []
    for item in written:
        # The segment row first: the database's trigger lets content be deleted only inside a
        # recorded segment.
        segment_row = AuditSegment.objects.create(
            first_seq=item.first,
            last_seq=item.last,
            file_name=item.file,
            file_sha256=item.file_sha256,
            manifest_sha256=item.manifest_sha256,
            created_at=now,
        )
        deleted, _by_model = AuditEvent.objects.filter(
            seq__gte=item.first, seq__lte=item.last
        ).delete()
        if deleted != item.last - item.first + 1:
            raise ArchiveError(f"segment {item.first}-{item.last}: removed {deleted} entries")
        entries.append(
            NewEvent(
                actor=SystemActor(label="archiver"),
                event=EventType.AUDIT_ARCHIVED,
                target=segment_row,
                details={
                    "first_seq": item.first,
                    "last_seq": item.last,
                    "entries": item.last - item.first + 1,
                    "file": item.file,
                    "file_sha256": item.file_sha256,
                    "manifest": item.manifest,
                    "manifest_sha256": item.manifest_sha256,
                },
            )
        )
        log.info("audit.archive.sealed", first_seq=item.first, last_seq=item.last, file=item.file)
        sealed.append(segment_row)
    record_many(entries)
    return sealed


@transaction.atomic
def archive_prune(*, now: datetime | None = None) -> list[Path]:
    """Remove the data files of segments sealed more than AIPS_AUDIT_ARCHIVE_YEARS ago, and
    never one sealed less than MIN_ARCHIVE_YEARS (5) ago whatever the setting says.

    The age is the manifest's signed `created_at`, not the file's mtime (a copy or a restore
    changes mtimes). Manifests are kept: they are small, hold no content, and let the verifier
    tell a pruned segment from a removed one."""
    now = now or timezone.now()
    if not try_xact_lock(LOCK_NAME):
        log.warning("audit.archive.busy")
        return []
    directory = archive_dir()
    if not directory.is_dir():
        return []
    years = max(MIN_ARCHIVE_YEARS, int(settings.AIPS_AUDIT_ARCHIVE_YEARS))
    expired_at = years_before(now, years)
    trusted = signing.public_key_b64()
    removed: list[Path] = []
    for manifest_path in sorted(directory.glob("audit-*.manifest.json")):
        manifest = _signed_manifest(manifest_path, trusted)
        if manifest is None:
            # Not ours or altered: its age cannot be trusted, so it is never a reason to delete.
            log.warning("audit.archive.prune_skipped", manifest=manifest_path.name)
            continue
        if parse_utc(manifest["created_at"]) > expired_at:
            continue
        data = directory / Path(str(manifest["file"])).name
        if data.exists():
            data.unlink()
            removed.append(data)
    if removed:
        record(
            actor=SystemActor(label="archiver"),
            event=EventType.AUDIT_ARCHIVE_PRUNED,
            details={"files": [p.name for p in removed], "retention_years": years},
        )
        _fsync_dir(directory)
        log.info("audit.archive.pruned", files=len(removed), retention_years=years)
    return removed


def check_against_database(directory: Path, report: Report) -> None:
    """What the archive alone cannot show, added to `report`: that every segment the database
    recorded is there (none removed from the end, no segment row slipped in to make content
    deletable), and that every archived entry is the one the database's chain holds. The
    latter also names an entry forged together with its own hashes, which the archive alone
    only notices at the next entry."""
    rows = list(AuditSegment.objects.order_by("first_seq"))
    ends = {r.last_seq for r in rows} | {r.first_seq - 1 for r in rows}
    chain = dict(AuditEntry.objects.filter(seq__in=ends).values_list("seq", "chain_hash"))
    chain[0] = ZERO_HASH
    for row in rows:
        manifest_path = directory / segment_names(row.first_seq, row.last_seq)[1]
        if not manifest_path.exists():
            report.fail(row.first_seq, f"{manifest_path.name}: missing from the archive")
            return
        if hashlib.sha256(manifest_path.read_bytes()).hexdigest() != row.manifest_sha256:
            report.fail(row.first_seq, f"{manifest_path.name}: not the manifest that was sealed")
            return
        manifest = _read_json(manifest_path)
        ends_meet = manifest.get("previous_chain_hash") == chain.get(row.first_seq - 1)
        ends_meet = ends_meet and manifest.get("last_chain_hash") == chain.get(row.last_seq)
        if not ends_meet:
            report.fail(row.first_seq, f"{manifest_path.name}: does not match the journal")
            return
        data = directory / segment_names(row.first_seq, row.last_seq)[0]
        if data.exists() and not _entries_match_journal(data, row.first_seq, row.last_seq, report):
            return


def _entries_match_journal(data: Path, first: int, last: int, report: Report) -> bool:
    expected = first
    lines = read_jsonl(data)
    try:
        while expected <= last:
            upto = min(expected + CHUNK - 1, last)
            stored = dict(
                AuditEntry.objects.filter(seq__gte=expected, seq__lte=upto).values_list(
                    "seq", "leaf_hash"
                )
            )
            for seq in range(expected, upto + 1):
                line = next(lines, None)
                if (
                    line is None
                    or line.get("seq") != seq
                    or leaf_hash(line["payload"]).hex() != stored.get(seq)
                ):
                    report.fail(seq, f"{data.name}: entry {seq} is not the journal's entry {seq}")
                    return False
                expected += 1
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError):
        report.fail(expected, f"{data.name}: unreadable at entry {expected}")
        return False
    return True


def watch_content(entries: Iterable[Entry], missing: list[int]) -> Iterator[Entry]:
    """Pass the journal through, noting in `missing` every entry whose content is gone from the
    database although no recorded segment holds it (removed behind the triggers' back)."""
    ranges = iter(AuditSegment.objects.order_by("first_seq").values_list("first_seq", "last_seq"))
    current = next(ranges, None)
    for entry in entries:
        while current is not None and current[1] < entry.seq:
            current = next(ranges, None)
        archived = current is not None and current[0] <= entry.seq <= current[1]
        if entry.payload is None and not archived:
            missing.append(entry.seq)
        yield entry


# --- internals --------------------------------------------------------------------------------


def _archivable_end(start: int, cutoff: datetime) -> int:
    """The last seq of the run: entries are sealed in order, up to the first one still inside
    the online period (a later entry with an earlier clock waits for it), and no further than
    the newest signed checkpoint."""
    checkpoint = AuditCheckpoint.objects.order_by("-tree_size").first()
    if checkpoint is None:
        return start - 1
    young = (
        AuditEvent.objects.filter(seq__gte=start, at__gte=cutoff)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
    return checkpoint.tree_size if young is None else min(checkpoint.tree_size, young - 1)


def _rows(first: int, last: int) -> Iterator[tuple[AuditEntry, AuditEvent]]:
    expected = first
    while expected <= last:
        upto = min(expected + CHUNK - 1, last)
        entries = list(AuditEntry.objects.filter(seq__gte=expected, seq__lte=upto).order_by("seq"))
        events = {e.seq: e for e in AuditEvent.objects.filter(seq__gte=expected, seq__lte=upto)}
        for entry in entries:
            event = events.get(entry.seq)
            if entry.seq != expected or event is None:
                raise ArchiveError(f"entry {expected} or its content is missing; nothing archived")
            yield entry, event
            expected += 1
        if not entries:
            raise ArchiveError(f"entry {expected} is missing; nothing archived")


def _write_segment(
    directory: Path, first: int, last: int, previous_manifest: str, created_at: str
) -> _Written:
    file_name, manifest_name = segment_names(first, last)
    previous_chain = ZERO_HASH
    if first > 1:
        before = AuditEntry.objects.filter(seq=first - 1).first()
        if before is None:
            raise ArchiveError(f"entry {first - 1} is missing; nothing archived")
        previous_chain = before.chain_hash
    last_chain = previous_chain
    count = 0

    def lines() -> Iterator[bytes]:
        nonlocal last_chain, count
        for entry, event in _rows(first, last):
            payload = event.payload()
            if leaf_hash(payload).hex() != entry.leaf_hash:
                raise ArchiveError(f"entry {entry.seq}: content does not match its leaf hash")
            line = {
                "seq": entry.seq,
                "leaf_hash": entry.leaf_hash,
                "chain_hash": entry.chain_hash,
                "payload": payload,
            }
            yield canonical_json(line) + b"\n"
            last_chain = entry.chain_hash
            count += 1

    file_sha256 = _write_gzip(directory / file_name, lines())
    manifest: dict[str, Any] = {
        "format": SEGMENT_FORMAT,
        "first_seq": first,
        "last_seq": last,
        "file": file_name,
        "file_sha256": file_sha256,
        "previous_manifest_sha256": previous_manifest,
        "previous_chain_hash": previous_chain,
        "last_chain_hash": last_chain,
        "entries": count,
        "public_key": signing.public_key_b64(),
        "created_at": created_at,
    }
    manifest["signature"] = signing.sign(canonical_json(manifest))
    manifest_bytes = canonical_json(manifest)
    _write_atomic(directory / manifest_name, manifest_bytes)
    _fsync_dir(directory)
    return _Written(
        first=first,
        last=last,
        file=file_name,
        file_sha256=file_sha256,
        manifest=manifest_name,
        manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest(),
    )


def _write_gzip(path: Path, lines: Iterable[bytes]) -> str:
    """Reproducible gzip (no timestamp, no file name, fixed level), written beside its final
    name and renamed into place, so a crash never leaves a partial file under that name."""
    temporary = path.with_name(f".{path.name}.tmp")
    digest = hashlib.sha256()

    class _Hashing:
        def __init__(self, raw: Any) -> None:
            self.raw = raw

        def write(self, data: bytes) -> int:
            digest.update(data)
            return int(self.raw.write(data))

        def flush(self) -> None:
            self.raw.flush()

    with temporary.open("wb") as raw:
        with gzip.GzipFile(
            filename="", mode="wb", fileobj=_Hashing(raw), compresslevel=9, mtime=0
        ) as gz:
            for line in lines:
                gz.write(line)
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(temporary, path)
    return digest.hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _fsync_dir(directory: Path) -> None:
    # The renames must be on disk before the transaction that deletes the content commits.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _discard_uncommitted(directory: Path, start: int) -> None:
    for path in sorted(directory.iterdir()):
        match = _NAME.match(path.name)
        if match is None:
            continue
        first, last = int(match.group(1)), int(match.group(2))
        if not match.group(4):
            if first < start:
                continue
            # Only while the database still holds every entry of the range: otherwise the file
            # may be the last copy (say, the database was restored from an old backup).
            held = AuditEvent.objects.filter(seq__gte=first, seq__lte=last).count()
            if held != last - first + 1:
                raise ArchiveError(
                    f"{path.name} is not recorded as sealed, yet the database lacks some of its "
                    "entries; move it aside after checking it"
                )
        log.info("audit.archive.discard_uncommitted", file=path.name)
        path.unlink()


def _verify_written(directory: Path, written: list[_Written], now: datetime) -> None:
    """Re-read what was written before anything is removed: the whole archive's manifests and
    file hashes, every new entry's hashes, and each new entry against the database's chain."""
    report = verify_archive(
        directory,
        trusted_keys={signing.public_key_b64()},
        now=now,
        check_entries_from=written[0].first,
    )
    if not report.ok:
        raise ArchiveError(
            f"the archive does not verify (first bad seq {report.first_bad_seq}): "
            + "; ".join(report.problems)
        )
    for item in written:
        check = Report()
        if not _entries_match_journal(directory / item.file, item.first, item.last, check):
            raise ArchiveError("; ".join(check.problems))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _signed_manifest(path: Path, trusted_key: str) -> dict[str, Any] | None:
    manifest = _read_json(path)
    if manifest.get("public_key") != trusted_key or "created_at" not in manifest:
        return None
    signature = manifest.pop("signature", "")
    if not verify_signature(trusted_key, canonical_json(manifest), signature):
        return None
    return manifest
