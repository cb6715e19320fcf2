"""Cross-organization correlation (R67.3.6, R67.8): the threshold and the window, idempotent
re-runs, the center's notification, and the two decisions on a finding — a draft threat alert
of the center carrying the indicators, or a dismissal."""

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from aips.center.signals import services
from aips.center.signals.models import CorrelationFinding, FindingState
from aips.center.signals.tests.factories import ingest, module_actor, signal
from aips.shared.audit.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=False)

IP = "185.220.101.4"
SENDER = "billing@evil-bank.example"


@pytest.fixture
def actors(personas: dict[str, Any]) -> list[Any]:
    return [
        module_actor(personas[key].organization)
        for key in ("bank_a_head", "bank_b_head", "mfo_head")
    ]


def test_r67_8_r67_3_6_below_the_threshold_there_is_no_finding(
    actors: list[Any], settings: Any
) -> None:
    settings.AIPS_CORRELATION_MIN_ORGS = 3
    for actor in actors[:2]:
        ingest(actor, [signal("scan", src_ip=IP), signal("scan", src_ip=IP)])
    assert services.correlate() == 0
    assert not CorrelationFinding.objects.exists()


def test_r67_8_r67_3_6_at_the_threshold_one_finding_and_reruns_add_none(
    actors: list[Any], settings: Any, personas: dict[str, Any]
) -> None:
    settings.AIPS_CORRELATION_MIN_ORGS = 3
    for actor in actors:
        ingest(actor, [signal("scan", src_ip=IP)])
    assert services.correlate() == 1
    assert services.correlate() == 0
    ingest(actors[0], [signal("ids", src_ip=IP)])
    assert services.correlate() == 0
    finding = CorrelationFinding.objects.get()
    assert (finding.type, finding.value, finding.state) == ("ip", IP, FindingState.OPEN)
    assert finding.organization_count == 3
    assert finding.signal_count == 4
    assert sorted(finding.organization_ids) == sorted(a.organization_id for a in actors)
    assert AuditEvent.objects.filter(event="correlation:found").count() == 1
    # The center's analysts and administrators hear of it once, and no organization does.
    from aips.shared.notifications.models import Notification

    told = set(Notification.objects.filter(kind="correlation.found").values_list("user", flat=True))
    assert personas["center_analyst"].pk in told
    assert personas["center_admin"].pk in told
    assert personas["bank_a_head"].pk not in told
    assert personas["auditor"].pk not in told
    assert len(told) == Notification.objects.filter(kind="correlation.found").count()


def test_r67_8_the_threshold_is_configurable(actors: list[Any], settings: Any) -> None:
    settings.AIPS_CORRELATION_MIN_ORGS = 2
    for actor in actors[:2]:
        ingest(actor, [signal("malware", md5="c" * 32)])
    assert services.correlate() == 1
    assert CorrelationFinding.objects.get().value == "c" * 32


def test_r67_8_sightings_outside_the_window_do_not_correlate(
    actors: list[Any], settings: Any
) -> None:
    settings.AIPS_CORRELATION_MIN_ORGS = 3
    settings.AIPS_CORRELATION_WINDOW_HOURS = 24
    for actor in actors:
        ingest(actor, [signal("scan", src_ip=IP)])
    later = timezone.now() + timedelta(hours=26)
    assert services.correlate(now=later) == 0
    earlier = timezone.now() - timedelta(hours=3)  # before anyone saw it
    assert services.correlate(now=earlier) == 0
    assert not CorrelationFinding.objects.exists()


def test_r67_8_a_dismissed_indicator_is_not_raised_again_within_the_window(
    actors: list[Any], settings: Any, personas: dict[str, Any]
) -> None:
    settings.AIPS_CORRELATION_MIN_ORGS = 3
    for actor in actors:
        ingest(actor, [signal("scan", src_ip=IP)])
    services.correlate()
    finding = CorrelationFinding.objects.get()
    services.finding_dismiss(actor=personas["center_analyst"], finding=finding, reason="CDN")
    ingest(actors[1], [signal("scan", src_ip=IP)])
    assert services.correlate() == 0
    finding.refresh_from_db()
    assert finding.state == FindingState.DISMISSED
    assert CorrelationFinding.objects.count() == 1


def _phishing_everywhere(actors: list[Any]) -> None:
    for n, actor in enumerate(actors):
        ingest(
            actor,
            [
                signal(
                    "phishing",
                    sender=SENDER,
                    urls=["https://evil-bank.example/verify", f"https://evil-bank.example/c{n}"],
                    attachment_hashes=["d" * 64],
                    src_ip=None,
                )
            ],
        )


def test_r67_8_r67_10_promote_makes_the_centers_draft_threat_alert_with_the_indicators(
    actors: list[Any], settings: Any, client_as: Any, personas: dict[str, Any]
) -> None:
    settings.AIPS_CORRELATION_MIN_ORGS = 3
    _phishing_everywhere(actors)
    services.correlate()
    # The sender, its domain, the shared URL and the attachment arrived together: one finding,
    # led by the sender.
    finding = CorrelationFinding.objects.get()
    assert (finding.type, finding.value) == ("email", SENDER)
    client = client_as("center_analyst")
    page = client.get(reverse("signals:finding", args=[finding.pk]))
    assert page.status_code == 200
    for actor in actors:
        assert f'data-organization="{actor.organization_id}"' in page.content.decode()
    response = client.post(reverse("signals:finding_promote", args=[finding.pk]))
    finding.refresh_from_db()
    assert finding.state == FindingState.PROMOTED
    alert = finding.alert
    assert alert is not None
    assert response.status_code == 302
    assert response["Location"] == reverse("alerts:update", args=[alert.pk])
    assert alert.organization_id == personas["center_analyst"].organization_id
    assert (alert.kind, alert.state, alert.tlp) == ("threat", "draft", "AMBER")
    assert alert.threat_type is not None
    values = [i["value"] for i in alert.indicators]
    assert values[0] == SENDER
    # What every organization saw travels with it; one bank's own URL does not.
    assert {"evil-bank.example", "https://evil-bank.example/verify", "d" * 64} <= set(values)
    assert "https://evil-bank.example/c0" not in values
    assert finding.decided_by == personas["center_analyst"]
    assert AuditEvent.objects.filter(event="correlation:promoted").count() == 1
    # The analyst goes on editing it on the alerts pages.
    assert client.get(response["Location"]).status_code == 200
    again = client.post(reverse("signals:finding_promote", args=[finding.pk]))
    assert again.status_code == 302
    assert CorrelationFinding.objects.get(pk=finding.pk).alert_id == alert.pk


def test_r67_8_dismiss_keeps_the_reason_in_the_journal(
    actors: list[Any], settings: Any, client_as: Any
) -> None:
    settings.AIPS_CORRELATION_MIN_ORGS = 3
    for actor in actors:
        ingest(actor, [signal("scan", src_ip=IP)])
    services.correlate()
    finding = CorrelationFinding.objects.get()
    client = client_as("center_admin")
    no_reason = client.post(reverse("signals:finding_dismiss", args=[finding.pk]), {"reason": ""})
    assert no_reason.status_code == 302
    finding.refresh_from_db()
    assert finding.state == FindingState.OPEN
    # Irreversible: without the confirmation box ticked nothing happens.
    client.post(reverse("signals:finding_dismiss", args=[finding.pk]), {"reason": "Shodan"})
    finding.refresh_from_db()
    assert finding.state == FindingState.OPEN
    client.post(
        reverse("signals:finding_dismiss", args=[finding.pk]),
        {"reason": "Shodan", "confirm": "yes"},
    )
    finding.refresh_from_db()
    assert finding.state == FindingState.DISMISSED
    event = AuditEvent.objects.get(event="correlation:dismissed")
    assert event.details["reason"] == "Shodan"
    api = client_as("center_admin").post(
        f"/api/v1/correlations/{finding.pk}/promote", content_type="application/json"
    )
    assert api.status_code == 409


def test_r67_4_findings_are_the_centers_alone(
    actors: list[Any], settings: Any, client_as: Any
) -> None:
    settings.AIPS_CORRELATION_MIN_ORGS = 3
    for actor in actors:
        ingest(actor, [signal("scan", src_ip=IP)])
    services.correlate()
    finding = CorrelationFinding.objects.get()
    for persona in ("bank_a_head", "bank_a_viewer", "auditor"):
        client = client_as(persona)
        assert client.get(reverse("signals:findings")).status_code == 403
        assert client.get("/api/v1/correlations").status_code == 403
        assert client.get(f"/api/v1/correlations/{finding.pk}").status_code == 403
    center = client_as("center_analyst")
    listed = center.get("/api/v1/correlations").json()
    assert [f["id"] for f in listed["items"]] == [finding.pk]
    assert center.get("/api/v1/correlations", {"state": "dismissed"}).json()["items"] == []
    body = center.post(
        f"/api/v1/correlations/{finding.pk}/dismiss",
        {"reason": "a scanner everyone sees"},
        content_type="application/json",
    ).json()
    assert body["state"] == "dismissed"


def test_r67_8_findings_list_shows_open_ones_first(
    actors: list[Any], settings: Any, client_as: Any, personas: dict[str, Any]
) -> None:
    settings.AIPS_CORRELATION_MIN_ORGS = 3
    for actor in actors:
        ingest(actor, [signal("scan", src_ip=IP), signal("malware", md5="c" * 32)])
    services.correlate()
    old = CorrelationFinding.objects.get(value=IP)
    services.finding_dismiss(actor=personas["center_admin"], finding=old, reason="")
    html = client_as("center_analyst").get(reverse("signals:findings")).content.decode()
    assert html.index("c" * 32) < html.index(IP)
    only_open = client_as("center_analyst").get(reverse("signals:findings"), {"state": "open"})
    assert IP not in only_open.content.decode()


# --- grouping (issue 15, item 8) --------------------------------------------------------------

CAMPAIGN = {
    "src_ip": "185.100.87.9",
    "sender": "notice@tax-refund.example",
    "urls": ["https://tax-refund.example/claim"],
    "attachment_hashes": ["e" * 64],
}


def _campaign(actor: Any, **extra: Any) -> None:
    ingest(actor, [signal("phishing", **{**CAMPAIGN, **extra})])


def _values(finding: CorrelationFinding) -> set[str]:
    return set(finding.indicators.values_list("value", flat=True))


def test_r67_8_a_campaign_seen_together_is_one_finding_with_its_indicators(
    actors: list[Any], settings: Any
) -> None:
    settings.AIPS_CORRELATION_MIN_ORGS = 3
    for actor in actors:
        _campaign(actor)
    assert services.correlate() == 1
    finding = CorrelationFinding.objects.get()
    assert _values(finding) >= {
        "185.100.87.9",
        "notice@tax-refund.example",
        "https://tax-refund.example/claim",
        "e" * 64,
    }
    assert (finding.type, finding.value) == ("email", "notice@tax-refund.example")
    assert finding.organization_count == 3
    event = AuditEvent.objects.get(event="correlation:found")
    assert event.details["indicators"] == finding.indicators.count()
    assert services.correlate() == 0


def test_r67_8_unrelated_indicators_are_separate_findings(actors: list[Any], settings: Any) -> None:
    settings.AIPS_CORRELATION_MIN_ORGS = 3
    for actor in actors:
        ingest(actor, [signal("scan", src_ip=IP), signal("malware", md5="c" * 32, src_ip=None)])
    assert services.correlate() == 2
    assert {frozenset(_values(f)) for f in CorrelationFinding.objects.all()} == {
        frozenset({IP}),
        frozenset({"c" * 32}),
    }


def test_r67_8_a_later_signal_adds_its_indicator_to_the_open_finding(
    actors: list[Any], settings: Any
) -> None:
    settings.AIPS_CORRELATION_MIN_ORGS = 3
    for actor in actors:
        _campaign(actor)
    services.correlate()
    finding = CorrelationFinding.objects.get()
    before = _values(finding)
    # The same campaign now also ships a second attachment.
    for actor in actors:
        _campaign(actor, attachment_hashes=["e" * 64, "f" * 64])
    assert services.correlate() == 0
    assert CorrelationFinding.objects.count() == 1
    assert _values(finding) == before | {"f" * 64}
    finding.refresh_from_db()
    assert finding.state == FindingState.OPEN


def test_r67_8_the_finding_page_offers_an_alert_holding_its_indicators_and_links_it(
    actors: list[Any], settings: Any, client_as: Any, personas: dict[str, Any]
) -> None:
    from aips.center.alerts.models import Alert

    settings.AIPS_CORRELATION_MIN_ORGS = 3
    for actor in actors:
        _campaign(actor)
    services.correlate()
    finding = CorrelationFinding.objects.get()
    first = services.finding_promote(actor=personas["center_analyst"], finding=finding)
    # The campaign goes on with a new attachment after its alert was drafted: a new finding
    # holding the group, whose page shows the alert the first one became.
    for actor in actors:
        _campaign(actor, attachment_hashes=["f" * 64])
    assert services.correlate() == 1
    second = CorrelationFinding.objects.exclude(pk=finding.pk).get()
    assert "f" * 64 in _values(second)
    client = client_as("center_analyst")
    html = client.get(reverse("signals:finding", args=[second.pk])).content.decode()
    assert f'data-alert="{first.pk}"' in html
    assert 'id="finding-duplicate-warning"' in html
    alerts = Alert.objects.count()
    wrong = client.post(reverse("signals:finding_link", args=[second.pk]), {"alert": "x\x00"})
    assert wrong.status_code == 302
    second.refresh_from_db()
    assert second.state == FindingState.OPEN
    response = client.post(reverse("signals:finding_link", args=[second.pk]), {"alert": first.pk})
    assert response.status_code == 302
    second.refresh_from_db()
    assert (second.state, second.alert_id) == (FindingState.LINKED, first.pk)
    assert second.decided_by == personas["center_analyst"]
    assert Alert.objects.count() == alerts
    event = AuditEvent.objects.get(event="correlation:linked")
    assert event.details["alert"] == first.pk
    page = client.get(reverse("signals:finding", args=[second.pk])).content.decode()
    assert 'id="finding-linked-alert"' in page
    assert 'id="finding-promote"' not in page
    api = client.get(f"/api/v1/correlations/{second.pk}")
    assert (api.status_code, api.json()["state"], api.json()["alert_id"]) == (
        200,
        "linked",
        first.pk,
    )


def test_r67_8_link_refuses_an_alert_without_the_indicators(
    actors: list[Any], settings: Any, personas: dict[str, Any]
) -> None:
    from aips.core.errors import AppError

    settings.AIPS_CORRELATION_MIN_ORGS = 3
    for actor in actors:
        ingest(actor, [signal("scan", src_ip=IP), signal("malware", md5="c" * 32, src_ip=None)])
    services.correlate()
    by_ip = CorrelationFinding.objects.get(value=IP)
    by_hash = CorrelationFinding.objects.get(value="c" * 32)
    alert = services.finding_promote(actor=personas["center_analyst"], finding=by_ip)
    with pytest.raises(AppError):
        services.finding_link(actor=personas["center_analyst"], finding=by_hash, alert=alert)
    with pytest.raises(AppError):
        services.finding_link(actor=personas["bank_a_head"], finding=by_hash, alert=alert)
    by_hash.refresh_from_db()
    assert by_hash.state == FindingState.OPEN


def test_r67_8_two_open_findings_that_prove_one_group_are_merged_into_the_older(
    actors: list[Any], settings: Any, client_as: Any, personas: dict[str, Any]
) -> None:
    """A scanner's address and a malware hash open two findings; later the same signals carry
    both (the malware is downloaded from the scanner): the older finding takes the newer one's
    indicators, organizations and signals, the newer is closed as merged into it with a link,
    the journal records the merge once, and re-runs change nothing."""
    from aips.core.errors import AppError

    settings.AIPS_CORRELATION_MIN_ORGS = 3
    digest = "c" * 32
    for actor in actors:
        ingest(actor, [signal("scan", src_ip=IP)])
    assert services.correlate() == 1
    older = CorrelationFinding.objects.get()
    for actor in actors:
        ingest(actor, [signal("malware", md5=digest, src_ip=None)])
    assert services.correlate() == 1
    newer = CorrelationFinding.objects.exclude(pk=older.pk).get()
    assert (_values(older), _values(newer)) == ({IP}, {digest})
    before = older.signal_count + newer.signal_count
    # One bank's malware now arrives from the scanner's address: one group.
    ingest(actors[0], [signal("malware", md5=digest, src_ip=IP)])
    assert services.correlate() == 0
    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.state == FindingState.OPEN
    assert _values(older) == {IP, digest}
    assert (newer.state, newer.merged_into_id) == (FindingState.MERGED, older.pk)
    assert older.signal_count >= before
    assert older.organization_count == 3
    event = AuditEvent.objects.get(event="correlation:merged")
    assert (event.target_id, event.details["into"]) == (str(newer.pk), older.pk)
    # Idempotent: no new finding, no second merge, the survivor stays the one holding both.
    for _ in range(2):
        assert services.correlate() == 0
    assert CorrelationFinding.objects.count() == 2
    assert AuditEvent.objects.filter(event="correlation:merged").count() == 1
    assert _values(older) == {IP, digest}
    # A merged finding is decided: it cannot be promoted, linked or dismissed any more.
    with pytest.raises(AppError):
        services.finding_dismiss(actor=personas["center_analyst"], finding=newer, reason="x")
    client = client_as("center_analyst")
    page = client.get(reverse("signals:finding", args=[newer.pk])).content.decode()
    assert 'id="finding-merged-into"' in page
    assert reverse("signals:finding", args=[older.pk]) in page.split('id="finding-merged-into"')[1]
    assert 'id="finding-promote"' not in page
    survivor = client.get(reverse("signals:finding", args=[older.pk])).content.decode()
    assert f'data-merged-from="{newer.pk}"' in survivor
    assert f'data-indicator="{digest}"' in survivor
    listing = client.get(reverse("signals:findings")).content.decode()
    assert f'data-merged-into="{older.pk}"' in listing
    api = client.get(f"/api/v1/correlations/{newer.pk}").json()
    assert (api["state"], api["merged_into_id"]) == ("merged", older.pk)
    merged = client.get("/api/v1/correlations?state=merged").json()
    assert [f["id"] for f in merged["items"]] == [newer.pk]
