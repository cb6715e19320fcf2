"""The public catalogue: each filter on the page and the public API, keyset pages that never
skip or repeat a lot, the public change feed (monotonic, complete, settled), the public API's
rate limit (429 in the one error shape)."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.http import QueryDict
from django.test import Client
from django.utils import timezone

from aips.etp.lots import services
from aips.etp.lots.models import Lot, LotChange
from aips.etp.lots.selectors import CatalogueFilters, catalogue
from aips.etp.portal.selectors import catalogue_page
from aips.shared.accounts.models import User

Personas = dict[str, User]
ClientAs = Callable[[str | None], Client]


def _lot(personas: Personas, **fields: Any) -> Lot:
    """A public lot as the catalogue reads it (built directly: the flow is the lots' tests')."""
    maker = personas[fields.pop("maker", "seller_a_maker")]
    values: dict[str, Any] = {
        "kind": "vehicle",
        "title": "Catalogue car",
        "region": "Catalogue region",
        "start_price": Decimal("1000"),
        "state": "published",
        "published_at": timezone.now(),
        "version": 1,
        **fields,
    }
    lot: Lot = Lot.objects.create(organization=maker.organization, created_by=maker, **values)
    return lot


def _ids(query: str) -> set[int]:
    return set(
        catalogue(CatalogueFilters.from_query(QueryDict(query))).values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_each_catalogue_filter(personas: Personas, client_as: ClientAs) -> None:
    day = timezone.now() - timedelta(days=400)
    base = _lot(personas)
    flat = _lot(personas, kind="real_estate", title="Sunny flat", region="Turkestan")
    dear = _lot(personas, start_price=Decimal("9000000"))
    other = _lot(personas, maker="seller_b_maker", description="a tractor with a plough")
    gone = _lot(personas, state="withdrawn", withdrawn_at=timezone.now())
    old = _lot(personas, published_at=day)
    draft = _lot(personas, state="draft", published_at=None)
    seller_b = personas["seller_b_maker"].organization_id
    assert flat.pk in _ids("kind=real_estate")
    assert base.pk not in _ids("kind=real_estate")
    assert _ids("region=Turkestan") == {flat.pk}
    assert dear.pk in _ids("price_from=5000000")
    assert base.pk not in _ids("price_from=5000000")
    assert dear.pk not in _ids("price_to=5000")
    assert base.pk in _ids("price_to=5000")
    assert other.pk in _ids(f"seller={seller_b}")
    assert base.pk not in _ids(f"seller={seller_b}")
    assert gone.pk in _ids("state=withdrawn")
    assert base.pk not in _ids("state=withdrawn")
    assert gone.pk not in _ids("state=published")
    # The filter's dates are Almaty's: after 19:00 UTC its date is already the next day.
    since = (timezone.localdate(day) + timedelta(days=1)).isoformat()
    assert old.pk not in _ids(f"published_from={since}")
    assert base.pk in _ids(f"published_from={since}")
    assert old.pk in _ids(f"published_to={since}")
    assert base.pk not in _ids(f"published_to={since}")
    assert _ids("q=sunny") == {flat.pk}
    assert _ids("q=TRACTOR") == {other.pk}
    assert draft.pk not in _ids("")
    assert draft.pk not in _ids("state=draft")
    # Nonsense is no filter and never an error.
    assert base.pk in _ids("kind=x&price_from=abc&seller=-1&published_from=2024-13-40&state=draft")
    # The page keeps the filters in the URL and shows what they keep.
    anon = client_as(None)
    html = anon.get("/?region=Turkestan&kind=real_estate").content.decode()
    assert "Sunny flat" in html
    assert "Catalogue car" not in html
    assert 'value="real_estate" selected' in html
    assert 'id="no-lots"' in anon.get("/?q=nothing-like-this").content.decode()
    # The public API takes the same filters.
    api = anon.get("/api/v1/public/lots?region=Turkestan").json()
    assert [row["id"] for row in api] == [flat.pk]
    assert anon.get("/api/v1/public/lots?price_from=abc&kind=x").status_code == 200


@pytest.mark.django_db
def test_keyset_pages_never_skip_or_repeat(personas: Personas, client_as: ClientAs) -> None:
    at = timezone.now()
    # Ties on the sort column (same price, same moment) are where a keyset page can go wrong.
    made = {
        _lot(personas, title=f"Walk {i}", start_price=Decimal(i % 3), published_at=at).pk
        for i in range(60)
    }
    for sort in ("-published", "published", "price", "-price"):
        seen: list[int] = []
        query = f"q=Walk&sort={sort}&page_size=25"
        while True:
            found, _filters = catalogue_page(QueryDict(query))
            seen += [row["id"] for row in found.rows]
            if not found.next_url:
                break
            query = found.next_url[1:]
        assert len(seen) == len(set(seen)) == 60, sort
        assert set(seen) == made, sort
    # The API's cursor: `after` = the last id read.
    anon = client_as(None)
    seen = []
    after = 0
    while True:
        rows = anon.get(f"/api/v1/public/lots?q=Walk&limit=7&after={after}").json()
        if not rows:
            break
        seen += [row["id"] for row in rows]
        after = rows[-1]["id"]
    assert len(seen) == len(set(seen)) == 60
    assert set(seen) == made
    # The page answers at phone width too: one list, no table to scroll.
    assert 'class="cards" id="lots"' in anon.get("/?q=Walk").content.decode()


@pytest.mark.django_db
def test_feed_is_monotonic_complete_and_settled(
    personas: Personas, client_as: ClientAs, settings: Any
) -> None:
    settings.AIPS_ETP_FEED_SETTLE_SECONDS = 0
    anon = client_as(None)
    start = anon.get("/api/v1/public/feed?since=0&limit=1000").json()["cursor"]
    lot = services.lot_create(
        actor=personas["seller_a_maker"],
        kind="vehicle",
        title="Feed car",
        region="Almaty",
        start_price="100",
        make="Lada",
        vehicle_year=2015,
    )
    services.lot_submit(actor=personas["seller_a_maker"], lot=lot)
    services.lot_approve(actor=personas["seller_a_signatory"], lot=lot)
    lot = services.lot_verify(actor=personas["operator_verifier"], lot=lot)
    services.lot_update(actor=personas["seller_a_maker"], lot=lot, title="Feed car, corrected")
    services.lot_withdraw(actor=personas["seller_a_signatory"], lot=lot, reason="Sold privately")
    kinds: list[str] = []
    seqs: list[int] = []
    cursor = start
    while True:
        answer = anon.get(f"/api/v1/public/feed?since={cursor}&limit=1").json()
        if not answer["changes"]:
            assert answer["cursor"] == cursor
            break
        change = answer["changes"][0]
        assert change["lot_id"] == lot.pk
        assert change["reference"] == lot.reference
        kinds.append(change["kind"])
        seqs.append(change["seq"])
        cursor = answer["cursor"]
    assert kinds == ["published", "corrected", "withdrawn"]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 3
    # A change younger than the settle delay waits (it might still be committing elsewhere).
    settings.AIPS_ETP_FEED_SETTLE_SECONDS = 60
    LotChange.objects.create(lot=lot, kind="corrected")
    assert anon.get(f"/api/v1/public/feed?since={cursor}").json()["changes"] == []


@pytest.mark.django_db
def test_public_api_rate_limit_answers_429(personas: Personas, settings: Any) -> None:
    settings.AIPS_ETP_PUBLIC_RATE = "2/m"
    client = Client(REMOTE_ADDR="203.0.113.77")
    assert client.get("/api/v1/public/lots").status_code == 200
    assert client.get("/api/v1/public/feed").status_code == 200
    refused = client.get("/api/v1/public/lots")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    # Another address has its own budget.
    assert Client(REMOTE_ADDR="203.0.113.78").get("/api/v1/public/lots").status_code == 200
