"""Signal retention (R57.17): months past AIPS_SIGNAL_RETENTION_MONTHS are written to a gzip
JSON-lines file with its SHA-256 recorded and audited, then leave the database (PostgreSQL:
the month's partition is detached and dropped). Idempotent, and a crash between the export and
the removal loses and doubles nothing."""

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from aips.center.integrations.models import ModuleActor
from aips.center.signals import archive, partitions
from aips.center.signals.models import ArchivedMonth, IndicatorSighting, Signal, SignalRollup
from aips.center.signals.tests.factories import ingest, module_actor, signal
from aips.core.actors import SystemActor
from aips.core.errors import Forbidden
from aips.shared.audit.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=False)

SYSTEM = SystemActor(label="test")


@pytest.fixture(autouse=True)
def _data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    settings.AIPS_SIGNAL_RETENTION_MONTHS = 3
    return tmp_path


def _old_signals(actor: ModuleActor, month: date, n: int) -> list[int]:
    """n signals observed in `month` (ingest refuses such old ones, so they are put in place as
    a restore would)."""
    start = datetime(month.year, month.month, 1, 12, tzinfo=UTC)
    rows = [
        Signal(
            organization_id=actor.organization_id,
            module_id=actor.module_id,
            signal_id=uuid.uuid4(),
            kind="scan",
            observed_at=start + timedelta(days=i % 20, minutes=i),
            received_at=start + timedelta(days=i % 20, minutes=i, seconds=5),
            severity=3,
            product="Suricata",
            vendor="OISF",
            src_ip="185.220.101.4",
            details={"ports": [22, 443], "n": i},
        )
        for i in range(n)
    ]
    Signal.objects.bulk_create(rows)
    return list(
        Signal.objects.filter(
            observed_at__gte=start.replace(day=1, hour=0),
            observed_at__lt=datetime.combine(
                partitions.add_months(month, 1), datetime.min.time(), UTC
            ),
        )
        .order_by("seq")
        .values_list("seq", flat=True)
    )


@pytest.fixture
def setup(personas: dict[str, Any]) -> dict[str, Any]:
    today = timezone.localdate()
    old = partitions.add_months(partitions.month_start(today), -5)
    older_default = partitions.add_months(old, -1)  # no partition: its rows sit in the default
    if connection.vendor == "postgresql":
        partitions.ensure_partitions(old, behind=0, ahead=0)
    actor = module_actor(personas["bank_a_head"].organization)
    ingest(actor, [signal("scan", src_ip="185.220.101.4") for _ in range(3)])
    return {
        "today": today,
        "old": old,
        "older": older_default,
        "old_seqs": _old_signals(actor, old, 40),
        "older_seqs": _old_signals(actor, older_default, 7),
        "recent": set(
            Signal.objects.filter(observed_at__gte=timezone.now() - timedelta(days=1)).values_list(
                "seq", flat=True
            )
        ),
    }


def _file(month: date) -> Path:
    return archive.archive_dir() / f"{month:%Y-%m}.jsonl.gz"


def test_r57_17_old_months_are_archived_with_every_row_and_their_hash(
    setup: dict[str, Any],
) -> None:
    rollups, sightings = SignalRollup.objects.count(), IndicatorSighting.objects.count()
    assert archive.due_months(setup["today"]) == [setup["older"], setup["old"]]
    done = archive.archive_run(actor=SYSTEM, today=setup["today"])
    assert [(m.month, m.rows, m.archived) for m in done] == [
        (setup["older"], 7, True),
        (setup["old"], 40, True),
    ]
    for month, seqs in ((setup["old"], setup["old_seqs"]), (setup["older"], setup["older_seqs"])):
        path = _file(month)
        rows = archive.read_archive(path)
        assert [r["seq"] for r in rows] == seqs  # every row, once, in seq order
        assert rows[0]["severity"] == "high"
        assert rows[0]["details"]["ports"] == [22, 443]
        record = ArchivedMonth.objects.get(month=month)
        assert record.rows == len(seqs)
        assert record.sha256 == archive.file_sha256(path)
        event = AuditEvent.objects.get(event="signals:archived", target_id=str(record.pk))
        assert event.details["sha256"] == record.sha256
    # Only the archived months left the database; rollups and sightings stay.
    assert set(Signal.objects.values_list("seq", flat=True)) == setup["recent"]
    assert (SignalRollup.objects.count(), IndicatorSighting.objects.count()) == (rollups, sightings)
    if connection.vendor == "postgresql":
        assert partitions.partition_name(setup["old"]) not in partitions.existing_partitions()
    # Idempotent: nothing is due any more, and a second run changes nothing.
    assert archive.due_months(setup["today"]) == []
    assert archive.archive_run(actor=SYSTEM, today=setup["today"]) == []
    assert ArchivedMonth.objects.count() == 2


def test_r57_17_the_files_are_reproducible(setup: dict[str, Any]) -> None:
    first = archive.archive_month(actor=SYSTEM, month=setup["old"])
    content = _file(setup["old"]).read_bytes()
    assert archive.file_sha256(_file(setup["old"])) == first.sha256
    import gzip

    assert gzip.decompress(content).count(b"\n") == 40
    assert content[4:8] == b"\x00\x00\x00\x00"  # no timestamp in the gzip header


def test_r57_17_a_crash_between_export_and_removal_loses_and_doubles_nothing(
    setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_remove = archive._remove

    def crash(*args: Any) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(archive, "_remove", crash)
    with pytest.raises(OSError, match="power cut"):
        archive.archive_month(actor=SYSTEM, month=setup["old"])
    # The file was written, but nothing was recorded or removed: the rows are still online.
    assert _file(setup["old"]).exists()
    assert not ArchivedMonth.objects.exists()
    assert not AuditEvent.objects.filter(event="signals:archived").exists()
    assert Signal.objects.filter(seq__in=setup["old_seqs"]).count() == 40
    if connection.vendor == "postgresql":
        assert partitions.partition_name(setup["old"]) in partitions.existing_partitions()
    monkeypatch.setattr(archive, "_remove", real_remove)
    result = archive.archive_month(actor=SYSTEM, month=setup["old"])
    rows = archive.read_archive(_file(setup["old"]))
    assert [r["seq"] for r in rows] == setup["old_seqs"]
    assert result.rows == 40
    assert ArchivedMonth.objects.get().sha256 == result.sha256
    assert not Signal.objects.filter(seq__in=setup["old_seqs"]).exists()
    # Run once more: recorded, nothing online, nothing written again.
    again = archive.archive_month(actor=SYSTEM, month=setup["old"])
    assert (again.archived, again.rows) == (False, 40)
    assert ArchivedMonth.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL's")
def test_r57_17_a_recreated_empty_partition_of_an_archived_month_is_dropped(
    setup: dict[str, Any],
) -> None:
    archive.archive_month(actor=SYSTEM, month=setup["old"])
    partitions.ensure_partitions(setup["old"], behind=0, ahead=0)
    assert setup["old"] in archive.due_months(setup["today"])
    result = archive.archive_month(actor=SYSTEM, month=setup["old"])
    assert not result.archived
    assert partitions.partition_name(setup["old"]) not in partitions.existing_partitions()


def test_r57_17_recent_months_stay_online(setup: dict[str, Any]) -> None:
    online = partitions.add_months(partitions.month_start(setup["today"]), -3)
    assert archive.cutoff(setup["today"]) == online
    assert all(m < online for m in archive.due_months(setup["today"]))


def test_r57_17_only_the_system_archives(setup: dict[str, Any], personas: dict[str, Any]) -> None:
    with pytest.raises(Forbidden):
        archive.archive_month(actor=personas["center_admin"], month=setup["old"])


def test_r57_17_command_and_worker_job(setup: dict[str, Any], capsys: Any) -> None:
    call_command("signals", "archive", "--dry-run")
    assert f"{setup['older']:%Y-%m}, {setup['old']:%Y-%m}" in capsys.readouterr().out
    from aips.core.management.commands import worker

    job = {j.name: j for j in worker.jobs()}["signal_archive"]
    assert worker.run_job(job)
    assert ArchivedMonth.objects.count() == 1  # the worker takes one month a day
    call_command("signals", "archive")
    out = capsys.readouterr().out
    assert f"{setup['old']:%Y-%m}: archived, 40 signals" in out
    assert ArchivedMonth.objects.count() == 2
    call_command("signals", "partitions")
    assert worker.run_job({j.name: j for j in worker.jobs()}["signal_partitions"])
