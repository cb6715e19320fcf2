"""Archiving the journal (R57.17): old entries sealed into signed, reproducible segments, removed
from the database only once verified; every kind of tampering with the archive is named."""

import gzip
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from aips.core import request_context
from aips.core.actors import SystemActor
from aips.core.tests.pg_roles import guards_lifted, owner_role
from aips.shared.audit import archive, signing, verifier
from aips.shared.audit.archive import ArchiveError, archive_prune, archive_run, segment_names
from aips.shared.audit.models import AuditEntry, AuditEvent, AuditSegment, EventType
from aips.shared.audit.services import record

pytestmark = pytest.mark.django_db


@pytest.fixture
def archive_dir(settings: Any, tmp_path: Path) -> Path:
    settings.AIPS_AUDIT_KEY_FILE = str(tmp_path / "audit.key")
    settings.AIPS_AUDIT_ARCHIVE_DIR = str(tmp_path / "archive")
    settings.AIPS_AUDIT_ONLINE_DAYS = 92
    settings.AIPS_AUDIT_ARCHIVE_YEARS = 5
    return tmp_path / "archive"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], Any]:
    """`with clock(t):` everything that asks django.utils.timezone.now() gets t (and later
    instants, one microsecond apart, so entries keep distinct times). Rows are never UPDATEd:
    the triggers refuse that; entries are written at the time they claim."""

    @contextmanager
    def at(moment: datetime) -> Iterator[None]:
        ticks = iter(range(10**9))
        with monkeypatch.context() as patch:
            patch.setattr(
                "aips.shared.audit.services.timezone.now",
                lambda: moment + timedelta(microseconds=next(ticks)),
            )
            yield

    return at


def add_entries(count: int, *, at: datetime, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """`count` ordinary journal entries, written as if at `at`, with non-ASCII content and the
    request context a web request would give."""
    seqs = []
    ticks = iter(range(10**9))
    token = request_context.bind(
        request_context.RequestContext(request_id="req-0001", ip="192.0.2.7", user_agent="Тест/1")
    )
    try:
        with monkeypatch.context() as patch:
            patch.setattr(
                "aips.shared.audit.services.timezone.now",
                lambda: at + timedelta(microseconds=next(ticks)),
            )
            with transaction.atomic():
                for n in range(count):
                    entry = record(
                        actor=SystemActor(label="test"),
                        event=EventType.USER_UPDATED,
                        details={"n": n, "note": "қазақша ✓", "nested": {"b": [1, 2.5], "a": None}},
                    )
                    seqs.append(entry.seq)
    finally:
        request_context.reset(token)
    return seqs


def verify_output(*args: str) -> str:
    out = StringIO()
    # stderr: the warning that these journals have no anchor (test_anchor.py covers anchors).
    call_command("audit", "verify", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def first_bad_seq(*args: str) -> int:
    with pytest.raises(CommandError) as caught:
        call_command("audit", "verify", *args, stdout=StringIO())
    assert caught.value.returncode != 0
    found = re.search(r"first bad sequence number (\d+)", str(caught.value))
    assert found, str(caught.value)
    return int(found.group(1))


def standalone(directory: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = verifier.main([str(directory), "--trusted-key", signing.public_key_b64()])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]


def write_lines(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_bytes(
        gzip.compress(b"".join(verifier.canonical_json(r) + b"\n" for r in rows), mtime=0)
    )


def files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


# --- archive, purge, verify -------------------------------------------------------------------


def test_r57_17_archive_purge_then_verify(
    archive_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    now = timezone.now()
    old = add_entries(25, at=now - timedelta(days=200), monkeypatch=monkeypatch)
    young = add_entries(5, at=now - timedelta(days=10), monkeypatch=monkeypatch)
    assert old == list(range(1, 26))

    sealed = archive_run(now=now)

    assert [(s.first_seq, s.last_seq) for s in sealed] == [(1, 25)]
    data_name, manifest_name = segment_names(1, 25)
    assert data_name == "audit-000000000001-000000000025.jsonl.gz"
    assert manifest_name == "audit-000000000001-000000000025.manifest.json"
    assert sorted(files(archive_dir)) == [data_name, manifest_name]
    # Content left the database; the chain did not.
    assert not AuditEvent.objects.filter(seq__in=old).exists()
    assert AuditEvent.objects.filter(seq__in=young).count() == 5
    assert AuditEntry.objects.count() == 31

    segment = AuditSegment.objects.get()
    manifest_bytes = (archive_dir / manifest_name).read_bytes()
    assert segment.manifest_sha256 == hashlib.sha256(manifest_bytes).hexdigest()
    assert segment.file_sha256 == hashlib.sha256((archive_dir / data_name).read_bytes()).hexdigest()
    manifest = json.loads(manifest_bytes)
    assert manifest_bytes == verifier.canonical_json(manifest)
    signature = manifest.pop("signature")
    assert verifier.verify_signature(
        signing.public_key_b64(), verifier.canonical_json(manifest), signature
    )
    assert manifest == {
        "format": "aips-audit-segment/v1",
        "first_seq": 1,
        "last_seq": 25,
        "file": data_name,
        "file_sha256": segment.file_sha256,
        "previous_manifest_sha256": "",
        "previous_chain_hash": "0" * 64,
        "last_chain_hash": AuditEntry.objects.get(seq=25).chain_hash,
        "entries": 25,
        "public_key": signing.public_key_b64(),
        "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    rows = read_lines(archive_dir / data_name)
    assert [r["seq"] for r in rows] == old
    stored = dict(AuditEntry.objects.values_list("seq", "leaf_hash"))
    for row in rows:
        assert set(row) == {"seq", "leaf_hash", "chain_hash", "payload"}
        assert verifier.leaf_hash(row["payload"]).hex() == row["leaf_hash"] == stored[row["seq"]]
    assert rows[0]["payload"]["details"]["note"] == "қазақша ✓"
    assert rows[0]["payload"]["ip"] == "192.0.2.7"

    event = AuditEvent.objects.get(event=EventType.AUDIT_ARCHIVED)
    assert event.actor_label == "archiver"
    assert event.target_type == "audit.auditsegment"
    assert event.details["first_seq"] == 1
    assert event.details["last_seq"] == 25
    assert event.details["file"] == data_name
    assert event.details["manifest"] == manifest_name

    assert "OK: 31 entries" in verify_output()
    assert "archive OK: 25 entries" in verify_output("--archive", str(archive_dir))
    assert standalone(archive_dir, capsys) == (0, "OK: 25 entries, 0 checkpoints verified\n")
    # Nothing new is old enough: a second run seals nothing and leaves the files alone.
    before = files(archive_dir)
    assert archive_run(now=now) == []
    assert files(archive_dir) == before


def test_r57_17_audit_archive_command(archive_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    add_entries(12, at=timezone.now() - timedelta(days=100), monkeypatch=monkeypatch)
    out = StringIO()
    call_command("audit", "archive", stdout=out)
    assert out.getvalue() == (
        "sealed 1-12 into audit-000000000001-000000000012.jsonl.gz (12 entries)\n"
    )
    out = StringIO()
    call_command("audit", "archive", stdout=out)
    assert out.getvalue() == "nothing to archive\n"
    assert "archive OK: 12 entries" in verify_output("--archive", str(archive_dir))


def test_r57_17_large_runs_are_split_into_chained_segments(
    archive_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "SEGMENT_MAX_ENTRIES", 10)
    now = timezone.now()
    add_entries(25, at=now - timedelta(days=100), monkeypatch=monkeypatch)
    sealed = archive_run(now=now)
    assert [(s.first_seq, s.last_seq) for s in sealed] == [(1, 10), (11, 20), (21, 25)]
    manifests = [
        json.loads((archive_dir / segment_names(s.first_seq, s.last_seq)[1]).read_bytes())
        for s in sealed
    ]
    assert manifests[1]["previous_manifest_sha256"] == sealed[0].manifest_sha256
    assert manifests[2]["previous_chain_hash"] == AuditEntry.objects.get(seq=20).chain_hash
    assert AuditEvent.objects.filter(event=EventType.AUDIT_ARCHIVED).count() == 3
    # A later run continues the chain from the last recorded segment.
    add_entries(3, at=now - timedelta(days=95), monkeypatch=monkeypatch)
    assert archive_run(now=now) == []  # 26-28, the archive's own events, are young: all wait
    later = now + timedelta(days=100)
    [next_segment] = archive_run(now=later)
    assert next_segment.first_seq == 26
    assert "archive OK: 31 entries" in verify_output("--archive", str(archive_dir))


# --- reproducible, crash-safe -----------------------------------------------------------------


def test_r57_17_segments_are_reproducible(
    archive_dir: Path, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "SEGMENT_MAX_ENTRIES", 10)
    now = timezone.now()
    add_entries(30, at=now - timedelta(days=120), monkeypatch=monkeypatch)

    def run_into(directory: Path, moment: datetime) -> dict[str, bytes]:
        settings.AIPS_AUDIT_ARCHIVE_DIR = str(directory)
        savepoint = transaction.savepoint()
        assert len(archive_run(now=moment)) == 3
        transaction.savepoint_rollback(savepoint)  # as if on a copy of the database
        return files(directory)

    first = run_into(tmp_path / "a", now)
    second = run_into(tmp_path / "b", now)
    assert first == second  # same names, same bytes: manifests and their signatures included
    assert len(first) == 6
    for name, data in first.items():
        if name.endswith(".gz"):
            assert data[3] == 0  # no FNAME: the file's name is not inside it
            assert data[4:8] == b"\0\0\0\0"  # mtime 0
    # Sealed at another time: the data files are still byte for byte the same.
    third = run_into(tmp_path / "c", now + timedelta(hours=5))
    assert {n: d for n, d in third.items() if n.endswith(".gz")} == {
        n: d for n, d in first.items() if n.endswith(".gz")
    }


def test_r57_17_crash_between_files_and_commit_is_recovered(
    archive_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()
    add_entries(10, at=now - timedelta(days=300), monkeypatch=monkeypatch)
    add_entries(10, at=now - timedelta(days=150), monkeypatch=monkeypatch)

    # The process dies after writing 1-10 but before its transaction commits ...
    savepoint = transaction.savepoint()
    assert [(s.first_seq, s.last_seq) for s in archive_run(now=now - timedelta(days=100))] == [
        (1, 10)
    ]
    transaction.savepoint_rollback(savepoint)
    (archive_dir / ".audit-000000000011-000000000020.jsonl.gz.tmp").write_bytes(b"half")
    assert not AuditSegment.objects.exists()
    assert AuditEvent.objects.count() == 20

    # ... the next run, later, seals a longer range: the stale files give way to it.
    sealed = archive_run(now=now)
    assert [(s.first_seq, s.last_seq) for s in sealed] == [(1, 20)]
    assert sorted(files(archive_dir)) == list(segment_names(1, 20))
    assert "archive OK: 20 entries" in verify_output("--archive", str(archive_dir))


def test_r57_17_crash_then_same_range_rewrites_the_same_files(
    archive_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()
    add_entries(10, at=now - timedelta(days=300), monkeypatch=monkeypatch)
    savepoint = transaction.savepoint()
    archive_run(now=now)
    left_behind = files(archive_dir)
    transaction.savepoint_rollback(savepoint)

    [segment] = archive_run(now=now)
    assert (segment.first_seq, segment.last_seq) == (1, 10)
    assert files(archive_dir) == left_behind
    assert "archive OK: 10 entries" in verify_output("--archive", str(archive_dir))


def test_r57_17_stale_file_whose_content_is_gone_stops_the_run(
    archive_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unrecorded segment for entries the database does not hold (say, after restoring an
    old backup) may be the only copy: never overwritten, the run stops and removes nothing."""
    now = timezone.now()
    add_entries(5, at=now - timedelta(days=300), monkeypatch=monkeypatch)
    archive_dir.mkdir()
    stray = archive_dir / "audit-000000000001-000000000009.manifest.json"
    stray.write_text("{}")
    with pytest.raises(ArchiveError, match="lacks some of its entries"):
        archive_run(now=now)
    assert stray.exists()
    assert AuditEvent.objects.count() == 5


def test_r57_17_content_not_matching_its_hash_is_not_archived(
    archive_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()
    add_entries(5, at=now - timedelta(days=300), monkeypatch=monkeypatch)
    with guards_lifted(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor_label = 'someone else' WHERE seq = 3")
    with pytest.raises(ArchiveError, match="entry 3: content does not match"):
        archive_run(now=now)
    assert not AuditSegment.objects.exists()
    assert AuditEvent.objects.count() == 5


# --- what is (not) archived -------------------------------------------------------------------


def test_r57_17_entries_younger_than_the_online_period_are_never_archived(
    archive_dir: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.AIPS_AUDIT_ONLINE_DAYS = 10  # below the legal minimum: 92 still applies
    now = timezone.now()
    add_entries(3, at=now - timedelta(days=92, seconds=1), monkeypatch=monkeypatch)  # 1-3
    add_entries(1, at=now - timedelta(days=92) + timedelta(minutes=1), monkeypatch=monkeypatch)
    add_entries(2, at=now - timedelta(days=400), monkeypatch=monkeypatch)  # 5-6: a clock skew

    [segment] = archive_run(now=now)

    assert (segment.first_seq, segment.last_seq) == (1, 3)
    online = set(AuditEvent.objects.values_list("seq", flat=True))
    assert {4, 5, 6} <= online
    assert not {1, 2, 3} & online
    cutoff = (now - timedelta(days=92)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert all(row["payload"]["at"] < cutoff for row in read_lines(archive_dir / segment.file_name))


def test_r57_17_nothing_archived_without_old_entries(
    archive_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()
    assert archive_run(now=now) == []
    add_entries(3, at=now - timedelta(days=91), monkeypatch=monkeypatch)
    assert archive_run(now=now) == []
    assert AuditEvent.objects.count() == 3
    assert not any(archive_dir.iterdir())


# --- the database's guard ---------------------------------------------------------------------


def test_r57_17_database_refuses_deleting_unarchived_content(
    archive_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_entries(5, at=timezone.now(), monkeypatch=monkeypatch)

    def refused(sql: str) -> None:
        # As the tables' owner: the triggers, not the grants, are under test here.
        with (
            owner_role(),
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)

    refused("DELETE FROM audit_auditevent WHERE seq = 1")
    refused("DELETE FROM audit_auditevent")
    refused("UPDATE audit_auditevent SET details = '{}' WHERE seq = 1")
    # A segment row makes exactly its range deletable, and nothing else.
    AuditSegment.objects.create(
        first_seq=1,
        last_seq=2,
        file_name="x",
        file_sha256="0" * 64,
        manifest_sha256="0" * 64,
        created_at=timezone.now(),
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq <= 2")
        assert cursor.rowcount == 2
    refused("DELETE FROM audit_auditevent WHERE seq = 3")
    refused("DELETE FROM audit_auditentry WHERE seq = 1")
    refused("DELETE FROM audit_auditsegment")
    refused("UPDATE audit_auditsegment SET last_seq = 5")
    # The database alone cannot tell a real segment from a slipped-in row; the archive can.
    assert "OK: 5 entries" in verify_output()
    assert first_bad_seq("--archive", str(archive_dir)) == 1


def test_r57_17_content_removed_behind_the_guards_is_named(
    archive_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_entries(5, at=timezone.now(), monkeypatch=monkeypatch)
    with guards_lifted(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 4")
    assert first_bad_seq() == 4


# --- tampering with the archive ---------------------------------------------------------------


@pytest.fixture
def sealed(archive_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Segments 1-10, 11-20, 21-30, verified."""
    monkeypatch.setattr(archive, "SEGMENT_MAX_ENTRIES", 10)
    now = timezone.now()
    add_entries(30, at=now - timedelta(days=100), monkeypatch=monkeypatch)
    assert len(archive_run(now=now)) == 3
    assert "archive OK: 30 entries" in verify_output("--archive", str(archive_dir))
    return archive_dir


def _middle(directory: Path) -> tuple[Path, Path]:
    data, manifest = segment_names(11, 20)
    return directory / data, directory / manifest


def change_payload(directory: Path) -> None:
    data, _ = _middle(directory)
    rows = read_lines(data)
    rows[4]["payload"]["details"]["note"] = "rewritten"
    write_lines(data, rows)


def change_payload_and_its_hashes(directory: Path) -> None:
    """A careful forger: the line's own leaf and chain hash recomputed too."""
    data, _ = _middle(directory)
    rows = read_lines(data)
    rows[4]["payload"]["actor_label"] = "innocent"
    leaf = verifier.leaf_hash(rows[4]["payload"])
    rows[4]["leaf_hash"] = leaf.hex()
    rows[4]["chain_hash"] = verifier.chain_next(bytes.fromhex(rows[3]["chain_hash"]), leaf).hex()
    write_lines(data, rows)


def drop_line(directory: Path) -> None:
    data, _ = _middle(directory)
    rows = read_lines(data)
    del rows[4]
    write_lines(data, rows)


def swap_lines(directory: Path) -> None:
    data, _ = _middle(directory)
    rows = read_lines(data)
    rows[4], rows[5] = rows[5], rows[4]
    write_lines(data, rows)


def edit_manifest(directory: Path) -> None:
    _, manifest = _middle(directory)
    content = json.loads(manifest.read_bytes())
    content["created_at"] = "2020-01-01T00:00:00Z"  # so that it would look prunable
    manifest.write_bytes(verifier.canonical_json(content))


def garble_manifest(directory: Path) -> None:
    _middle(directory)[1].write_bytes(b'{"first_seq": "eleven"')


def resign_manifest_with_another_key(directory: Path) -> None:
    import base64

    from cryptography.hazmat.primitives import serialization

    _, manifest = _middle(directory)
    content = json.loads(manifest.read_bytes())
    content.pop("signature")
    key = Ed25519PrivateKey.generate()
    content["public_key"] = base64.b64encode(
        key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()
    content["signature"] = base64.b64encode(key.sign(verifier.canonical_json(content))).decode()
    manifest.write_bytes(verifier.canonical_json(content))


def delete_middle_segment(directory: Path) -> None:
    for path in _middle(directory):
        path.unlink()


def delete_middle_data_file(directory: Path) -> None:
    _middle(directory)[0].unlink()


# (tampering, first bad seq named by `aips audit verify --archive`, by the stand-alone verifier)
TAMPERING = [
    (change_payload, 15, 15),
    # The archive alone sees the chain break at the next entry; the database names the forgery.
    (change_payload_and_its_hashes, 15, 16),
    (drop_line, 15, 15),
    (swap_lines, 15, 15),
    (edit_manifest, 11, 11),
    (garble_manifest, 11, 11),
    (resign_manifest_with_another_key, 11, 11),
    (delete_middle_segment, 11, 11),
    (delete_middle_data_file, 11, 11),
]


@pytest.mark.parametrize(
    ("tamper", "seq", "standalone_seq"), TAMPERING, ids=[t[0].__name__ for t in TAMPERING]
)
def test_r57_17_tampered_archive_is_detected_and_named(
    sealed: Path,
    tamper: Callable[[Path], None],
    seq: int,
    standalone_seq: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tamper(sealed)
    assert first_bad_seq("--archive", str(sealed)) == seq
    code, output = standalone(sealed, capsys)
    assert code == 1
    assert f"first bad sequence number {standalone_seq}" in output


def test_r57_17_truncated_segment_is_named_where_it_breaks(
    sealed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, _ = _middle(sealed)
    data.write_bytes(data.read_bytes()[:-40])
    # Whatever still decompresses is intact; the first entry lost or cut is named.
    seq = first_bad_seq("--archive", str(sealed))
    assert 11 < seq <= 20
    assert standalone(sealed, capsys)[0] == 1


def test_r57_17_removing_the_last_segment_is_named_by_the_database(
    sealed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in segment_names(21, 30):
        (sealed / name).unlink()
    # The archive alone looks complete up to 20; the database knows 21-30 were sealed.
    assert standalone(sealed, capsys)[0] == 0
    assert first_bad_seq("--archive", str(sealed)) == 21


def test_r57_17_archive_run_refuses_to_build_on_a_tampered_archive(
    sealed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_entries(3, at=timezone.now() - timedelta(days=100), monkeypatch=monkeypatch)
    delete_middle_segment(sealed)
    with pytest.raises(ArchiveError, match="first bad seq 11"):
        archive_run(now=timezone.now() + timedelta(days=200))
    assert AuditSegment.objects.count() == 3
    assert AuditEvent.objects.filter(seq__gt=30).count() == 6  # 3 archive events, 3 entries


# --- retention of the archive -----------------------------------------------------------------


def test_r57_17_prune_never_removes_archives_younger_than_five_years(
    archive_dir: Path,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    clock: Callable[[datetime], Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = timezone.now()
    six_years_ago = verifier.years_before(now, 6)
    four_years_ago = verifier.years_before(now, 4)
    add_entries(5, at=six_years_ago - timedelta(days=100), monkeypatch=monkeypatch)  # 1-5
    with clock(six_years_ago):
        [old] = archive_run()  # 1-5; its own event is 6
    add_entries(5, at=four_years_ago - timedelta(days=100), monkeypatch=monkeypatch)  # 7-11
    with clock(four_years_ago):
        [recent] = archive_run()  # 6-11
    assert (old.first_seq, old.last_seq, recent.first_seq, recent.last_seq) == (1, 5, 6, 11)
    everything = files(archive_dir)

    # However short the setting, nothing younger than 5 years goes ...
    settings.AIPS_AUDIT_ARCHIVE_YEARS = 1
    assert archive_prune(now=verifier.years_before(now, 1) - timedelta(days=1)) == []
    # ... and a longer setting is honoured.
    settings.AIPS_AUDIT_ARCHIVE_YEARS = 7
    assert archive_prune(now=now) == []
    assert files(archive_dir) == everything

    settings.AIPS_AUDIT_ARCHIVE_YEARS = 1
    removed = archive_prune(now=now)
    assert [p.name for p in removed] == [old.file_name]
    # The manifests stay: the chain still runs from seq 1, and the pruned segment is told
    # apart from a removed one by its signed age.
    assert sorted(files(archive_dir)) == sorted(set(everything) - {old.file_name})
    assert "archive OK: 6 entries" in verify_output("--archive", str(archive_dir))
    assert "OK:" in verify_output()
    assert standalone(archive_dir, capsys)[0] == 0
    pruned = AuditEvent.objects.get(event=EventType.AUDIT_ARCHIVE_PRUNED)
    assert pruned.details == {"files": [old.file_name], "retention_years": 5}
    assert archive_prune(now=now) == []

    # Removing a younger data file by hand is tampering, whatever its neighbours.
    (archive_dir / recent.file_name).unlink()
    assert first_bad_seq("--archive", str(archive_dir)) == 6


def test_r57_17_prune_ignores_manifests_it_cannot_trust(
    archive_dir: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()
    add_entries(3, at=now - timedelta(days=200), monkeypatch=monkeypatch)
    [segment] = archive_run(now=now)
    edit_manifest_at = archive_dir / segment_names(1, 3)[1]
    content = json.loads(edit_manifest_at.read_bytes())
    content["created_at"] = "2001-01-01T00:00:00Z"  # "old enough" without a valid signature
    edit_manifest_at.write_bytes(verifier.canonical_json(content))
    assert archive_prune(now=now) == []
    assert (archive_dir / segment.file_name).exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has no advisory locks: BEGIN IMMEDIATE already runs one transaction at a time",
)
def test_r57_17_second_archiver_waits_its_turn(
    archive_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()
    add_entries(3, at=now - timedelta(days=200), monkeypatch=monkeypatch)
    other = connections.create_connection("default")  # an archiver running elsewhere
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [archive.lock_key(archive.LOCK_NAME)])
        assert archive_run(now=now) == []
        assert archive_prune(now=now) == []
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_all()")
        assert len(archive_run(now=now)) == 1
    finally:
        other.close()
