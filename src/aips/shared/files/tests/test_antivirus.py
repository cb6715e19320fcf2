"""R57.12: every stored file is scanned by ClamAV before anyone can download it. These tests run
Debian's real `clamd` with a test signature database (clamd_daemon.py); the EICAR test file is
the malware."""

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from aips.center.incidents import services as incidents
from aips.center.incidents.models import Attachment, IncidentCard
from aips.conftest import card_data
from aips.core.health import run_checks
from aips.core.metrics import render
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.files import antivirus, scanning
from aips.shared.files import services as file_services
from aips.shared.files.models import ContentScan, ScanStatus
from aips.shared.files.tests.clamd_daemon import DETECTED, EICAR, SIGNATURE, Daemon, running_daemon
from aips.shared.notifications.models import Notification, OutboxMessage


@pytest.fixture(scope="module")
def clamd() -> Iterator[Daemon]:
    yield from running_daemon()


@pytest.fixture
def scanning_on(settings: Any, clamd: Daemon, monkeypatch: pytest.MonkeyPatch) -> Daemon:
    """New contents start "pending" (as in production) and the worker talks to the daemon."""
    monkeypatch.setattr(file_services, "_first_status", lambda: ScanStatus.PENDING)
    settings.AIPS_CLAMD_SOCKET = str(clamd.socket)
    return clamd


def _card(personas: dict[str, User]) -> IncidentCard:
    return incidents.card_create(actor=personas["bank_a_maker"], **card_data())


def _attach(personas: dict[str, User], card: IncidentCard, name: str, body: bytes) -> Attachment:
    return incidents.attachment_add(
        actor=personas["bank_a_maker"], card=card, upload=SimpleUploadedFile(name, body)
    )


def _url(attachment: Attachment) -> str:
    return f"/incidents/{attachment.card_id}/attachments/{attachment.pk}/"


def _body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def _downloads(attachment: Attachment) -> int:
    return AuditEvent.objects.filter(
        event=EventType.ATTACHMENT_DOWNLOADED, details__attachment_id=attachment.pk
    ).count()


def test_r57_12_the_client_speaks_clamds_protocol(scanning_on: Daemon) -> None:
    scanner = antivirus.client()
    assert scanner is not None
    assert scanner.ping()
    assert scanner.version().startswith("ClamAV ")
    # INSTREAM in several length-prefixed chunks, as the worker sends a file.
    assert scanner.scan([b"a" * 100_000, b"b" * 70_000]) == antivirus.Verdict(infected=False)
    assert scanner.scan([EICAR[:10], EICAR[10:]]) == antivirus.Verdict(True, DETECTED)
    with pytest.raises(antivirus.ScannerUnavailable):
        antivirus.parse_answer("INSTREAM size limit exceeded. ERROR")


def test_r57_12_the_daemon_is_reached_over_tcp_too(settings: Any, clamd: Daemon) -> None:
    settings.AIPS_CLAMD_ADDRESS = f"127.0.0.1:{clamd.port}"
    scanner = antivirus.client()
    assert scanner is not None
    assert scanner.endpoint == antivirus.Endpoint(host="127.0.0.1", port=clamd.port)
    assert scanner.scan([EICAR]) == antivirus.Verdict(True, DETECTED)
    assert run_checks().checks["clamav"].startswith("ok: ClamAV ")


def test_r57_12_eicar_is_quarantined_never_served_and_the_uploader_and_center_told(
    personas: dict[str, User], client_as: Callable[[str | None], Client], scanning_on: Daemon
) -> None:
    card = _card(personas)
    infected = _attach(personas, card, "invoice.txt", EICAR)
    assert infected.scan_status == ScanStatus.PENDING
    maker = client_as("bank_a_maker")
    waiting = maker.get(_url(infected))
    assert waiting.status_code == 409
    assert EICAR not in _body(waiting)
    assert "anti-virus scan" in _body(waiting).decode()

    assert "1 infected" in scanning.run_scan_job()

    scan = ContentScan.objects.get(sha256=infected.sha256)
    assert (scan.status, scan.signature) == (ScanStatus.INFECTED, DETECTED)
    assert scan.engine.startswith("ClamAV ")
    infected.refresh_from_db()
    assert infected.scan_status == ScanStatus.INFECTED
    # Quarantined: out of the store that downloads read from, kept for the center.
    assert not file_services.attachment_path(infected.sha256).exists()
    assert file_services.quarantine_path(infected.sha256).read_bytes() == EICAR
    refused = maker.get(_url(infected))
    assert refused.status_code == 410
    assert refused["Content-Type"].startswith("text/html")
    assert EICAR not in _body(refused)
    assert "quarantined" in _body(refused).decode()
    assert _downloads(infected) == 0

    (event,) = AuditEvent.objects.filter(event=EventType.FILE_QUARANTINED)
    assert event.target_type == "incidents.attachment"
    assert event.target_id == str(infected.pk)
    assert event.organization_id == personas["bank_a_maker"].organization_id
    assert event.details["signature"] == DETECTED
    told = set(
        Notification.objects.filter(kind="file.quarantined").values_list("user_id", flat=True)
    )
    assert personas["bank_a_maker"].pk in told
    assert personas["center_admin"].pk in told
    assert personas["bank_b_maker"].pk not in told
    note = Notification.objects.get(kind="file.quarantined", user=personas["bank_a_maker"])
    assert SIGNATURE in note.text
    assert "invoice.txt" in note.text
    # The e-mails say only "sign in to read": the platform does not know the item's TLP.
    mails = OutboxMessage.objects.filter(to=personas["bank_a_maker"].email)
    assert mails.exists()
    assert not any("invoice.txt" in m.body or "invoice.txt" in m.subject for m in mails)

    # The same malware again: refused the same way, without a scan, and told again.
    again = _attach(personas, card, "again.txt", EICAR)
    assert not file_services.attachment_path(again.sha256).exists()
    assert maker.get(_url(again)).status_code == 410
    scanning.run_scan_job()
    again.refresh_from_db()
    assert again.scan_status == ScanStatus.INFECTED
    assert AuditEvent.objects.filter(event=EventType.FILE_QUARANTINED).count() == 2


def test_r57_12_a_clean_file_is_served_after_its_scan(
    personas: dict[str, User], client_as: Callable[[str | None], Client], scanning_on: Daemon
) -> None:
    body = f"firewall log {uuid.uuid4()}\n".encode()
    attachment = _attach(personas, _card(personas), "fw.log", body)
    client = client_as("bank_a_maker")
    pending = client.get(_url(attachment))
    assert (pending.status_code, pending["Retry-After"]) == (409, "60")
    assert _downloads(attachment) == 0

    assert "1 clean" in scanning.run_scan_job()

    attachment.refresh_from_db()
    assert attachment.scan_status == ScanStatus.CLEAN
    served = client.get(_url(attachment))
    assert served.status_code == 200
    assert _body(served) == body
    assert _downloads(attachment) == 1
    # The same content uploaded again is already known clean: served at once.
    copy = _attach(personas, attachment.card, "copy.log", body)
    assert copy.scan_status == ScanStatus.CLEAN
    assert client.get(_url(copy)).status_code == 200


def test_r57_12_daemon_down_is_a_failed_scan_retried_by_the_worker(
    personas: dict[str, User], client_as: Callable[[str | None], Client], scanning_on: Daemon
) -> None:
    body = f"proxy log {uuid.uuid4()}\n".encode()
    attachment = _attach(personas, _card(personas), "proxy.log", body)
    client = client_as("bank_a_maker")
    scanning_on.stop()
    try:
        assert "1 failed" in scanning.run_scan_job()
        scan = ContentScan.objects.get(sha256=attachment.sha256)
        assert (scan.status, scan.attempts) == (ScanStatus.FAILED, 1)
        assert scan.next_attempt_at > timezone.now()
        assert "clamd" in scan.last_error
        attachment.refresh_from_db()
        assert attachment.scan_status == ScanStatus.FAILED
        refused = client.get(_url(attachment))
        assert refused.status_code == 409
        assert body not in _body(refused)
        assert "failed" in _body(refused).decode()
        assert AuditEvent.objects.filter(
            event=EventType.FILE_SCAN_FAILED, details__sha256=attachment.sha256
        ).exists()
        assert run_checks().checks["clamav"] == "unreachable"
    finally:
        scanning_on.start()
    # Not due again before its backoff ends.
    assert "none due" in scanning.run_scan_job()
    ContentScan.objects.filter(pk=scan.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert "1 clean" in scanning.run_scan_job()
    attachment.refresh_from_db()
    assert attachment.scan_status == ScanStatus.CLEAN
    assert _body(client.get(_url(attachment))) == body


def test_r57_12_health_reports_the_daemons_version(scanning_on: Daemon) -> None:
    state = run_checks().checks["clamav"]
    assert state.startswith("ok: ClamAV ")


def test_r57_12_metrics_count_scans_by_outcome(
    personas: dict[str, User], scanning_on: Daemon
) -> None:
    card = _card(personas)
    _attach(personas, card, "bad.txt", EICAR)
    _attach(personas, card, "good.txt", f"ok {uuid.uuid4()}".encode())
    before = render().decode()
    assert 'aips_file_scans{outcome="pending"}' in before
    scanning.run_scan_job()
    text = render().decode()
    infected = [line for line in text.splitlines() if 'aips_file_scans{outcome="infected"}' in line]
    assert infected
    assert float(infected[0].split()[-1]) >= 1
    assert "aips_file_scan_oldest_waiting_seconds" in text


def test_r57_12_without_clamav_files_stay_pending_and_pages_say_so(
    personas: dict[str, User],
    client_as: Callable[[str | None], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(file_services, "_first_status", lambda: ScanStatus.PENDING)
    card = _card(personas)
    attachment = _attach(personas, card, "notes.txt", f"notes {uuid.uuid4()}".encode())
    assert scanning.run_scan_job().startswith("scanning not configured")
    attachment.refresh_from_db()
    assert attachment.scan_status == ScanStatus.PENDING
    client = client_as("bank_a_maker")
    refused = client.get(_url(attachment))
    assert refused.status_code == 409
    assert "not configured" in _body(refused).decode()
    page = client.get(f"/incidents/{card.pk}/").content.decode()
    assert 'id="antivirus-not-configured"' in page
    assert "AIPS_CLAMD_SOCKET" in page
    assert run_checks().checks["clamav"] == "not configured"


def test_r57_12_rows_stored_before_scanning_join_the_queue(
    personas: dict[str, User], scanning_on: Daemon
) -> None:
    body = f"legacy {uuid.uuid4()}".encode()
    attachment = _attach(personas, _card(personas), "old.txt", body)
    ContentScan.objects.filter(sha256=attachment.sha256).delete()
    Attachment.objects.filter(pk=attachment.pk).update(scan_status="not_scanned")
    scanning.run_scan_job()  # settles: the content gets its scan row, pending
    scanning.run_scan_job()  # scans it
    attachment.refresh_from_db()
    assert attachment.scan_status == ScanStatus.CLEAN


def test_r57_12_a_claimed_content_is_left_to_the_worker_scanning_it(
    personas: dict[str, User], scanning_on: Daemon
) -> None:
    attachment = _attach(personas, _card(personas), "a.txt", f"a {uuid.uuid4()}".encode())
    (pk,) = scanning._due_ids(10)
    claimed = scanning._claim(pk)
    assert claimed is not None
    assert claimed.sha256 == attachment.sha256
    # Another worker now finds nothing due, and cannot claim it either, until the lease ends.
    assert scanning._due_ids(10) == []
    assert scanning._claim(pk) is None
