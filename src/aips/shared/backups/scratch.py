"""A scratch instance for the drills: a separate process of the same product (`aips` or `etp`)
whose environment points the database and every part into the scratch directory
(parts.scratch_environment), so it reads only what was restored and the live instance's settings,
connections and caches play no part. It runs `backup check-instance`, which calls `check_here`
and writes the steps as JSON."""

import hashlib
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from aips.shared.backups import database, parts

Step = dict[str, Any]
_TIMEOUT_SECONDS = 1800
_PLAIN_STATIC = "django.contrib.staticfiles.storage.StaticFilesStorage"


def check(root: Path, database_url: str, manifest_file: Path, *, upgrade: bool) -> list[Step]:
    """Run the checks in a scratch process; its steps, or one failed step saying why none came."""
    env = parts.scratch_environment(root, database_url)
    report = root.parent / "check.json"
    args = [
        sys.executable,
        "-m",
        "aips",
        "backup",
        "check-instance",
        "--manifest",
        str(manifest_file),
        "--report",
        str(report),
    ]
    if upgrade:
        args.append("--upgrade")
    try:
        done = subprocess.run(  # noqa: S603
            args,
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return [_failed("scratch instance", f"no answer within {_TIMEOUT_SECONDS} s")]
    if report.exists():
        steps: list[Step] = json.loads(report.read_text())
        return steps
    return [_failed("scratch instance", (done.stderr or done.stdout).strip()[-1500:])]


def _failed(name: str, detail: str) -> Step:
    return {"name": name, "ok": False, "detail": detail}


def check_here(manifest: dict[str, Any], *, upgrade: bool) -> list[Step]:
    """The checks, run inside the scratch instance against its own database and files."""
    steps: list[Step] = []

    def step(name: str, fn: Callable[[], tuple[bool, str]]) -> None:
        try:
            ok, detail = fn()
        except Exception as exc:  # a failed check is a finding of the drill, not a crash
            ok, detail = False, f"{type(exc).__name__}: {exc}"[:1500]
        steps.append({"name": name, "ok": ok, "detail": detail})

    step("tables", lambda: _tables(manifest))
    step("files", lambda: _files(manifest))
    step("audit verify", _audit)
    if upgrade:
        step("migrate", _migrate)
        step("check", _check)
        step("audit verify after migrate", _audit)
        step("requests", _requests)
    return steps


def _tables(manifest: dict[str, Any]) -> tuple[bool, str]:
    expected: dict[str, int] = manifest["database"]["tables"]
    got = database.counts(connection.settings_dict)
    wrong = [
        f"{table}: {count} in the backup, {got.get(table)} restored"
        for table, count in expected.items()
        if got.get(table) != count
    ]
    if wrong:
        return False, "; ".join(wrong[:10])
    return True, f"{len(expected)} tables, {sum(expected.values())} rows as in the manifest"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _files(manifest: dict[str, Any]) -> tuple[bool, str]:
    layout = parts.live_layout()
    wrong, count = [], 0
    for entry in manifest["members"]:
        if not entry["part"]:
            continue
        count += 1
        base = layout.get(entry["part"])
        path = (base / entry["path"] if entry["path"] else base) if base else None
        if path is None or not path.is_file():
            wrong.append(f"{entry['name']} is missing")
        elif _sha256(path) != entry["sha256"]:
            wrong.append(f"{entry['name']} differs")
    if wrong:
        return False, "; ".join(wrong[:10])
    return True, f"{count} files match their SHA-256 in the manifest"


def _audit() -> tuple[bool, str]:
    args = ["verify"]
    archive_dir = parts.live_layout().get("audit-archive")
    if archive_dir is not None and parts.files_of(archive_dir):
        args += ["--archive", str(archive_dir)]
    out, err = io.StringIO(), io.StringIO()
    call_command("audit", *args, stdout=out, stderr=err)
    return True, out.getvalue().strip().splitlines()[-1]


def _migrate() -> tuple[bool, str]:
    out = io.StringIO()
    call_command("migrate", "--no-input", stdout=out)
    applied = [line.split()[1] for line in out.getvalue().splitlines() if "Applying " in line]
    return True, (f"applied {len(applied)}: {', '.join(applied)}" if applied else "up to date")


def _check() -> tuple[bool, str]:
    out = io.StringIO()
    call_command("check", "--fail-level", "ERROR", stdout=out)
    return True, out.getvalue().strip() or "no issues"


def _requests() -> tuple[bool, str]:
    hosts = [h.lstrip(".") for h in settings.ALLOWED_HOSTS if h not in {"*", ""}]
    client = Client(HTTP_HOST=hosts[0] if hosts else "localhost")
    secure = bool(settings.HTTPS)
    # Static files belong to the release, not to the data: the scratch has no collectstatic.
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": _PLAIN_STATIC}}
    with override_settings(STORAGES=storages):
        health = client.get("/api/v1/health", secure=secure)
        login = client.get(reverse(settings.LOGIN_URL), secure=secure)
    body = health.json() if health.status_code in {200, 503} else {}
    ok = health.status_code == 200 and body.get("database") == "ok" and login.status_code == 200
    return ok, (
        f"GET /api/v1/health {health.status_code} (database {body.get('database', '?')}), "
        f"GET {reverse(settings.LOGIN_URL)} {login.status_code}"
    )
