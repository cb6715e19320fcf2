"""Backups (R57.15, R57.16) and the upgrade drill (R57.13, R57.14), on SQLite and PostgreSQL.

A backup reads only what is committed (pg_dump's own snapshot; SQLite's backup API cannot run
inside the test's transaction), so the tests that make one run on real transactions; the
refusals run on an archive of the committed test world, written once per module without a journal
entry (services.build), so nothing leaks into later tests. On PostgreSQL the scratch databases
and their roles are made by the server's superuser of the test run (AIPS_DATABASE_URL, as
core/tests/pg_roles.py does for the test database): a restore target owned by its own role plus an
application role for `db grants`, and the drill's scratch database owned by a role without
CREATEDB, as docs/deployment.md describes it."""

import contextlib
import hashlib
import importlib
import json
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from aips.core.actors import SystemActor
from aips.shared.audit.anchor import anchor_pending
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.audit.services import checkpoint_create, record
from aips.shared.backups import archive, crypto, database, jobs, parts, scratch, services
from aips.shared.files.services import stored_fields

ACTOR = SystemActor(label="test")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PgScratch:
    """Databases and roles beside the test database, made and dropped by the superuser."""

    def __init__(self) -> None:
        self.admin_db = dj_database_url.parse(os.environ["AIPS_DATABASE_URL"])
        self.base = str(connection.settings_dict["NAME"])
        self.owner, self.app = f"{self.base}_bko", f"{self.base}_bka"
        self.password = secrets.token_urlsafe(18)
        self.databases: list[str] = []
        self._admin = database.pg_connect({**self.admin_db, "NAME": "postgres"}, autocommit=True)
        for leftover in ("bkdrill", "bkrestore"):  # of a run that was killed
            name = _ident(f"{self.base}_{leftover}")
            self._admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        for role in (self.owner, self.app):
            self._admin.execute(f"DROP ROLE IF EXISTS {_ident(role)}")
            # No CREATEDB: the drill empties a database it owns, it never makes one.
            self._admin.execute(
                f"CREATE ROLE {_ident(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                f"PASSWORD '{self.password}'"
            )

    def database(self, suffix: str) -> str:
        """A new empty database owned by the owner role; its URL."""
        name = f"{self.base}_{suffix}"
        self._admin.execute(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)")
        self._admin.execute(f"CREATE DATABASE {_ident(name)} OWNER {_ident(self.owner)}")
        self.databases.append(name)
        host = self.admin_db.get("HOST") or "127.0.0.1"
        port = self.admin_db.get("PORT") or 5432
        return f"postgres://{self.owner}:{self.password}@{host}:{port}/{name}"

    def close(self) -> None:
        for name in self.databases:
            self._admin.execute(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)")
        for role in (self.app, self.owner):
            self._admin.execute(f"DROP ROLE IF EXISTS {_ident(role)}")
        self._admin.close()


@pytest.fixture(scope="module")
def pg_scratch(django_db_setup: None, django_db_blocker: Any) -> Iterator[PgScratch | None]:
    if connection.vendor != "postgresql":
        yield None
        return
    made = PgScratch()
    try:
        yield made
    finally:
        made.close()


def _configure(settings: Any, root: Path, pg: PgScratch | None = None) -> Path:
    """Every part of the backup under `root` (none of the developer's var/), a key outside the
    backup directory, a secret key and a CA certificate in the data directory."""
    data = root / "data"
    (data / "ca").mkdir(parents=True, exist_ok=True)
    (data / "secret_key").write_text("a secret key of this test\n")
    (data / "ca" / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\ntest\n")
    settings.DATA_DIR = data
    settings.AIPS_AUDIT_KEY_FILE = str(root / "audit-signing.key")
    settings.AIPS_AUDIT_ARCHIVE_DIR = str(root / "audit-archive")
    settings.AIPS_EDS_CRL_DIR = str(root / "eds-crl")
    settings.AIPS_BACKUP_DIR = str(root / "backups")
    settings.AIPS_BACKUP_KEY_FILE = str(root / "backup.key")
    crypto.create_key(root / "backup.key")
    if pg is not None:
        settings.AIPS_BACKUP_DRILL_DATABASE_URL = pg.database("bkdrill")
    return root / "backups"


@pytest.fixture(scope="module")
def world_archive(
    _world_committed: None,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, bytes]:
    """An archive of the committed test world, made once, journaling nothing."""
    from django.test import override_settings

    root = tmp_path_factory.mktemp("world-backup")
    with override_settings(), django_db_blocker.unblock():
        from django.conf import settings

        _configure(settings, root)
        out = root / "backups"
        out.mkdir()
        path, _manifest = services.build(out)
        key = (root / "backup.key").read_bytes()
    return path, key


def _use_key(settings: Any, tmp_path: Path, key: bytes) -> None:
    (tmp_path / "backup.key").write_bytes(key)
    settings.AIPS_BACKUP_KEY_FILE = str(tmp_path / "backup.key")
    settings.AIPS_BACKUP_DIR = str(tmp_path / "backups")


def _content_hashes(db: Any, tables: list[str], *, live: bool) -> dict[str, str]:
    """Each table's rows rendered as text by the engine itself, sorted, hashed."""
    out = {}
    kind = database.engine(db)
    cursor_owner: Any = None
    if live:
        cursor_owner = connection.cursor()
    elif kind == "postgresql":
        cursor_owner = database.pg_connect(db).cursor()
    else:
        import sqlite3

        cursor_owner = contextlib.closing(sqlite3.connect(db["NAME"]).cursor())
    with cursor_owner as cursor:
        for table in tables:
            if kind == "postgresql":
                cursor.execute(
                    f"SELECT coalesce(string_agg(x::text, '|' ORDER BY x::text), '') "  # noqa: S608
                    f"FROM {_ident(table)} AS x"
                )
                text = cursor.fetchone()[0]
            else:
                cursor.execute(f"PRAGMA table_info({_ident(table)})")
                cols = [row[1] for row in cursor.fetchall()]
                expr = " || ',' || ".join(f"quote({_ident(c)})" for c in cols)
                cursor.execute(f"SELECT {expr} AS r FROM {_ident(table)} ORDER BY r")  # noqa: S608
                text = "|".join(row[0] for row in cursor.fetchall())
            out[table] = hashlib.sha256(text.encode()).hexdigest()
    return out


def _some_state() -> None:
    """Committed content beyond the world: a stored file, journal entries, a signed and anchored
    checkpoint."""
    with transaction.atomic():
        stored_fields(SimpleUploadedFile("evidence.txt", b"evidence of an incident\n"))
        record(actor=ACTOR, event=EventType.AUDIT_EXPORTED, details={"why": "backup test"})
    checkpoint_create()
    with transaction.atomic():
        assert anchor_pending() is not None


def test_r57_15_backup_wipe_restore_gives_an_identical_instance(
    transactional_db: None,
    personas: Any,
    settings: Any,
    tmp_path: Path,
    pg_scratch: PgScratch | None,
) -> None:
    _configure(settings, tmp_path)
    _some_state()
    tables = sorted(database.counts(connection.settings_dict))
    before = _content_hashes(connection.settings_dict, tables, live=True)
    result = services.backup_create(actor=ACTOR)
    manifest = result.manifest
    assert sorted(manifest["database"]["tables"]) == tables
    assert AuditEvent.objects.filter(event=EventType.BACKUP_CREATED).count() == 1
    names = {m["name"] for m in manifest["members"]}
    assert {
        "files/secret-key",
        "files/integration-ca/ca.pem",
        "files/audit-key",
        "files/audit-anchor",
    } <= names
    assert any(n.startswith("files/attachments/") for n in names)
    # Encrypted at rest: no plaintext of the database or the files in the archive.
    raw = result.path.read_bytes()
    assert b"evidence of an incident" not in raw
    assert b"SQLite format 3" not in raw
    assert b"PGDMP" not in raw
    call_command("backup", "verify", str(result.path))

    # The "wiped" instance: a new empty database and empty directories.
    root = tmp_path / "restored"
    if pg_scratch is None:
        url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        app_role = None
    else:
        url, app_role = pg_scratch.database("bkrestore"), pg_scratch.app
    target = services.Target(dj_database_url.parse(url), parts.scratch_layout(root))
    services.restore(archive_path=result.path, target=target, app_role=app_role)

    assert database.counts(target.db) == manifest["database"]["tables"]
    # The same rows, byte for byte, as the instance held when it was backed up.
    assert _content_hashes(target.db, tables, live=False) == before
    for entry in manifest["members"]:
        if entry["part"]:
            base = target.layout[entry["part"]]
            restored = base / entry["path"] if entry["path"] else base
            assert hashlib.sha256(restored.read_bytes()).hexdigest() == entry["sha256"]
    # The restored instance, in its own process: counts, files and `audit verify` (the anchored
    # checkpoint included).
    manifest_file = tmp_path / "manifest.json"
    manifest_file.write_text(json.dumps(manifest))
    steps = scratch.check(root, url, manifest_file, upgrade=False)
    assert [(s["name"], s["ok"]) for s in steps] == [
        ("tables", True),
        ("files", True),
        ("audit verify", True),
    ], steps
    assert "match the newest anchored checkpoint" in steps[2]["detail"]
    if pg_scratch is not None:  # `db grants` ran: the application role reads, never truncates
        import psycopg

        app_db = {**target.db, "USER": pg_scratch.app, "PASSWORD": pg_scratch.password}
        with database.pg_connect(app_db) as conn:
            conn.execute("SELECT count(*) FROM accounts_user").fetchone()
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("TRUNCATE audit_auditevent")


def test_r57_15_a_tampered_archive_is_refused(
    world_archive: tuple[Path, bytes], settings: Any, tmp_path: Path
) -> None:
    path, key = world_archive
    _use_key(settings, tmp_path, key)
    master = crypto.load_key(tmp_path / "backup.key")
    assert archive.read(path, master)["product"] == "aips"
    data = bytearray(path.read_bytes())
    for where in (crypto.HEADER_SIZE + 100, len(data) // 2, len(data) - 5):
        changed = bytearray(data)
        changed[where] ^= 0x01
        bad = tmp_path / f"changed-{where}{archive.SUFFIX}"
        bad.write_bytes(changed)
        with pytest.raises(CommandError, match="changed or truncated"):
            call_command("backup", "verify", str(bad))
    # Cut short: inside the last chunk, or (a large archive) by the whole last chunk.
    cuts = [len(data) - 10]
    first_chunk_end = crypto.HEADER_SIZE + crypto.CHUNK + crypto.TAG
    if len(data) > first_chunk_end:
        cuts.append(first_chunk_end)
    for cut in cuts:
        truncated = tmp_path / f"truncated-{cut}{archive.SUFFIX}"
        truncated.write_bytes(data[:cut])
        with pytest.raises(crypto.BackupError, match="changed or truncated"):
            archive.read(truncated, master)
    # A restore checks the whole archive before it writes anything.
    target = services.Target(
        {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "new.sqlite3")},
        parts.scratch_layout(tmp_path / "new"),
    )
    with pytest.raises(crypto.BackupError):
        services.restore(archive_path=bad, target=target)
    assert not (tmp_path / "new.sqlite3").exists()
    assert not (tmp_path / "new").exists()


def test_r57_15_a_wrong_key_is_refused(
    world_archive: tuple[Path, bytes], settings: Any, tmp_path: Path
) -> None:
    path, _key = world_archive
    settings.AIPS_BACKUP_KEY_FILE = str(tmp_path / "other.key")
    crypto.create_key(tmp_path / "other.key")
    with pytest.raises(CommandError, match="encrypted with another key"):
        call_command("backup", "verify", str(path))
    settings.AIPS_BACKUP_KEY_FILE = ""
    with pytest.raises(CommandError, match="no backup key"):
        call_command("backup", "verify", str(path))


@pytest.mark.django_db
def test_r57_15_restore_into_a_non_empty_instance_is_refused(
    world_archive: tuple[Path, bytes], settings: Any, tmp_path: Path
) -> None:
    path, key = world_archive
    _use_key(settings, tmp_path, key)
    with pytest.raises(crypto.BackupError, match="the database is not empty"):
        services.restore(archive_path=path, target=services.live_target())
    if connection.vendor == "sqlite":  # a file database: the command's own refusal
        target = tmp_path / "used.sqlite3"
        import sqlite3

        with sqlite3.connect(target) as conn:
            conn.execute("CREATE TABLE t (x)")
        used = services.Target(
            {"ENGINE": "django.db.backends.sqlite3", "NAME": str(target)},
            parts.scratch_layout(tmp_path / "i"),
        )
        with pytest.raises(crypto.BackupError, match=r"not empty \(1 tables\)"):
            services.restore(archive_path=path, target=used)


def test_r57_16_retention_keeps_the_newest_n_and_the_recent_days() -> None:
    now = datetime(2026, 12, 5, tzinfo=UTC)
    stamps = [(now - timedelta(days=d), Path(f"a{d}")) for d in (0, 1, 2, 10, 40, 50)]
    assert services.expired(stamps, keep=2, keep_days=30, now=now) == [Path("a40"), Path("a50")]
    assert services.expired(stamps, keep=5, keep_days=0, now=now) == [Path("a50")]
    assert services.expired(stamps, keep=1, keep_days=0, now=now) == [
        Path(f"a{d}") for d in (1, 2, 10, 40, 50)
    ]


def test_r57_15_the_etp_backs_up_its_own_instance() -> None:
    """`etp backup` is the same command on the ETP's settings: its own directory, database
    variable and parts, in its own data directory, without AIPS's integration CA."""
    etp = importlib.import_module("aips.settings_etp")
    assert etp.AIPS_BACKUP_DATABASE_VARIABLE == "AIPS_ETP_DATABASE_URL"
    assert "aips.shared.backups" in etp.INSTALLED_APPS
    assert Path(etp.AIPS_BACKUP_DIR).is_relative_to(etp.ETP_DATA_DIR)
    assert "integration-ca" not in etp.AIPS_BACKUP_PARTS
    assert etp.AIPS_BACKUP_PARTS["secret-key"] == (
        "ETP_DATA_DIR",
        "AIPS_ETP_DATA_DIR",
        "secret_key",
    )
    for setting, variable, _inner in etp.AIPS_BACKUP_PARTS.values():
        assert variable.startswith("AIPS_ETP_") or not setting.startswith("AIPS_AUDIT")


def test_r57_16_the_worker_backs_up_keeps_by_retention_and_drills_journaled(
    transactional_db: None,
    personas: Any,
    settings: Any,
    tmp_path: Path,
    pg_scratch: PgScratch | None,
) -> None:
    backups = _configure(settings, tmp_path, pg_scratch)
    _some_state()
    settings.AIPS_BACKUP_KEEP, settings.AIPS_BACKUP_KEEP_DAYS = 1, 0
    old = backups / f"aips-20200101T000000Z{archive.SUFFIX}"
    backups.mkdir(parents=True, exist_ok=True)
    old.write_bytes(b"an expired archive")

    assert jobs.backup().startswith("wrote aips-")
    assert not old.exists()
    assert len(services.archives()) == 1
    assert jobs.backup().endswith("is recent")  # a second worker, or the next look: no second one
    summary = jobs.drill()
    assert "PASSED" in summary, summary
    assert jobs.drill() == "the last restore drill is recent"

    drill = AuditEvent.objects.get(event=EventType.BACKUP_DRILL)
    assert drill.details["ok"] is True
    assert drill.details["archive"] == services.archives()[0][1].name
    report = json.loads((backups / "reports" / drill.details["report"]).read_text())
    assert report["ok"]
    assert [s["name"] for s in report["steps"]] == [
        "restore",
        "tables",
        "files",
        "audit verify",
    ]
    assert AuditEvent.objects.filter(event=EventType.BACKUP_CREATED).count() == 1
    assert AuditEvent.objects.filter(event=EventType.BACKUP_PRUNED).count() == 1
    # No plaintext stays behind: the work directory is empty again.
    assert not any((backups / ".work").iterdir())

    # A drill that fails is journaled as failed, and the worker's job fails.
    services.archives()[0][1].write_bytes(b"AIPSBAK1 not really")
    for path in (backups / "reports").glob("*.json"):
        path.unlink()
    with pytest.raises(RuntimeError, match="FAILED"):
        jobs.drill()
    failed = AuditEvent.objects.filter(event=EventType.BACKUP_DRILL).order_by("-seq").first()
    assert failed is not None
    assert failed.details["ok"] is False
    assert failed.details["failed"] == ["restore"]
    # Until a drill passes, every look fails the job again (without drilling again).
    with pytest.raises(RuntimeError, match="the last restore drill FAILED"):
        jobs.drill()
    assert AuditEvent.objects.filter(event=EventType.BACKUP_DRILL).count() == 2


def test_r57_14_r57_13_upgrade_drill_restores_migrates_and_smoke_checks(
    transactional_db: None,
    personas: Any,
    settings: Any,
    tmp_path: Path,
    pg_scratch: PgScratch | None,
    capsys: Any,
) -> None:
    _configure(settings, tmp_path, pg_scratch)
    _some_state()
    call_command("backup")
    call_command("upgrade-drill")
    out = capsys.readouterr().out
    assert "upgrade of aips-" in out
    assert "PASSED" in out, out
    for step in ("migrate", "check", "audit verify after migrate", "requests"):
        assert f"[ok] {step}:" in out
    assert "GET /api/v1/health 200 (database ok)" in out
    event = AuditEvent.objects.get(event=EventType.UPGRADE_DRILL)
    assert event.details["ok"] is True
    assert event.actor_kind == "system"


def test_r57_15_the_encrypted_stream_refuses_reordered_and_dropped_chunks() -> None:
    import io

    master = secrets.token_bytes(32)
    plain = secrets.token_bytes(crypto.CHUNK * 2 + 1000)
    out = io.BytesIO()
    with crypto.EncryptingWriter(out, master) as writer:
        writer.write(plain)
    sealed = out.getvalue()
    assert crypto.DecryptingReader(io.BytesIO(sealed), master).read() == plain
    size = crypto.CHUNK + crypto.TAG
    header, body = sealed[: crypto.HEADER_SIZE], sealed[crypto.HEADER_SIZE :]
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    assert len(chunks) == 3
    for forged in (
        header + chunks[1] + chunks[0] + chunks[2],  # reordered
        header + chunks[0] + chunks[1],  # the last chunk dropped
        header + chunks[0] + chunks[2],  # a middle chunk dropped
    ):
        with pytest.raises(crypto.BackupError, match="changed or truncated"):
            crypto.DecryptingReader(io.BytesIO(forged), master).read()
