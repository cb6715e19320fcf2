"""Alert pages (R67.3.3, R67.3.5, R67.10, R67.13, R67.15) through the web views: publishing and
its fan-out, acknowledgements and their deadline on Kazakhstan working days, tenant isolation of
the acknowledgements, TLP:RED content, the center's compliance matrix and CSV, the maker → head →
center flow, the import of an advisory file, and the deadline reminders."""

import csv
import importlib.util
import io
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from aips.center.alerts import selectors, services
from aips.center.alerts.models import Alert, AlertRecipient, AlertState, RecipientStatus
from aips.conftest import alert_data, ensure_threat_types, published_alert
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.notifications import reminders
from aips.shared.notifications.models import Notification
from aips.shared.organizations import services as org_services
from aips.shared.organizations.models import Organization

ALMATY = ZoneInfo("Asia/Almaty")
Clients = Callable[[str | None], Client]
# The "I confirm: this cannot be undone." box that publishing and declining ask for on the pages.
CONFIRMED = {"confirm": "yes"}


def almaty(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ALMATY)


def end_of(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 23, 59, 59, 999999, tzinfo=ALMATY)


@pytest.fixture(autouse=True)
def _threat_types(db: None) -> None:
    ensure_threat_types()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], Any]:
    """`with clock(moment):` services run as if it were `moment`."""

    @contextmanager
    def at(moment: datetime) -> Iterator[None]:
        with monkeypatch.context() as patch:
            patch.setattr("django.utils.timezone.now", lambda: moment)
            yield

    return at


def _form(data: dict[str, Any]) -> dict[str, Any]:
    """A service-shaped dict as the browser posts it (lists one per line)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, list):
            out[key] = "\n".join(str(v) for v in value)
        elif isinstance(value, bool):
            if value:
                out[key] = "on"
        else:
            out[key] = value
    return out


def _recipient(alert: Alert, org: Organization) -> AlertRecipient:
    return AlertRecipient.objects.get(alert=alert, organization=org)


def _messages(response: Any) -> str:
    return " ".join(str(m) for m in response.context["messages"])


# --- publishing and the fan-out (R67.13) ------------------------------------------------------


def test_r67_10_r67_13_center_publishes_green_to_every_active_organization_via_web(
    personas: dict[str, User], orgs: dict[str, Organization], client_as: Clients
) -> None:
    org_services.organization_update(
        actor=personas["center_admin"], organization=orgs["mfo"], status="suspended"
    )
    analyst = client_as("center_analyst")
    response = analyst.post(reverse("alerts:create"), _form(alert_data()))
    assert response.status_code == 302, response.content.decode()[:2000]
    alert = Alert.objects.get(title=alert_data()["title"])
    assert response["Location"] == reverse("alerts:detail", args=[alert.pk])
    assert alert.state == AlertState.DRAFT
    page = analyst.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert 'data-transition="publish_direct"' in page
    assert 'data-transition="request_approval"' not in page  # the center has no head to ask

    response = analyst.post(
        reverse("alerts:transition", args=[alert.pk, "publish_direct"]), CONFIRMED
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.state == AlertState.PUBLISHED
    got = set(AlertRecipient.objects.filter(alert=alert).values_list("organization", flat=True))
    # Every active organization but the center; the suspended MFO gets nothing.
    assert got == {orgs["bank_a"].pk, orgs["bank_b"].pk}
    assert {r.status for r in AlertRecipient.objects.filter(alert=alert)} == {"delivered"}

    # Both banks see it in their list with their own status and deadline.
    listing = client_as("bank_b_maker").get(reverse("alerts:list")).content.decode()
    assert alert.reference in listing
    assert "Delivered" in listing
    assert 'class="deadline' in listing
    # The center sees the recipients table with statuses and deadlines.
    page = analyst.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert 'id="recipients"' in page
    assert page.count("<tr data-organization=") == 2
    assert 'class="deadline' in page


@pytest.mark.parametrize(
    ("published", "due"),
    [
        # Friday → the end of Monday.
        (almaty(2026, 12, 11, 16, 30), end_of(2026, 12, 14)),
        # Tuesday → Wednesday 16 December is Independence Day: the end of Thursday the 17th.
        (almaty(2026, 12, 15, 9, 0), end_of(2026, 12, 17)),
        # Late in the evening: the day itself never counts.
        (almaty(2026, 12, 14, 23, 50), end_of(2026, 12, 15)),
    ],
)
def test_r67_13_acknowledgement_is_due_at_the_end_of_the_next_working_day(
    personas: dict[str, User],
    clock: Callable[[datetime], Any],
    published: datetime,
    due: datetime,
) -> None:
    with clock(published):
        alert = published_alert(personas)
    for recipient in AlertRecipient.objects.filter(alert=alert):
        assert recipient.delivered_at == published
        assert recipient.due_at == due
        assert recipient.deadline_at == due


def test_r67_13_tlp_amber_and_red_need_the_chosen_organizations(
    personas: dict[str, User], orgs: dict[str, Organization], client_as: Clients
) -> None:
    analyst = client_as("center_analyst")
    alert = services.alert_create(actor=personas["center_analyst"], **alert_data(tlp="AMBER"))
    page = analyst.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert 'name="organizations"' in page
    assert orgs["bank_a"].display_name in page
    choices = page.split('name="organizations"')[1].split("</select>")[0]
    assert orgs["center"].display_name not in choices

    url = reverse("alerts:transition", args=[alert.pk, "publish_direct"])
    response = analyst.post(url, CONFIRMED, follow=True)
    assert "choose the receiving organizations" in _messages(response)
    alert.refresh_from_db()
    assert alert.state == AlertState.DRAFT  # nothing was published

    analyst.post(url, {"organizations": [str(orgs["bank_b"].pk)], **CONFIRMED})
    alert.refresh_from_db()
    assert alert.state == AlertState.PUBLISHED
    assert list(
        AlertRecipient.objects.filter(alert=alert).values_list("organization", flat=True)
    ) == [orgs["bank_b"].pk]
    # Bank A was not chosen: the alert does not exist for it.
    assert (
        client_as("bank_a_head").get(reverse("alerts:detail", args=[alert.pk])).status_code == 404
    )


# --- acknowledgements (R67.13) ------------------------------------------------------------------


def test_r67_13_a_decline_needs_a_reason(
    personas: dict[str, User], orgs: dict[str, Organization], client_as: Clients
) -> None:
    alert = published_alert(personas)
    recipient = _recipient(alert, orgs["bank_a"])
    head = client_as("bank_a_head")
    page = head.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert 'data-recipient-action="accept"' in page
    assert 'data-recipient-action="decline"' in page
    url = reverse("alerts:recipient_decline", args=[alert.pk, recipient.pk])

    response = head.post(url, {"reason": "   ", **CONFIRMED}, follow=True)
    assert "This field is required." in _messages(response)
    recipient.refresh_from_db()
    assert recipient.status == RecipientStatus.DELIVERED
    assert recipient.deadline_at is not None

    reason = "We run no Office macros at all; the indicators are blocked at the proxy."
    response = head.post(url, {"reason": reason, **CONFIRMED}, follow=True)
    assert "Recommendations declined" in _messages(response)
    recipient.refresh_from_db()
    assert recipient.status == RecipientStatus.DECLINED
    assert recipient.reason == reason
    assert recipient.responded_by == personas["bank_a_head"]
    assert recipient.deadline_at is None
    assert not recipient.late
    page = response.content.decode()
    assert reason in page
    assert 'data-recipient-action="' not in page  # answered once, no more buttons
    assert AuditEvent.objects.filter(
        event=EventType.ALERT_DECLINED, target_id=str(alert.pk)
    ).exists()


def test_r67_10_publishing_on_the_page_needs_the_confirmation(
    personas: dict[str, User], orgs: dict[str, Organization], client_as: Clients
) -> None:
    analyst = client_as("center_analyst")
    alert = services.alert_create(actor=personas["center_analyst"], **alert_data())
    page = analyst.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    form = page.split('data-transition="publish_direct"')[0].rsplit("<form", 1)[1]
    assert 'name="confirm" value="yes" required' in form
    url = reverse("alerts:transition", args=[alert.pk, "publish_direct"])

    for post in ({}, {"confirm": "no"}, {"confirm": ""}):
        response = analyst.post(url, post, follow=True)
        assert response.status_code == 200
        assert "cannot be undone: tick" in _messages(response)
        alert.refresh_from_db()
        assert alert.state == AlertState.DRAFT
        assert alert.published_at is None
        assert not AlertRecipient.objects.filter(alert=alert).exists()
        assert not AuditEvent.objects.filter(
            event=EventType.ALERT_PUBLISHED, target_id=str(alert.pk)
        ).exists()

    analyst.post(url, CONFIRMED)
    alert.refresh_from_db()
    assert alert.state == AlertState.PUBLISHED


def test_r67_13_declining_on_the_page_needs_the_confirmation(
    personas: dict[str, User], orgs: dict[str, Organization], client_as: Clients
) -> None:
    alert = published_alert(personas)
    recipient = _recipient(alert, orgs["bank_a"])
    head = client_as("bank_a_head")
    page = head.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    form = page.split('data-recipient-action="decline"')[0].rsplit("<form", 1)[1]
    assert 'name="confirm" value="yes" required' in form
    accept = page.split('data-recipient-action="accept"')[0].rsplit("<form", 1)[1]
    assert 'name="confirm"' not in accept  # accepting can be followed by processing; not final
    url = reverse("alerts:recipient_decline", args=[alert.pk, recipient.pk])

    response = head.post(url, {"reason": "Not applicable to us."}, follow=True)
    assert response.status_code == 200
    assert (
        "“Decline the recommendations” cannot be undone: tick “I confirm” and press the button"
        in _messages(response)
    )
    recipient.refresh_from_db()
    assert recipient.status == RecipientStatus.DELIVERED
    assert recipient.reason == ""
    assert recipient.responded_at is None
    assert not AuditEvent.objects.filter(
        event=EventType.ALERT_DECLINED, target_id=str(alert.pk)
    ).exists()
    assert 'data-recipient-action="decline"' in response.content.decode()  # still answerable

    head.post(url, {"reason": "Not applicable to us.", **CONFIRMED})
    recipient.refresh_from_db()
    assert recipient.status == RecipientStatus.DECLINED


def test_r67_13_a_maker_cannot_accept_or_decline(
    personas: dict[str, User], orgs: dict[str, Organization], client_as: Clients
) -> None:
    alert = published_alert(personas)
    recipient = _recipient(alert, orgs["bank_a"])
    maker = client_as("bank_a_maker")
    page = maker.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert 'data-recipient-action="accept"' not in page
    assert (
        maker.post(reverse("alerts:recipient_accept", args=[alert.pk, recipient.pk])).status_code
        == 403
    )


def test_r67_13_processed_only_after_accepted(
    personas: dict[str, User], orgs: dict[str, Organization], client_as: Clients
) -> None:
    alert = published_alert(personas)
    mine = _recipient(alert, orgs["bank_a"])
    maker, head = client_as("bank_a_maker"), client_as("bank_a_head")
    processed = reverse("alerts:recipient_processed", args=[alert.pk, mine.pk])

    page = maker.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert 'data-recipient-action="processed"' not in page
    response = maker.post(processed, follow=True)
    assert "Only accepted recommendations can be marked processed." in _messages(response)
    mine.refresh_from_db()
    assert mine.status == RecipientStatus.DELIVERED

    head.post(reverse("alerts:recipient_accept", args=[alert.pk, mine.pk]))
    mine.refresh_from_db()
    assert mine.status == RecipientStatus.ACCEPTED
    page = maker.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert 'data-recipient-action="processed"' in page
    response = maker.post(processed, follow=True)
    assert "Acknowledgement: Processed." in _messages(response)
    mine.refresh_from_db()
    assert mine.status == RecipientStatus.PROCESSED
    assert mine.processed_by == personas["bank_a_maker"]

    # A declined alert is never processed.
    other = published_alert(personas, title="Second alert")
    theirs = _recipient(other, orgs["bank_a"])
    head.post(
        reverse("alerts:recipient_decline", args=[other.pk, theirs.pk]),
        {"reason": "Not ours.", **CONFIRMED},
    )
    maker.post(reverse("alerts:recipient_processed", args=[other.pk, theirs.pk]))
    theirs.refresh_from_db()
    assert theirs.status == RecipientStatus.DECLINED


def test_r67_13_an_organization_cannot_see_another_organizations_acknowledgement(
    personas: dict[str, User], orgs: dict[str, Organization], client_as: Clients
) -> None:
    alert = published_alert(personas)
    a_row, b_row = _recipient(alert, orgs["bank_a"]), _recipient(alert, orgs["bank_b"])
    secret_reason = "Our core banking vendor forbids the patch until Q3."
    client_as("bank_a_head").post(
        reverse("alerts:recipient_decline", args=[alert.pk, a_row.pk]),
        {"reason": secret_reason, **CONFIRMED},
    )

    for who in ("bank_b_head", "bank_b_maker"):
        client = client_as(who)
        page = client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
        assert secret_reason not in page
        assert orgs["bank_a"].display_name not in page
        assert 'id="recipients"' not in page
        assert "Recommendations declined" not in page
        assert "Delivered" in page  # its own status only
        listing = client.get(reverse("alerts:list")).content.decode()
        assert "Recommendations declined" not in listing
        # Bank A's row is "missing" for bank B, whatever the action.
        for name in (
            "alerts:recipient_accept",
            "alerts:recipient_decline",
            "alerts:recipient_processed",
        ):
            response = client.post(
                reverse(name, args=[alert.pk, a_row.pk]), {"reason": "x", **CONFIRMED}
            )
            assert response.status_code in (403, 404)
            if who == "bank_b_head" or name == "alerts:recipient_processed":
                assert response.status_code == 404
    a_row.refresh_from_db()
    assert a_row.status == RecipientStatus.DECLINED
    assert a_row.responded_by == personas["bank_a_head"]
    # A row of one alert cannot be reached through another alert's address either.
    other = published_alert(personas, title="Another alert")
    response = client_as("bank_b_head").post(
        reverse("alerts:recipient_accept", args=[other.pk, b_row.pk])
    )
    assert response.status_code == 404
    b_row.refresh_from_db()
    assert b_row.status == RecipientStatus.DELIVERED


def test_r67_10_tlp_red_content_only_for_the_named_people(
    personas: dict[str, User], orgs: dict[str, Organization], client_as: Clients
) -> None:
    recommendations = "Rotate the HSM operator PINs held in the shared vault."
    alert = services.alert_create(
        actor=personas["center_analyst"],
        **alert_data(tlp="RED", recommendations=recommendations, title="Insider sells HSM PINs"),
    )
    client_as("center_analyst").post(
        reverse("alerts:transition", args=[alert.pk, "publish_direct"]),
        {"organizations": [str(orgs["bank_a"].pk)], **CONFIRMED},
    )
    alert.refresh_from_db()
    assert alert.state == AlertState.PUBLISHED

    # The receiving organization's IS-unit head and responsible employee are named readers.
    for who in ("bank_a_head", "bank_a_maker"):
        named_page = client_as(who).get(reverse("alerts:detail", args=[alert.pk]))
        assert recommendations in named_page.content.decode()
        assert "Restricted: named recipients only." not in named_page.content.decode()

    # Its other people see the title, the level and the notice, nothing more.
    for who in ("bank_a_viewer",):
        response = client_as(who).get(reverse("alerts:detail", args=[alert.pk]))
        assert response.status_code == 200
        page = response.content.decode()
        assert "Insider sells HSM PINs" in page
        assert 'id="alert-level"' in page
        assert "High" in page
        assert "Restricted: named recipients only." in page
        assert recommendations not in page
        assert alert_data()["description"] not in page
        assert "203.0.113.66" not in page
    # Organizations that were not chosen do not even learn it exists.
    assert (
        client_as("bank_b_head").get(reverse("alerts:detail", args=[alert.pk])).status_code == 404
    )
    # Every view of a TLP:RED alert is on the record, whether the content was shown or not.
    viewers = set(
        AuditEvent.objects.filter(
            event=EventType.ALERT_VIEWED, target_id=str(alert.pk)
        ).values_list("actor_id", flat=True)
    )
    assert {personas[k].pk for k in ("bank_a_head", "bank_a_maker", "bank_a_viewer")} <= viewers


# --- the center's compliance view (R67.13) -------------------------------------------------------


def test_r67_13_compliance_page_and_csv_show_statuses_and_late_marks(
    personas: dict[str, User],
    orgs: dict[str, Organization],
    client_as: Clients,
    clock: Callable[[datetime], Any],
) -> None:
    # An alert published long ago: bank A answers late, bank B never does (late, unanswered).
    with clock(almaty(2025, 3, 3, 10, 0)):
        old = published_alert(personas, title='=HYPERLINK("http://evil.example")')
    services.recipient_accept(
        actor=personas["bank_a_head"], recipient=_recipient(old, orgs["bank_a"])
    )
    # A fresh one: bank A accepts in time and processes it, bank B declines in time.
    new = published_alert(personas, title="Fresh alert")
    a_new = services.recipient_accept(
        actor=personas["bank_a_head"], recipient=_recipient(new, orgs["bank_a"])
    )
    services.recipient_processed(actor=personas["bank_a_maker"], recipient=a_new)
    services.recipient_decline(
        actor=personas["bank_b_head"], recipient=_recipient(new, orgs["bank_b"]), reason="n/a"
    )

    for who in ("center_admin", "center_analyst", "auditor"):
        response = client_as(who).get(reverse("alerts:compliance"))
        assert response.status_code == 200
    page = response.content.decode()
    cells = dict(re.findall(r'<tr data-alert="([A-Z]+-\d+)">(.*?)</tr>', page, flags=re.S))
    old_row, new_row = cells[old.reference], cells[new.reference]
    a_bin, b_bin = orgs["bank_a"].bin, orgs["bank_b"].bin

    def cell(row: str, bin_: str) -> str:
        found = re.search(
            rf'<td data-organization="{bin_}" data-status="(\w+)">(.*?)</td>', row, re.S
        )
        assert found, row
        return f"{found.group(1)} {found.group(2)}"

    assert cell(old_row, a_bin).startswith("accepted")
    assert "Late" in cell(old_row, a_bin)
    assert cell(old_row, b_bin).startswith("delivered")
    assert "Late" in cell(old_row, b_bin)
    assert cell(new_row, a_bin).startswith("processed")
    assert "Late" not in cell(new_row, a_bin)
    assert "Processed" in cell(new_row, a_bin)
    assert cell(new_row, b_bin).startswith("declined")
    assert "Late" not in cell(new_row, b_bin)
    rates = page.split('id="compliance-rates"')[1]
    # received, in time, late, awaiting an answer, on-time rate (of what is answered or overdue).
    expected = {
        "bank_a": "2 1 1 0 50%",  # the old one late, the new one in time
        "bank_b": "2 1 1 0 50%",  # the old one never answered, the new one declined in time
        "mfo": "2 0 1 1 0%",  # the new one is still within its working day: not counted
    }
    for key, numbers in expected.items():
        row = "".join(f"<td>{n}</td>" for n in numbers.split())
        name = re.escape(orgs[key].display_name)
        assert re.search(rf"<td>{name}</td>{row}", rates), (key, rates)

    response = client_as("center_analyst").get(reverse("alerts:compliance_csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    by_key = {(r["alert"], r["organization_bin"]): r for r in rows}
    assert by_key[(old.reference, a_bin)]["status"] == "accepted"
    assert by_key[(old.reference, a_bin)]["late"] == "yes"
    assert by_key[(old.reference, b_bin)]["status"] == "delivered"
    assert by_key[(old.reference, b_bin)]["late"] == "yes"
    assert by_key[(new.reference, a_bin)]["status"] == "processed"
    assert by_key[(new.reference, a_bin)]["late"] == "no"
    assert by_key[(new.reference, b_bin)]["reason"] == "n/a"
    # CSV injection: a title that a spreadsheet would run as a formula is neutralized.
    assert by_key[(old.reference, a_bin)]["title"].startswith("'=HYPERLINK")

    # Organizations have no compliance view.
    assert client_as("bank_a_head").get(reverse("alerts:compliance")).status_code == 403
    assert client_as("bank_a_head").get(reverse("alerts:compliance_csv")).status_code == 403


# --- maker → head → center (R67.10, R67.15) ------------------------------------------------------


def test_r67_10_r67_15_org_alert_maker_head_center_return_fix_publish_via_web(
    personas: dict[str, User], orgs: dict[str, Organization], client_as: Clients
) -> None:
    maker, head, analyst = (
        client_as("bank_a_maker"),
        client_as("bank_a_head"),
        client_as("center_analyst"),
    )
    data = alert_data(title="Fake SWIFT confirmations by e-mail", tlp="GREEN", anonymous=True)
    response = maker.post(reverse("alerts:create"), _form(data))
    assert response.status_code == 302, response.content.decode()[:2000]
    alert = Alert.objects.get(title=data["title"])
    assert alert.organization == orgs["bank_a"]
    assert alert.anonymous
    # The center does not see an organization's draft.
    assert analyst.get(reverse("alerts:detail", args=[alert.pk])).status_code == 404

    def do(client: Client, name: str, **post: Any) -> None:
        response = client.post(reverse("alerts:transition", args=[alert.pk, name]), post)
        assert response.status_code == 302
        alert.refresh_from_db()

    page = maker.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert 'data-transition="publish_direct"' not in page
    do(maker, "request_approval")
    assert alert.state == AlertState.AWAITING_APPROVAL
    page = head.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert 'data-transition="approve"' in page
    do(head, "approve")
    assert alert.state == AlertState.SUBMITTED

    # The center returns it with a reason: 3 working days to fix it.
    reason = "Add the sender domains to the indicators."
    page = analyst.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert 'data-transition="return"' in page
    assert 'data-transition="publish"' in page
    response = analyst.post(reverse("alerts:transition", args=[alert.pk, "return"]), follow=True)
    assert "Give a reason." in _messages(response)
    do(analyst, "return", comment=reason)
    assert alert.state == AlertState.RETURNED
    assert alert.deadline_at is not None

    page = maker.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert reason in page
    assert 'class="deadline' in page
    edit = maker.get(reverse("alerts:update", args=[alert.pk]))
    assert edit.status_code == 200
    fixed = {**data, "indicators": [*data["indicators"], "swift-confirm.example.com"]}
    response = maker.post(reverse("alerts:update", args=[alert.pk]), _form(fixed))
    assert response.status_code == 302, response.content.decode()[:2000]
    alert.refresh_from_db()
    assert "swift-confirm.example.com" in [i["value"] for i in alert.indicators]
    do(maker, "request_approval")
    do(head, "approve")
    assert alert.state == AlertState.SUBMITTED
    assert alert.version == 2

    do(analyst, "publish", **CONFIRMED)
    assert alert.state == AlertState.PUBLISHED
    assert set(
        AlertRecipient.objects.filter(alert=alert).values_list("organization", flat=True)
    ) == {
        orgs["bank_a"].pk,
        orgs["bank_b"].pk,
        orgs["mfo"].pk,
    }
    # Published without naming bank A: bank B sees it as the center's, and not the rework notes.
    page = client_as("bank_b_head").get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert orgs["bank_a"].display_name not in page
    assert "The center" in page
    assert reason not in page
    # The author cannot edit a published alert.
    response = maker.get(reverse("alerts:update", args=[alert.pk]))
    assert response.status_code == 302


def test_r67_3_5_vulnerability_form_takes_products_and_references(
    personas: dict[str, User], client_as: Clients
) -> None:
    data = alert_data(
        kind="vulnerability",
        threat_type_id="",
        title="PAN-OS GlobalProtect command injection",
        cve_ids=["cve-2024-3400"],
        references=["https://security.paloaltonetworks.com/CVE-2024-3400"],
        known_exploited=True,
    )
    form = {
        **_form(data),
        "affected": (
            "Palo Alto Networks | PAN-OS | 10.2.0, 11.0.0 | "
            "cpe:2.3:o:paloaltonetworks:pan-os:*:*:*:*:*:*:*:*\n"
            "GlobalProtect gateway\n"
        ),
    }
    client = client_as("center_analyst")
    response = client.post(reverse("alerts:create"), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    alert = Alert.objects.get(title=data["title"])
    assert alert.cve_ids == ["CVE-2024-3400"]
    assert alert.known_exploited
    assert alert.affected == [
        {
            "vendor": "Palo Alto Networks",
            "product": "PAN-OS",
            "versions": ["10.2.0", "11.0.0"],
            "cpe": "cpe:2.3:o:paloaltonetworks:pan-os:*:*:*:*:*:*:*:*",
        },
        {"vendor": "", "product": "GlobalProtect gateway", "versions": [], "cpe": ""},
    ]
    page = client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert 'id="alert-affected"' in page
    assert "10.2.0, 11.0.0" in page
    # The edit form shows the products in the same line format.
    edit = client.get(reverse("alerts:update", args=[alert.pk])).content.decode()
    assert "Palo Alto Networks | PAN-OS | 10.2.0, 11.0.0 | cpe:2.3:o:paloaltonetworks" in edit

    # A vulnerability alert without CVE ids, a bad reference: field errors, 422.
    bad = {**form, "title": "Second", "cve_ids": "", "references": "javascript:alert(1)"}
    response = client.post(reverse("alerts:create"), bad)
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "cve_ids" in errors
    assert "references" in errors


@pytest.mark.skipif(
    importlib.util.find_spec("aips.center.alerts.importers") is None,
    reason="aips.center.alerts.importers (CVSS scoring, CSAF/NVD import) is not written yet",
)
def test_r67_3_5_cvss_vector_is_scored_from_the_form(
    personas: dict[str, User], client_as: Clients
) -> None:
    data = alert_data(
        kind="vulnerability",
        threat_type_id="",
        title="Scored",
        cve_ids=["CVE-2024-3400"],
        cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
    )
    client = client_as("center_analyst")
    assert client.post(reverse("alerts:create"), _form(data)).status_code == 302
    alert = Alert.objects.get(title="Scored")
    assert alert.cvss_version == "3.1"
    assert str(alert.cvss_score) == "10.0"
    response = client.post(
        reverse("alerts:create"), _form({**data, "title": "Bad", "cvss_vector": "CVSS:3.1/AV:X"})
    )
    assert response.status_code == 422
    assert "cvss_vector" in response.context["form"].errors


# --- import of an advisory file (R67.3.5) ---------------------------------------------------------

NVD_RECORD = {
    "resultsPerPage": 1,
    "startIndex": 0,
    "totalResults": 1,
    "format": "NVD_CVE",
    "version": "2.0",
    "timestamp": "2024-04-20T10:00:00.000",
    "vulnerabilities": [
        {
            "cve": {
                "id": "CVE-2024-3400",
                "sourceIdentifier": "psirt@paloaltonetworks.com",
                "published": "2024-04-12T08:15:06.230",
                "lastModified": "2024-04-19T01:00:01.847",
                "vulnStatus": "Analyzed",
                "cisaExploitAdd": "2024-04-12",
                "cisaActionDue": "2024-04-19",
                "cisaRequiredAction": "Apply mitigations per vendor instructions.",
                "cisaVulnerabilityName": "Palo Alto Networks PAN-OS Command Injection",
                "descriptions": [
                    {
                        "lang": "en",
                        "value": "A command injection in the GlobalProtect feature of PAN-OS "
                        "allows an unauthenticated attacker to run code as root.",
                    }
                ],
                "metrics": {
                    "cvssMetricV31": [
                        {
                            "source": "psirt@paloaltonetworks.com",
                            "type": "Secondary",
                            "cvssData": {
                                "version": "3.1",
                                "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
                                "baseScore": 10.0,
                                "baseSeverity": "CRITICAL",
                            },
                        }
                    ]
                },
                "configurations": [
                    {
                        "nodes": [
                            {
                                "operator": "OR",
                                "negate": False,
                                "cpeMatch": [
                                    {
                                        "vulnerable": True,
                                        "criteria": "cpe:2.3:o:paloaltonetworks:pan-os:11.1.0:"
                                        "-:*:*:*:*:*:*",
                                        "matchCriteriaId": "0E4F5E0C-0000-0000-0000-000000000000",
                                    }
                                ],
                            }
                        ]
                    }
                ],
                "references": [
                    {
                        "url": "https://security.paloaltonetworks.com/CVE-2024-3400",
                        "source": "psirt@paloaltonetworks.com",
                    }
                ],
            }
        }
    ],
}


@pytest.mark.skipif(
    importlib.util.find_spec("aips.center.alerts.importers") is None,
    reason="aips.center.alerts.importers (CSAF/NVD import) is not written yet",
)
def test_r67_3_5_nvd_file_uploaded_on_the_import_page_becomes_a_draft(
    personas: dict[str, User], client_as: Clients, tmp_path: Any
) -> None:
    path = tmp_path / "CVE-2024-3400.json"
    path.write_text(json.dumps(NVD_RECORD))
    client = client_as("bank_a_maker")
    assert client.get(reverse("alerts:import")).status_code == 200
    with path.open("rb") as handle:
        response = client.post(reverse("alerts:import"), {"file": handle, "tlp": "GREEN"})
    assert response.status_code == 302, response.content.decode()[:3000]
    alert = Alert.objects.get(organization=personas["bank_a_maker"].organization)
    assert response["Location"] == reverse("alerts:detail", args=[alert.pk])
    assert alert.state == AlertState.DRAFT
    assert alert.kind == "vulnerability"
    assert alert.tlp == "GREEN"
    assert alert.cve_ids == ["CVE-2024-3400"]
    assert alert.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
    assert "https://security.paloaltonetworks.com/CVE-2024-3400" in alert.references

    # A broken file: the error is on the file field, and nothing is created.
    broken = tmp_path / "broken.json"
    broken.write_text('{"vulnerabilities": [{"cve": ')
    with broken.open("rb") as handle:
        response = client.post(reverse("alerts:import"), {"file": handle, "tlp": "GREEN"})
    assert response.status_code == 422
    assert response.context["form"].errors.get("file"), response.context["form"].errors
    assert Alert.objects.count() == 1


def test_r67_3_5_import_page_refuses_a_missing_file(client_as: Clients) -> None:
    response = client_as("bank_a_maker").post(reverse("alerts:import"), {"tlp": "GREEN"})
    assert response.status_code == 422
    assert "file" in response.context["form"].errors
    assert client_as("bank_a_viewer").get(reverse("alerts:import")).status_code == 403


# --- reminders (R67.13) --------------------------------------------------------------------------


def test_r67_13_unanswered_alert_is_reminded_to_the_heads_before_and_at_the_deadline(
    personas: dict[str, User],
    orgs: dict[str, Organization],
    clock: Callable[[datetime], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert "alerts.recipient" in {s.name for s in reminders.sources()}
    # Published Tuesday 15 December 2026: due at the end of Thursday the 17th (the 16th is off).
    with clock(almaty(2026, 12, 15, 9, 0)):
        alert = published_alert(personas)
    for other in ("bank_b", "mfo"):
        services.recipient_accept(
            actor=personas[f"{other}_head"], recipient=_recipient(alert, orgs[other])
        )

    def run(moment: datetime) -> int:
        with monkeypatch.context() as patch:
            patch.setattr("aips.shared.notifications.reminders.timezone.now", lambda: moment)
            return reminders.send_deadline_reminders()

    def reminded(kind: str) -> set[str]:
        return set(
            Notification.objects.filter(kind=f"deadline.{kind}").values_list(
                "user__email", flat=True
            )
        )

    # Tuesday is already the last working day before the deadline's day: "before" at once.
    assert run(almaty(2026, 12, 15, 9, 5)) == 1
    assert reminded("before") == {personas["bank_a_head"].email}  # heads only, bank A only
    assert run(almaty(2026, 12, 17, 12, 0)) == 0  # never twice
    assert run(almaty(2026, 12, 18, 0, 5)) == 1  # overdue: "at"
    assert reminded("at") == {personas["bank_a_head"].email}
    note = Notification.objects.get(kind="deadline.at")
    assert alert.reference in note.text
    assert note.link == reverse("alerts:detail", args=[alert.pk])
    assert AuditEvent.objects.filter(event=EventType.DEADLINE_REMINDER_SENT).count() == 2

    # Answered (late): no more reminders.
    services.recipient_accept(
        actor=personas["bank_a_head"], recipient=_recipient(alert, orgs["bank_a"])
    )
    assert run(almaty(2026, 12, 21, 9, 0)) == 0


def test_r67_15_returned_alert_reminds_its_author_and_heads(
    personas: dict[str, User], clock: Callable[[datetime], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "alerts.rework" in {s.name for s in reminders.sources()}
    alert = services.alert_create(actor=personas["bank_a_maker"], **alert_data())
    alert = services.alert_transition(
        actor=personas["bank_a_maker"], alert=alert, name="request_approval"
    )
    alert = services.alert_transition(actor=personas["bank_a_head"], alert=alert, name="approve")
    # Returned Friday 11 December 2026: due at the end of Thursday the 17th.
    with clock(almaty(2026, 12, 11, 15, 0)):
        alert = services.alert_transition(
            actor=personas["center_analyst"], alert=alert, name="return", comment="Add the domains"
        )
    assert alert.deadline_at == end_of(2026, 12, 17)
    with monkeypatch.context() as patch:
        patch.setattr(
            "aips.shared.notifications.reminders.timezone.now", lambda: almaty(2026, 12, 18, 0, 5)
        )
        assert reminders.send_deadline_reminders() == 1
    assert set(
        Notification.objects.filter(kind="deadline.at").values_list("user__email", flat=True)
    ) == {personas["bank_a_maker"].email, personas["bank_a_head"].email}
    assert selectors.get_alert_for(personas["bank_a_maker"], alert.pk).state == AlertState.RETURNED
