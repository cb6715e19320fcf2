"""Benchmark of the ETP's public catalogue: 100,000 published and withdrawn lots from 50
sellers across 17 regions; times the catalogue's query (the filters and one keyset page through
core/listing.py) for typical searches, then the public API (p50/p95). The target: catalogue
search p95 ≤ 100 ms. Text search is `icontains` on title and description. Never asserts."""

import os
import random
import statistics
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
                description=f"A {word} in {regions[i % 17]}, lot {i}",
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
        f"catalogue[{connection.vendor}]: {lots} lots, {len(org_ids)} sellers, "
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
        "text (rare)": "q=lot+4242",
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
            f"catalogue[{connection.vendor}] search {name}: {_p(timed(search))}; "
            f"next page: {_p(timed(page_two))}"
        )
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for name, url in {
        "api lots": "/api/v1/public/lots?limit=100",
        "api lots filtered": "/api/v1/public/lots?kind=vehicle&region=Region+3&limit=100",
        "api feed": "/api/v1/public/feed?limit=100",
        "page /": "/?kind=vehicle",
    }.items():
        statuses: set[int] = set()

        def get(url: str = url, statuses: set[int] = statuses) -> None:
            statuses.add(client.get(url).status_code)

        times = timed(get)
        print(f"catalogue[{connection.vendor}] {name}: {_p(times)} (status {sorted(statuses)})")


if __name__ == "__main__":
    if "AIPS_DATA_DIR" not in os.environ:
        os.environ["AIPS_DATA_DIR"] = tempfile.mkdtemp(prefix="aips-bench-")
    main()
