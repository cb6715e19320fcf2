"""Lists (issue 15, item 4): sort by column both ways, a text filter, filters kept in the URL
across pages, bounded page sizes, saved filters per person, and a CSV export of exactly the
rows the list shows (R57.28.4: injection-safe)."""

import csv
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from aips.center.incidents import services as incident_services
from aips.conftest import card_data, published_alert
from aips.core.listing import DEFAULT_PAGE_SIZE
from aips.shared.accounts.models import SavedFilter
from aips.shared.audit.models import AuditEvent

LIST = "/incidents/"


def _cards(personas: dict[str, Any], titles: list[str]) -> list[Any]:
    maker = personas["bank_a_maker"]
    return [incident_services.card_create(actor=maker, **card_data(title=t)) for t in titles]


def _shown(client: Client, query: str = "") -> list[str]:
    response = client.get(LIST + query)
    assert response.status_code == 200
    return re.findall(r'data-card="(INC-\d+)"', response.content.decode())


def test_sort_by_a_column_both_ways(
    personas: dict[str, Any], client_as: Callable[..., Client]
) -> None:
    cards = _cards(personas, ["Bravo outage", "Alpha breach", "Charlie leak"])
    client = client_as("bank_a_maker")
    by_title = [c.reference for c in sorted(cards, key=lambda c: c.title)]
    assert _shown(client, "?sort=title") == by_title
    assert _shown(client, "?sort=-title") == by_title[::-1]
    # The header of the sorted column says so, and its link turns the order round.
    page = client.get(LIST + "?sort=reference").content.decode()
    assert 'aria-sort="ascending"' in page
    assert "sort=-reference" in page


def test_text_filter(personas: dict[str, Any], client_as: Callable[..., Client]) -> None:
    cards = _cards(personas, ["Phishing wave", "DDoS on gateway"])
    client = client_as("bank_a_maker")
    assert _shown(client, "?q=phish") == [cards[0].reference]
    assert _shown(client, "?q=%00phish") == [cards[0].reference]  # NUL dropped, no 500


def test_filters_survive_paging(personas: dict[str, Any], client_as: Callable[..., Client]) -> None:
    _cards(personas, [f"Wave {i:02d}" for i in range(30)] + ["Other"])
    client = client_as("bank_a_maker")
    first = client.get(LIST + "?q=wave&sort=title&kind=unauthorized_access").content.decode()
    assert len(re.findall(r'data-card="', first)) == DEFAULT_PAGE_SIZE
    next_url = re.search(r'rel="next" href="([^"]+)"', first)
    assert next_url is not None
    link = next_url.group(1).replace("&amp;", "&")
    for kept in ("q=wave", "sort=title", "kind=unauthorized_access"):
        assert kept in link
    second = client.get(LIST + link)
    titles = re.findall(r"Wave (\d\d)", second.content.decode())
    assert titles == [f"{i:02d}" for i in range(25, 30)]
    assert 'rel="next"' not in second.content.decode()


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.mark.parametrize("sort", ["-reference", "title", "-title", "deadline", "-deadline"])
def test_next_and_previous_pages_neither_skip_nor_repeat_a_row(
    sort: str, personas: dict[str, Any], client_as: Callable[..., Client]
) -> None:
    """Forwards to the last page, then backwards to the first: every row once each way, in the
    list's order, and the pages going back are the pages that went forward. Ties on the sort
    column (one title four times) and empty values (no deadline on drafts) included."""
    from datetime import timedelta

    from django.utils import timezone

    from aips.center.incidents.models import IncidentCard

    cards = _cards(personas, [f"Wave {i % 9}" for i in range(58)] + ["Same"] * 4)
    # Some cards get a deadline (two share one), the rest keep none.
    now = timezone.now()
    for n, card in enumerate(cards[:12]):
        IncidentCard.objects.filter(pk=card.pk).update(deadline_at=now + timedelta(hours=n // 2))
    client = client_as("bank_a_maker")
    query = f"?sort={sort}&page_size=25&kind=unauthorized_access"
    everything = _shown(client, f"?sort={sort}&page_size=100")
    assert len(everything) == len(cards)
    pages: list[list[str]] = []
    url: str | None = query
    while url:
        html = client.get(LIST + url).content.decode()
        pages.append(re.findall(r'data-card="(INC-\d+)"', html))
        assert (_link(html, "prev") is None) == (len(pages) == 1)
        last_html, url = html, _link(html, "next")
        if url:
            assert "kind=unauthorized_access" in url
            assert f"sort={sort}" in url
    assert [ref for p in pages for ref in p] == everything
    assert len(pages) == 3
    back: list[list[str]] = [pages[-1]]
    url = _link(last_html, "prev")
    while url:
        html = client.get(LIST + url).content.decode()
        back.append(re.findall(r'data-card="(INC-\d+)"', html))
        assert _link(html, "next") is not None
        assert "kind=unauthorized_access" in url
        url = _link(html, "prev")
    assert back[::-1] == pages


def test_previous_page_near_the_start_is_the_first_page(
    personas: dict[str, Any], client_as: Callable[..., Client]
) -> None:
    """Rows removed before the current page leave less than a page before it: "previous"
    then shows the first page, whole, and the next link follows on from its last row."""
    from aips.center.incidents.models import IncidentCard

    cards = _cards(personas, [f"Row {i:02d}" for i in range(60)])
    client = client_as("bank_a_maker")
    first = client.get(LIST + "?sort=title").content.decode()
    second_url = _link(first, "next")
    assert second_url is not None
    second = client.get(LIST + second_url).content.decode()
    third_url = _link(second, "next")
    assert third_url is not None
    third = client.get(LIST + third_url).content.decode()
    assert re.findall(r"Row (\d\d)", third)[0] == "50"
    # Drafts are deleted (a test shortcut): the 50 rows before the third page shrink to 20.
    IncidentCard.objects.filter(pk__in=[c.pk for c in cards[10:40]]).delete()
    prev_url = _link(third, "prev")
    assert prev_url is not None
    back = client.get(LIST + prev_url).content.decode()
    shown = re.findall(r"Row (\d\d)", back)
    assert shown == [f"{i:02d}" for i in [*range(10), *range(40, 55)]]
    assert _link(back, "prev") is None
    after = _link(back, "next")
    assert after is not None
    assert re.findall(r"Row (\d\d)", client.get(LIST + after).content.decode())[0] == "55"


@pytest.mark.parametrize(
    "query",
    [
        "?page_size=7",
        "?page_size=abc",
        "?page_size=100000",
        "?sort=password",
        "?after=forged",
        "?before=forged",
        "?before=x&after=y",
        "?sort=-",
        "?q=" + "x" * 5000,
    ],
)
def test_bad_list_parameters_fall_back_to_defaults(
    query: str, personas: dict[str, Any], client_as: Callable[..., Client]
) -> None:
    _cards(personas, ["One"])
    for url in ("/incidents/", "/alerts/", "/requests/"):
        response = client_as("bank_a_maker").get(url + query)
        assert response.status_code == 200, url
    assert 'value="25" selected' in client_as("bank_a_maker").get(LIST + query).content.decode()


def test_page_size_is_one_of_the_offered(
    personas: dict[str, Any], client_as: Callable[..., Client]
) -> None:
    _cards(personas, [f"Row {i}" for i in range(30)])
    assert len(_shown(client_as("bank_a_maker"), "?page_size=50")) == 30
    assert len(_shown(client_as("bank_a_maker"), "?page_size=25")) == 25


def test_saved_filter_create_list_delete_and_isolation(
    personas: dict[str, Any], client_as: Callable[..., Client]
) -> None:
    maker = client_as("bank_a_maker")
    response = maker.post(
        reverse("accounts:saved_filter_create"),
        {
            "list_name": "incidents",
            "name": "Phishing",
            "query_string": "q=phish&after=x&sort=-title",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/incidents/?q=phish&sort=-title"
    saved = SavedFilter.objects.get(user=personas["bank_a_maker"])
    assert saved.query_string == "q=phish&sort=-title"
    assert AuditEvent.objects.filter(event="list:filter_saved", target_id=str(saved.pk)).exists()
    assert f'data-saved-filter="{saved.pk}"' in maker.get(LIST).content.decode()
    # Another person, of the same bank or of the center, neither sees nor deletes it.
    for other in ("bank_a_head", "center_admin"):
        client = client_as(other)
        assert f'data-saved-filter="{saved.pk}"' not in client.get(LIST).content.decode()
        delete = reverse("accounts:saved_filter_delete", args=[saved.pk])
        assert client.post(delete).status_code == 404
    # Unknown lists and empty names are refused without a 500.
    bad = maker.post(reverse("accounts:saved_filter_create"), {"list_name": "nope", "name": "x"})
    assert bad.status_code == 302
    assert SavedFilter.objects.count() == 1
    maker.post(reverse("accounts:saved_filter_create"), {"list_name": "alerts", "name": ""})
    assert SavedFilter.objects.count() == 1
    assert maker.post(reverse("accounts:saved_filter_delete", args=[saved.pk])).status_code == 302
    assert not SavedFilter.objects.exists()
    assert AuditEvent.objects.filter(event="list:filter_deleted").exists()


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_r57_28_4_csv_equals_the_list_and_is_injection_safe(
    personas: dict[str, Any], client_as: Callable[..., Client]
) -> None:
    _cards(personas, ["=cmd|' /C calc'!A0", "Normal wave", "+SUM(1)", "Unrelated"])
    client = client_as("bank_a_maker")
    query = "?sort=title&q=%2B&page_size=25"
    rows = _csv(client.get(reverse("incidents:list_csv") + query))
    assert rows[0][0] == "card"
    assert [r[0] for r in rows[1:]] == _shown(client, query)
    assert rows[1][1] == "'+SUM(1)"
    everything = _csv(client.get(reverse("incidents:list_csv") + "?sort=title"))
    assert [r[0] for r in everything[1:]] == _shown(client, "?sort=title")
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in everything for cell in r)
    assert AuditEvent.objects.filter(event="list:exported").count() == 2


def test_csv_of_alerts_and_requests_shows_only_the_readers_rows(
    personas: dict[str, Any], client_as: Callable[..., Client]
) -> None:
    alert = published_alert(personas)
    _cards(personas, ["Bank A only"])
    rows = _csv(client_as("bank_b_head").get(reverse("alerts:list_csv")))
    assert [r[0] for r in rows[1:]] == [alert.reference]
    assert _csv(client_as("bank_b_head").get(reverse("incidents:list_csv")))[1:] == []
    assert _csv(client_as("bank_b_head").get(reverse("inquiries:list_csv")))[0][0] == "request"


def test_fifty_rows_stay_compact() -> None:
    """Fifty rows must not take 5,000 px: list rows are one line of text each, not padded
    boxes (the list table's CSS keeps padding and line height small)."""
    from pathlib import Path

    css = (Path(__file__).parents[1] / "static" / "aips" / "aips.css").read_text()
    assert "table.list td" in css
