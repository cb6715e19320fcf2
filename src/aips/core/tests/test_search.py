"""The search seam (core/search.py) and the indicator page: a reference opens the item, text
finds cards, alerts and requests, an indicator finds everything that holds it, and nothing of
another organization's ever shows (R67.4)."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from aips.center.alerts import services as alert_services
from aips.center.alerts.tests.test_alerts import threat
from aips.center.incidents import services as incident_services
from aips.center.signals.tests.factories import ingest, module_actor, signal
from aips.conftest import card_data, submitted_card
from aips.core import search
from aips.core.templatetags.aips_search import indicator_url
from aips.shared.accounts.models import User

pytestmark = pytest.mark.django_db

# Held only by bank A's card, bank A's draft alert and bank A's signal.
BANK_A_IP = "185.220.101.77"


def _bank_a_world(personas: dict[str, User]) -> dict[str, Any]:
    maker = personas["bank_a_maker"]
    card = incident_services.card_create(
        actor=maker,
        **card_data(title="Skimmer found on the lobby terminal", indicators=[BANK_A_IP]),
    )
    alert = alert_services.alert_create(
        actor=maker, **threat(title="Skimmer wave", indicators=[BANK_A_IP])
    )
    ingest(module_actor(maker.organization), [signal("scan", src_ip=BANK_A_IP)])
    return {"card": card, "alert": alert}


def _groups(response: Any) -> dict[str, Any]:
    return {g.key: g for g in response.context["groups"]}


def test_parse_tells_references_indicators_and_text_apart() -> None:
    assert search.parse("INC-000012").reference == ("INC", 12)
    assert search.parse(" thr-7 ").reference == ("THR", 7)
    assert search.parse("CVE-2024-3094").indicator == search.Indicator("cve", "CVE-2024-3094")
    assert search.parse("198.51.100.7").indicator == search.Indicator("ip", "198.51.100.7")
    assert search.parse("Evil[.]Example.com").indicator == search.Indicator(
        "domain", "evil.example.com"
    )
    assert search.parse("a" * 64).indicator == search.Indicator("sha256", "a" * 64)
    phrase = search.parse("phishing campaign")
    assert phrase.reference is None
    assert phrase.indicator is None
    assert search.parse("phishing").indicator is None


def test_r67_4_reference_jumps_to_the_item_only_for_who_may_see_it(
    personas: dict[str, User], client_as: Callable[[str], Client]
) -> None:
    card, _attachment = submitted_card(personas)
    response = client_as("bank_a_maker").get("/search/", {"q": card.reference})
    assert response.status_code == 302
    assert response["Location"] == f"/incidents/{card.pk}/"
    lower = client_as("center_analyst").get("/search/", {"q": card.reference.lower()})
    assert lower.status_code == 302
    other = client_as("bank_b_head").get("/search/", {"q": card.reference})
    assert other.status_code == 200
    assert other.context["groups"] == []
    assert b'id="search-nothing"' in other.content


def test_r67_4_text_finds_a_card_by_title(
    personas: dict[str, User], client_as: Callable[[str], Client]
) -> None:
    card, _attachment = submitted_card(personas)
    response = client_as("center_analyst").get("/search/", {"q": "card PROCESSING"})
    assert response.status_code == 200
    cards = _groups(response)["incidents"]
    assert card.reference in [h.ref for h in cards.hits]
    assert (
        client_as("bank_b_maker").get("/search/", {"q": "card processing"}).context["groups"] == []
    )


def test_r67_8_indicator_finds_card_alert_and_signal(
    personas: dict[str, User], client_as: Callable[[str], Client]
) -> None:
    world = _bank_a_world(personas)
    response = client_as("bank_a_maker").get("/search/", {"q": BANK_A_IP})
    assert response.status_code == 200
    groups = _groups(response)
    assert [h.ref for h in groups["incidents"].hits] == [world["card"].reference]
    assert [h.ref for h in groups["alerts"].hits] == [world["alert"].reference]
    assert groups["signals"].count == 1
    assert f"/indicators/?value={BANK_A_IP}".encode() in response.content


def test_r67_4_bank_b_finds_nothing_of_bank_a(
    personas: dict[str, User], client_as: Callable[[str], Client]
) -> None:
    world = _bank_a_world(personas)
    bank_b = client_as("bank_b_head")
    for q in (world["card"].reference, world["alert"].reference, "Skimmer", BANK_A_IP):
        response = bank_b.get("/search/", {"q": q})
        assert response.status_code == 200, q
        assert response.context["groups"] == [], q
        assert b"lobby terminal" not in response.content, q
        assert b"Skimmer wave" not in response.content, q
    page = bank_b.get("/indicators/", {"value": BANK_A_IP})
    assert page.status_code == 200
    assert all(g.count == 0 for g in page.context["groups"])
    assert page.context["first"] is None
    assert b"lobby terminal" not in page.content
    assert b"Skimmer wave" not in page.content
    assert personas["bank_a_head"].organization.display_name.encode() not in page.content


def test_r67_8_indicator_page_counts_and_names_reporters_for_the_center(
    personas: dict[str, User], client_as: Callable[[str], Client]
) -> None:
    world = _bank_a_world(personas)
    incident_services.card_transition(
        actor=personas["bank_a_maker"], card=world["card"], name="request_approval"
    )
    incident_services.card_transition(
        actor=personas["bank_a_head"], card=world["card"], name="approve"
    )
    page = client_as("center_analyst").get("/indicators/", {"value": BANK_A_IP})
    assert page.status_code == 200
    counts = {g.key: g.count for g in page.context["groups"]}
    # The center never sees an organization's draft alert.
    assert counts == {"incidents": 1, "alerts": 0, "inquiries": 0, "signals": 1, "findings": 0}
    assert page.context["first"] is not None
    assert page.context["last"] is not None
    assert b'id="indicator-organizations"' in page.content
    assert personas["bank_a_head"].organization.display_name.encode() in page.content
    own = client_as("bank_a_head").get("/indicators/", {"value": BANK_A_IP})
    assert b'id="indicator-organizations"' not in own.content


def test_r57_28_4_bad_input_is_a_message_not_an_error(
    client_as: Callable[[str], Client],
) -> None:
    client = client_as("bank_a_maker")
    assert client.get("/search/", {"q": "a\x00b"}).status_code == 422
    assert client.get("/indicators/", {"value": "not an indicator"}).status_code == 422
    assert client.get("/search/", {"q": "x" * 5000}).status_code == 200
    assert client.get("/search/", {"q": ""}).status_code == 200
    assert client.get("/indicators/").status_code == 200


def test_r67_8_the_signals_pivot_links_to_the_indicator_page(
    client_as: Callable[[str], Client],
) -> None:
    page = client_as("center_analyst").get("/signals/indicator/", {"value": "Evil.Example.com"})
    assert page.status_code == 200
    assert b'href="/indicators/?value=evil.example.com"' in page.content
    assert indicator_url("a b&c") == "/indicators/?value=a+b%26c"
    assert indicator_url("") == ""


def test_postgresql_has_the_trigram_indexes_the_text_search_uses() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's trigram indexes; SQLite's trigram table: test_fulltext_parts.py")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", ["%\\_trgm"])
        names = {row[0] for row in cursor.fetchall()}
    assert {
        "incidents_incidentcard_title_trgm",
        "incidents_incidentcard_indicators_trgm",
        "alerts_alert_description_trgm",
        "inquiries_inquiry_body_trgm",
    } <= names
