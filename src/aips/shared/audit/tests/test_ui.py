"""The journal screen and its export (R57.17, issue 4 item 5)."""

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest
from django.db import transaction
from django.test import Client
from django.utils.http import urlencode

from aips.core.actors import SystemActor
from aips.core.csv_export import csv_safe
from aips.shared.accounts.models import User
from aips.shared.audit import selectors
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.audit.services import record
from aips.shared.organizations.models import Organization

ClientAs = Callable[[str | None], Client]


def add_entry(
    label: str,
    *,
    organization: Organization | None = None,
    event: EventType = EventType.USER_UPDATED,
    at: datetime | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    with transaction.atomic():
        if at is None:
            return record(
                actor=SystemActor(label=label),
                event=event,
                organization_id=organization.pk if organization else None,
                details=details,
            )
        with mock.patch("django.utils.timezone.now", return_value=at):
            return record(
                actor=SystemActor(label=label),
                event=event,
                organization_id=organization.pk if organization else None,
                details=details,
            )


def seqs(response: Any) -> list[int]:
    return [e.seq for e in response.context["entries"]]


def body(response: Any) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def exports() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event=EventType.AUDIT_EXPORTED).order_by("seq"))


# --- the list ----------------------------------------------------------------------------------


def test_r57_17_journal_lists_newest_first_with_link_in_menu(
    client_as: ClientAs, orgs: dict[str, Organization]
) -> None:
    first = add_entry("probe-order", organization=orgs["bank_a"])
    second = add_entry("probe-order", organization=orgs["bank_b"])
    response = client_as("auditor").get("/audit/", {"actor": "probe-order"})
    assert response.status_code == 200
    assert seqs(response) == [second.seq, first.seq]
    html = response.content.decode()
    assert 'href="/audit/"' in html
    assert "Audit journal" in html
    assert f'href="/audit/{first.seq}/"' in html
    # People without the permission do not see the menu entry.
    assert 'href="/audit/"' not in client_as("bank_a_maker").get("/").content.decode()


def test_r57_17_filter_by_actor_event_and_organization(
    client_as: ClientAs, personas: dict[str, User], orgs: dict[str, Organization]
) -> None:
    a = add_entry("probe-filter-alpha", organization=orgs["bank_a"])
    b = add_entry("probe-filter-beta", organization=orgs["bank_b"], event=EventType.TOKEN_CREATED)
    c = add_entry("probe-filter-beta", organization=orgs["bank_a"], event=EventType.TOKEN_CREATED)
    client = client_as("center_admin")

    assert seqs(client.get("/audit/", {"actor": "FILTER-ALPHA"})) == [a.seq]
    assert seqs(client.get("/audit/", {"actor": "probe-filter", "event": "token:created"})) == [
        c.seq,
        b.seq,
    ]
    assert seqs(
        client.get("/audit/", {"actor": "probe-filter", "organization": str(orgs["bank_b"].pk)})
    ) == [b.seq]
    # The actor filter also finds people by their account's e-mail, whatever the label says.
    with transaction.atomic():
        by_maker = record(
            actor=personas["bank_a_maker"],
            event=EventType.USER_LANGUAGE_CHANGED,
            organization_id=orgs["bank_a"].pk,
            actor_label="Maker, label only",
        )
    found = client.get("/audit/", {"actor": "maker@alataubank"}).context["entries"]
    assert by_maker.seq in [e.seq for e in found]
    maker_pk = personas["bank_a_maker"].pk
    assert all(e.actor_id == maker_pk or "maker@alataubank" in e.actor_label for e in found)


def test_r57_17_time_filter_is_almaty_time(
    client_as: ClientAs, orgs: dict[str, Organization]
) -> None:
    # 10:00 UTC is 15:00 in Almaty.
    inside = add_entry("probe-time", at=datetime(2025, 3, 1, 10, 0, tzinfo=UTC))
    add_entry("probe-time", at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC))
    add_entry("probe-time", at=datetime(2025, 3, 1, 8, 0, tzinfo=UTC))
    client = client_as("auditor")
    response = client.get(
        "/audit/", {"actor": "probe-time", "since": "2025-03-01T14:30", "until": "2025-03-01T15:30"}
    )
    assert response.status_code == 200
    assert seqs(response) == [inside.seq]
    assert "01.03.2025 15:00:00 (Almaty)" in response.content.decode()
    # "To" is exclusive.
    edge = client.get(
        "/audit/", {"actor": "probe-time", "since": "2025-03-01T14:00", "until": "2025-03-01T15:00"}
    )
    assert seqs(edge) == []


def test_r57_17_invalid_filter_shows_field_errors(client_as: ClientAs) -> None:
    client = client_as("auditor")
    response = client.get("/audit/", {"since": "yesterday-ish", "event": "nope:nothing"})
    assert response.status_code == 422
    form = response.context["form"]
    assert set(form.errors) == {"since", "event"}
    assert response.context["entries"] == []
    assert "Please correct the fields marked below." in response.content.decode()

    backwards = client.get("/audit/", {"since": "2025-03-02T00:00", "until": "2025-03-01T00:00"})
    assert backwards.status_code == 422
    assert "until" in backwards.context["form"].errors


def test_r57_17_keyset_pagination(client_as: ClientAs) -> None:
    made = [add_entry("probe-page").seq for _ in range(55)]
    client = client_as("auditor")
    first = client.get("/audit/", {"actor": "probe-page"})
    assert seqs(first) == sorted(made, reverse=True)[:50]
    older = first.context["older_query"]
    assert f"before={made[5]}" in older
    assert "actor=probe-page" in older
    second = client.get(f"/audit/?{older}")
    assert seqs(second) == sorted(made[:5], reverse=True)
    assert second.context["older_query"] == ""
    assert second.context["paged"] is True
    # A malformed cursor means the first page.
    assert seqs(client.get("/audit/", {"actor": "probe-page", "before": "x"}))[0] == made[-1]


def test_r57_17_detail_shows_every_field_escaped(
    client_as: ClientAs, orgs: dict[str, Organization]
) -> None:
    entry = add_entry(
        "probe-detail",
        organization=orgs["bank_a"],
        details={"note": "<script>alert(1)</script>", "n": 2},
    )
    response = client_as("auditor").get(f"/audit/{entry.seq}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&quot;n&quot;: 2" in html  # pretty-printed
    chain = response.context["chain"]
    assert chain is not None
    assert chain.leaf_hash in html
    assert chain.chain_hash in html
    assert "user:updated" in html
    assert orgs["bank_a"].display_name in html
    assert client_as("auditor").get("/audit/999999999/").status_code == 404


# --- an organization's head --------------------------------------------------------------------


def test_r57_17_head_sees_only_own_organization(
    client_as: ClientAs, orgs: dict[str, Organization]
) -> None:
    own = add_entry("probe-tenant", organization=orgs["bank_a"])
    other = add_entry("probe-tenant", organization=orgs["bank_b"])
    unowned = add_entry("probe-tenant")
    client = client_as("bank_a_head")

    listed = client.get("/audit/", {"actor": "probe-tenant"})
    assert listed.status_code == 200
    assert seqs(listed) == [own.seq]
    # The organization filter is not offered, and asking for another one changes nothing.
    assert "organization" not in listed.context["form"].fields
    sneaky = client.get(
        "/audit/", {"actor": "probe-tenant", "organization": str(orgs["bank_b"].pk)}
    )
    assert seqs(sneaky) == [own.seq]
    everything = client.get("/audit/")
    assert {e.organization_id for e in everything.context["entries"]} == {orgs["bank_a"].pk}

    assert client.get(f"/audit/{own.seq}/").status_code == 200
    assert client.get(f"/audit/{other.seq}/").status_code == 404
    assert client.get(f"/audit/{unowned.seq}/").status_code == 404

    exported = body(client.get("/audit/export/", {"format": "jsonl"}))
    orgs_seen = {json.loads(line)["organization_id"] for line in exported.splitlines()}
    assert orgs_seen == {orgs["bank_a"].pk}
    assert str(other.seq) not in {str(json.loads(x)["seq"]) for x in exported.splitlines()}


# --- export ------------------------------------------------------------------------------------


def test_r57_17_export_csv_is_recorded_before_streaming(
    client_as: ClientAs, personas: dict[str, User], orgs: dict[str, Organization]
) -> None:
    entries = [add_entry("probe-export", organization=orgs["bank_a"]) for _ in range(3)]
    before = len(exports())
    response = client_as("auditor").get("/audit/export/", {"actor": "probe-export"})
    assert response.status_code == 200
    assert response.streaming
    # On the record before a byte of the body was produced.
    recorded = exports()
    assert len(recorded) == before + 1
    event = recorded[-1]
    assert event.actor_id == personas["auditor"].pk
    assert event.organization_id == orgs["center"].pk
    assert event.details["format"] == "csv"
    assert event.details["filters"] == {"actor_contains": "probe-export"}
    assert event.details["rows"] == 3
    assert event.details["truncated"] is False
    assert event.details["upto_seq"] == event.seq - 1

    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="aips-audit-')
    assert response["Content-Disposition"].endswith('.csv"')
    assert "no-store" in response["Cache-Control"]
    assert response["X-AIPS-Export-Rows"] == "3"
    text = body(response)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["seq", "at_utc", "at_local", "event"]
    assert [int(r[0]) for r in rows[1:]] == [e.seq for e in reversed(entries)]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["event"] == "user:updated"
    assert first["event_label"] == "User changed"
    assert first["actor_label"] == "probe-export"
    assert first["organization"] == orgs["bank_a"].display_name
    assert first["at_local"].endswith("+05:00")


def test_r57_17_export_jsonl(client_as: ClientAs, orgs: dict[str, Organization]) -> None:
    entry = add_entry("probe-jsonl", organization=orgs["bank_b"], details={"k": "ключ"})
    response = client_as("center_admin").get(
        "/audit/export/", {"actor": "probe-jsonl", "format": "jsonl"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-ndjson")
    assert response["Content-Disposition"].endswith('.jsonl"')
    lines = body(response).splitlines()
    assert len(lines) == 1
    item = json.loads(lines[0])
    assert item == {
        **entry.payload(),
        "event_label": "User changed",
        "organization_name": orgs["bank_b"].display_name,
    }
    assert exports()[-1].details["format"] == "jsonl"


def test_r57_17_export_is_capped(client_as: ClientAs, monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(5):
        add_entry("probe-cap")
    monkeypatch.setattr(selectors, "EXPORT_MAX_ROWS", 3)
    response = client_as("auditor").get("/audit/export/", {"actor": "probe-cap", "format": "jsonl"})
    assert len(body(response).splitlines()) == 3
    assert response["X-AIPS-Export-Truncated"] == "true"
    assert exports()[-1].details["rows"] == 3
    assert exports()[-1].details["truncated"] is True


def test_r57_17_export_neutralizes_csv_formulas(client_as: ClientAs) -> None:
    dangerous = ['=HYPERLINK("http://evil")', "+1+2", "-3", "@SUM(A1)", "\tx", "\rx"]
    for label in dangerous:
        add_entry(label, details={"v": "=1"})
    response = client_as("auditor").get("/audit/export/", {"event": "user:updated"})
    rows = list(csv.reader(io.StringIO(body(response).lstrip("\ufeff"))))
    labels = {dict(zip(rows[0], r, strict=True))["actor_label"] for r in rows[1:]}
    for label in dangerous:
        assert "'" + label in labels
        assert label not in labels
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell

    assert csv_safe("=1") == "'=1"
    assert csv_safe("plain") == "plain"
    assert csv_safe(None) == ""
    assert csv_safe(42) == "42"


def test_r57_17_export_needs_a_fresh_sign_in(personas: dict[str, User]) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(personas["auditor"])  # signed in, but not within the last minutes
    before = len(exports())
    response = client.get("/audit/export/?format=csv&actor=x")
    assert response.status_code == 302
    assert response["Location"] == "/reauthenticate/?" + urlencode(
        {"next": "/audit/export/?format=csv&actor=x"}
    )
    assert len(exports()) == before
    # The journal itself opens without re-authentication.
    assert client.get("/audit/").status_code == 200


def test_r57_17_export_with_invalid_filter_exports_nothing(client_as: ClientAs) -> None:
    before = len(exports())
    response = client_as("auditor").get("/audit/export/", {"format": "xml", "since": "soon"})
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"format", "since"}
    assert len(exports()) == before


def test_r57_17_people_without_the_permission_are_refused(client_as: ClientAs) -> None:
    for persona in ("center_analyst", "bank_a_maker", "bank_a_viewer"):
        client = client_as(persona)
        assert client.get("/audit/").status_code == 403
        assert client.get("/audit/export/").status_code == 403
