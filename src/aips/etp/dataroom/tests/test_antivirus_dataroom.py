"""R57.12 on the ETP: a lot's documents and tapes are scanned by ClamAV (the real daemon, with a
test signature database) before the data room or the operator can download them; the EICAR
test file is quarantined, never served, and its uploader and the operator are told."""

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from aips.etp.dataroom.nda import nda_sha256, nda_text
from aips.etp.dataroom.tests.conftest import add_file, claim_lot
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.files import scanning
from aips.shared.files import services as file_services
from aips.shared.files.models import ScanStatus
from aips.shared.files.tests.clamd_daemon import DETECTED, EICAR, Daemon, running_daemon
from aips.shared.notifications.models import Notification

ClientAs = Callable[[str | None], Client]
P1 = "participant_person_1"


@pytest.fixture(scope="module")
def clamd() -> Iterator[Daemon]:
    yield from running_daemon()


def test_r57_12_room_files_are_served_only_once_scanned_clean(
    personas: dict[str, User],
    client_as: ClientAs,
    application_in: Callable[..., Any],
    settings: Any,
    clamd: Daemon,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(file_services, "_first_status", lambda: ScanStatus.PENDING)
    settings.AIPS_CLAMD_SOCKET = str(clamd.socket)
    lot = claim_lot()
    body = f"loan_id,borrower\r\nL-{uuid.uuid4()},x\r\n".encode()
    tape = add_file(lot, "tape.csv", body, purpose="tape")
    malware = add_file(lot, "schedule.pdf", EICAR)
    application_in(P1)
    client = client_as(P1)
    digest = nda_sha256(nda_text(lot))
    client.post(f"/lots/{lot.pk}/dataroom/nda/", {"nda_sha256": digest})
    room = f"/lots/{lot.pk}/dataroom/files/"
    operator = client_as("operator_verifier")

    waiting = client.get(f"{room}{tape.pk}/")
    assert waiting.status_code == 409
    assert body not in waiting.content
    assert "awaiting" in client.get(f"/lots/{lot.pk}/dataroom/").content.decode().lower()

    assert "1 clean, 1 infected" in scanning.run_scan_job()

    served = client.get(f"{room}{tape.pk}/")
    assert served.status_code == 200
    refused = client.get(f"{room}{malware.pk}/")
    assert refused.status_code == 410
    assert EICAR not in refused.content
    by_operator = operator.get(f"/manage/lots/{lot.pk}/files/{malware.pk}/")
    assert by_operator.status_code == 410
    assert EICAR not in b"".join(getattr(by_operator, "streaming_content", [by_operator.content]))
    downloaded = AuditEvent.objects.filter(event="dataroom:file_downloaded", details__lot=lot.pk)
    assert [e.details["file_id"] for e in downloaded] == [tape.pk]
    assert not AuditEvent.objects.filter(
        event="lot:file_downloaded", details__file_id=malware.pk
    ).exists()

    malware.refresh_from_db()
    assert malware.scan_status == ScanStatus.INFECTED
    (event,) = AuditEvent.objects.filter(event=EventType.FILE_QUARANTINED)
    assert (event.target_type, event.target_id) == ("etp_lots.lotfile", str(malware.pk))
    assert event.details["signature"] == DETECTED
    told = set(
        Notification.objects.filter(kind="file.quarantined").values_list("user_id", flat=True)
    )
    assert lot.created_by_id in told
    assert personas["operator_admin"].pk in told
    assert personas[P1].pk not in told
