"""Writes: making a backup, restoring one into an empty instance, removing expired backups, and
the two drills (restore into a scratch instance and check it; the same plus migrations and smoke
checks for an upgrade). Each is journaled (R57.15, R57.16).

The dump and the archive are not inside a transaction: SQLite's backup API cannot copy a database
its own connection is writing, and a backup can take minutes. The journal entry is written by its
own short transaction once the archive exists (or the drill's report is written)."""

import io
import json
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from aips.core.actors import Actor
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.backups import archive, database, parts, scratch
from aips.shared.backups.crypto import BackupError, load_key

_STAMP = "%Y%m%dT%H%M%SZ"


# --- Where things are --------------------------------------------------------------------


def key() -> bytes:
    path = str(settings.AIPS_BACKUP_KEY_FILE or "")
    if not path:
        raise BackupError(
            "no backup key: set AIPS_BACKUP_KEY_FILE to a file outside the backup directory "
            "and create it once with `backup key` (docs/deployment.md, Backups)"
        )
    return load_key(Path(path))


def backup_dir() -> Path:
    path = Path(settings.AIPS_BACKUP_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def reports_dir() -> Path:
    path = backup_dir() / "reports"
    path.mkdir(exist_ok=True, mode=0o700)
    return path


@contextmanager
def work_dir(prefix: str) -> Iterator[Path]:
    """A private directory for plaintext (a dump, an extracted archive, a scratch instance) on the
    backup directory's disk, removed afterwards whatever happens."""
    base = backup_dir() / ".work"
    base.mkdir(exist_ok=True, mode=0o700)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _product() -> str:
    return str(settings.AIPS_PRODUCT)


def _name_re() -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(_product())}-(\d{{8}}T\d{{6}}Z){re.escape(archive.SUFFIX)}$")


def archives() -> list[tuple[datetime, Path]]:
    """This product's archives in the backup directory, newest first."""
    found = []
    for path in backup_dir().iterdir():
        match = _name_re().match(path.name)
        if match and path.is_file():
            at = datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)
            found.append((at, path))
    return sorted(found, reverse=True)


def newest_archive() -> Path:
    found = archives()
    if not found:
        raise BackupError(f"no backup in {backup_dir()}")
    return found[0][1]


# --- Backup ------------------------------------------------------------------------------


def build(out_dir: Path, *, db: Mapping[str, Any] | None = None) -> tuple[Path, dict[str, Any]]:
    """Write one archive of this instance into `out_dir`; no journal entry (backup_create)."""
    master = key()
    source = db if db is not None else connection.settings_dict
    now = datetime.now(tz=UTC)
    out = out_dir / f"{_product()}-{now.strftime(_STAMP)}{archive.SUFFIX}"
    layout = parts.live_layout()
    with work_dir("backup-") as work:
        members: list[archive.Member] = []
        # The anchor before the database: whatever it holds was committed before it was
        # anchored, so the dump holds it too and the restored journal verifies against it.
        early = {"audit-anchor"}
        for name in early & layout.keys():
            for rel, path in parts.files_of(layout[name]):
                copy = work / "early" / name / (rel or name)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, copy)
                members.append(_member(name, rel, copy))
        kind = database.engine(source)
        dumped = work / ("database.dump" if kind == "postgresql" else "database.sqlite3")
        tables, fmt = database.dump(source, dumped)
        members.insert(0, archive.Member(f"database/{dumped.name}", dumped))
        # The rest after the database: a segment the dump records is already on disk.
        for name, path in layout.items():
            if name not in early:
                members += [_member(name, rel, file) for rel, file in parts.files_of(path)]
        manifest = archive.write(
            out,
            master,
            members,
            {
                "format": "aips-backup",
                "version": 1,
                "product": _product(),
                "created_at": now.isoformat(),
                "database": {
                    "engine": kind,
                    "format": fmt,
                    "member": f"database/{dumped.name}",
                    "tables": tables,
                },
                "parts": sorted(layout),
            },
        )
    return out, manifest


def _member(part: str, rel: str, path: Path) -> archive.Member:
    name = f"files/{part}/{rel}" if rel else f"files/{part}"
    return archive.Member(name, path, part=part, path=rel)


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    removed: list[Path] = field(default_factory=list)


def backup_create(*, actor: Actor) -> BackupResult:
    """A backup into AIPS_BACKUP_DIR, journaled; then the retention policy applies."""
    started = time.monotonic()
    path, manifest = build(backup_dir())
    _journal_backup(actor=actor, path=path, manifest=manifest, seconds=time.monotonic() - started)
    removed = backups_prune(actor=actor)
    return BackupResult(path, manifest, removed)


@transaction.atomic
def _journal_backup(*, actor: Actor, path: Path, manifest: dict[str, Any], seconds: float) -> None:
    record(
        actor=actor,
        event=EventType.BACKUP_CREATED,
        details={
            "archive": path.name,
            "bytes": path.stat().st_size,
            "files": len(manifest["members"]) - 1,
            "tables": len(manifest["database"]["tables"]),
            "rows": sum(manifest["database"]["tables"].values()),
            "seconds": round(seconds, 1),
        },
    )


def expired(
    stamps: list[tuple[datetime, Path]], *, keep: int, keep_days: int, now: datetime
) -> list[Path]:
    """The archives the policy lets go: beyond the newest `keep` AND older than `keep_days`
    (an archive is kept while either rule wants it)."""
    newest_first = sorted(stamps, reverse=True)
    cutoff = now - timedelta(days=keep_days)
    return [path for at, path in newest_first[keep:] if at < cutoff]


def backups_prune(*, actor: Actor) -> list[Path]:
    """Remove the archives past the retention policy (AIPS_BACKUP_KEEP, AIPS_BACKUP_KEEP_DAYS)."""
    gone = expired(
        archives(),
        keep=settings.AIPS_BACKUP_KEEP,
        keep_days=settings.AIPS_BACKUP_KEEP_DAYS,
        now=datetime.now(tz=UTC),
    )
    for path in gone:
        path.unlink(missing_ok=True)
    if gone:
        _journal_pruned(actor=actor, names=[p.name for p in gone])
    return gone


@transaction.atomic
def _journal_pruned(*, actor: Actor, names: list[str]) -> None:
    record(actor=actor, event=EventType.BACKUP_PRUNED, details={"archives": names})


# --- Restore -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where a restore goes: a database (settings dict) and each part's path."""

    db: Mapping[str, Any]
    layout: dict[str, Path]


def live_target() -> Target:
    return Target(connection.settings_dict, parts.live_layout())


# Made when an instance starts (settings.secret_key writes it when AIPS_SECRET_KEY is unset), so
# it is there in every new instance: the backup's replaces it.
_REPLACEABLE = frozenset({"secret-key"})


def _refuse_non_empty(target: Target) -> None:
    tables = database.table_count(target.db)
    if tables:
        raise BackupError(
            f"the database is not empty ({tables} tables): a backup is restored only into a new, "
            "empty database (docs/deployment.md, Backups)"
        )
    for name, path in target.layout.items():
        if name not in _REPLACEABLE and parts.files_of(path):
            raise BackupError(
                f"{path} ({name}) is not empty: a backup is restored only into a new instance; "
                "move it aside first"
            )


def restore(*, archive_path: Path, target: Target, app_role: str | None = None) -> dict[str, Any]:
    """Restore an archive into an empty instance: everything is decrypted and checked against the
    manifest before anything is written; then the database, the files, and on PostgreSQL the
    application role's grants (`db grants`, after `pg_restore --no-acl`)."""
    master = key()
    _refuse_non_empty(target)
    with work_dir("restore-") as staging:
        manifest = archive.read(archive_path, master, extract_to=staging)
        if manifest.get("product") != _product():
            raise BackupError(
                f"this is a backup of {manifest.get('product')!r}, not of {_product()!r}"
            )
        db = manifest["database"]
        database.restore(target.db, staging.joinpath(*db["member"].split("/")), db["format"])
        for entry in manifest["members"]:
            part = entry["part"]
            if not part:
                continue
            if part not in target.layout:
                raise BackupError(f"this instance has no place for the part {part!r}")
            # The path inside the part is the member's checked name, never a path of its own.
            if entry["name"] != (
                f"files/{part}/{entry['path']}" if entry["path"] else f"files/{part}"
            ):
                raise BackupError(f"the manifest names {entry['name']!r} inconsistently")
            dest = target.layout[part] / entry["path"] if entry["path"] else target.layout[part]
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(staging.joinpath(*entry["name"].split("/")), dest)
            dest.chmod(0o600)
    if app_role and database.engine(target.db) == "postgresql":
        grants(target.db, app_role=app_role)
    return manifest


def grants(db: Mapping[str, Any], *, app_role: str) -> None:
    """`db grants --app-role ROLE` on the restored database (core/db_grants.py): the command
    itself for this instance; for another database (a drill's, a test's) the same statements
    through a connection of its own, in one transaction."""
    from aips.core import db_grants

    if db is connection.settings_dict:
        call_command("db", "grants", "--app-role", app_role, stdout=io.StringIO())
        return
    with database.pg_connect(db) as conn:
        sql = db_grants.prepare(_Vendor(conn), app_role=app_role)
        with conn.transaction():
            for statement in sql:
                if not statement.startswith("--"):
                    conn.execute(statement)


class _Vendor:
    """What db_grants.prepare asks of a connection, over a psycopg one."""

    vendor = "postgresql"

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def cursor(self) -> Any:
        return self._conn.cursor()


@transaction.atomic
def restore_journal(*, actor: Actor, archive_path: Path, manifest: dict[str, Any]) -> None:
    """The restored journal's own entry that it was restored (after it verified)."""
    record(
        actor=actor,
        event=EventType.BACKUP_RESTORED,
        details={"archive": archive_path.name, "created_at": manifest.get("created_at", "")},
    )


# --- Drills ------------------------------------------------------------------------------


@dataclass
class DrillReport:
    kind: str  # "drill" or "upgrade"
    archive: str
    started_at: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    path: Path | None = None

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step["ok"] for step in self.steps)

    def step(self, name: str, ok: bool, detail: str) -> None:
        self.steps.append({"name": name, "ok": ok, "detail": detail})

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ok": self.ok,
            "archive": self.archive,
            "started_at": self.started_at,
            "seconds": round(self.seconds, 1),
            "steps": self.steps,
        }

    def text(self) -> str:
        head = f"{self.kind} of {self.archive}: {'PASSED' if self.ok else 'FAILED'}"
        lines = [f"{head} ({self.seconds:.1f} s)"]
        lines += [
            f"  [{'ok' if s['ok'] else 'FAILED'}] {s['name']}: {s['detail']}" for s in self.steps
        ]
        return "\n".join(lines)


def _scratch_database(root: Path) -> str:
    if database.engine(connection.settings_dict) == "sqlite":
        return f"sqlite:///{root / 'scratch.sqlite3'}"
    url = str(settings.AIPS_BACKUP_DRILL_DATABASE_URL or "")
    if not url:
        raise BackupError(
            "no scratch database for the drill: set AIPS_BACKUP_DRILL_DATABASE_URL to a database "
            "of its own, owned by the role in the URL (docs/deployment.md, Backups)"
        )
    db, live = dj_database_url.parse(url), connection.settings_dict
    where = ("NAME", "HOST", "PORT")
    if [str(db.get(k) or "") for k in where] == [str(live.get(k) or "") for k in where]:
        raise BackupError("the drill's scratch database must not be the live one")
    return url


def drill_run(
    *, actor: Actor, archive_path: Path | None = None, upgrade: bool = False
) -> DrillReport:
    """Restore an archive (the newest by default) into a scratch instance and check it: the row
    count of every table and the SHA-256 of every file against the manifest, and `audit verify`;
    for an upgrade also `migrate`, `check`, `audit verify` again and requests to the scratch
    instance through Django's test client. Writes a report and journals the result."""
    started = time.monotonic()
    report = DrillReport(
        kind="upgrade" if upgrade else "drill",
        archive="",
        started_at=timezone.now().isoformat(),
    )
    stage = "archive"
    try:
        chosen = archive_path or newest_archive()
        report.archive = chosen.name
        with work_dir("drill-") as root:
            stage = "scratch database"
            url = _scratch_database(root)
            db = dj_database_url.parse(url)
            if database.engine(db) == "postgresql":
                database.clear_postgresql(db)
            stage = "restore"
            try:
                target = Target(db, parts.scratch_layout(root / "instance"))
                manifest = restore(archive_path=chosen, target=target)
                report.step(
                    "restore",
                    True,
                    f"{len(manifest['members'])} members decrypted, checked and restored",
                )
                manifest_file = root / "manifest.json"
                manifest_file.write_text(json.dumps(manifest))
                for step in scratch.check(root / "instance", url, manifest_file, upgrade=upgrade):
                    report.step(step["name"], step["ok"], step["detail"])
            finally:
                if database.engine(db) == "postgresql":
                    database.clear_postgresql(db)  # no plaintext copy stays behind
    except BackupError as exc:
        report.step(stage, False, str(exc))
    except Exception as exc:  # an unreachable scratch database, a full disk: a failed drill
        report.step(stage, False, f"{type(exc).__name__}: {exc}"[:1500])
    report.seconds = time.monotonic() - started
    stamp = datetime.now(tz=UTC).strftime(_STAMP)
    report.path = reports_dir() / f"{_product()}-{report.kind}-{stamp}.json"
    report.path.write_text(json.dumps(report.as_dict(), indent=1))
    _journal_drill(actor=actor, report=report)
    return report


@transaction.atomic
def _journal_drill(*, actor: Actor, report: DrillReport) -> None:
    record(
        actor=actor,
        event=EventType.UPGRADE_DRILL if report.kind == "upgrade" else EventType.BACKUP_DRILL,
        details={
            "ok": report.ok,
            "archive": report.archive,
            "report": report.path.name if report.path else "",
            "failed": [s["name"] for s in report.steps if not s["ok"]],
            "seconds": round(report.seconds, 1),
        },
    )


def last_report(kind: str) -> tuple[datetime, Path, bool] | None:
    """The newest report of this kind: when it was written, where, and whether it passed (the
    drill job's schedule, and its failure until a drill passes again)."""
    newest: tuple[datetime, Path] | None = None
    for path in reports_dir().glob(f"{_product()}-{kind}-*.json"):
        at = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        if newest is None or at > newest[0]:
            newest = (at, path)
    if newest is None:
        return None
    try:
        ok = bool(json.loads(newest[1].read_text()).get("ok"))
    except (OSError, ValueError):
        ok = False
    return newest[0], newest[1], ok
