"""More than one node (docs/deployment.md, "High availability"): two web processes on two
addresses and two workers, separate processes against one PostgreSQL, sharing one data
directory (as nodes share file storage). A session made on one node is valid on the other; an
auction ends once (one close, one result, one journal entry) though both workers' ticks race
for it; every queued e-mail is sent exactly once; a periodic job's run is never doubled
(its lock in the database). The nodes are the real commands (`etp serve`, `etp worker`)."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from aips.etp.auctions import services
from aips.etp.auctions.models import Auction, AuctionResult, AuctionState
from aips.etp.auctions.tests.conftest import make_procedure
from aips.etp.auctions.tests.test_browser_live import _bids_flushable as _bids_flushable
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.notifications.models import OutboxMessage, OutboxStatus

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="several nodes share a PostgreSQL; the embedded SQLite is one node by design",
    ),
]

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _database_url() -> str:
    """The test database as the nodes must reach it: the same role the tests run as."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def _wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[list[int], Path, list[Path]]]:
    """Two `etp serve` and two `etp worker` processes: their ports, their mail directory and
    the workers' logs."""
    data = tmp_path / "shared-data"
    env = {
        **os.environ,
        "AIPS_ETP_DATABASE_URL": _database_url(),
        "AIPS_DATA_DIR": str(data),
        "AIPS_ETP_DATA_DIR": str(data / "etp"),
        # The test process made the session: the nodes share its key, as nodes share theirs.
        "AIPS_ETP_SECRET_KEY": str(django_settings.SECRET_KEY),
        "AIPS_DEBUG": "0",
        "AIPS_WORKERS": "1",
        "AIPS_THREADS": "2",
    }
    env.pop("AIPS_ETP_TEST_DATABASE_NAME", None)
    ports = [_free_port(), _free_port()]
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        for i, port in enumerate(ports):
            log = open(tmp_path / f"serve-{i}.log", "wb")  # noqa: SIM115 - closed below
            logs.append(log)
            procs.append(
                subprocess.Popen(  # noqa: S603 - our own command
                    [str(BIN / "etp"), "serve"],
                    env={**env, "AIPS_ETP_BIND": f"127.0.0.1:{port}"},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        for i in range(2):
            log = open(tmp_path / f"worker-{i}.log", "wb")  # noqa: SIM115 - closed below
            logs.append(log)
            procs.append(
                subprocess.Popen(  # noqa: S603 - our own command
                    [str(BIN / "etp"), "worker", "--interval", "0.1"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        for port in ports:
            _wait_until(partial(_answers, port), 60, f"a node on port {port}")
        yield ports, data / "etp" / "mail", [tmp_path / f"worker-{i}.log" for i in range(2)]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()


def _get(port: int, path: str, cookie: str) -> tuple[int, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        headers={"Cookie": f"{django_settings.SESSION_COOKIE_NAME}={cookie}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:  # noqa: S310
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), ""


@pytest.mark.usefixtures("_bids_flushable")
def test_two_nodes_share_sessions_close_an_auction_once_and_send_each_mail_once(
    personas: dict[str, User], nodes: tuple[list[int], Path, list[Path]], settings: Any
) -> None:
    ports, mail_dir, worker_logs = nodes
    # A session made on "a node" (this process) is good on both.
    person = personas["participant_person_1"]
    client = Client()
    client.force_login(person)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    for port in ports:
        status, body = _get(port, "/api/v1/me", cookie)
        assert status == 200, (port, status)
        assert person.email in body

    # An auction both workers' ticks race to open and to close.
    settings.AIPS_ETP_BID_RATE = "1000/s"
    procedure = make_procedure(
        personas, admitted=("participant_person_1", "participant_company_1_rep")
    )
    auction = services.auction_schedule(
        actor=personas["operator_auctioneer"],
        procedure=procedure,
        rule="ascending",
        starts_at=procedure.auction_start,
        start_price=procedure.lot.start_price,
        min_step=procedure.lot.start_price / 100,
    )
    now = timezone.now()
    # Scheduled as the service requires (in the future), then due at once and ending in 3 s.
    Auction.objects.filter(pk=auction.pk).update(
        starts_at=now - timedelta(seconds=1), ends_at=now + timedelta(seconds=3)
    )

    def closed() -> bool:
        auction.refresh_from_db()
        return auction.state not in (AuctionState.SCHEDULED, AuctionState.RUNNING)

    _wait_until(closed, 60, "the auction closed")
    closes = AuditEvent.objects.filter(
        event__in=[EventType.AUCTION_CLOSED, EventType.AUCTION_UNSUCCESSFUL],
        target_id=str(auction.pk),
    )
    starts = AuditEvent.objects.filter(event=EventType.AUCTION_STARTED, target_id=str(auction.pk))
    assert starts.count() == 1
    assert closes.count() == 1
    assert AuctionResult.objects.filter(auction=auction).count() <= 1
    # Both workers were running the tick all along: the race was real.
    for log in worker_logs:
        assert "etp.auctions.tick" in log.read_text(errors="replace")

    # Every e-mail the platform queued (the start and the outcome notices among them) goes out
    # once, though both workers drain the one outbox.
    def drained() -> bool:
        return not OutboxMessage.objects.filter(status=OutboxStatus.QUEUED).exists()

    _wait_until(drained, 60, "the outbox drained")
    queued = OutboxMessage.objects.count()
    assert queued > 0
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(OutboxStatus.SENT, 1)}
    files = list(mail_dir.glob("*")) if mail_dir.exists() else []
    sent = sum(p.read_text(errors="replace").count("\nSubject: ") for p in files)
    assert sent == queued
