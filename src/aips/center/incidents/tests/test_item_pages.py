"""Item pages (issue 15, item 5) through the incident card: the return reason at the top, a
timeline of every status change (who, when, from → to), a readable difference between two
submissions, and a confirmation before an irreversible step. The partials and helpers are the
workflow platform's, shared with alerts and requests."""

import re
from collections.abc import Callable

from django.test import Client

from aips.center.incidents import services
from aips.center.incidents.models import IncidentCard
from aips.conftest import card_data
from aips.shared.accounts.models import User
from aips.shared.workflow.models import StateChange

REASON = "Say which customer data was viewed."


def _returned(personas: dict[str, User]) -> IncidentCard:
    card = services.card_create(actor=personas["bank_a_maker"], **card_data())
    for who, name, comment in [
        ("bank_a_maker", "request_approval", ""),
        ("bank_a_head", "approve", ""),
        ("center_analyst", "return", REASON),
    ]:
        card = services.card_transition(actor=personas[who], card=card, name=name, comment=comment)
    return card


def _resubmitted(personas: dict[str, User]) -> IncidentCard:
    card = _returned(personas)
    services.card_update(
        actor=personas["bank_a_maker"],
        card=card,
        impact="Exposure of operator accounts\n14 customer profiles viewed",
        indicators=["203.0.113.7", "198.51.100.9"],
    )
    for who, name in [("bank_a_maker", "request_approval"), ("bank_a_head", "approve")]:
        card = services.card_transition(actor=personas[who], card=card, name=name)
    return card


def test_r67_15_returned_card_shows_its_reason_before_the_properties(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    card = _returned(personas)
    html = client_as("bank_a_maker").get(f"/incidents/{card.pk}/").content.decode()
    top = html.index('id="returned-reason"')
    assert top < html.index('class="props"')
    assert top < html.index('id="actions"') < html.index('class="props"')
    box = html[top : html.index("</div>", top)]
    assert REASON in box
    assert personas["center_analyst"].full_name in box


def test_r67_15_no_reason_box_once_the_card_moved_on(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    card = _resubmitted(personas)
    html = client_as("center_analyst").get(f"/incidents/{card.pk}/").content.decode()
    assert 'id="returned-reason"' not in html


def test_r67_3_4_timeline_lists_who_when_and_from_to_for_every_transition(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    card = _resubmitted(personas)
    changes = list(StateChange.objects.for_item(card))
    assert [(c.from_state, c.to_state) for c in changes] == [
        ("draft", "awaiting_approval"),
        ("awaiting_approval", "submitted"),
        ("submitted", "returned"),
        ("returned", "awaiting_approval"),
        ("awaiting_approval", "submitted"),
    ]
    page = client_as("bank_a_maker").get(f"/incidents/{card.pk}/")
    steps = [e for e in page.context["entries"] if e.kind == "step"]
    assert [(e.who, e.from_label, e.to_label) for e in steps] == [
        (personas["bank_a_maker"].full_name, "Draft", "Awaiting the head's approval"),
        (
            personas["bank_a_head"].full_name,
            "Awaiting the head's approval",
            "Submitted to the center",
        ),
        (personas["center_analyst"].full_name, "Submitted to the center", "Returned for rework"),
        (personas["bank_a_maker"].full_name, "Returned for rework", "Awaiting the head's approval"),
        (
            personas["bank_a_head"].full_name,
            "Awaiting the head's approval",
            "Submitted to the center",
        ),
    ]
    # The return's reason travels with its step rather than as a loose comment.
    assert [e.body for e in steps if e.transition == "return"] == [REASON]
    html = page.content.decode()
    assert html.count('data-kind="step"') == 5
    assert 'Draft</span> → <span class="to">Awaiting the head&#x27;s approval' in html


def test_r67_3_4_timeline_keeps_comments_and_internal_notes(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    card = _returned(personas)
    services.comment_add(actor=personas["center_analyst"], card=card, body="Seen", internal=False)
    services.comment_add(
        actor=personas["center_analyst"], card=card, body="Call them", internal=True
    )
    center = client_as("center_analyst").get(f"/incidents/{card.pk}/").context["entries"]
    assert [e.kind for e in center][-2:] == ["comment", "note"]
    bank = client_as("bank_a_maker").get(f"/incidents/{card.pk}/").context["entries"]
    assert "Call them" not in [e.body for e in bank]
    assert "Seen" in [e.body for e in bank]


def test_r67_3_4_diff_shows_field_labels_and_indicator_lines(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    card = _resubmitted(personas)
    page = client_as("center_analyst").get(f"/incidents/{card.pk}/")
    changes = {c.label: (c.removed, c.added) for c in page.context["changes"]}
    # One indicator kept, one removed, one added: only the two that moved, each on its line.
    assert changes["Indicators of compromise"] == (
        ["Domain: evil.example.com"],
        ["IP address: 198.51.100.9"],
    )
    assert changes["Impact"] == ([], ["14 customer profiles viewed"])
    html = page.content.decode()
    diff = html[html.index('id="version-diff"') :]
    diff = diff[: diff.index("</dl>")]
    assert "<dt>Indicators of compromise</dt>" in diff
    assert '<li class="removed">' in diff
    assert '<li class="added">' in diff
    assert "[{" not in diff
    assert "{&#x27;" not in diff
    assert not re.search(r"<dt>[a-z]", diff)  # labels, not lower-case field names


def test_r67_15_accept_without_confirmation_is_refused_and_changes_nothing(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    card = _resubmitted(personas)
    center = client_as("center_analyst")
    page = center.get(f"/incidents/{card.pk}/").content.decode()
    button = page.index('data-transition="accept"')
    form = page[page.rindex("<form", 0, button) : button]
    assert 'name="confirm" value="yes" required' in form
    refused = center.post(f"/incidents/{card.pk}/do/accept/", follow=True)
    card.refresh_from_db()
    assert card.state == "submitted"
    messages = [str(m) for m in refused.context["messages"]]
    assert any("I confirm" in m for m in messages)
    assert not StateChange.objects.for_item(card).filter(transition="accept").exists()
    center.post(f"/incidents/{card.pk}/do/accept/", {"confirm": "yes"})
    card.refresh_from_db()
    assert card.state == "accepted"
    # A reversible step needs no box.
    assert (
        'name="confirm"'
        not in client_as("bank_a_maker")
        .get(f"/incidents/{_returned(personas).pk}/")
        .content.decode()
    )


def test_r67_15_confirmation_does_not_mask_a_refusal(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    """Someone who may not accept at all gets the service's 403, not a request to confirm."""
    card = _resubmitted(personas)
    response = client_as("bank_a_head").post(f"/incidents/{card.pk}/do/accept/")
    assert response.status_code == 403
    card.refresh_from_db()
    assert card.state == "submitted"


def test_r67_3_4_state_changes_are_filled_from_the_audit_journal_once(
    personas: dict[str, User],
) -> None:
    """Items moved before the record existed get their history from the audit entries."""
    import importlib

    from django.apps import apps

    card = _returned(personas)
    before = [
        (c.transition, c.from_state, c.to_state, c.actor_id)
        for c in StateChange.objects.for_item(card)
    ]
    StateChange.objects.all().delete()
    migration = importlib.import_module("aips.shared.workflow.migrations.0002_state_changes")
    migration.backfill(apps, None)
    after = [
        (c.transition, c.from_state, c.to_state, c.actor_id)
        for c in StateChange.objects.for_item(card)
    ]
    assert after == before
    assert len(after) == 3
