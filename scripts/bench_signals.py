"""Benchmark of signal ingestion (issue 8, R67.8).

The real server (`aips serve`, gunicorn, production settings) on the database in
AIPS_DATABASE_URL (PostgreSQL, or SQLite when empty), driven over HTTP by concurrent client
processes sending batches of 100 and 500 realistic signals from many organizations' modules. On
PostgreSQL the same rows are then COPYed straight into the same table, for the ratio. Prints
figures, never asserts; docs/performance.md explains the method.

    python scripts/bench_signals.py            # env: AIPS_DATABASE_URL, AIPS_DATA_DIR
    AIPS_BENCH_SIGNALS=200000 AIPS_BENCH_CLIENTS=8 AIPS_WORKERS=4 python scripts/bench_signals.py
"""

import http.client
import json
import multiprocessing as mp
import os
import random
import socket
import subprocess
import sys
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
    bodies = [
        json.dumps([make_signal(rng, now) for _ in range(batch)]).encode() for _ in range(requests)
    ]
    latencies: list[float] = []
    accepted = errors = 0
    time.sleep(max(0.0, start_at - time.time()))
    conn: http.client.HTTPConnection | None = None
    for i, body in enumerate(bodies):
        token = tokens[i % len(tokens)]
        t0 = time.perf_counter()
        for _attempt in range(5):
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request(
                    "POST",
                    "/api/v1/signals",
                    body,
                    {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                )
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
            accepted += json.loads(data)["accepted"]
        else:
            errors += 1
    out.put((accepted, errors, latencies, time.time()))


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


def run_http(
    port: int, tokens: list[str], *, signals: int, batch: int, clients: int, seed: int
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
    results = [queue.get() for _ in procs]
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
    }


def copy_rate(seeds: list[int], *, per_seed: int, batch: int) -> float:
    """Raw COPY of the same rows (same generator, same seeds) into the same, emptied table."""
    from django.db import connection

    from aips.center.integrations.models import ModuleActor
    from aips.center.signals import schema, services

    rows: list[tuple[Any, ...]] = []
    actor = ModuleActor(module_id=1, organization_id=1, name="copy")
    now = datetime.now(UTC)
    for seed in seeds:
        rng = random.Random(seed)  # noqa: S311 - test data
        for _ in range(per_seed):
            for item in [make_signal(rng, now) for _ in range(batch)]:
                decoded = schema.decode_item(
                    json.dumps(item).encode(), now=now, max_age=timedelta(days=30)
                )
                rows.append(services._row(decoded, actor, now))
    with connection.cursor() as cursor:
        cursor.execute("SELECT organization_id, id FROM integrations_integrationmodule LIMIT 1")
        org_id, module_id = cursor.fetchone()
        rows = [(org_id, module_id, *row[2:]) for row in rows]
        cursor.execute("TRUNCATE signals_signal")
        cols = ", ".join(services.COLUMNS)
        started = time.perf_counter()
        with cursor.cursor.copy(f"COPY signals_signal ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        connection.commit() if not connection.get_autocommit() else None
        elapsed = time.perf_counter() - started
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
    tokens = []
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


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aips.settings")
    backend = "postgres" if os.environ.get("AIPS_DATABASE_URL") else "sqlite"
    signals = int(os.environ.get("AIPS_BENCH_SIGNALS", "100000"))
    clients = int(os.environ.get("AIPS_BENCH_CLIENTS", "8"))
    orgs = int(os.environ.get("AIPS_BENCH_ORGS", "24"))
    tokens = setup(orgs)
    port = _free_port()
    env = {
        **os.environ,
        "AIPS_BIND": f"127.0.0.1:{port}",
        # Measured best on 2 cores: sync workers (threads share one GIL per process).
        "AIPS_WORKERS": os.environ.get("AIPS_WORKERS", "4" if backend == "postgres" else "2"),
        "AIPS_THREADS": os.environ.get("AIPS_THREADS", "1"),
        "AIPS_SIGNAL_RATE": os.environ.get("AIPS_SIGNAL_RATE", "12000/m"),
    }
    bin_dir = Path(sys.executable).parent
    log = open(Path(os.environ["AIPS_DATA_DIR"]) / "serve.log", "wb")  # noqa: SIM115
    server = subprocess.Popen([str(bin_dir / "aips"), "serve"], env=env, stdout=log, stderr=log)  # noqa: S603
    try:
        _wait(port, server)
        # Each worker imports and warms up on its first requests; that is not what is measured.
        run_http(port, tokens, signals=clients * 4 * 100, batch=100, clients=clients, seed=7)
        results = {}
        for i, batch in enumerate((100, 500)):
            results[batch] = run_http(
                port, tokens, signals=signals, batch=batch, clients=clients, seed=1000 * (i + 1)
            )
            r = results[batch]
            print(
                f"bench signals {backend} batch={batch} clients={clients} "
                f"workers={env['AIPS_WORKERS']}x{env['AIPS_THREADS']}: "
                f"{r['accepted']:.0f} accepted in "
                f"{r['elapsed_s']:.1f} s = {r['signals_per_s']:,.0f} signals/s, "
                f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, errors {r['errors']:.0f}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    head = results[100]
    if backend == "postgres":
        per_seed = max(1, signals // 100 // clients)
        copy = copy_rate([1000 + c for c in range(clients)], per_seed=per_seed, batch=100)
        print(f"bench signals postgres raw COPY of the same rows: {copy:,.0f} rows/s", flush=True)
        print(
            f"ingest_postgres_signals_per_s={head['signals_per_s']:.0f} "
            f"ratio_to_copy={head['signals_per_s'] / copy:.2f} p99_ms={head['p99_ms']:.0f}"
        )
    else:
        print(
            f"ingest_sqlite_signals_per_s={head['signals_per_s']:.0f} p99_ms={head['p99_ms']:.0f}"
        )


if __name__ == "__main__":
    main()
