"""The home page's incident queries read through indexes (issue 15, item 1: p95 <= 100 ms with
100,000 cards, scripts/bench_home.py); these tests pin that the faster forms return exactly what
the plain ones did."""

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Count, F
from django.utils import timezone

from aips.center.incidents import selectors
from aips.center.incidents.models import CardState, IncidentCard
from aips.conftest import card_data

pytestmark = pytest.mark.django_db


def _cards(personas: dict[str, Any], n: int) -> list[IncidentCard]:
    maker = personas["bank_a_maker"]
    data = card_data()
    return IncidentCard.objects.bulk_create(
        IncidentCard(
            organization_id=maker.organization_id,
            created_by=maker,
            state=CardState.SUBMITTED,
            version=1,
            **{**data, "title": f"Queue card {i}"},
        )
        for i in range(n)
    )


def test_most_urgent_keeps_deadline_nulls_last_order(personas: dict[str, Any]) -> None:
    cards = _cards(personas, 30)
    now = timezone.now()
    for i, card in enumerate(cards):
        # A third with deadlines (some equal, some past), the rest waiting since various times.
        deadline = now + timedelta(hours=(i % 4) - 2) if i % 3 == 0 else None
        IncidentCard.objects.filter(pk=card.pk).update(
            deadline_at=deadline, updated_at=now - timedelta(minutes=(i * 7) % 11)
        )
    qs = IncidentCard.objects.visible_to(personas["center_analyst"]).filter(
        state=CardState.SUBMITTED, title__startswith="Queue card"
    )
    plain = list(qs.order_by(F("deadline_at").asc(nulls_last=True), "updated_at", "id"))
    for limit in (5, 10, 11, 20, 40):
        assert selectors._most_urgent(qs, limit) == plain[:limit]


def test_overdue_tile_counts_as_the_plain_query(personas: dict[str, Any]) -> None:
    analyst = personas["center_analyst"]
    cards = _cards(personas, 4)
    now = timezone.now()
    IncidentCard.objects.filter(pk__in=[c.pk for c in cards[:3]]).update(
        state=CardState.RETURNED, deadline_at=now - timedelta(hours=1)
    )
    base = IncidentCard.objects.visible_to(analyst)
    expected = list(
        base.filter(deadline_at__lt=timezone.now())
        .values("organization_id")
        .annotate(n=Count("id"))
        .order_by("-n", "organization__name")
    )
    tile = next(t for t in selectors.center_tiles(analyst) if t.key == "incidents.overdue")
    assert tile.value == sum(r["n"] for r in expected) >= 3
    assert [row.value for row in tile.rows] == [r["n"] for r in expected][:5]
