"""Benchmark of signal ingestion (issue 8, R67.8).

The real server (`aips serve`, gunicorn, production settings) on the database in
AIPS_DATABASE_URL (PostgreSQL, or SQLite when empty), driven over HTTP by concurrent client
processes sending batches of 100 and 500 realistic signals from many organizations' modules. On
PostgreSQL the same rows are also COPYed straight into the same table, for the ratio. Three
rounds (AIPS_BENCH_ROUNDS), the order of the steps rotated each round; the summary lines are the
medians. The clients send gzip bodies built before the clock starts, over kept-alive
connections, and report their own CPU; the server's (gunicorn's processes) and the database's
(the backends of the bench's database) CPU are read from /proc around each run. Prints figures
and the load average (the machine may be shared), never asserts; docs/performance.md explains
the method.

    python scripts/bench_signals.py            # env: AIPS_DATABASE_URL, AIPS_DATA_DIR
    AIPS_BENCH_SIGNALS=200000 AIPS_BENCH_CLIENTS=8 AIPS_WORKERS=4 python scripts/bench_signals.py
"""

import gzip
import http.client
import json
import multiprocessing as mp
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

KINDS = [
    ("ids", 35),
    ("waf", 25),
    ("scan", 10),
    ("brute_force", 8),
    ("endpoint", 6),
    ("malware", 6),
    ("phishing", 6),
    ("spraying", 4),
]
RULES = [
    ("2024897", "ET EXPLOIT Apache log4j RCE Attempt (http ldap) (CVE-2021-44228)"),
    ("2019401", "ET SCAN Suspicious inbound to mySQL port 3306"),
    ("2001219", "ET SCAN Potential SSH Scan"),
    ("2010937", "ET SCAN Suspicious inbound to MSSQL port 1433"),
    ("942100", "SQL Injection Attack Detected via libinjection"),
    ("941100", "XSS Attack Detected via libinjection"),
    ("930120", "OS File Access Attempt"),
]


def _ip(rng: random.Random) -> str:
    # A pool of ~5,000 public attacker addresses, so indicators repeat across organizations.
    n = rng.randrange(5000)
    return f"{45 + n % 50}.{(n // 50) % 200 + 10}.{n % 251}.{n % 199 + 1}"


def make_signal(rng: random.Random, now: datetime) -> dict[str, Any]:
    kind = rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS])[0]
    rule_id, rule_name = rng.choice(RULES)
    observed = now - timedelta(seconds=rng.randrange(3600))
    item: dict[str, Any] = {
        "kind": kind,
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "observed_at": observed.isoformat(),
        "product": "Suricata" if kind in ("ids", "scan") else "ModSecurity",
        "vendor": "OISF" if kind in ("ids", "scan") else "OWASP",
        "product_version": "7.0.6",
        "sensor": f"sensor-{rng.randrange(8)}",
        "severity": rng.choice(["low", "medium", "high", "critical"]),
        "rule_id": rule_id,
        "rule_name": rule_name,
        "src_ip": _ip(rng),
        "src_port": rng.randrange(1024, 65535),
        "dst_ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        "dst_port": rng.choice([22, 80, 443, 3389, 8443]),
        "protocol": "tcp",
        "direction": "external",
    }
    if kind == "waf":
        item |= {
            "url": f"/api/v2/accounts/{rng.randrange(10**6)}?q=%27%20OR%201%3D1--",
            "method": rng.choice(["GET", "POST"]),
            "host": "online.bank.kz",
            "status": 403,
            "matched_rule": rule_name,
        }
    elif kind == "endpoint":
        item |= {
            "host": f"ws-{rng.randrange(5000):04d}",
            "detection": "Trojan:Win32/Emotet.RPX!MTB",
            "sha256": f"{rng.getrandbits(256):064x}",
            "file_name": "C:\\Users\\Public\\invoice.exe",
        }
    elif kind == "malware":
        item |= {
            "file_name": "scan_0042.pdf.exe",
            "detection": "Win.Trojan.Agent-1234",
            "sha256": f"{rng.getrandbits(256) % 5000:064x}",
        }
    elif kind == "phishing":
        domain = f"secure-{rng.randrange(300)}-halyk.example"
        item |= {
            "sender": f"noreply@{domain}",
            "recipient_count": rng.randrange(1, 200),
            "subject": "Подтвердите данные карты / Verify your card",
            "urls": [f"https://{domain}/login"],
        }
    elif kind == "scan":
        item |= {"ports": rng.sample(range(1, 1024), 20), "port_count": 20, "target_count": 1}
    elif kind == "brute_force":
        item |= {"target_account": f"user{rng.randrange(1000)}", "attempts": rng.randrange(20, 500)}
    elif kind == "spraying":
        item |= {
            "accounts": [f"user{i}" for i in rng.sample(range(1000), 10)],
            "account_count": 60,
            "attempts": 60,
        }
    return item


def _client(
    port: int,
    tokens: list[str],
    seed: int,
    requests: int,
    batch: int,
    start_at: float,
    out: Any,
) -> None:
    rng = random.Random(seed)  # noqa: S311 - test data
    now = datetime.now(UTC)
    # Encoded and compressed before the clock starts, as an agent's spool holds them: the load
    # generator's own work while measuring is one send and one read per batch.
    bodies = [
        gzip.compress(json.dumps([make_signal(rng, now) for _ in range(batch)]).encode(), 1)
        for _ in range(requests)
    ]
    headers = [
        {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        }
        for token in tokens
    ]
    latencies: list[float] = []
    accepted = errors = reconnects = 0
    time.sleep(max(0.0, start_at - time.time()))
    cpu0 = time.process_time()
    conn: http.client.HTTPConnection | None = None
    for i, body in enumerate(bodies):
        t0 = time.perf_counter()
        for _attempt in range(5):
            try:
                if conn is None:
                    # Keep-alive: one connection for as long as the server keeps it open.
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    reconnects += 1
                conn.request("POST", "/api/v1/signals", body, headers[i % len(headers)])
                response = conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                if conn is not None:
                    conn.close()
                conn = None
        latencies.append(time.perf_counter() - t0)
        if response.status == 200:
            # The count only: the answer's full decode is the agent's cost, not the server's.
            accepted += int(data.split(b",", 1)[0].rsplit(b":", 1)[1])
        else:
            errors += 1
    out.put((accepted, errors, latencies, time.time(), time.process_time() - cpu0, reconnects))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) of one process, from /proc; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _settle(pid: int) -> None:
    """Wait until a newly started process is idle: its imports and start-up are not what the
    next run measures (they had shown as 0.3 of a core of "worker" in the run after a raw step)."""
    started = time.monotonic()
    before = _cpu_of(pid)
    while time.monotonic() - started < 30:
        time.sleep(0.5)
        now = _cpu_of(pid)
        if now - before < 0.05:
            return
        before = now


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


class CpuMeter:
    """CPU seconds of the server (gunicorn's master and workers) and of the database (the
    PostgreSQL backends connected to the bench's database; the shared WAL writer and
    checkpointer are not in it), from /proc. Sampled every quarter second during a run, so a
    process that ends meanwhile (a database connection past its CONN_MAX_AGE) still counts up
    to its last sample."""

    def __init__(self, server_pid: int, backend: str, worker_pid: int = 0) -> None:
        self.server_pid = server_pid
        self.worker_pid = worker_pid
        self.backend = backend
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.first: dict[str, dict[int, float]] = {}
        self.own_pid = 0
        self.last: dict[str, dict[int, float]] = {}

    def _db_pids(self) -> list[int]:
        if self.backend != "postgres":
            return []
        from django.db import connection

        with connection.cursor() as cursor:
            # Not the bench's own connections (this thread's, and the main thread's, which
            # would otherwise count its whole life, setup included, since it is never sampled
            # at the start).
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND pid <> %s",
                [self.own_pid],
            )
            return [pid for (pid,) in cursor.fetchall()]

    def _sample(self, db_pids: list[int]) -> None:
        server = [self.server_pid, *_children(self.server_pid)]
        worker = [self.worker_pid] if self.worker_pid else []
        for part, pids in (("server", server), ("db", db_pids), ("worker", worker)):
            for pid in pids:
                cpu = _cpu_of(pid)
                if cpu:
                    self.last[part][pid] = cpu

    def _run(self) -> None:
        from django.db import connection

        n = 0
        db_pids: list[int] = []
        while not self._stop.is_set():
            if n % 4 == 0:
                db_pids = self._db_pids()
            self._sample(db_pids)
            n += 1
            self._stop.wait(0.25)
        self._sample(self._db_pids())
        connection.close()

    def start(self) -> None:
        # Processes present at the start count from there; those that appear later from zero.
        if self.backend == "postgres":
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                (self.own_pid,) = cursor.fetchone()
        self.last = {"server": {}, "db": {}, "worker": {}}
        self._sample(self._db_pids())
        self.first = {part: dict(cpus) for part, cpus in self.last.items()}
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return {
            part: sum(cpu - self.first[part].get(pid, 0.0) for pid, cpu in cpus.items())
            for part, cpus in self.last.items()
        }


def run_http(
    port: int,
    tokens: list[str],
    *,
    signals: int,
    batch: int,
    clients: int,
    seed: int,
    meter: CpuMeter | None = None,
) -> dict[str, float]:
    requests_each = max(1, signals // batch // clients)
    queue: Any = mp.Queue()
    start_at = time.time() + 2.0 + signals / 100_000  # time for clients to pre-build bodies
    procs = [
        mp.Process(
            target=_client,
            args=(
                port,
                tokens[c::clients] or tokens,
                seed + c,
                requests_each,
                batch,
                start_at,
                queue,
            ),
        )
        for c in range(clients)
    ]
    for p in procs:
        p.start()
    time.sleep(max(0.0, start_at - time.time()))
    if meter:
        meter.start()
    results = [queue.get() for _ in procs]
    cpu = meter.stop() if meter else {}
    for p in procs:
        p.join()
    accepted = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    latencies = [x for r in results for x in r[2]]
    elapsed = max(r[3] for r in results) - start_at
    return {
        "signals_per_s": accepted / elapsed,
        "accepted": accepted,
        "errors": errors,
        "p50_ms": _percentile(latencies, 50) * 1000,
        "p99_ms": _percentile(latencies, 99) * 1000,
        "elapsed_s": elapsed,
        "client_cpu_s": sum(r[4] for r in results),
        "server_cpu_s": cpu.get("server", 0.0),
        "db_cpu_s": cpu.get("db", 0.0),
        "worker_cpu_s": cpu.get("worker", 0.0),
        "connections": sum(r[5] for r in results),
        "requests": len(latencies),
    }


def _counts_current() -> float:
    """Seconds from now until the worker has counted every stored signal."""
    from django.db import connection

    from aips.center.signals.selectors import counts_lag

    started = time.monotonic()
    while counts_lag().signals and time.monotonic() - started < 120:
        time.sleep(0.05)
    connection.close()
    return time.monotonic() - started


def _same_rows(seeds: list[int], *, per_seed: int, batch: int) -> list[tuple[Any, ...]]:
    """The rows the HTTP rounds store for these seeds (same generator, same seeds), as
    services._row makes them, for the first module (the raw writes skip the token look-up)."""
    from django.db import connection

    from aips.center.integrations.models import ModuleActor
    from aips.center.signals import schema, services

    with connection.cursor() as cursor:
        cursor.execute("SELECT organization_id, id FROM integrations_integrationmodule LIMIT 1")
        org_id, module_id = cursor.fetchone()
    actor = ModuleActor(module_id=module_id, organization_id=org_id, name="raw")
    rows: list[tuple[Any, ...]] = []
    now = datetime.now(UTC)
    for seed in seeds:
        rng = random.Random(seed)  # noqa: S311 - test data
        for _ in range(per_seed):
            for item in [make_signal(rng, now) for _ in range(batch)]:
                decoded = schema.decode_item(
                    json.dumps(item).encode(), now=now, max_age=timedelta(days=30)
                )
                rows.append(services._row(decoded, actor, now))
    return rows


def copy_rate(seeds: list[int], *, per_seed: int, batch: int) -> float:
    """Raw COPY of the same rows into the same, emptied table: PostgreSQL's ceiling."""
    from django.db import connection

    from aips.center.signals import services

    rows = [
        # Details as JSON text (services keeps them as a dict for its JSON insert).
        (*row[:-1], services._json.encode(row[-1]).decode())
        for row in _same_rows(seeds, per_seed=per_seed, batch=batch)
    ]
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE signals_signal")
        cols = ", ".join(services.COLUMNS)
        started = time.perf_counter()
        with cursor.cursor.copy(f"COPY signals_signal ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        connection.commit() if not connection.get_autocommit() else None
        elapsed = time.perf_counter() - started
        # Emptied again, so the HTTP rounds that send these rows later store them anew.
        cursor.execute("TRUNCATE signals_signal")
        connection.commit() if not connection.get_autocommit() else None
    return len(rows) / elapsed


def sqlite_raw_rate(seeds: list[int], *, per_seed: int, batch: int, group: int) -> float:
    """SQLite's ceiling: the same rows into the same, emptied table by one writer with no HTTP,
    no validation and no other thread, `group` rows (what every client has in flight) per
    durable transaction, through the insert the server's writer uses."""
    from django.db import connection, transaction

    from aips.center.signals import services

    rows = _same_rows(seeds, per_seed=per_seed, batch=batch)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM signals_signal")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    started = time.perf_counter()
    for i in range(0, len(rows), group):
        with transaction.atomic():
            services._insert_sqlite(rows[i : i + group])
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM signals_signal")
    connection.close()
    return len(rows) / elapsed


def setup(orgs: int) -> list[str]:
    import django

    django.setup()
    from django.core.management import call_command

    from aips.center.integrations import services as integrations
    from aips.core.actors import SystemActor
    from aips.core.identifiers import bin_check_digit
    from aips.shared.organizations import services as organizations

    call_command("migrate", verbosity=0)
    actor = SystemActor(label="bench")
    tokens: list[str] = []
    n = 0
    while len(tokens) < orgs:
        stem = f"99064{n:06d}"
        n += 1
        digit = bin_check_digit(stem)
        if digit is None:
            continue
        org = organizations.organization_create(
            actor=actor,
            name=f"Bench bank {len(tokens)}",
            bin=f"{stem}{digit}",
            email=f"soc{len(tokens)}@bench.example.kz",
            kind="bank",
        )
        module = integrations.module_register(actor=actor, organization=org, name="agent")
        _module, raw = integrations.token_issue(actor=actor, module=module)
        tokens.append(raw)
    return tokens


def _line(backend: str, batch: int, clients: int, env: dict[str, str], r: dict[str, float]) -> str:
    wall = r["elapsed_s"]
    return (
        f"bench signals {backend} batch={batch} clients={clients} "
        f"workers={env['AIPS_WORKERS']}x{env['AIPS_THREADS']}: "
        f"{r['accepted']:.0f} accepted in {wall:.1f} s = {r['signals_per_s']:,.0f} signals/s, "
        f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, errors {r['errors']:.0f}; "
        f"CPU s server {r['server_cpu_s']:.1f} / database {r['db_cpu_s']:.1f} / "
        f"worker {r['worker_cpu_s']:.1f} / "
        f"client {r['client_cpu_s']:.1f} (cores: {r['server_cpu_s'] / wall:.2f} / "
        f"{r['db_cpu_s'] / wall:.2f} / {r['worker_cpu_s'] / wall:.2f} / "
        f"{r['client_cpu_s'] / wall:.2f}; per signal "
        f"{r['server_cpu_s'] / max(1.0, r['accepted']) * 1e6:.0f} / "
        f"{r['db_cpu_s'] / max(1.0, r['accepted']) * 1e6:.0f} µs; client "
        f"{r['client_cpu_s'] / max(1.0, r['requests']) * 1000:.2f} ms a batch); "
        f"{r['connections']:.0f} connections for {r['requests']:.0f} requests; "
        f"counts current {r['counts_after_s']:.1f} s after the last answer; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aips.settings")
    backend = "postgres" if os.environ.get("AIPS_DATABASE_URL") else "sqlite"
    signals = int(os.environ.get("AIPS_BENCH_SIGNALS", "100000"))
    clients = int(os.environ.get("AIPS_BENCH_CLIENTS", "8"))
    orgs = int(os.environ.get("AIPS_BENCH_ORGS", "24"))
    rounds = int(os.environ.get("AIPS_BENCH_ROUNDS", "3"))
    tokens = setup(orgs)
    port = _free_port()
    env = {
        **os.environ,
        "AIPS_BIND": f"127.0.0.1:{port}",
        # PostgreSQL: two threads, gunicorn's gthread worker, which keeps connections alive
        # between batches (the sync worker closes each one). SQLite: `aips serve`'s own layout,
        # one process whose writer thread groups all requests' batches.
        "AIPS_WORKERS": os.environ.get("AIPS_WORKERS", "4" if backend == "postgres" else "1"),
        "AIPS_THREADS": os.environ.get("AIPS_THREADS", "2" if backend == "postgres" else "8"),
        "AIPS_SIGNAL_RATE": os.environ.get("AIPS_SIGNAL_RATE", "12000/m"),
    }
    bin_dir = Path(sys.executable).parent
    log = open(Path(os.environ["AIPS_DATA_DIR"]) / "serve.log", "wb")  # noqa: SIM115
    server = subprocess.Popen([str(bin_dir / "aips"), "serve"], env=env, stdout=log, stderr=log)  # noqa: S603

    # The worker counts sightings and rollups from the stored signals (signals/derive.py): its
    # CPU is part of what ingest costs, and the counts must keep up.
    def start_worker() -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603
            [str(bin_dir / "aips"), "worker", "--interval", "1", "--job", "signal_counts"],
            env=env,
            stdout=log,
            stderr=log,
        )

    worker = start_worker()
    meter = CpuMeter(server.pid, backend, worker.pid)
    print(f"bench signals {backend}: load average {os.getloadavg()} on {os.cpu_count()} cores")
    per_seed = max(1, signals // 100 // clients)
    results: dict[int, list[dict[str, float]]] = {100: [], 500: []}
    copies: list[float] = []
    try:
        _wait(port, server)
        # Each worker imports and warms up on its first requests; that is not what is measured.
        run_http(port, tokens, signals=clients * 4 * 100, batch=100, clients=clients, seed=7)
        for n in range(rounds):
            seeds = {100: 100_000 * (n + 1), 500: 100_000 * (n + 1) + 50_000}
            # The raw step empties the table before and after it, so on both databases the
            # rounds store into tables of the same sizes.
            steps = ["100", "500", "copy"]
            # Order rotated each round, so no step always runs on a warmer (or busier) machine.
            steps = steps[n % len(steps) :] + steps[: n % len(steps)]
            for step in steps:
                if step == "copy":
                    # The worker would count the COPYed rows meanwhile, slowing the COPY down.
                    worker.terminate()
                    worker.wait(timeout=60)
                    seed = seeds[100]
                    same = [seed + c for c in range(clients)]
                    if backend == "postgres":
                        copies.append(copy_rate(same, per_seed=per_seed, batch=100))
                        what = "raw COPY of the same rows"
                    else:
                        copies.append(
                            sqlite_raw_rate(same, per_seed=per_seed, batch=100, group=clients * 100)
                        )
                        what = f"raw insert of the same rows, {clients * 100} a transaction"
                    print(
                        f"bench signals {backend} round {n + 1} {what}: "
                        f"{copies[-1]:,.0f} rows/s; load average {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
                    worker = start_worker()
                    meter.worker_pid = worker.pid
                    _settle(worker.pid)
                    continue
                batch = int(step)
                r = run_http(
                    port, tokens, signals=signals, batch=batch, clients=clients,
                    seed=seeds[batch], meter=meter,
                )  # fmt: skip
                r["counts_after_s"] = _counts_current()
                results[batch].append(r)
                print(f"round {n + 1}: " + _line(backend, batch, clients, env, r), flush=True)
    finally:
        server.terminate()
        worker.terminate()
        server.wait(timeout=30)
        worker.wait(timeout=30)
    rates = [r["signals_per_s"] for r in results[100]]
    p99s = [r["p99_ms"] for r in results[100]]
    rate, p99 = _median(rates), _median(p99s)
    print(
        f"bench signals {backend} batch=100 over {rounds} rounds: "
        f"{', '.join(f'{x:,.0f}' for x in rates)} signals/s; p99 "
        f"{', '.join(f'{x:.0f}' for x in p99s)} ms (medians below)"
    )
    copy = _median(copies)
    ratios = [x / c for x, c in zip(rates, copies, strict=True)]
    what = "raw COPY of the same rows" if backend == "postgres" else "raw insert of the same rows"
    print(
        f"bench signals {backend} {what}: {copy:,.0f} rows/s "
        f"(rounds: {', '.join(f'{c:,.0f}' for c in copies)}; ratio per round "
        f"{', '.join(f'{x:.2f}' for x in ratios)})",
        flush=True,
    )
    if backend == "postgres":
        print(
            f"ingest_postgres_signals_per_s={rate:.0f} "
            f"ratio_to_copy={rate / copy:.2f} p99_ms={p99:.0f}"
        )
    else:
        print(
            f"ingest_sqlite_signals_per_s={rate:.0f} p99_ms={p99:.0f} "
            f"ratio_to_raw_insert={rate / copy:.2f}"
        )


if __name__ == "__main__":
    main()
