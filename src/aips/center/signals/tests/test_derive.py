"""Sightings and rollups derived by the worker from committed signals (derive.py, R67.8): the
same counts the per-item way gave, exactly once across passes, crashes and concurrent inserts,
and the lag shown when the worker is behind."""

import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from psycopg.types.json import Jsonb

from aips.center.signals import derive, schema, selectors, services
from aips.center.signals.models import DerivePosition, IndicatorSighting, Signal, SignalRollup
from aips.center.signals.schema import Kind
from aips.center.signals.tests.conftest import signal

pytestmark = pytest.mark.django_db

PUBLIC = ["5.188.10.99", "185.220.101.4", "2a00:1450:4001:80b::200e"]


@pytest.fixture(autouse=True)
def _worker_counts(settings: Any) -> None:
    # The worker's way: nothing counted until a pass runs.
    settings.AIPS_SIGNAL_DERIVE_INLINE = False


def _count_all() -> int:
    """Passes until the counts are current; how many signals they counted. Earlier tests leave
    gaps in the sequence (rolled-back inserts), so one pass may cover none of them."""
    counted = 0
    while True:
        done = derive.counts_derive()
        counted += done.counted
        if not done.behind:
            return counted


def _varied() -> list[dict[str, Any]]:
    """Every kind, public and private, external and internal sources, phishing with URLs and
    attachments, hashes in capitals, repeated indicators, and counts above one."""
    items: list[dict[str, Any]] = []
    for n, kind in enumerate(Kind):
        for i in range(4):
            fields: dict[str, Any] = {"src_ip": PUBLIC[(n + i) % 3], "count": 1 + i}
            if i == 1:
                fields["direction"] = "internal"
            if i == 2:
                fields["src_ip"] = "10.1.2.3"
            items.append(signal(kind.value, **fields))
    items.append(
        signal(
            "phishing",
            sender="Billing@Evil-Bank.example",
            urls=["https://evil-bank.example/verify", "http://other.example./x", "not a url"],
            attachment_hashes=["C" * 64, "d" * 40],
        )
    )
    items.append(signal("malware", sha256="E" * 64, md5="f" * 32))
    items.append(signal("endpoint", sha1="A" * 40, src_ip=None))
    return items


def _expected(batches: list[list[dict[str, Any]]], org: int) -> tuple[Any, Any]:
    """Sightings and accepted counts by kind as the ingest used to count them, item by item
    (services.indicators_of on the decoded item)."""
    now = timezone.now()
    sightings: dict[tuple[str, str], list[Any]] = {}
    accepted: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    for batch in batches:
        for raw in batch:
            item = schema.decode_item(
                schema.split_batch(json.dumps([raw]).encode(), ndjson=False)[0],
                now=now,
                max_age=timedelta(days=30),
                scan=False,
            )
            key = (str(item.id), item.observed_at.isoformat())
            if key in seen:
                continue
            seen.add(key)
            accepted[raw["kind"]] = accepted.get(raw["kind"], 0) + 1
            for type_, value in services.indicators_of(item):
                have = sightings.setdefault((type_, value), [0, item.observed_at, item.observed_at])
                have[0] += item.count
                have[1] = min(have[1], item.observed_at)
                have[2] = max(have[2], item.observed_at)
    del org
    return (
        sorted((t, v, n, first, last) for (t, v), (n, first, last) in sightings.items()),
        sorted(accepted.items()),
    )


def _sightings(org: int) -> list[tuple[Any, ...]]:
    return sorted(
        IndicatorSighting.objects.filter(organization_id=org).values_list(
            "type", "value", "count", "first_seen", "last_seen"
        )
    )


def _accepted(org: int) -> list[tuple[str, int]]:
    totals: dict[str, int] = {}
    for kind, n in SignalRollup.objects.filter(organization_id=org).values_list("kind", "accepted"):
        if n:
            totals[kind] = totals.get(kind, 0) + n
    return sorted(totals.items())


def test_r67_8_counts_derived_from_stored_signals_are_those_counted_item_by_item(
    module_a: tuple[Any, str], agent: Any
) -> None:
    module, token = module_a
    org = module.organization_id
    _count_all()
    first, second = _varied(), _varied()
    resent = [*first[:5], {**second[0], "product": "Other"}]  # duplicates: counted as such
    batches = [first, second, resent]
    for batch in batches:
        assert agent(token, batch).status_code == 200
    assert _sightings(org) == []  # nothing counted before the worker's pass
    assert _count_all() == len(first) + len(second)
    expected_sightings, expected_accepted = _expected(batches, org)
    assert _sightings(org) == expected_sightings
    assert {t for t, *_ in expected_sightings} == {"ip", "hash", "email", "domain", "url"}
    assert _accepted(org) == expected_accepted
    # Duplicates were counted by the answer itself, by kind.
    duplicates = dict(
        SignalRollup.objects.filter(organization_id=org, duplicates__gt=0).values_list(
            "kind", "duplicates"
        )
    )
    assert sum(duplicates.values()) == len(resent)
    # A second pass finds nothing new: exactly once.
    assert _count_all() == 0
    assert _sightings(org) == expected_sightings


def test_r67_8_a_pass_that_dies_before_its_commit_is_redone_exactly_once(
    module_a: tuple[Any, str], agent: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    module, token = module_a
    org = module.organization_id
    _count_all()  # current, and the position row there
    batch = _varied()
    agent(token, batch)
    before = DerivePosition.objects.get(name="counts").seq
    real = derive.counts_write

    def write_then_die(**kwargs: Any) -> None:
        real(**kwargs)
        raise RuntimeError("worker killed before the commit")

    monkeypatch.setattr(derive, "counts_write", write_then_die)
    with pytest.raises(RuntimeError):
        derive.counts_derive()
    assert DerivePosition.objects.get(name="counts").seq == before
    assert _sightings(org) == []  # rolled back with the position
    monkeypatch.undo()
    assert _count_all() == len(batch)
    assert _sightings(org) == _expected([batch], org)[0]


def test_r67_8_a_pass_is_bounded_and_the_next_one_goes_on(
    module_a: tuple[Any, str], agent: Any
) -> None:
    module, token = module_a
    _count_all()
    batch = _varied()
    agent(token, batch)
    done = derive.counts_derive(chunk=10)
    assert (done.counted, done.behind) == (10, True)
    rest = 0
    while True:
        more = derive.counts_derive(chunk=10)
        rest += more.counted
        if not more.behind:
            break
    assert done.counted + rest == len(batch)
    assert _sightings(module.organization_id) == _expected([batch], module.organization_id)[0]


def test_r67_8_the_dashboard_says_when_the_counts_are_behind(
    module_a: tuple[Any, str], agent: Any, personas: dict[str, Any]
) -> None:
    module, token = module_a
    _count_all()
    agent(token, [signal("ids") for _ in range(3)])
    Signal.objects.filter(organization_id=module.organization_id).update(
        received_at=timezone.now() - timedelta(minutes=2)
    )
    lag = selectors.counts_lag()
    assert lag.signals == 3
    assert 100 < lag.seconds(timezone.now()) < 200
    client = Client()
    client.force_login(personas["bank_a_head"])
    page = client.get("/signals/dashboard/").content.decode()
    notice = re.search(r'id="counts-lag"[^>]*>([^<]*)', page)
    assert notice is not None
    assert " 3 " in notice.group(1)  # in the person's language
    metrics = Client().get("/metrics")
    assert metrics.status_code == 200
    assert b"aips_signal_counts_behind_signals 3.0" in metrics.content
    _count_all()
    assert selectors.counts_lag().signals == 0
    assert 'id="counts-lag"' not in client.get("/signals/dashboard/").content.decode()


def _libpq() -> str:
    from aips.core.db_conninfo import conninfo

    return conninfo()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer at a time")
@pytest.mark.django_db(transaction=True)
def test_r67_8_a_signal_committed_after_a_later_one_is_still_counted(
    module_a: tuple[Any, str],
) -> None:
    """PostgreSQL gives out `seq` before the insert commits: a signal with a smaller `seq` can
    become visible after one with a larger. The pass waits for inserts under way, so the
    position never passes a signal that is still to be committed."""
    module, _token = module_a
    columns = ", ".join(services.COLUMNS)
    values = ", ".join(["%s"] * len(services.COLUMNS))
    insert = f"INSERT INTO signals_signal ({columns}) VALUES ({values}) RETURNING seq"  # noqa: S608

    def row(ip: str) -> list[Any]:
        import uuid

        now = datetime.now(UTC)
        return [
            module.organization_id, module.pk, uuid.uuid4(), "ids", now, now, 3, "Suricata",
            "OISF", "", "", "", "", ip, None, None, None, "", "external", 1, None, None, "",
            Jsonb({}),
        ]  # fmt: skip

    _count_all()  # a flushed database has no position row until a pass makes it
    slow = psycopg.connect(_libpq())
    fast = psycopg.connect(_libpq(), autocommit=True)
    try:
        early = slow.execute(insert, row(PUBLIC[0])).fetchone()  # not committed yet
        late = fast.execute(insert, row(PUBLIC[1])).fetchone()
        assert early is not None
        assert late is not None
        assert late > early
        threading.Timer(0.5, slow.commit).start()
        started = time.monotonic()
        done = derive.counts_derive()
        assert time.monotonic() - started >= 0.4  # it waited for the insert under way
        assert done.counted == 2
        ips = set(
            IndicatorSighting.objects.filter(organization_id=module.organization_id).values_list(
                "value", flat=True
            )
        )
        assert ips == {PUBLIC[0], PUBLIC[1]}
        assert _count_all() == 0
    finally:
        slow.close()
        fast.close()


def test_r67_8_an_emptied_database_counts_from_the_first_signal(
    module_a: tuple[Any, str], agent: Any
) -> None:
    """`flush` (a test database between tests, a wiped instance) removes the position row the
    migration made; the next pass makes it again and counts everything stored."""
    module, token = module_a
    DerivePosition.objects.all().delete()
    Signal.objects.all().delete()
    agent(token, [signal("ids", src_ip=PUBLIC[0]) for _ in range(2)])
    _count_all()
    assert DerivePosition.objects.filter(name="counts").exists()
    assert _sightings(module.organization_id)[0][:3] == ("ip", PUBLIC[0], 2)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's sightings are Python's")
def test_r67_8_the_database_tells_public_ipv4_addresses_as_python_does() -> None:
    """PostgreSQL counts IPv4 source addresses itself (derive._IPV4_SIGHTINGS_PG): it must call
    an address public exactly when `public_ip` (Python's `is_global`) does, at the edges of every
    network in the rule and around them."""
    import ipaddress

    private, exceptions = derive._NOT_GLOBAL
    probes = {"5.188.10.99", "8.8.8.8", "224.0.0.1", "100.63.255.255", "100.128.0.0"}
    for text in [*private, *exceptions]:
        network = ipaddress.ip_network(text)
        for address in (network.network_address, network.broadcast_address):
            probes.add(str(address))
            if int(address) > 0:
                probes.add(str(address - 1))
            if int(address) < 2**32 - 1:
                probes.add(str(address + 1))
    sql = (
        f"SELECT host(src_ip), NOT {derive._V4_NOT_GLOBAL} "  # noqa: S608 - a constant
        "FROM unnest(%s::inet[]) AS t(src_ip)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [private, exceptions, sorted(probes)])
        told = dict(cursor.fetchall())
    assert len(told) == len(probes) > 50
    assert {a: derive.public_ip(a) is not None for a in probes} == told
