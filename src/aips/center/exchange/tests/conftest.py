"""The exchange's world: alerts of every audience, as the center publishes them."""

from typing import Any

import pytest

from aips.conftest import alert_data

EVERY_KIND = [
    "203.0.113.66",
    "2001:db8::66",
    "198.51.100.0/24",
    "invoice-kz.example.com",
    "https://invoice-kz.example.com/pay?id=1",
    "d41d8cd98f00b204e9800998ecf8427e",
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "phisher@invoice-kz.example.com",
]


def publish(personas: dict[str, Any], *, to: list[str] | None = None, **overrides: Any) -> Any:
    """The center's alert, published at once; `to`: the organizations (persona keys of their
    heads) an AMBER or RED alert goes to."""
    from aips.center.alerts import services

    analyst = personas["center_analyst"]
    alert = services.alert_create(actor=analyst, **alert_data(**overrides))
    ids = [personas[key].organization_id for key in to] if to else None
    return services.alert_transition(
        actor=analyst, alert=alert, name="publish_direct", organization_ids=ids
    )


@pytest.fixture
def exchange_alerts(personas: dict[str, Any]) -> dict[str, Any]:
    """GREEN to everyone (every indicator kind), a GREEN vulnerability alert, AMBER and RED to
    bank B only, AMBER to bank A, RED to bank A."""
    return {
        "green": publish(personas, title="Green broadcast", indicators=EVERY_KIND),
        "vuln": publish(
            personas,
            kind="vulnerability",
            title="Critical VPN gateway flaw",
            threat_type_id=None,
            indicators=[],
            cve_ids=["CVE-2024-3400"],
            references=["https://security.paloaltonetworks.com/CVE-2024-3400"],
        ),
        "amber_b": publish(
            personas,
            title="Amber for bank B",
            tlp="AMBER",
            to=["bank_b_head"],
            indicators=["b-only.example.net", "192.0.2.11"],
        ),
        "red_b": publish(
            personas,
            title="Red for bank B",
            tlp="RED",
            to=["bank_b_head"],
            indicators=["red-b.example.net", "192.0.2.12"],
        ),
        "amber_a": publish(
            personas,
            title="Amber for bank A",
            tlp="AMBER",
            to=["bank_a_head"],
            indicators=["a-amber.example.org"],
        ),
        "red_a": publish(
            personas,
            title="Red for bank A",
            tlp="RED",
            to=["bank_a_head"],
            indicators=["red-a.example.org"],
        ),
    }


def person_token(user: Any) -> str:
    from aips.shared.accounts import services

    _token, raw = services.token_create(actor=user, name="feeds")
    return str(raw)


def module_token(organization: Any, name: str = "siem") -> str:
    from aips.center.signals.tests.conftest import make_module

    _module, raw = make_module(organization, name=name)
    return raw
