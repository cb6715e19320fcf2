"""In-app notifications and e-mails about incident cards (R67.12): each transition reaches the
people who must act next, never another organization; TLP:AMBER and above never go out by
e-mail; everyone sees and marks only their own notifications."""

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import translation

from aips.center.incidents import services as incident_services
from aips.center.incidents.models import IncidentCard
from aips.conftest import card_data
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.notifications.models import Notification, OutboxMessage
from aips.shared.notifications.services import Text, drain_outbox, notify

OTHER_ORGS = ("bank_b_head", "bank_b_maker", "mfo_head")


def _recipients(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("user__email", flat=True))


def _emails(personas: dict[str, User], *keys: str) -> set[str]:
    return {personas[k].email for k in keys}


def _move(personas: dict[str, User], card: IncidentCard, who: str, name: str) -> IncidentCard:
    return incident_services.card_transition(
        actor=personas[who], card=card, name=name, comment="Add the attack vector"
    )


def _card(personas: dict[str, User], **overrides: Any) -> IncidentCard:
    return incident_services.card_create(actor=personas["bank_a_maker"], **card_data(**overrides))


def _fresh_mail() -> None:
    """Send what is queued so far (the demo people's invitations) and forget it."""
    drain_outbox()
    mail.outbox.clear()


def test_r67_12_each_transition_notifies_the_people_who_act_next(
    personas: dict[str, User],
) -> None:
    card = _card(personas)
    card = _move(personas, card, "bank_a_maker", "request_approval")
    assert _recipients("incident.approval_requested") == _emails(personas, "bank_a_head")

    card = _move(personas, card, "bank_a_head", "send_back")
    assert _recipients("incident.sent_back") == _emails(personas, "bank_a_maker")

    card = _move(personas, card, "bank_a_maker", "request_approval")
    card = _move(personas, card, "bank_a_head", "approve")
    assert _recipients("incident.submitted") == _emails(
        personas, "center_admin", "center_analyst"
    )  # not the auditor, not the organizations

    card = _move(personas, card, "center_analyst", "return")
    assert _recipients("incident.returned") == _emails(personas, "bank_a_maker", "bank_a_head")
    returned = Notification.objects.get(kind="incident.returned", user=personas["bank_a_maker"])
    assert card.deadline_at is not None
    assert "Add the attack vector" in returned.text
    assert card.deadline_at.strftime("%d.%m.%Y") in returned.text
    assert "Almaty" in returned.text
    assert returned.link == f"/incidents/{card.pk}/"

    card = _move(personas, card, "bank_a_maker", "request_approval")
    card = _move(personas, card, "bank_a_head", "approve")
    again = Notification.objects.filter(kind="incident.submitted").order_by("-id").first()
    assert again is not None
    assert "again after rework" in again.text

    card = _move(personas, card, "center_admin", "accept")
    assert _recipients("incident.accepted") == _emails(personas, "bank_a_maker")
    card = _move(personas, card, "center_admin", "close")
    assert _recipients("incident.closed") == _emails(personas, "bank_a_maker")

    # Never another organization, never the auditor or the viewer, never the one who acted.
    everyone = set(Notification.objects.values_list("user__email", flat=True))
    assert not everyone & _emails(personas, *OTHER_ORGS, "auditor", "bank_a_viewer")
    assert not Notification.objects.filter(
        kind="incident.accepted", user=personas["center_admin"]
    ).exists()
    # Every notification points at the card and e-mails went out for each.
    assert set(Notification.objects.values_list("object_id", flat=True)) == {card.pk}
    assert OutboxMessage.objects.filter(to=personas["bank_a_head"].email).count() >= 3


def test_r67_12_bank_b_hears_nothing_about_bank_a_and_vice_versa(
    personas: dict[str, User],
) -> None:
    expected = set()
    for maker, head in (("bank_a_maker", "bank_a_head"), ("bank_b_maker", "bank_b_head")):
        card = incident_services.card_create(actor=personas[maker], **card_data())
        card = _move(personas, card, maker, "request_approval")
        _move(personas, card, head, "approve")
        expected.add((personas[head].email, card.pk))
    approvals = Notification.objects.filter(kind="incident.approval_requested")
    assert {(n.user.email, n.object_id) for n in approvals} == expected


def test_r67_12_blocked_and_moved_people_are_not_notified(personas: dict[str, User]) -> None:
    User.objects.filter(pk=personas["bank_a_head"].pk).update(is_active=False)
    card = _move(personas, _card(personas), "bank_a_maker", "request_approval")
    assert not Notification.objects.filter(kind="incident.approval_requested").exists()
    User.objects.filter(pk=personas["bank_a_head"].pk).update(is_active=True)
    card = _move(personas, card, "bank_a_head", "approve")
    # The maker has since moved to bank B: news about bank A's card no longer reaches them.
    User.objects.filter(pk=personas["bank_a_maker"].pk).update(
        organization=personas["bank_b_head"].organization
    )
    _move(personas, card, "center_analyst", "return")
    assert _recipients("incident.returned") == _emails(personas, "bank_a_head")


@pytest.mark.parametrize("tlp", ["RED", "AMBER+STRICT", "AMBER"])
def test_r67_12_tlp_amber_and_red_emails_say_only_sign_in(
    personas: dict[str, User], tlp: str
) -> None:
    card = _card(personas, tlp=tlp, title="Ransomware on the SWIFT gateway")
    _fresh_mail()
    _move(personas, card, "bank_a_maker", "request_approval")
    drain_outbox()
    [message] = mail.outbox
    assert message.to == [personas["bank_a_head"].email]
    assert "SWIFT" not in message.subject
    assert "SWIFT" not in message.body
    assert card.reference not in f"{message.subject} {message.body}"
    assert "Sign in to read it" in message.body
    assert message.body.rstrip().endswith("/notifications/")
    # In AIPS itself the head reads the whole notification.
    assert "SWIFT" in Notification.objects.get(user=personas["bank_a_head"]).text


@pytest.mark.parametrize("tlp", ["CLEAR", "GREEN"])
def test_r67_12_tlp_clear_and_green_emails_carry_the_text(
    personas: dict[str, User], tlp: str
) -> None:
    card = _card(personas, tlp=tlp, title="Phishing wave against clients")
    _fresh_mail()
    _move(personas, card, "bank_a_maker", "request_approval")
    drain_outbox()
    [message] = mail.outbox
    assert card.reference in message.subject
    assert "Phishing wave against clients" in message.body
    assert f"/incidents/{card.pk}/" in message.body


def _note(user: User, text: str, link: str = "/incidents/") -> Notification:
    [made] = notify(
        users=[user], kind="test", subject=Text(text), text=Text(text), link=link, email=False
    )
    return made


def test_notifications_page_shows_only_ones_own_newest_first_and_marks_read(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    first = _note(personas["bank_a_head"], "First for the head of Alatau")
    second = _note(personas["bank_a_head"], "Second for the head of Alatau")
    theirs = _note(personas["bank_b_head"], "Only for the head of Saryarka")
    head = client_as("bank_a_head")

    page = head.get("/notifications/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index("Second for the head") < html.index("First for the head")
    assert "Saryarka" not in html
    assert '<span class="badge overdue" title="Unread">2</span>' in html  # the menu's count

    assert head.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None

    done = head.post(f"/notifications/{first.pk}/read/")
    assert done["Location"] == "/notifications/"
    first.refresh_from_db()
    assert first.read_at is not None
    assert '<span class="badge overdue" title="Unread">1</span>' in head.get("/").content.decode()
    event = AuditEvent.objects.get(event=EventType.NOTIFICATIONS_READ)
    assert event.actor_id == personas["bank_a_head"].pk

    opened = head.post(f"/notifications/{second.pk}/read/", {"open": "1"})
    assert opened["Location"] == "/incidents/"

    _note(personas["bank_a_head"], "Third")
    _note(personas["bank_a_head"], "Fourth")
    assert head.post("/notifications/read-all/").status_code == 302
    assert not Notification.objects.filter(user=personas["bank_a_head"], read_at=None).exists()
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert 'title="Unread"' not in head.get("/notifications/").content.decode()


def test_notifications_open_never_leaves_the_site(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    item = _note(personas["bank_a_head"], "Odd link", link="//evil.example.com/")
    response = client_as("bank_a_head").post(f"/notifications/{item.pk}/read/", {"open": "1"})
    assert response["Location"] == "/notifications/"


def test_notifications_text_is_rendered_in_the_recipients_language(
    personas: dict[str, User],
) -> None:
    User.objects.filter(pk=personas["bank_a_head"].pk).update(language="en")
    User.objects.filter(pk=personas["bank_b_head"].pk).update(language="kk")
    heads = User.objects.filter(pk__in=[personas["bank_a_head"].pk, personas["bank_b_head"].pk])
    # A callable parameter is evaluated under each recipient's language.
    notify(
        users=list(heads),
        kind="test",
        subject=Text("-"),
        text=Text("%(lang)s", {"lang": translation.get_language}),
        link="",
        email=False,
    )
    assert dict(Notification.objects.values_list("user__email", "text")) == {
        personas["bank_a_head"].email: "en",
        personas["bank_b_head"].email: "kk",
    }


def test_notifications_survive_a_translation_with_a_broken_placeholder() -> None:
    from django.utils.functional import lazy

    def catalogue() -> str:  # what a mistyped Kazakh msgstr would give
        return "%(rf)s қайтарылды" if translation.get_language() == "kk" else "%(ref)s returned"

    text = Text(lazy(catalogue, str)(), {"ref": "INC-000001"})
    assert text.render("kk") == "INC-000001 returned"
    assert text.render("en") == "INC-000001 returned"


def test_notification_is_shown_in_the_readers_language_not_the_writers(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    from django.utils.translation import gettext_lazy

    head = personas["bank_a_head"]
    User.objects.filter(pk=head.pk).update(language="ru")
    head.refresh_from_db()
    with translation.override("ru"):
        notify(
            users=[head],
            kind="test",
            subject=Text("-"),
            text=Text(gettext_lazy("AIPS: %(ref)s is overdue"), {"ref": "INC-000042"}),
            link="",
            email=False,
        )
    User.objects.filter(pk=head.pk).update(language="kk")
    client = client_as("bank_a_head")
    client.cookies["aips_language"] = "kk"
    body = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="kk").content.decode()
    assert "ААӨЖ: INC-000042 карточкасының мерзімі өтті" in body
    assert "АСОИ: срок по карточке INC-000042 истёк" not in body


def test_notification_made_before_texts_existed_still_shows_its_text(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    Notification.objects.create(user=personas["bank_a_head"], kind="old", text="Старый текст")
    body = client_as("bank_a_head").get("/notifications/").content.decode()
    assert "Старый текст" in body
