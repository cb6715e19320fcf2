"""The explorer and the signal API for people: tenant isolation (R67.4), keyset pagination,
filters, the indicator pivot, the histogram and the dashboard (R67.3.6, R67.8)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse

from aips.center.signals.models import Signal
from aips.center.signals.tests.factories import ingest, module_actor, signal

pytestmark = pytest.mark.django_db(transaction=False)

SHARED_IP = "185.220.101.4"
HASH = "e" * 64


@pytest.fixture
def fleet(personas: dict[str, Any]) -> dict[str, Any]:
    """Bank A: 3 signals (one from the shared address, one with a file hash); bank B: 2 (one
    from the shared address)."""
    a = module_actor(personas["bank_a_head"].organization)
    b = module_actor(personas["bank_b_head"].organization)
    ingest(
        a,
        [
            signal("ids", src_ip=SHARED_IP),
            signal("endpoint", sha256=HASH),
            signal("brute_force", src_ip="45.155.205.9"),
        ],
    )
    ingest(b, [signal("scan", src_ip=SHARED_IP), signal("waf", src_ip="91.240.118.1")])
    return {
        "a": a,
        "b": b,
        "a_ids": set(
            Signal.objects.filter(organization_id=a.organization_id).values_list("seq", flat=True)
        ),
        "b_ids": set(
            Signal.objects.filter(organization_id=b.organization_id).values_list("seq", flat=True)
        ),
    }


def _seqs(response: Any) -> set[int]:
    return {int(tr.split('"')[0]) for tr in response.content.decode().split('data-seq="')[1:]}


def test_r67_4_r67_3_6_feed_shows_each_organization_only_its_own(
    fleet: dict[str, Any], client_as: Any
) -> None:
    ui_b = client_as("bank_b_maker").get(reverse("signals:list"))
    assert ui_b.status_code == 200
    assert _seqs(ui_b) == fleet["b_ids"]
    ui_center = client_as("center_analyst").get(reverse("signals:list"))
    assert _seqs(ui_center) == fleet["a_ids"] | fleet["b_ids"]
    api_b = client_as("bank_b_head").get("/api/v1/signals").json()
    assert {s["seq"] for s in api_b["items"]} == fleet["b_ids"]
    # An organization cannot widen its view by naming another organization.
    other = client_as("bank_b_head").get(
        "/api/v1/signals", {"organization_id": fleet["a"].organization_id}
    )
    assert other.json()["items"] == []


def test_r67_4_r67_3_6_detail_of_another_organizations_signal_is_404(
    fleet: dict[str, Any], client_as: Any
) -> None:
    seq = min(fleet["a_ids"])
    assert client_as("bank_b_head").get(reverse("signals:detail", args=[seq])).status_code == 404
    assert client_as("bank_b_head").get(f"/api/v1/signals/{seq}").status_code == 404
    own = client_as("bank_a_viewer").get(reverse("signals:detail", args=[seq]))
    assert own.status_code == 200
    assert "Suricata" in own.content.decode()
    assert client_as("center_admin").get(f"/api/v1/signals/{seq}").status_code == 200


def test_r67_4_r67_8_pivot_shows_an_organization_only_its_own_sighting(
    fleet: dict[str, Any], client_as: Any
) -> None:
    a_org, b_org = fleet["a"].organization_id, fleet["b"].organization_id
    page_b = client_as("bank_b_head").get(reverse("signals:indicator"), {"value": SHARED_IP})
    html = page_b.content.decode()
    assert f'data-organization="{b_org}"' in html
    assert f'data-organization="{a_org}"' not in html
    assert _seqs(page_b) <= fleet["b_ids"]
    assert _seqs(page_b)
    page_center = client_as("center_analyst").get(
        reverse("signals:indicator"), {"value": SHARED_IP}
    )
    html = page_center.content.decode()
    assert f'data-organization="{a_org}"' in html
    assert f'data-organization="{b_org}"' in html
    assert len(_seqs(page_center)) == 2
    api_b = client_as("bank_b_head").get(f"/api/v1/signals/indicators/{SHARED_IP}").json()
    assert [s["organization_id"] for s in api_b["sightings"]] == [b_org]
    api_center = client_as("center_admin").get(f"/api/v1/signals/indicators/{SHARED_IP}").json()
    assert api_center["organizations"] == 2
    # Bank B never saw bank A's hash: nothing about it, not even that someone else did.
    hidden = client_as("bank_b_head").get(f"/api/v1/signals/indicators/{HASH}").json()
    assert hidden["sightings"] == []
    assert hidden["organizations"] == 0


def test_r67_4_histogram_counts_only_what_the_reader_may_see(
    fleet: dict[str, Any], client_as: Any
) -> None:
    def total(persona: str, **params: Any) -> int:
        body = client_as(persona).get("/api/v1/signals/histogram", params).json()
        assert len(body["buckets"]) in (24, 25)
        return sum(b["count"] for b in body["buckets"])

    assert total("bank_b_head") == 2
    assert total("bank_a_head") == 3
    assert total("center_analyst") == 5
    assert total("center_analyst", kind="scan") == 1
    assert total("center_analyst", organization_id=fleet["a"].organization_id) == 3
    assert total("bank_b_head", organization_id=fleet["a"].organization_id) == 0
    page = client_as("bank_b_head").get(reverse("signals:list"), {"period": "7d"})
    assert "last 7 days: 2" in page.content.decode()
    svg = client_as("center_admin").get(reverse("signals:list")).content.decode()
    assert "<svg" in svg
    assert "style=" not in svg.split("<svg", 1)[1].split("</svg>")[0]


def test_r67_3_6_keyset_pages_have_no_gaps_or_duplicates_with_equal_times(
    personas: dict[str, Any], client_as: Any
) -> None:
    actor = module_actor(personas["bank_a_head"].organization)
    same = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    items = [signal("ids", observed_at=same.isoformat()) for _ in range(17)]
    items += [
        signal("ids", observed_at=(same - timedelta(seconds=1)).isoformat()) for _ in range(6)
    ]
    ingest(actor, items)
    expected = list(Signal.objects.order_by("-observed_at", "-seq").values_list("seq", flat=True))
    client = client_as("bank_a_head")
    seen: list[int] = []
    cursor = None
    for _page in range(10):
        params: dict[str, Any] = {"limit": 5}
        if cursor:
            params["cursor"] = cursor
        body = client.get("/api/v1/signals", params).json()
        seen += [s["seq"] for s in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == expected
    # The web feed pages the same way through its "Older" link (50 a page).
    first = client.get(reverse("signals:list"))
    assert _seqs(first) == set(expected)
    assert 'id="older"' not in first.content.decode()


def test_r67_3_6_web_feed_older_link_continues_where_the_page_ended(
    personas: dict[str, Any], client_as: Any
) -> None:
    actor = module_actor(personas["bank_a_head"].organization)
    ingest(actor, [signal("scan") for _ in range(60)])
    client = client_as("bank_a_head")
    first = client.get(reverse("signals:list"), {"kind": "scan"})
    html = first.content.decode()
    link = html.split('id="older"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    assert "kind=scan" in link
    assert "cursor=" in link
    second = client.get(reverse("signals:list") + link)
    assert len(_seqs(first)) == 50
    assert len(_seqs(second)) == 10
    assert not _seqs(first) & _seqs(second)


def test_r67_3_6_bad_cursor_is_a_field_error(fleet: dict[str, Any], client_as: Any) -> None:
    response = client_as("bank_a_head").get("/api/v1/signals", {"cursor": "bogus"})
    assert response.status_code == 422
    assert "cursor" in response.json()["error"]["fields"]
    page = client_as("bank_a_head").get(reverse("signals:list"), {"cursor": "bogus"})
    assert page.status_code == 422


def test_r67_8_filters_by_kind_time_organization_and_indicator(
    fleet: dict[str, Any], client_as: Any
) -> None:
    center = client_as("center_admin")

    def seqs(**params: Any) -> set[int]:
        return {s["seq"] for s in center.get("/api/v1/signals", params).json()["items"]}

    everything = fleet["a_ids"] | fleet["b_ids"]
    kinds = dict(Signal.objects.values_list("seq", "kind"))
    assert seqs(kind="scan") == {s for s in everything if kinds[s] == "scan"}
    assert seqs(organization_id=fleet["a"].organization_id) == fleet["a_ids"]
    assert len(seqs(indicator=SHARED_IP)) == 2
    assert len(seqs(indicator=HASH.upper())) == 1
    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    assert seqs(since=future) == set()
    past = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    assert seqs(until=past) == set()
    # The web form: organization (the center only), kind, preset period, indicator.
    page = center.get(
        reverse("signals:list"),
        {"organization": fleet["b"].organization_id, "kind": "scan", "period": "1h"},
    )
    assert _seqs(page) == {s for s in fleet["b_ids"] if kinds[s] == "scan"}
    page = center.get(reverse("signals:list"), {"indicator": SHARED_IP, "period": "24h"})
    assert len(_seqs(page)) == 2
    own = client_as("bank_a_head").get(reverse("signals:list"))
    assert 'name="organization"' not in own.content.decode()
    bad = center.get(
        reverse("signals:list"), {"since": "2026-05-02T10:00", "until": "2026-05-01T10:00"}
    )
    assert bad.status_code == 422


def test_r67_4_dashboard_reads_rollups_of_what_the_reader_may_see(
    fleet: dict[str, Any], client_as: Any, settings: Any
) -> None:
    from aips.center.signals.services import correlate

    settings.AIPS_CORRELATION_MIN_ORGS = 2
    correlate()  # the center's top indicators are the correlated ones
    center = client_as("center_analyst").get(reverse("signals:dashboard")).content.decode()
    assert 'id="dashboard-total">5<' in center
    assert f'data-organization="{fleet["a"].organization_id}"' in center
    assert SHARED_IP in center
    own = client_as("bank_b_head").get(reverse("signals:dashboard")).content.decode()
    assert 'id="dashboard-total">2<' in own
    assert f'data-organization="{fleet["a"].organization_id}"' not in own
    assert HASH not in own


def test_r67_4_the_auditor_sees_no_signals(fleet: dict[str, Any], client_as: Any) -> None:
    auditor = client_as("auditor")
    assert auditor.get(reverse("signals:list")).status_code == 403
    assert auditor.get("/api/v1/signals").status_code == 403


def test_r67_8_signal_api_returns_every_stored_field(
    personas: dict[str, Any], client_as: Any
) -> None:
    """first_seen, last_seen and product_version are stored, so the API returns them."""
    a = module_actor(personas["bank_a_head"].organization)
    first = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    ingest(
        a,
        [
            signal(
                "ids",
                product_version="7.0.3",
                count=5,
                first_seen=first.isoformat(),
                last_seen=(first + timedelta(minutes=3)).isoformat(),
            )
        ],
    )
    stored = Signal.objects.get(organization_id=a.organization_id)
    body = client_as("bank_a_head").get(f"/api/v1/signals/{stored.seq}").json()
    assert body["product_version"] == "7.0.3"
    assert datetime.fromisoformat(body["first_seen"]) == first
    assert datetime.fromisoformat(body["last_seen"]) == first + timedelta(minutes=3)
    model_fields = {
        f.attname.removesuffix("_id") if f.attname.endswith("_id") and f.is_relation else f.name
        for f in Signal._meta.concrete_fields
    }
    returned = set(body) | {"organization", "module"}
    assert model_fields - returned == set()
    listed = client_as("bank_a_head").get("/api/v1/signals").json()["items"][0]
    assert listed["product_version"] == "7.0.3"
    assert listed["first_seen"] is not None
