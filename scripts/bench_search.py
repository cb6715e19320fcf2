"""Benchmark of the search box (issue 15, item 2): 100,000 incident cards across 300
organizations, 1 in 100 holding one IP; times `/search/?q=` by reference, by text and by
indicator, and the indicator page, for a bank's maker and a center analyst (p50/p95). Text is
full-text search (core/fulltext.py: FTS5 on SQLite, tsvector on PostgreSQL), ranked; a part of a
word that no whole word holds falls back to `icontains`. Never asserts."""

import os
import random
import statistics
import tempfile
import time
from datetime import timedelta


def main() -> None:
    organizations = int(os.environ.get("AIPS_BENCH_ORGS", "300"))
    cards = int(os.environ.get("AIPS_BENCH_CARDS", "100000"))
    runs = int(os.environ.get("AIPS_BENCH_RUNS", "20"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aips.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from aips.center.incidents.models import IncidentCard
    from aips.core.identifiers import bin_check_digit
    from aips.demo import load_demo
    from aips.shared.organizations.models import Organization

    settings.ALLOWED_HOSTS = ["*"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("migrate", verbosity=0)
    people = load_demo()
    rng = random.Random(15)  # noqa: S311 - fixture data, not security
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
    org_ids.append(people["bank_a_head"].organization_id)
    maker = people["bank_a_maker"]
    now = timezone.now()
    words = ["phishing", "skimmer", "ransomware", "ddos", "fraud", "malware", "insider"]
    rows = []
    for i in range(cards):
        at = now - timedelta(minutes=rng.randint(1, 60 * 24 * 365))
        word = rng.choice(words)
        rows.append(
            IncidentCard(
                organization_id=org_ids[i % len(org_ids)],
                state="accepted",
                created_by=maker,
                version=1,
                submitted_at=at,
                kind="unauthorized_access",
                title=f"Bench {word} card {i}",
                detected_at=at,
                started_at=at,
                affected_systems="core banking",
                impact=f"{word} impact",
                measures="none",
                tlp="GREEN",
                indicators=[{"type": "ip", "value": "185.220.101.9"}] if i % 100 == 0 else [],
            )
        )
        if len(rows) == 5000:
            IncidentCard.objects.bulk_create(rows)
            rows = []
    IncidentCard.objects.bulk_create(rows)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE incidents_incidentcard")
    some = IncidentCard.objects.filter(organization_id=maker.organization_id).order_by("pk").first()
    assert some is not None  # noqa: S101 - a bench sanity check
    queries = {
        "reference": f"/search/?q={some.reference}",
        "text (common word)": "/search/?q=skimmer",
        "text (rare phrase)": "/search/?q=skimmer+card+4242",
        "text (prefix)": "/search/?q=skim",
        "text (part of a word)": "/search/?q=kimme",
        "text (nothing)": "/search/?q=zanzibar",
        "indicator": "/search/?q=185.220.101.9",
        "indicator page": "/indicators/?value=185.220.101.9",
    }
    print(f"search[{connection.vendor}]: {len(org_ids)} organizations, {cards} cards")
    for key in ("bank_a_maker", "center_analyst"):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(people[key])
        for name, url in queries.items():
            client.get(url)
            times = []
            for _run in range(runs):
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code in (200, 302)  # noqa: S101
            times.sort()
            p95 = times[max(0, round(0.95 * len(times)) - 1)]
            print(
                f"search[{connection.vendor}] {key} {name}: "
                f"p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms"
            )


if __name__ == "__main__":
    if "AIPS_DATA_DIR" not in os.environ:
        os.environ["AIPS_DATA_DIR"] = tempfile.mkdtemp(prefix="aips-bench-")
    main()
