"""Benchmark of the audit journal (R57.17), run by `make bench`; prints figures, never asserts.

Per database, on a throwaway SQLite file and, when one answers, a PostgreSQL database this
script creates and drops itself:
- batched appends: events in transactions of 1,000 through `record_many` (one head lock, bulk
  inserts), three rounds, the median kept; the single `record` per event in the same
  transactions, for the ratio;
- PostgreSQL only: 8 concurrent writer processes, one event per transaction through `record`;
- a signed checkpoint and the verifier over everything written (the bench fails if it does not
  verify).

Ends with `audit_append_postgres_events_per_s=N`, `audit_append_sqlite_events_per_s=N` and
`audit_concurrent_postgres_events_per_s=N` (the PostgreSQL lines only when PostgreSQL answers).

    python scripts/bench_audit.py            # both databases
    AIPS_BENCH_EVENTS=20000 python scripts/bench_audit.py

The PostgreSQL server is AIPS_BENCH_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/postgres
(a user that may create databases)."""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BATCH = 1000
WRITERS = 8
ROUNDS = 3
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


# --- one database (a child process: Django's database is fixed at start-up) ----------------


def _events(first: int, count: int, actor: Any) -> list[Any]:
    from aips.shared.audit.models import EventType
    from aips.shared.audit.services import NewEvent

    return [
        NewEvent(
            actor=actor,
            event=EventType.LOGIN_FAILED,
            details={"n": i, "email": f"user{i % 997}@bank.example.kz"},
        )
        for i in range(first, first + count)
    ]


def _append_batched(events: int, actor: Any) -> float:
    from django.db import transaction

    from aips.shared.audit.services import record_many

    started = time.perf_counter()
    for first in range(0, events, BATCH):
        with transaction.atomic():
            record_many(_events(first, min(BATCH, events - first), actor))
    return events / (time.perf_counter() - started)


def _append_single(events: int, actor: Any) -> float:
    from django.db import transaction

    from aips.shared.audit.services import record

    started = time.perf_counter()
    for first in range(0, events, BATCH):
        with transaction.atomic():
            for new in _events(first, min(BATCH, events - first), actor):
                record(actor=new.actor, event=new.event, details=new.details)
    return events / (time.perf_counter() - started)


def _writer(count: int, index: int, go: Any, done: Any) -> None:
    from django.db import connection, transaction

    from aips.core.actors import SystemActor
    from aips.shared.audit.models import EventType
    from aips.shared.audit.services import record

    connection.ensure_connection()
    actor = SystemActor(label=f"writer-{index}")
    go.wait()
    for i in range(count):
        with transaction.atomic():
            record(actor=actor, event=EventType.LOGIN_FAILED, details={"writer": index, "n": i})
    done.put(index)
    connection.close()


def _concurrent(events: int) -> float:
    import multiprocessing

    from django.db import connections

    per_writer = max(1, events // WRITERS)
    context = multiprocessing.get_context("fork")
    connections.close_all()  # no connection may be shared with the children
    go, done = context.Event(), context.Queue()
    workers = [
        context.Process(target=_writer, args=(per_writer, n, go, done)) for n in range(WRITERS)
    ]
    for worker in workers:
        worker.start()
    time.sleep(2)  # every writer connected and waiting
    started = time.perf_counter()
    go.set()
    for _ in workers:
        done.get(timeout=600)
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join()
        if worker.exitcode:
            sys.exit(f"a concurrent writer failed (exit code {worker.exitcode})")
    return per_writer * WRITERS / elapsed


def _backend_cpu_s() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (same machine, /proc);
    0 on SQLite, whose work is this process's own CPU."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_backend(backend: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aips.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from aips.core.actors import SystemActor
    from aips.shared.audit import selectors
    from aips.shared.audit.services import checkpoint_create
    from aips.shared.audit.verifier import verify

    events = int(os.environ.get("AIPS_BENCH_EVENTS", "50000"))
    single_events = int(os.environ.get("AIPS_BENCH_SINGLE_EVENTS", "5000"))
    concurrent_events = int(os.environ.get("AIPS_BENCH_CONCURRENT_EVENTS", "8000"))
    call_command("migrate", verbosity=0)
    actor = SystemActor(label="bench")
    result: dict[str, Any] = {"backend": backend, "vendor": connection.vendor}

    rates, cpu_shares, client_us, server_us = [], [], [], []
    for _round in range(ROUNDS):
        wall, cpu, server = time.perf_counter(), time.process_time(), _backend_cpu_s()
        rates.append(_append_batched(events, actor))
        cpu_shares.append((time.process_time() - cpu) / (time.perf_counter() - wall))
        client_us.append((time.process_time() - cpu) / events * 1e6)
        server_us.append((_backend_cpu_s() - server) / events * 1e6)
    result["batched"] = statistics.median(rates)
    result["batched_range"] = [min(rates), max(rates)]
    result["batched_client_cpu"] = statistics.median(cpu_shares)
    result["client_us"] = statistics.median(client_us)
    result["server_us"] = statistics.median(server_us)
    result["load"] = os.getloadavg()[0]
    result["single"] = _append_single(single_events, actor)
    if backend == "postgres":
        result["concurrent"] = _concurrent(concurrent_events)
        connection.close()

    started = time.perf_counter()
    checkpoint_create()
    report = verify(
        selectors.journal_entries(), selectors.journal_checkpoints(), head_seq=selectors.head_seq()
    )
    result["verify_s"] = time.perf_counter() - started
    result["entries"] = report.entries
    if not report.ok:
        sys.exit(f"bench journal does not verify: {report.problems[:3]}")
    print("RESULT " + json.dumps(result), flush=True)


# --- the driver --------------------------------------------------------------------------


def _child(backend: str, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(  # noqa: S603 - this script, with the same interpreter
        [sys.executable, __file__, "--backend", backend],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        sys.stderr.write(out.stdout + out.stderr)
        raise SystemExit(f"bench audit on {backend} failed")
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return result


def _describe(r: dict[str, Any]) -> None:
    low, high = r["batched_range"]
    server = (
        f"; PostgreSQL backend CPU {r['server_us']:.0f} us/event"
        if r["backend"] == "postgres"
        else " (SQLite runs inside it)"
    )
    print(
        f"audit[{r['backend']}]: record_many, transactions of {BATCH}: {r['batched']:,.0f} "
        f"events/s (median of {ROUNDS} rounds, {low:,.0f}-{high:,.0f}; client CPU "
        f"{r['batched_client_cpu']:.0%} of wall, {r['client_us']:.0f} us/event{server}; "
        f"load average {r['load']:.1f}); "
        f"record one by one in the same transactions: "
        f"{r['single']:,.0f} events/s (record_many/record ratio {r['batched'] / r['single']:.1f}x)",
        flush=True,
    )
    if "concurrent" in r:
        print(
            f"audit[{r['backend']}]: {WRITERS} concurrent writers, one event per transaction: "
            f"{r['concurrent']:,.0f} events/s",
            flush=True,
        )
    print(
        f"audit[{r['backend']}]: checkpoint and verification of all {r['entries']:,} entries: "
        f"{r['verify_s']:.1f} s, verified",
        flush=True,
    )


def _pg_reachable(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((parts.hostname or "127.0.0.1", parts.port or 5432)) == 0


def main() -> None:
    import psycopg

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="aips-bench-audit-") as data:
        results["sqlite"] = _child(
            "sqlite", {"AIPS_DATABASE_URL": "", "AIPS_DATA_DIR": os.path.join(data, "sqlite")}
        )
        _describe(results["sqlite"])
        server = os.environ.get("AIPS_BENCH_POSTGRES_URL") or DEFAULT_PG
        if _pg_reachable(server):
            name = f"aips_bench_audit_{os.getpid()}"
            db_url = urlunsplit(urlsplit(server)._replace(path="/" + name))
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
            try:
                results["postgres"] = _child(
                    "postgres",
                    {"AIPS_DATABASE_URL": db_url, "AIPS_DATA_DIR": os.path.join(data, "pg")},
                )
            finally:
                with psycopg.connect(server, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _describe(results["postgres"])
        else:
            print("bench audit: SKIPPED PostgreSQL (nothing answers on the server)", flush=True)
    if "postgres" in results:
        print(f"audit_append_postgres_events_per_s={results['postgres']['batched']:.0f}")
    print(f"audit_append_sqlite_events_per_s={results['sqlite']['batched']:.0f}")
    if "postgres" in results:
        print(f"audit_concurrent_postgres_events_per_s={results['postgres']['concurrent']:.0f}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--backend":
        run_backend(sys.argv[2])
    else:
        main()
