"""The tamper-evident journal (R57.17): every kind of tampering is detected and named."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from aips.core.actors import SystemActor
from aips.core.tests.pg_roles import guards_lifted, owner_role
from aips.shared.audit import selectors
from aips.shared.audit.models import AuditCheckpoint, AuditEntry, AuditEvent, AuditHead, EventType
from aips.shared.audit.services import checkpoint_create, record
from aips.shared.audit.verifier import chain_next, leaf_hash, merkle_root, node_hash, verify


@pytest.fixture(autouse=True)
def _own_key(settings: Any, tmp_path: Path) -> None:
    settings.AIPS_AUDIT_KEY_FILE = str(tmp_path / "audit.key")


@pytest.fixture
def journal(personas: Any) -> int:
    """The demo dataset's journal plus a signed checkpoint; returns the number of entries."""
    checkpoint_create()
    return selectors.head_seq()


def _verify() -> None:
    call_command("audit", "verify")


def _tamper(*statements: str, params: list[Any] | None = None) -> None:
    """What an intruder with raw database access could do, after disabling the guards."""
    with guards_lifted(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, params or [])


def _fails_at(seq: int) -> str:
    with pytest.raises(CommandError) as caught:
        _verify()
    message = str(caught.value)
    assert f"first bad sequence number {seq}" in message, message
    return message


def test_r57_17_demo_journal_verifies(journal: int) -> None:
    assert journal > 20
    _verify()
    report = verify(selectors.journal_entries(), selectors.journal_checkpoints())
    assert report.ok
    assert report.entries == journal
    assert report.checkpoints == 1


def test_r57_17_sequence_is_gap_free_and_chained(journal: int) -> None:
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, journal + 1))
    head = AuditHead.objects.get()
    assert head.seq == journal
    assert head.chain_hash == AuditEntry.objects.get(seq=journal).chain_hash


def test_r57_17_record_requires_the_callers_transaction(transactional_db: None) -> None:
    with pytest.raises(RuntimeError, match="transaction"):
        record(actor=None, event=EventType.LOGIN_FAILED)


def test_r57_17_rolled_back_change_leaves_no_entry(journal: int) -> None:
    def change_then_fail() -> None:
        with transaction.atomic():
            record(actor=SystemActor(), event=EventType.LOGIN_FAILED)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        change_then_fail()
    assert selectors.head_seq() == journal
    _verify()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET event = 'x' WHERE seq = 3",
        "DELETE FROM audit_auditevent WHERE seq = 3",
        "UPDATE audit_auditentry SET leaf_hash = 'x' WHERE seq = 3",
        "DELETE FROM audit_auditentry WHERE seq = 3",
        "UPDATE audit_auditcheckpoint SET tree_size = 1",
        "DELETE FROM audit_auditcheckpoint",
    ],
)
def test_r57_17_database_refuses_update_and_delete(journal: int, statement: str) -> None:
    # As the tables' owner, whom only the triggers stop (the application role is refused before
    # them by its grants: core/tests/test_db_roles.py).
    with (
        owner_role(),
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    _verify()


def test_r57_17_changed_entry_is_named(journal: int) -> None:
    _tamper("UPDATE audit_auditevent SET actor_label = 'someone-else' WHERE seq = 7")
    assert "entry 7 was changed" in _fails_at(7)


def test_r57_17_changed_details_are_named(journal: int) -> None:
    _tamper("UPDATE audit_auditevent SET details = %s WHERE seq = 4", params=[json.dumps({"x": 1})])
    _fails_at(4)


def test_r57_17_deleted_entry_is_named(journal: int) -> None:
    _tamper(
        "DELETE FROM audit_auditevent WHERE seq = 9", "DELETE FROM audit_auditentry WHERE seq = 9"
    )
    assert "entry 9 is missing" in _fails_at(9)


def test_r57_17_reordered_entries_are_named(journal: int) -> None:
    a, b = AuditEvent.objects.get(seq=5), AuditEvent.objects.get(seq=6)
    with guards_lifted(), connection.cursor() as cursor:
        for target, source in ((5, b), (6, a)):
            cursor.execute(
                "UPDATE audit_auditevent SET event = %s, at = %s, actor_label = %s, target_id = %s "
                "WHERE seq = %s",
                [source.event, source.at, source.actor_label, source.target_id, target],
            )
    _fails_at(5)


def test_r57_17_inserted_entry_breaks_the_chain_after_it(journal: int) -> None:
    """An intruder slips a forged entry in at 5 (renumbering the rest and chaining the forgery
    properly to entry 4): the next entry's chain no longer matches."""
    forged = dict(AuditEvent.objects.get(seq=5).payload(), event="user:created")
    leaf = leaf_hash(forged)
    chain = chain_next(bytes.fromhex(AuditEntry.objects.get(seq=4).chain_hash), leaf)
    with guards_lifted(), connection.cursor() as cursor:
        for seq in range(journal, 4, -1):
            cursor.execute("UPDATE audit_auditentry SET seq = seq + 1 WHERE seq = %s", [seq])
            cursor.execute("UPDATE audit_auditevent SET seq = seq + 1 WHERE seq = %s", [seq])
        cursor.execute(
            "INSERT INTO audit_auditentry (seq, leaf_hash, chain_hash) VALUES (5, %s, %s)",
            [leaf.hex(), chain.hex()],
        )
    # The forgery has no content row and no archive segment holds it: named itself, at 5 (the
    # chain alone would only break at 6).
    _fails_at(5)


def test_r57_17_truncated_tail_after_checkpoint_is_named(journal: int) -> None:
    _tamper(
        f"DELETE FROM audit_auditevent WHERE seq > {journal - 3}",  # noqa: S608
        f"DELETE FROM audit_auditentry WHERE seq > {journal - 3}",  # noqa: S608
        f"UPDATE audit_audithead SET seq = {journal - 3}",  # noqa: S608
    )
    assert "truncated" in _fails_at(journal - 2)


def test_r57_17_rewritten_history_contradicts_the_signed_checkpoint(journal: int) -> None:
    """An intruder who also recomputes every hash is still caught by the signed tree head."""
    payloads = [e.payload() for e in AuditEvent.objects.order_by("seq")]
    payloads[2]["actor_label"] = "nobody"
    with guards_lifted():
        previous = bytes(32)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE audit_auditevent SET actor_label = 'nobody' WHERE seq = %s",
                [payloads[2]["seq"]],
            )
            for payload in payloads:
                leaf = leaf_hash(payload)
                previous = chain_next(previous, leaf)
                cursor.execute(
                    "UPDATE audit_auditentry SET leaf_hash = %s, chain_hash = %s WHERE seq = %s",
                    [leaf.hex(), previous.hex(), payload["seq"]],
                )
            cursor.execute("UPDATE audit_audithead SET chain_hash = %s", [previous.hex()])
    assert "rewritten history" in _fails_at(journal)


def test_r57_17_forged_checkpoint_signature_is_refused(journal: int) -> None:
    record_more = AuditCheckpoint.objects.get()
    _tamper(
        "INSERT INTO audit_auditcheckpoint"
        " (tree_size, root_hash, created_at, public_key, signature) VALUES (%s, %s, %s, %s, %s)",
        params=[
            record_more.tree_size,
            "00" * 32,
            record_more.created_at,
            record_more.public_key,
            record_more.signature,
        ],
    )
    assert "bad signature" in _fails_at(journal)


def test_r57_17_checkpoint_only_when_something_new(journal: int) -> None:
    assert checkpoint_create() is None
    with transaction.atomic():
        record(actor=SystemActor(), event=EventType.LOGIN_FAILED)
    cp = checkpoint_create()
    assert cp is not None
    assert cp.tree_size == journal + 1
    _verify()


def test_r57_17_merkle_tree_follows_rfc_9162() -> None:
    leaves = [bytes([i]) * 32 for i in range(5)]
    # MTH(5) = H(1 || MTH(0:4) || MTH(4:5)), MTH(0:4) = H(1 || H(1||l0||l1) || H(1||l2||l3)).
    left = node_hash(node_hash(leaves[0], leaves[1]), node_hash(leaves[2], leaves[3]))
    assert merkle_root(leaves) == node_hash(left, leaves[4])
    assert merkle_root(leaves[:1]) == leaves[0]


def _export(tmp_path: Path) -> Path:
    target = tmp_path / "export"
    call_command("audit", "export", str(target))
    return target


def _standalone(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own verifier on our own files
        [sys.executable, str(directory / "verifier.py"), str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    for line in path.read_text().splitlines():
        yield json.loads(line)


def test_r57_17_standalone_verifier_checks_an_export(journal: int, tmp_path: Path) -> None:
    directory = _export(tmp_path)
    ok = _standalone(directory)
    assert ok.returncode == 0, ok.stderr
    assert f"{journal} entries" in ok.stdout

    rows = list(_lines(directory / "entries.jsonl"))
    rows[10]["payload"]["event"] = "organization:created"
    (directory / "entries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    bad = _standalone(directory)
    assert bad.returncode == 1
    assert "first bad sequence number 11" in bad.stderr


def test_r57_17_standalone_verifier_needs_no_django(journal: int, tmp_path: Path) -> None:
    directory = _export(tmp_path)
    source = (directory / "verifier.py").read_text()
    assert "django" not in source.lower().replace("without django", "")
    assert "import aips" not in source


def test_r57_17_lost_signing_key_is_not_silently_replaced(
    journal: int, settings: Any, tmp_path: Path
) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from aips.shared.audit import signing

    settings.AIPS_AUDIT_KEY_FILE = str(tmp_path / "gone" / "audit.key")
    signing._load.cache_clear()
    with pytest.raises(ImproperlyConfigured, match="restore the key file"):
        signing.public_key_b64()
