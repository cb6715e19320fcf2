"""Benchmark of the home page (issue 15, item 1): 300 organizations and 100,000 incident cards
in every state, plus a month of alert acknowledgements; renders "/" for a bank's IS-unit head,
a maker and a center analyst and prints p50/p95 against the 100 ms budget. Never asserts."""

import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial


def main() -> None:
    organizations = int(os.environ.get("AIPS_BENCH_ORGS", "300"))
    cards = int(os.environ.get("AIPS_BENCH_CARDS", "100000"))
    runs = int(os.environ.get("AIPS_BENCH_RUNS", "40"))
    label = os.environ.get("AIPS_BENCH_LABEL", "sqlite")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aips.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from aips.center.alerts.models import Alert, AlertRecipient
    from aips.center.incidents.models import IncidentCard
    from aips.core.identifiers import bin_check_digit
    from aips.demo import load_demo
    from aips.shared.organizations.models import Organization

    settings.ALLOWED_HOSTS = ["*"]
    # No collectstatic in a bench: plain static URLs instead of the manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("migrate", verbosity=0)
    people = load_demo()
    rng = random.Random(15)  # noqa: S311 - fixture data, not security
    # Bench data is inserted directly: it is fixture material, not a business change.
    orgs: list[Organization] = []
    n = 0
    while len(orgs) < organizations:
        stem = f"99055{n:06d}"
        n += 1
        digit = bin_check_digit(stem)
        if digit is not None:
            orgs.append(
                Organization(
                    name=f"Bench bank {len(orgs)}",
                    bin=stem + str(digit),
                    email="b@x.kz",
                    kind="bank",
                )
            )
    Organization.objects.bulk_create(orgs)
    org_ids = list(
        Organization.objects.filter(name__startswith="Bench bank").values_list("pk", flat=True)
    )
    bank_a = people["bank_a_head"].organization_id
    org_ids.append(bank_a)
    maker = people["bank_a_maker"]
    now = timezone.now()
    states = ["draft", "awaiting_approval", "submitted", "returned", "accepted", "closed"]
    weights = [5, 3, 5, 2, 40, 45]
    rows = []
    for i in range(cards):
        state = rng.choices(states, weights)[0]
        at = now - timedelta(minutes=rng.randint(1, 60 * 24 * 365))
        rows.append(
            IncidentCard(
                organization_id=org_ids[i % len(org_ids)],
                state=state,
                created_by=maker,
                version=0 if state in ("draft", "awaiting_approval") else 1,
                submitted_at=at if state not in ("draft", "awaiting_approval") else None,
                deadline_at=at + timedelta(days=3) if state == "returned" else None,
                kind="unauthorized_access",
                title=f"Bench card {i}",
                detected_at=at,
                started_at=at,
                affected_systems="core banking",
                impact="none",
                measures="none",
                tlp="GREEN",
            )
        )
        if len(rows) == 5000:
            IncidentCard.objects.bulk_create(rows)
            rows = []
    IncidentCard.objects.bulk_create(rows)
    analyst = people["center_analyst"]
    alerts = Alert.objects.bulk_create(
        Alert(
            organization_id=analyst.organization_id,
            state="published",
            created_by=analyst,
            kind="threat",
            title=f"Bench alert {i}",
            source="bench",
            level="high",
            tlp="GREEN",
            description="-",
            recommendations="-",
            published_at=now - timedelta(days=i),
            version=1,
        )
        for i in range(30)
    )
    recipients = []
    for day, alert in enumerate(alerts):
        delivered = now - timedelta(days=day)
        for org in org_ids:
            answered = rng.random() < 0.8
            recipients.append(
                AlertRecipient(
                    alert=alert,
                    organization_id=org,
                    status="accepted" if answered else "delivered",
                    delivered_at=delivered,
                    due_at=delivered + timedelta(days=1),
                    deadline_at=None if answered else delivered + timedelta(days=1),
                    responded_at=delivered + timedelta(hours=rng.randint(1, 40))
                    if answered
                    else None,
                )
            )
    AlertRecipient.objects.bulk_create(recipients, batch_size=5000)
    if connection.vendor == "postgresql":
        # What autovacuum does within a minute of a bulk load: the planner's row estimates and
        # the visibility map (index-only scans) of a table that grew over years.
        with connection.cursor() as cursor:
            for table in ("incidents_incidentcard", "alerts_alertrecipient", "alerts_alert"):
                cursor.execute(f"VACUUM ANALYZE {table}")
    print(
        f"home[{label}/{connection.vendor}]: {len(org_ids)} organizations, "
        f"{IncidentCard.objects.count()} cards, {len(recipients)} alert acknowledgements"
    )
    if os.environ.get("AIPS_BENCH_PROFILE"):
        from aips.core import worklist

        who = people["center_analyst"]
        calls: list[tuple[str, Callable[[], object]]] = [
            (f"work {n}", partial(f, who, 20)) for n, f in worklist._SOURCES.items()
        ]
        calls += [(f"tile {n}", partial(f, who)) for n, f in worklist._TILES.items()]
        for name, call in calls:
            started = time.perf_counter()
            call()
            print(f"  {name}: {(time.perf_counter() - started) * 1000:.1f} ms")
    for key in ("bank_a_head", "bank_a_maker", "center_analyst"):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(people[key])
        client.get("/")  # warm: templates, translations, the histogram cache
        times = []
        for _run in range(runs):
            started = time.perf_counter()
            response = client.get("/")
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200  # noqa: S101 - a bench sanity check
        times.sort()
        p50 = statistics.median(times)
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        print(
            f"home[{label}/{connection.vendor}] {key}: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
            f"({runs} renders; budget p95 <= 100 ms: {'ok' if p95 <= 100 else 'OVER'})"
        )


if __name__ == "__main__":
    if "AIPS_DATA_DIR" not in os.environ:
        os.environ["AIPS_DATA_DIR"] = tempfile.mkdtemp(prefix="aips-bench-")
    main()
