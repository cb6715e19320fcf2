"""Benchmark of the audit journal: append N events (in transactions of 1000, as busy services
would), then sign a checkpoint and verify everything. Run by `make bench` on a throwaway SQLite
database and, when one answers, on PostgreSQL. Prints figures; never asserts on time."""

import os
import sys
import tempfile
import time


def main() -> None:
    events = int(os.environ.get("AIPS_BENCH_EVENTS", "100000"))
    label = os.environ.get("AIPS_BENCH_LABEL", "sqlite")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aips.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from aips.core.actors import SystemActor
    from aips.shared.audit import selectors
    from aips.shared.audit.models import EventType
    from aips.shared.audit.services import checkpoint_create, record
    from aips.shared.audit.verifier import verify

    call_command("migrate", verbosity=0)
    actor = SystemActor(label="bench")
    batch = 1000
    started = time.perf_counter()
    for first in range(0, events, batch):
        with transaction.atomic():
            for i in range(first, min(first + batch, events)):
                record(
                    actor=actor,
                    event=EventType.LOGIN_FAILED,
                    details={"n": i, "email": f"user{i % 997}@bank.example.kz"},
                )
    append_s = time.perf_counter() - started
    started = time.perf_counter()
    checkpoint_create()
    checkpoint_s = time.perf_counter() - started
    started = time.perf_counter()
    report = verify(
        selectors.journal_entries(), selectors.journal_checkpoints(), head_seq=selectors.head_seq()
    )
    verify_s = time.perf_counter() - started
    if not report.ok:
        sys.exit(f"bench journal does not verify: {report.problems[:3]}")
    print(
        f"audit[{label}/{connection.vendor}]: appended {events} events in {append_s:.1f} s = "
        f"{events / append_s:,.0f} events/s; checkpoint {checkpoint_s:.2f} s; "
        f"verify {verify_s:.1f} s = {events / verify_s:,.0f} entries/s "
        f"(verify/append ratio {append_s / verify_s:.1f}x)"
    )


if __name__ == "__main__":
    if "AIPS_DATA_DIR" not in os.environ:
        os.environ["AIPS_DATA_DIR"] = tempfile.mkdtemp(prefix="aips-bench-")
    main()
