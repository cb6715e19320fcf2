"""The journal's anchor outside the database (R57.17, issue 13 finding 2): a rollback, truncation
or rewrite of anything already anchored is named with its range, also when done by the database
superuser behind the triggers; successive anchors are proven consistent (RFC 9162 2.1.4)."""

import hashlib
import itertools
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from aips.core.actors import SystemActor
from aips.shared.audit import anchor
from aips.shared.audit.models import AuditCheckpoint, AuditEntry, AuditEvent, EventType
from aips.shared.audit.services import checkpoint_create, record
from aips.shared.audit.verifier import (
    TreeScan,
    chain_next,
    consistency_ranges,
    leaf_hash,
    verify_consistency,
)

ZERO = "0" * 64
# Where the journal is signed and anchored in the scenarios: "roll back to 10 entries", "rewrite
# from entry 450" (the checkpoint before it is at 449), and a later one.
SIZES = (10, 300, 449, 500)

Statement = tuple[str, list[Any]]


# --- RFC 9162 2.1.4: an independent, literal implementation to compare with ------------------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 9162 2.1.1 defines it, over leaf hashes."""
    if not leaves:
        return _h(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return _h(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:]))


def _subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), _mth(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), _mth(leaves[:k])]


def _leaves(n: int) -> list[bytes]:
    return [_h(b"\x00" + str(i).encode()) for i in range(n)]


def test_r57_17_consistency_proofs_match_rfc_9162_for_every_pair_up_to_64() -> None:
    leaves = _leaves(64)
    for n in range(1, 65):
        for m in range(1, n):
            expected = _subproof(m, leaves[:n], True)
            scan = TreeScan(sizes=[m, n], ranges=consistency_ranges(m, n))
            for leaf in leaves[:n]:
                scan.append(leaf)
            assert scan.roots[m] == _mth(leaves[:m])
            assert scan.roots[n] == _mth(leaves[:n])
            proof = scan.proof(m, n)
            assert proof == expected, (m, n)
            first, second = scan.roots[m], scan.roots[n]
            assert verify_consistency(m, n, first, second, proof), (m, n)
            # Any change to the proof, the roots or the sizes is refused.
            for i in range(len(proof)):
                bad = list(proof)
                bad[i] = _h(bad[i])
                assert not verify_consistency(m, n, first, second, bad), (m, n, i)
            assert not verify_consistency(m, n, _h(first), second, proof)
            assert not verify_consistency(m, n, first, _h(second), proof)
            assert not verify_consistency(m, n, first, second, [*proof, first])
            assert not verify_consistency(m, n, first, second, proof[:-1])
            if m + 1 < n:
                assert not verify_consistency(m + 1, n, first, second, proof)


def test_r57_17_consistency_edge_cases() -> None:
    leaves = _leaves(5)
    root = _mth(leaves)
    assert verify_consistency(0, 5, b"", root, [])  # every tree extends the empty one
    assert not verify_consistency(0, 5, b"", root, [root])
    assert verify_consistency(5, 5, root, root, [])
    assert not verify_consistency(5, 5, root, _h(root), [])
    assert not verify_consistency(3, 5, _mth(leaves[:3]), root, [])
    assert not verify_consistency(6, 5, root, root, [])
    # A tree whose first 3 leaves were rewritten does not extend the original 3.
    rewritten = [_h(b"x"), *leaves[1:]]
    assert not verify_consistency(
        3, 5, _mth(leaves[:3]), _mth(rewritten), _subproof(3, rewritten, True)
    )


# --- a signed and anchored journal ------------------------------------------------------------


@pytest.fixture(autouse=True)
def _own_key(settings: Any, tmp_path: Path) -> None:
    settings.AIPS_AUDIT_KEY_FILE = str(tmp_path / "audit.key")
    settings.AIPS_AUDIT_ARCHIVE_DIR = str(tmp_path / "archive")


def _append(count: int) -> None:
    with transaction.atomic():
        for n in range(count):
            record(actor=SystemActor(label="test"), event=EventType.USER_UPDATED, details={"n": n})


def _build_journal() -> int:
    """500 entries, signed and anchored at SIZES; returns the number of entries."""
    done = 0
    for size in SIZES:
        _append(size - done)
        done = size
        assert checkpoint_create() is not None
        anchored = anchor.anchor_pending()
        assert anchored is not None
        assert anchored.tree_size == size
    return done


@pytest.fixture
def journal(db: None) -> int:
    return _build_journal()


def _anchor_lines() -> list[dict[str, Any]]:
    return [json.loads(line) for line in anchor.anchor_path().read_text().splitlines()]


def _lines_text() -> list[str]:
    return anchor.anchor_path().read_text().splitlines()


def verify_output(*args: str) -> str:
    out = StringIO()
    call_command("audit", "verify", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def verify_failure(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        call_command("audit", "verify", *args, stdout=StringIO(), stderr=StringIO())
    return str(caught.value)


def test_r57_17_each_checkpoint_is_anchored_with_a_consistency_proof(journal: int) -> None:
    lines = _anchor_lines()
    assert [line["tree_size"] for line in lines] == list(SIZES)
    assert lines[0]["previous_size"] == 0
    assert lines[0]["consistency"] == []
    for before, line in itertools.pairwise(lines):
        assert line["previous_size"] == before["tree_size"]
        assert line["previous_root"] == before["root_hash"]
        assert verify_consistency(
            before["tree_size"],
            line["tree_size"],
            bytes.fromhex(before["root_hash"]),
            bytes.fromhex(line["root_hash"]),
            [bytes.fromhex(h) for h in line["consistency"]],
        )
    db_heads = set(AuditCheckpoint.objects.values_list("tree_size", "root_hash"))
    assert {(line["tree_size"], line["root_hash"]) for line in lines} == db_heads
    # Nothing new: nothing appended.
    assert anchor.anchor_pending() is None
    assert len(_anchor_lines()) == len(SIZES)
    assert "entries 1..500 match the newest anchored checkpoint" in verify_output()


def test_r57_17_unanchored_tail_is_reported_as_such(journal: int) -> None:
    _append(3)
    assert "entries 501..503 are not anchored yet" in verify_output()


# --- tampering behind the triggers, emulated on either database --------------------------------


def _rollback_to(size: int) -> list[Statement]:
    return [
        ("DELETE FROM audit_auditcheckpoint WHERE tree_size > %s", [size]),
        ("DELETE FROM audit_auditevent WHERE seq > %s", [size]),
        ("DELETE FROM audit_auditentry WHERE seq > %s", [size]),
        (
            "UPDATE audit_audithead SET seq = %s, chain_hash = "
            "(SELECT chain_hash FROM audit_auditentry WHERE seq = %s)",
            [size, size],
        ),
    ]


def _rewrite_from(first: int) -> list[Statement]:
    """Entry `first` changed and every hash after it recomputed, as a careful intruder would;
    the checkpoints that would contradict it deleted."""
    statements: list[Statement] = [
        ("DELETE FROM audit_auditcheckpoint WHERE tree_size >= %s", [first]),
        ("UPDATE audit_auditevent SET actor_label = %s WHERE seq = %s", ["nobody", first]),
    ]
    chain = bytes.fromhex(AuditEntry.objects.get(seq=first - 1).chain_hash)
    for event in AuditEvent.objects.filter(seq__gte=first).order_by("seq"):
        payload = event.payload()
        if event.seq == first:
            payload["actor_label"] = "nobody"
        leaf = leaf_hash(payload)
        chain = chain_next(chain, leaf)
        statements.append(
            (
                "UPDATE audit_auditentry SET leaf_hash = %s, chain_hash = %s WHERE seq = %s",
                [leaf.hex(), chain.hex(), event.seq],
            )
        )
    statements.append(("UPDATE audit_audithead SET chain_hash = %s", [chain.hex()]))
    return statements


def _wipe(truncate: bool) -> list[Statement]:
    tables = ["audit_auditevent", "audit_auditentry", "audit_auditcheckpoint"]
    emptied: list[Statement] = (
        [(f"TRUNCATE {', '.join(tables)}", [])]
        if truncate
        else [(f"DELETE FROM {table}", []) for table in tables]  # noqa: S608 - fixed names
    )
    return [*emptied, ("UPDATE audit_audithead SET seq = 0, chain_hash = %s", [ZERO])]


def _as_intruder(statements: list[Statement]) -> None:
    """With the tables' owner's rights (on PostgreSQL) and the triggers dropped."""
    from aips.core.tests.pg_roles import guards_lifted

    with guards_lifted(), connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


def test_r57_17_rollback_to_10_entries_is_named(journal: int) -> None:
    _as_intruder(_rollback_to(10))
    message = verify_failure()
    assert "first bad sequence number 11" in message, message
    assert "rolled back: entries 11..500 are missing" in message, message
    assert "checkpoints deleted: anchored checkpoints at sizes 300, 449, 500" in message, message


def test_r57_17_rewrite_from_entry_450_is_named(journal: int) -> None:
    _as_intruder(_rewrite_from(450))
    message = verify_failure()
    assert "rewritten: entries 450..500 differ" in message, message
    assert "entries 1..449 match the anchor" in message, message
    assert "checkpoints deleted: anchored checkpoint at size 500 is not in the database" in message


def test_r57_17_wiped_journal_is_named(journal: int) -> None:
    _as_intruder(_wipe(truncate=False))
    message = verify_failure()
    assert "rolled back: entries 1..500 are missing" in message, message
    assert "first bad sequence number 1" in message, message
    with pytest.raises(anchor.AnchorError, match="no checkpoint but 500 entries are anchored"):
        anchor.anchor_pending()


def test_r57_17_anchor_tail_is_read_backwards_across_blocks(
    journal: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(anchor, "TAIL_BLOCK", 97)  # lines straddle every block boundary
    last = anchor.last_anchor()
    assert last is not None
    assert last.tree_size == 500
    assert last.digest == hashlib.sha256(_lines_text()[-1].encode()).hexdigest()
    assert [a.tree_size for a in anchor._pending(10)] == [300, 449, 500]
    assert [a.tree_size for a in anchor._pending(0)] == list(SIZES)
    assert anchor._pending(500) == []


def test_r57_17_deleted_checkpoints_alone_are_named(journal: int) -> None:
    _as_intruder([("DELETE FROM audit_auditcheckpoint WHERE tree_size >= 300", [])])
    message = verify_failure()
    assert "checkpoints deleted: anchored checkpoints at sizes 300, 449, 500" in message, message


def test_r57_17_rewritten_journal_is_not_anchored(journal: int) -> None:
    """The anchor never vouches for a rewritten journal: a new checkpoint signed over it (by
    someone who also holds the key) is refused, and nothing is appended."""
    _as_intruder(_rewrite_from(450))
    _append(1)
    assert checkpoint_create() is not None
    with pytest.raises(anchor.AnchorError, match="no longer give the anchored root"):
        anchor.anchor_pending()
    assert [line["tree_size"] for line in _anchor_lines()] == list(SIZES)


def test_r57_17_rolled_back_journal_is_not_anchored(journal: int) -> None:
    _as_intruder(_rollback_to(10))
    with pytest.raises(anchor.AnchorError, match="500 are anchored"):
        anchor.anchor_pending()


# --- the anchor file itself -------------------------------------------------------------------


def _rewrite_anchor(change: Callable[[list[str]], list[str]]) -> None:
    path = anchor.anchor_path()
    path.write_text("".join(line + "\n" for line in change(path.read_text().splitlines())))


def test_r57_17_line_removed_from_the_anchor_is_named(journal: int) -> None:
    _rewrite_anchor(lambda lines: [lines[0], lines[2], lines[3]])
    assert "anchor line 2 (checkpoint at 449) does not follow anchor line 1" in verify_failure()


def test_r57_17_forged_anchor_line_is_named(journal: int) -> None:
    def forge(lines: list[str]) -> list[str]:
        last = json.loads(lines[-1])
        last["root_hash"] = "ab" * 32
        return [*lines[:-1], json.dumps(last)]

    _rewrite_anchor(forge)
    message = verify_failure()
    assert "anchor line 4 (checkpoint at 500) has a bad signature" in message, message


def test_r57_17_torn_last_line_is_named_and_the_next_anchor_starts_afresh(journal: int) -> None:
    path = anchor.anchor_path()
    with path.open("a") as handle:
        handle.write('{"format": "aips-audit-anc')  # a crash in the middle of a write
    assert "anchor line 5 is unreadable" in verify_failure()
    _append(1)
    checkpoint_create()
    assert anchor.anchor_pending() is not None
    assert json.loads(path.read_text().splitlines()[-1])["tree_size"] == 501


def test_r57_17_truncated_anchor_is_caught_by_a_witness_copy(journal: int, tmp_path: Path) -> None:
    """Removing the anchor file's last lines cannot be seen from the file; a witness's copy
    (here: the lines as a syslog server stored them, with their headers) still names it."""
    witness = tmp_path / "witness.log"
    witness.write_text(
        "".join(
            f"Dec  4 12:00:00 aips-host aips[123]: {line}\n"
            for line in anchor.anchor_path().read_text().splitlines()
        )
    )
    _rewrite_anchor(lambda lines: lines[:1])
    _as_intruder(_rollback_to(10))
    assert "OK: 10 entries" in verify_output()  # the truncated file alone is satisfied
    message = verify_failure("--anchor", str(witness))
    assert "rolled back: entries 11..500 are missing" in message, message


def test_r57_17_explicit_anchor_file_must_exist(journal: int, tmp_path: Path) -> None:
    assert "cannot be read" in verify_failure("--anchor", str(tmp_path / "nowhere.jsonl"))


def test_r57_17_standalone_verifier_checks_the_anchor(journal: int, tmp_path: Path) -> None:
    witness = tmp_path / "auditor-copy.jsonl"
    witness.write_bytes(anchor.anchor_path().read_bytes())
    _as_intruder(_rollback_to(10))
    export = tmp_path / "export"
    call_command("audit", "export", str(export), stdout=StringIO())
    result = subprocess.run(  # noqa: S603 - our own verifier on our own files
        [sys.executable, str(export / "verifier.py"), str(export), "--anchor", str(witness)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout
    assert "rolled back: entries 11..500 are missing" in result.stderr, result.stderr


# --- witnesses --------------------------------------------------------------------------------


@pytest.fixture
def udp_listener() -> Iterator[tuple[socket.socket, int]]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    yield sock, sock.getsockname()[1]
    sock.close()


def test_r57_17_syslog_witness_gets_every_line_once(
    journal: int, settings: Any, udp_listener: tuple[socket.socket, int]
) -> None:
    sock, port = udp_listener
    settings.AIPS_AUDIT_WITNESS_SYSLOG = f"udp://127.0.0.1:{port}"
    assert anchor.witness_pending() == {"syslog": len(SIZES)}
    received = [sock.recv(65535).decode() for _ in SIZES]
    assert all(m.startswith("<109>1 ") and " aips " in m for m in received)
    assert [json.loads(m[m.index("{") :])["tree_size"] for m in received] == list(SIZES)
    assert anchor.witness_pending() == {}  # nothing new
    _append(2)
    checkpoint_create()
    anchor.anchor_pending()
    assert anchor.witness_pending() == {"syslog": 1}
    assert '"tree_size":502' in sock.recv(65535).decode()


def test_r57_17_syslog_witness_that_is_down_is_caught_up(journal: int, settings: Any) -> None:
    """Over TCP a refused connection is noticed; the lines stay pending until it is back."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    settings.AIPS_AUDIT_WITNESS_SYSLOG = f"tcp://127.0.0.1:{port}"
    assert anchor.witness_pending() == {}  # nobody listening yet

    listener.listen(1)
    listener.settimeout(5)
    chunks: list[bytes] = []

    def serve() -> None:
        peer, _address = listener.accept()
        with peer:
            while data := peer.recv(65535):
                chunks.append(data)

    thread = threading.Thread(target=serve)
    thread.start()
    assert anchor.witness_pending() == {"syslog": len(SIZES)}
    thread.join(5)
    listener.close()
    stream = b"".join(chunks)
    frames = []
    while stream:  # RFC 6587 octet counting: "LENGTH SP MESSAGE"
        length, _space, rest = stream.partition(b" ")
        frames.append(rest[: int(length)])
        stream = rest[int(length) :]
    assert [json.loads(f[f.index(b"{") :])["tree_size"] for f in frames] == list(SIZES)


def test_r57_17_email_witness_queues_the_lines_for_the_auditors(
    journal: int, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from aips.shared.notifications.models import OutboxMessage

    settings.AIPS_AUDIT_WITNESS_EMAILS = ["auditor@example.kz", "second@example.kz"]
    with django_capture_on_commit_callbacks(execute=True):
        assert anchor.witness_pending() == {"email": len(SIZES)}
    mails = list(OutboxMessage.objects.order_by("to"))
    assert [m.to for m in mails] == ["auditor@example.kz", "second@example.kz"]
    assert "500" in mails[0].subject
    for line in anchor.anchor_path().read_text().splitlines():
        assert line in mails[0].body
    # Not again before AIPS_AUDIT_WITNESS_EMAIL_MINUTES, even with something new.
    _append(1)
    checkpoint_create()
    anchor.anchor_pending()
    with django_capture_on_commit_callbacks(execute=True):
        assert anchor.witness_pending() == {}
    assert OutboxMessage.objects.count() == 2


def test_r57_17_misconfigured_syslog_witness_is_refused() -> None:
    from django.core.exceptions import ImproperlyConfigured

    for value in ("syslog.example.kz:514", "http://h:1", "udp://h", "tcp://:514"):
        with pytest.raises(ImproperlyConfigured):
            anchor.syslog_target(value)
    assert anchor.syslog_target("tcp://[2001:db8::1]:6514") == ("tcp", "2001:db8::1", 6514)


def test_r57_17_worker_anchors_what_it_signs(db: None) -> None:
    _append(4)
    call_command("worker", "--once")
    assert [line["tree_size"] for line in _anchor_lines()] == [4]


def test_r57_17_checkpoint_command_anchors(db: None) -> None:
    _append(2)
    out = StringIO()
    call_command("audit", "checkpoint", stdout=out)
    assert "anchored the checkpoint at 2" in out.getvalue()
    assert "entries 1..2 match" in verify_output()


# --- the PostgreSQL superuser, for real -------------------------------------------------------


def _superuser_connection() -> Any:
    import psycopg

    settings_dict = connection.settings_dict
    return psycopg.connect(
        host=settings_dict.get("HOST") or "127.0.0.1",
        port=int(settings_dict.get("PORT") or 5432),
        user="postgres",
        dbname=settings_dict["NAME"],
        autocommit=True,
    )


def _as_superuser(statements: list[Statement]) -> None:
    """What the database superuser can do: switch off every trigger for the session, delete,
    rewrite and TRUNCATE, all committed."""
    with _superuser_connection() as superuser, superuser.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        for sql, params in statements:
            cursor.execute(sql, params)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a PostgreSQL superuser is a PostgreSQL thing"
)
@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (
            lambda: _rollback_to(10),
            [
                "rolled back: entries 11..500 are missing",
                "checkpoints deleted: anchored checkpoints at sizes 300, 449, 500",
            ],
        ),
        (
            lambda: _rewrite_from(450),
            [
                "rewritten: entries 450..500 differ",
                "checkpoints deleted: anchored checkpoint at size 500 is not in the database",
            ],
        ),
        (
            lambda: _wipe(truncate=True),
            [
                "rolled back: entries 1..500 are missing",
                "checkpoints deleted: anchored checkpoints at sizes 10, 300, 449, 500",
            ],
        ),
    ],
    ids=["rollback_to_10", "rewrite_from_450", "truncate_and_reset_head"],
)
def test_r57_17_superuser_deletes_checkpoints_and_rolls_back_the_journal(
    transactional_db: None, tamper: Callable[[], list[Statement]], expected: list[str]
) -> None:
    _build_journal()
    assert "entries 1..500 match" in verify_output()
    _as_superuser(tamper())
    message = verify_failure()
    for text in expected:
        assert text in message, message
