"""The home page as "my work" (issue 15, item 1): per role, what waits for this person's next
step, with its deadline, overdue first; what is new since the last visit; the center's tiles.
Nothing of another organization's."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from aips.center.incidents import services as incident_services
from aips.center.incidents.models import IncidentCard
from aips.conftest import card_data, published_alert, submitted_card

pytestmark = pytest.mark.django_db


def _home(client: Client) -> tuple[str, Any]:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode(), response.context["home"]


def _refs(home: Any) -> list[str]:
    return [item.ref for item in home.queue]


def _awaiting(personas: dict[str, Any], *, overdue: bool = False) -> IncidentCard:
    """A bank A card awaiting its head's approval; with `overdue`, one the center returned whose
    rework deadline has passed (the deadline is kept while the head decides)."""
    maker = personas["bank_a_maker"]
    if overdue:
        card, _attachment = submitted_card(personas)
        card = incident_services.card_transition(
            actor=personas["center_analyst"], card=card, name="return", comment="Add the vector"
        )
        IncidentCard.objects.filter(pk=card.pk).update(
            deadline_at=timezone.now() - timedelta(hours=3)
        )
        card.refresh_from_db()
    else:
        card = incident_services.card_create(actor=maker, **card_data(title="Fresh card"))
    return incident_services.card_transition(actor=maker, card=card, name="request_approval")


def test_r67_15_bank_head_sees_cards_to_approve_overdue_first(
    personas: dict[str, Any], client_as: Any
) -> None:
    fresh = _awaiting(personas)
    late = _awaiting(personas, overdue=True)
    html, home = _home(client_as("bank_a_head"))
    refs = _refs(home)
    assert late.reference in refs
    assert fresh.reference in refs
    assert refs.index(late.reference) < refs.index(fresh.reference)
    item = next(i for i in home.queue if i.ref == late.reference)
    assert item.deadline == late.deadline_at
    assert item.overdue_at(home.now)
    assert home.overdue >= 1
    group = next(g for g in home.groups if g.key == "incidents.approve")
    assert group.count >= 2
    assert "state=awaiting_approval" in group.url
    assert 'class="is-overdue"' in html
    assert late.reference in html


def test_r67_15_maker_sees_the_returned_card_to_fix(
    personas: dict[str, Any], client_as: Any
) -> None:
    card, _attachment = submitted_card(personas)
    card = incident_services.card_transition(
        actor=personas["center_analyst"], card=card, name="return", comment="Add the vector"
    )
    _html, home = _home(client_as("bank_a_maker"))
    item = next(i for i in home.queue if i.ref == card.reference)
    assert item.deadline == card.deadline_at
    assert any(g.key == "incidents.fix" for g in home.groups)
    # The maker does not approve: the card awaiting approval is the head's, not theirs.
    assert not any(g.key == "incidents.approve" for g in home.groups)


def test_r67_12_center_analyst_sees_incoming_cards_and_tiles(
    personas: dict[str, Any], client_as: Any
) -> None:
    card, _attachment = submitted_card(personas)
    html, home = _home(client_as("center_analyst"))
    assert card.reference in _refs(home)
    tiles = {t.key: t for t in home.tiles}
    assert tiles["incidents.incoming"].value >= 1
    assert {"alerts.compliance", "requests.overdue", "signals.findings"} <= set(tiles)
    assert 'data-tile="incidents.incoming"' in html


def test_r67_13_bank_head_sees_alert_to_acknowledge_with_its_deadline(
    personas: dict[str, Any], client_as: Any
) -> None:
    alert = published_alert(personas)
    _html, home = _home(client_as("bank_a_head"))
    item = next(i for i in home.queue if i.ref == alert.reference)
    assert item.deadline is not None
    assert not item.overdue_at(home.now)


def test_r67_4_bank_b_sees_nothing_of_bank_a(personas: dict[str, Any], client_as: Any) -> None:
    late = _awaiting(personas, overdue=True)
    returned, _attachment = submitted_card(personas)
    incident_services.card_transition(
        actor=personas["center_analyst"], card=returned, name="return", comment="More detail"
    )
    for key in ("bank_b_head", "bank_b_maker"):
        html, home = _home(client_as(key))
        assert late.reference not in html
        assert returned.reference not in html
        assert not home.tiles or all(t.key.startswith("signals.") for t in home.tiles)


def test_since_last_visit_marks_what_arrived(personas: dict[str, Any], client_as: Any) -> None:
    client = client_as("bank_a_head")
    _html, _first = _home(client)
    card = _awaiting(personas)
    html, second = _home(client)
    assert second.since is not None
    assert card.reference in [i.ref for i in second.new]
    assert 'data-new="' in html


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_home_renders_in_russian_and_kazakh(
    personas: dict[str, Any], client_as: Any, language: str
) -> None:
    card = _awaiting(personas)
    for key in ("bank_a_head", "center_analyst"):
        client = client_as(key)
        client.cookies["aips_language"] = language
        response = client.get("/", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        assert f'lang="{language}"' in response.content.decode()
    assert card.reference in client_as("bank_a_head").get("/").content.decode()
