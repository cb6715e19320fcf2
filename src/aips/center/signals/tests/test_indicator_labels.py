"""Indicators shown as the reader's words and linked to the one indicator page (issue 15,
items 3 and 6): the types and values on an incident card, an alert and a correlation finding,
and the severity colours of the signal feed and a signal's page."""

from typing import Any

import pytest
from django.urls import reverse

from aips.center.alerts import services as alert_services
from aips.center.incidents import services as incident_services
from aips.center.signals import services
from aips.center.signals.models import CorrelationFinding
from aips.center.signals.tests.factories import ingest, module_actor, signal
from aips.conftest import alert_data, card_data
from aips.core.templatetags.aips_search import indicator_type, indicator_url

pytestmark = pytest.mark.django_db(transaction=False)

IP = "203.0.113.7"
# Correlation leaves documentation ranges aside.
ROUTABLE = "185.220.101.4"


def _indicators(html: str) -> str:
    return html.split("Indicators of compromise", 1)[1].split("</ul>", 1)[0]


def _english(client: Any) -> Any:
    client.cookies["aips_language"] = "en"
    return client


def test_r67_3_6_indicator_type_filter_reads_a_label_and_keeps_an_unknown_code() -> None:
    assert indicator_type("ip") == "IP address"
    assert indicator_type("sha256") == "SHA-256 hash"
    assert indicator_type("x-unknown") == "x-unknown"
    assert indicator_type(None) == ""


def test_r67_3_6_card_indicator_shows_its_type_label_and_links_to_the_indicator_page(
    personas: dict[str, Any], client_as: Any
) -> None:
    card = incident_services.card_create(
        actor=personas["bank_a_maker"], **card_data(indicators=[IP])
    )
    html = _english(client_as("bank_a_maker")).get(f"/incidents/{card.pk}/").content.decode()
    box = _indicators(html)
    assert "IP address" in box
    assert "<code>ip</code>" not in box
    assert f'<a href="{indicator_url(IP)}"><code>{IP}</code></a>' in box


def test_r67_3_6_alert_indicators_show_type_labels_and_link_to_the_indicator_page(
    personas: dict[str, Any], client_as: Any
) -> None:
    alert = alert_services.alert_create(actor=personas["center_analyst"], **alert_data())
    html = _english(client_as("center_analyst")).get(f"/alerts/{alert.pk}/").content.decode()
    box = _indicators(html)
    assert "IP address" in box
    assert "Domain" in box
    assert "<code>ip</code>" not in box
    assert "<code>domain</code>" not in box
    for value in ("203.0.113.66", "invoice-kz.example.com"):
        assert f'<a href="{indicator_url(value)}"><code>{value}</code></a>' in box


def test_r67_8_finding_indicators_link_to_the_indicator_page(
    personas: dict[str, Any], client_as: Any, settings: Any
) -> None:
    settings.AIPS_CORRELATION_MIN_ORGS = 3
    for key in ("bank_a_head", "bank_b_head", "mfo_head"):
        ingest(module_actor(personas[key].organization), [signal("scan", src_ip=ROUTABLE)])
    assert services.correlate() == 1
    finding = CorrelationFinding.objects.get()
    html = client_as("center_analyst").get(reverse("signals:finding", args=[finding.pk]))
    body = html.content.decode()
    assert f'href="{indicator_url(ROUTABLE)}"' in body
    assert "/signals/indicator/?value=" not in body.split('id="finding-indicators"', 1)[1]


def test_r67_3_6_signal_severity_badges_carry_their_severity_for_the_colours(
    personas: dict[str, Any], client_as: Any
) -> None:
    actor = module_actor(personas["bank_a_head"].organization)
    ingest(actor, [signal("ids", severity="critical"), signal("ids", severity="low")])
    client = client_as("bank_a_head")
    feed = client.get(reverse("signals:list")).content.decode()
    assert 'class="badge sev" data-severity="critical"' in feed
    assert 'class="badge sev" data-severity="low"' in feed
    seq = max(int(s.split('"')[0]) for s in feed.split('data-seq="')[1:])
    detail = client.get(reverse("signals:detail", args=[seq])).content.decode()
    assert 'id="signal-severity" data-severity="' in detail
    assert 'class="badge sev"' in detail


def test_r67_3_6_feed_links_indicators_to_the_indicator_page_which_keeps_the_lookup(
    personas: dict[str, Any], client_as: Any
) -> None:
    """The feed, a signal's page and the dashboard link an indicator to the one indicator page
    (cards, alerts, requests, signals and findings together); the signal lookup (who saw it,
    every signal) stays one click away from there."""
    actor = module_actor(personas["bank_a_head"].organization)
    ingest(actor, [signal("scan", src_ip=ROUTABLE), signal("malware", md5="c" * 32)])
    client = client_as("bank_a_head")
    feed = client.get(reverse("signals:list")).content.decode()
    table = feed.split('id="signal-feed"', 1)[1]
    assert f'href="{indicator_url(ROUTABLE)}"' in table
    assert f'href="{indicator_url("c" * 32)}"' in table
    assert "/signals/indicator/?value=" not in table
    seq = max(int(s.split('"')[0]) for s in feed.split('data-seq="')[1:])
    detail = client.get(reverse("signals:detail", args=[seq])).content.decode()
    assert "/signals/indicator/?value=" not in detail
    assert f"{reverse('core:indicator')}?value=" in detail
    page = client.get(indicator_url(ROUTABLE)).content.decode()
    lookup = f'id="indicator-signal-lookup" href="{reverse("signals:indicator")}?value='
    assert lookup in page
