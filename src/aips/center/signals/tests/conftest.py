"""Integration modules of bank A and bank B with their tokens, and signal factories."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import RequestFactory

from aips.core.actors import SystemActor


class WsgiResponse:
    """What a WSGI application answered, read like django.test.Client's response."""

    def __init__(self, status: str, headers: list[tuple[str, str]], content: bytes) -> None:
        self.status_code = int(status.split(" ", 1)[0])
        self.headers = {name.lower(): value for name, value in headers}
        self.header_list = headers
        self.content = content

    def __getitem__(self, name: str) -> str:
        return self.headers[name.lower()]

    def json(self) -> Any:
        import json

        return json.loads(self.content)


class IngestClient:
    """Requests through `aips.wsgi.application`, the WSGI entry point production serves (the
    dispatcher in front of Django), so `POST /api/v1/signals` takes production's path."""

    def post(self, path: str, data: Any, content_type: str, **extra: Any) -> WsgiResponse:
        from aips.wsgi import application

        environ = RequestFactory().post(path, data, content_type=content_type, **extra).environ
        answered: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
            answered["status"], answered["headers"] = status, headers

        chunks = application(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return WsgiResponse(answered["status"], answered["headers"], content)


@pytest.fixture(scope="session", autouse=True)
def _stop_token_listener() -> Any:
    # The ingest path's LISTEN connection would outlive the test database otherwise.
    yield
    from aips.center.signals.ingest_wsgi import tokens

    tokens.stop()


def make_module(organization: Any, name: str = "agent-1") -> tuple[Any, str]:
    from aips.center.integrations import services

    actor = SystemActor(label="test")
    module = services.module_register(actor=actor, organization=organization, name=name)
    return services.token_issue(actor=actor, module=module)


@pytest.fixture
def module_a(personas: dict[str, Any]) -> tuple[Any, str]:
    return make_module(personas["bank_a_head"].organization)


@pytest.fixture
def module_b(personas: dict[str, Any]) -> tuple[Any, str]:
    return make_module(personas["bank_b_head"].organization)


def signal(kind: str = "ids", **fields: Any) -> dict[str, Any]:
    """A valid signal of `kind`, observed a minute ago."""
    base: dict[str, Any] = {
        "kind": kind,
        "id": str(uuid.uuid4()),
        "observed_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "product": "Suricata",
        "vendor": "OISF",
        "severity": "high",
        "src_ip": "203.0.113.7",
        "dst_ip": "10.0.0.5",
        "src_port": 51514,
        "dst_port": 443,
        "protocol": "tcp",
        "direction": "external",
    }
    extra: dict[str, dict[str, Any]] = {
        "ids": {"rule_id": "2024897", "rule_name": "ET EXPLOIT Possible Log4j RCE"},
        "waf": {"url": "/login?user=%27%20OR%201=1", "method": "POST", "status": 403},
        "endpoint": {"host": "ws-0042", "detection": "Trojan.GenericKD", "sha256": "a" * 64},
        "malware": {
            "file_name": "invoice.pdf.exe",
            "detection": "Win.Trojan.Agent",
            "md5": "b" * 32,
        },
        "phishing": {
            "sender": "billing@evil-bank.example",
            "recipient_count": 12,
            "subject": "Urgent: verify your account",
            "urls": ["https://evil-bank.example/verify"],
        },
        "scan": {"ports": [22, 80, 443, 3389], "port_count": 4, "target_count": 1},
        "brute_force": {"target_account": "admin", "attempts": 250},
        "spraying": {"accounts": ["a.ivanov", "b.petrov"], "account_count": 40, "attempts": 40},
    }
    base.update(extra[kind])
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
def agent() -> Callable[..., Any]:
    """POST a batch as a module through the production WSGI entry: agent(token, items)."""

    def post(token: str, items: Any, **extra: Any) -> Any:
        import json

        body = items if isinstance(items, bytes | str) else json.dumps(items)
        content_type = extra.pop("content_type", "application/json")
        return IngestClient().post(
            "/api/v1/signals",
            body,
            content_type=content_type,
            HTTP_AUTHORIZATION=f"Bearer {token}",
            **extra,
        )

    return post
