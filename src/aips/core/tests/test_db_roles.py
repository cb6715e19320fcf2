"""The PostgreSQL roles of docs/deployment.md are the roles the tests run under (pg_roles.py):
ingest, the demo data, the worker's partitions, the journal and both archives work as the
application role, and the application role cannot truncate or rewrite the journal, create
objects or pass the guards. The grants come from one command, `aips db grants`."""

import io
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from aips.core.tests import pg_roles

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="roles and grants are PostgreSQL's"
)
DEPLOYMENT = Path(__file__).resolve().parents[4] / "docs" / "deployment.md"


def _one(sql: str, params: list[Any] | None = None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()


def _roles() -> pg_roles.Roles:
    roles = pg_roles.active()
    assert roles is not None, "the PostgreSQL tests must run under the documented roles"
    return roles


@postgres_only
def test_r57_17_postgresql_tests_connect_as_the_app_role_that_owns_nothing() -> None:
    roles = _roles()
    user, session_user = _one("SELECT current_user, session_user")
    assert user == session_user == roles.app
    rows = _one(
        "SELECT bool_or(rolsuper), bool_or(rolcreaterole), bool_or(rolcreatedb) FROM pg_roles "
        "WHERE rolname IN (%s, %s)",
        [roles.app, roles.owner],
    )
    assert rows == (False, False, False)
    owners = _one(
        "SELECT array_agg(DISTINCT pg_get_userbyid(relowner)) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'S', 'i', 'v')"
    )[0]
    assert owners == [roles.owner]
    # The harness's membership (for its explicit SET ROLE) passes on none of the owner's rights.
    assert _one("SELECT pg_has_role(current_user, %s, 'USAGE')", [roles.owner])[0] is False


@postgres_only
def test_r67_8_ingest_works_as_the_app_role(orgs: dict[str, Any]) -> None:
    from aips.center.signals.models import Signal
    from aips.center.signals.tests.conftest import IngestClient, make_module, signal

    module, token = make_module(orgs["bank_a"])
    items = [signal(kind) for kind in ("ids", "waf", "scan")]
    response = IngestClient().post(
        "/api/v1/signals",
        json.dumps(items),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 3
    assert Signal.objects.filter(module=module).count() == 3
    # The rows took their numbers from the plain sequence the app role may use.
    assert _one("SELECT last_value FROM signals_signal_seq_seq")[0] >= 3


@postgres_only
def test_r67_8_demo_load_works_as_the_app_role() -> None:
    from aips.center.signals.models import Signal

    out = io.StringIO()
    call_command("demo", "load", stdout=out)
    assert "Demo sign-ins" in out.getvalue()
    assert Signal.objects.count() > 0


@postgres_only
def test_r57_17_worker_creates_next_months_partitions_as_the_app_role() -> None:
    from aips.center.signals import partitions
    from aips.center.signals.jobs import signal_partitions as _signal_partitions

    roles = _roles()
    later = partitions.add_months(timezone.localdate(), 14)
    created = partitions.ensure_partitions(later, behind=0, ahead=2)
    assert created == [partitions.partition_name(partitions.add_months(later, n)) for n in range(3)]
    assert set(created) <= partitions.existing_partitions()
    assert partitions.ensure_partitions(later, behind=0, ahead=2) == []  # idempotent
    for name in created:
        owner, may_write = _one(
            "SELECT pg_get_userbyid(relowner), has_table_privilege(%s, oid, 'INSERT') "
            "FROM pg_class WHERE relname = %s",
            [roles.app, name],
        )
        assert (owner, may_write) == (roles.owner, True)
    bounds = _one(
        "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = %s", [created[0]]
    )[0]
    start = partitions.month_start(later)
    assert f"'{start:%Y-%m-%d} 00:00:00+00'" in bounds
    # The worker's own job, as it runs every day.
    assert _signal_partitions() == "partitions ready"


@postgres_only
def test_r57_17_signal_archive_drops_a_month_as_the_app_role() -> None:
    from aips.center.signals import archive, partitions
    from aips.core.actors import SystemActor

    old = partitions.add_months(partitions.month_start(timezone.localdate()), -6)
    partitions.ensure_partitions(old, behind=0, ahead=0)
    name = partitions.partition_name(old)
    assert name in partitions.existing_partitions()
    with pytest.raises(DatabaseError, match="not archived"), transaction.atomic():
        partitions.drop_partition(old)  # the function refuses a month the archive has not sealed
    done = archive.archive_month(actor=SystemActor(label="test"), month=old)
    assert (done.month, done.rows, done.archived) == (old, 0, True)
    assert name not in partitions.existing_partitions()


@postgres_only
def test_r57_17_journal_append_checkpoint_and_archive_work_as_the_app_role(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aips.core.actors import SystemActor
    from aips.shared.audit.models import AuditCheckpoint, AuditEvent, AuditSegment, EventType
    from aips.shared.audit.services import record

    settings.AIPS_AUDIT_KEY_FILE = str(tmp_path / "audit.key")
    settings.AIPS_AUDIT_ARCHIVE_DIR = str(tmp_path / "archive")
    for days_ago, count in ((120, 6), (1, 2)):
        at = timezone.now() - timedelta(days=days_ago)
        with monkeypatch.context() as patch, transaction.atomic():
            patch.setattr("aips.shared.audit.services.timezone.now", lambda at=at: at)
            for _ in range(count):
                record(actor=SystemActor(label="test"), event=EventType.USER_UPDATED)
    call_command("worker", "--once", stdout=io.StringIO())
    assert AuditCheckpoint.objects.get().tree_size == 8
    segment = AuditSegment.objects.get()
    assert (segment.first_seq, segment.last_seq) == (1, 6)
    assert not AuditEvent.objects.filter(seq__lte=6).exists()  # sealed content removed
    out = io.StringIO()
    call_command("audit", "verify", "--archive", settings.AIPS_AUDIT_ARCHIVE_DIR, stdout=out)
    assert "OK" in out.getvalue()


@postgres_only
@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("TRUNCATE audit_auditentry", "permission denied"),
        ("TRUNCATE audit_auditevent", "permission denied"),
        ("TRUNCATE audit_audithead", "permission denied"),
        ("TRUNCATE signals_signal", "permission denied"),
        ("UPDATE audit_auditentry SET chain_hash = chain_hash", "permission denied"),
        ("UPDATE audit_auditevent SET actor_label = 'nobody'", "permission denied"),
        ("UPDATE audit_auditcheckpoint SET tree_size = 0", "permission denied"),
        ("DELETE FROM audit_auditentry", "permission denied"),
        ("DELETE FROM audit_auditcheckpoint", "permission denied"),
        ("DELETE FROM audit_auditevent", "append-only"),  # only sealed content may go
        ("CREATE TABLE intruder (id int)", "permission denied for schema"),
        (
            "CREATE TABLE signals_signal_p209901 PARTITION OF signals_signal "
            "FOR VALUES FROM ('2099-01-01') TO ('2099-02-01')",
            "permission denied for schema",
        ),
        ("DROP TRIGGER audit_auditentry_no_update ON audit_auditentry", "must be owner"),
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL", "must be owner"),
        ("SET session_replication_role = replica", "permission denied"),
        ("SELECT setval('signals_signal_seq_seq', 1)", "permission denied for sequence"),
        ("SELECT signals_month_partition_drop('2099-01-01')", "not archived"),
    ],
)
def test_r57_17_app_role_cannot_truncate_rewrite_or_create(
    personas: dict[str, Any], statement: str, refusal: str
) -> None:
    with (
        pytest.raises(DatabaseError, match=refusal),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)


@postgres_only
def test_r57_17_grants_command_is_what_the_tests_ran_and_is_idempotent() -> None:
    roles = _roles()
    with pytest.raises(CommandError, match="owner role's AIPS_DATABASE_URL"):
        call_command("db", "grants", "--app-role", roles.app)  # as the app role itself
    out = io.StringIO()
    with pg_roles.owner_role():
        call_command("db", "grants", "--app-role", roles.app, "--print", stdout=out)
    sql = out.getvalue()
    assert f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "public" TO "{roles.app}";' in sql
    assert "REVOKE ALL ON audit_auditevent, audit_auditentry" in sql
    assert "TRUNCATE" not in re.sub(r"--.*", "", sql)
    # Run again by the owner, as after every `aips migrate`.
    with pg_roles.owner_role():
        out = io.StringIO()
        call_command("db", "grants", "--app-role", roles.app, stdout=out)
    assert "statements applied" in out.getvalue()
    assert _one("SELECT has_table_privilege('audit_auditentry', 'UPDATE')")[0] is False
    with pytest.raises(CommandError, match="does not exist"):
        call_command("db", "grants", "--app-role", "no_such_role_here", "--print")
    with pytest.raises(CommandError, match="owns the tables"):
        call_command("db", "grants", "--app-role", roles.owner, "--print")
    with pytest.raises(CommandError, match="plain role name"):
        call_command("db", "grants", "--app-role", 'x"; DROP TABLE y; --', "--print")


def test_r57_17_grants_command_says_it_is_postgresql_only() -> None:
    if connection.vendor == "postgresql":
        pytest.skip("SQLite's answer")
    with pytest.raises(CommandError, match="only on PostgreSQL"):
        call_command("db", "grants", "--app-role", "aips")


def test_r57_17_deployment_guide_uses_the_command_not_hand_written_grants() -> None:
    text = DEPLOYMENT.read_text(encoding="utf-8")
    assert "aips db grants --app-role aips" in text
    assert not re.search(r"^\s*(GRANT|REVOKE) ", text, re.MULTILINE), (
        "grants drift: use the command"
    )
    assert "No sequence grants are needed" not in text
