"""Benchmark of the ETP's public catalogue: 100,000 published and withdrawn lots from 50
sellers across 17 regions; times the catalogue's query (the filters and one keyset page through
core/listing.py) for typical searches, then the public API (p50/p95). The target: catalogue
search p95 ≤ 100 ms. Text search is the platform's full-text index (core/fulltext.py: FTS5 on
SQLite, a GIN tsvector index on PostgreSQL), parts of words (an FTS5 trigram table on SQLite,
trigram indexes on PostgreSQL) when no whole word is found. Never asserts.

Run as a script it measures SQLite, then PostgreSQL when 127.0.0.1:5432 answers (user postgres,
in a database of its own, created and dropped), each in a process of its own: lines labelled
`catalogue[sqlite]` and `catalogue[postgres]`. With `AIPS_ETP_DATABASE_URL` set it measures that
database only; `AIPS_BENCH_POSTGRES=0` skips PostgreSQL."""

import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any


def _p(times: list[float]) -> str:
    times.sort()
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    return f"p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms"


def main() -> None:
    lots = int(os.environ.get("AIPS_BENCH_LOTS", "100000"))
    runs = int(os.environ.get("AIPS_BENCH_RUNS", "20"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aips.settings_etp")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.http import QueryDict
    from django.test import Client
    from django.utils import timezone

    from aips.core.identifiers import bin_check_digit
    from aips.demo_etp import load_demo
    from aips.etp.lots.models import Lot
    from aips.etp.portal.selectors import catalogue_page
    from aips.shared.organizations.models import Organization

    label = "postgres" if connection.vendor == "postgresql" else connection.vendor
    settings.ALLOWED_HOSTS = ["*"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.AIPS_ETP_PUBLIC_RATE = "1000000/m"
    call_command("migrate", verbosity=0)
    people = load_demo()
    maker = people["seller_a_maker"]
    rng = random.Random(17)  # noqa: S311 - fixture data, not security
    orgs: list[Organization] = []
    n = 0
    while len(orgs) < 50:
        stem = f"99066{n:06d}"
        n += 1
        digit = bin_check_digit(stem)
        if digit is not None:
            orgs.append(
                Organization(
                    name=f"Bench seller {len(orgs)}",
                    bin=stem + str(digit),
                    email="s@x.kz",
                    kind="bank",
                )
            )
    Organization.objects.bulk_create(orgs)
    org_ids = list(
        Organization.objects.filter(name__startswith="Bench seller").values_list("pk", flat=True)
    )
    regions = [f"Region {i}" for i in range(17)]
    kinds = ["claim", "portfolio", "real_estate", "vehicle", "equipment", "other"]
    words = ["apartment", "warehouse", "tractor", "mortgage", "consumer", "sedan", "office"]
    # A rare word: in the description of one lot in 10,000.
    rare = "heliport"
    now = timezone.now()
    rows = []
    started = time.perf_counter()
    for i in range(lots):
        at = now - timedelta(minutes=rng.randint(1, 60 * 24 * 365))
        withdrawn = i % 20 == 0
        word = rng.choice(words)
        rows.append(
            Lot(
                organization_id=org_ids[i % len(org_ids)],
                created_by=maker,
                state="withdrawn" if withdrawn else "published",
                version=1,
                published_version=1,
                kind=kinds[i % len(kinds)],
                title=f"Bench {word} lot {i}",
                description=f"A {word} in {regions[i % 17]}, lot {i}"
                + (f", next to a {rare}" if i % 10_000 == 5_000 else ""),
                region=regions[rng.randrange(17)],
                start_price=Decimal(rng.randint(100_000, 500_000_000)),
                published_at=at,
                correction_until=at + timedelta(hours=48),
                withdrawn_at=at + timedelta(days=1) if withdrawn else None,
            )
        )
        if len(rows) == 5000:
            Lot.objects.bulk_create(rows)
            rows = []
    Lot.objects.bulk_create(rows)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE etp_lots_lot")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"catalogue[{label}]: {lots} lots, {len(org_ids)} sellers, "
        f"loaded in {time.perf_counter() - started:.1f} s"
    )
    day = (now - timedelta(days=60)).date().isoformat()
    searches = {
        "no filter": "",
        "asset type": "kind=vehicle",
        "region": "region=Region+3",
        "price range": "price_from=1000000&price_to=5000000",
        "seller": f"seller={org_ids[7]}",
        "status withdrawn": "state=withdrawn",
        "published since": f"published_from={day}",
        "text (common word)": "q=warehouse",
        "text (rare word)": f"q={rare}",
        "text (rare, two words)": "q=lot+4242",
        "text (part of a word)": f"q={rare[1:-1]}",
        "text and filters": "q=warehouse&kind=claim&region=Region+3",
        "text, by price": "q=tractor&sort=-price",
        "combined": f"kind=real_estate&region=Region+3&price_from=1000000&published_from={day}",
        "cheapest first": "sort=price",
        "combined, by price": "kind=claim&price_to=50000000&sort=-price",
    }

    def timed(call: Callable[[], Any]) -> list[float]:
        call()
        times = []
        for _run in range(runs):
            t0 = time.perf_counter()
            call()
            times.append((time.perf_counter() - t0) * 1000)
        return times

    for name, query in searches.items():
        first, _filters = catalogue_page(QueryDict(query))
        following = first.next_url[1:] if first.next_url else query

        def search(query: str = query) -> None:
            catalogue_page(QueryDict(query))

        def page_two(query: str = following) -> None:
            # The page after the first, as a reader paging on asks for it (a keyset cursor).
            catalogue_page(QueryDict(query))

        print(
            f"catalogue[{label}] search {name}: {_p(timed(search))}; "
            f"next page: {_p(timed(page_two))}"
        )
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for name, url in {
        "api lots": "/api/v1/public/lots?limit=100",
        "api lots filtered": "/api/v1/public/lots?kind=vehicle&region=Region+3&limit=100",
        "api lots text (rare word)": f"/api/v1/public/lots?q={rare}&limit=100",
        "api feed": "/api/v1/public/feed?limit=100",
        "page /": "/?kind=vehicle",
    }.items():
        statuses: set[int] = set()

        def get(url: str = url, statuses: set[int] = statuses) -> None:
            statuses.add(client.get(url).status_code)

        times = timed(get)
        print(f"catalogue[{label}] {name}: {_p(times)} (status {sorted(statuses)})")
    if connection.vendor == "postgresql":
        _show_plan(label, rare)


def _show_plan(label: str, word: str) -> None:
    """Whether PostgreSQL reads a rare word's matches from the GIN index (not a scan): the
    catalogue's first read of the matches (lots.selectors.text_filtered)."""
    from django.db import connection

    from aips.core import fulltext
    from aips.etp.lots.models import Lot
    from aips.etp.lots.selectors import _FEW_MATCHES, LOT_TEXT

    found = fulltext.ranked(Lot.objects.public(), LOT_TEXT, (word,))
    assert found is not None  # noqa: S101 - a word of letters
    first_read = found.order_by().values_list("pk", flat=True)[: _FEW_MATCHES + 1]
    sql, params = first_read.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    every, _title = fulltext.pg_index_names(LOT_TEXT)
    read = "yes" if every in plan else "no"
    print(f"catalogue[{label}] q={word}: the matches read from the full-text index: {read}")


_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _postgres_reachable() -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", 5432)) == 0


def _admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(_ADMIN, autocommit=True) as conn:
        conn.execute(statement)  # a fixed statement (the bench's own name), no user input


def _child(env: dict[str, str]) -> int:
    command = [sys.executable, __file__]  # this script again, in a process of its own
    return subprocess.run(command, env={**os.environ, **env}, check=False).returncode  # noqa: S603


def _run_all() -> int:
    """SQLite, then PostgreSQL in a database of its own (created here, always dropped)."""
    data = tempfile.mkdtemp(prefix="aips-bench-catalogue-")
    try:
        return _run_both(data)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def _run_both(data: str) -> int:
    status = _child(
        {"AIPS_BENCH_CHILD": "1", "AIPS_ETP_DATABASE_URL": "", "AIPS_DATA_DIR": f"{data}/sqlite"}
    )
    if os.environ.get("AIPS_BENCH_POSTGRES", "1") == "0":
        return status
    if not _postgres_reachable():
        print("catalogue[postgres]: SKIPPED (nothing answers on 127.0.0.1:5432)")
        return status
    name = f"etp_bench_catalogue_{os.getpid()}"
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _admin(f"CREATE DATABASE {name}")
    try:
        status = (
            _child(
                {
                    "AIPS_BENCH_CHILD": "1",
                    "AIPS_ETP_DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
                    "AIPS_DATA_DIR": f"{data}/postgres",
                }
            )
            or status
        )
    finally:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return status


if __name__ == "__main__":
    if os.environ.get("AIPS_BENCH_CHILD") or os.environ.get("AIPS_ETP_DATABASE_URL"):
        if "AIPS_DATA_DIR" not in os.environ:
            os.environ["AIPS_DATA_DIR"] = tempfile.mkdtemp(prefix="aips-bench-")
        main()
    else:
        sys.exit(_run_all())
