"""What a backup holds besides the database, and where each part goes back.

The product's settings name the parts (`AIPS_BACKUP_PARTS`): part name → (the setting that holds
its path, the environment variable that sets that path, a path inside it or ""). AIPS has the
attachments, the audit signing key, the anchor file, the sealed journal archive, the EDS trust
and CRL directories, the secret key and the integration CA; the ETP the same in its own data
directory, without a CA. A part whose path is empty or missing is left out.

A restore writes each part where the instance's settings point (`live_layout`); the drills point
a scratch instance's environment variables into a scratch directory (`scratch_layout`,
`scratch_environment`), so the scratch process reads exactly what was restored."""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class Part:
    name: str
    setting: str
    variable: str
    inner: str


def configured_parts() -> list[Part]:
    table: dict[str, Any] = settings.AIPS_BACKUP_PARTS
    return [Part(name, *spec) for name, spec in table.items()]


def live_path(part: Part) -> Path | None:
    base = str(getattr(settings, part.setting, "") or "")
    if not base:
        return None
    return Path(base) / part.inner if part.inner else Path(base)


def live_layout() -> dict[str, Path]:
    """Each part's path in this instance (where a backup reads it and a restore writes it)."""
    return {p.name: path for p in configured_parts() if (path := live_path(p)) is not None}


def scratch_layout(root: Path) -> dict[str, Path]:
    """Each part's path in a scratch instance under `root`: one entry per variable, so parts that
    share one (the data directory) share its directory."""
    return {
        p.name: root / p.variable / p.inner if p.inner else root / p.variable
        for p in configured_parts()
    }


def scratch_environment(root: Path, database_url: str) -> dict[str, str]:
    """The process environment of a scratch instance: this one's, with the database and every
    part's variable pointed under `root`, and no witness (a scratch journal tells nobody)."""
    env = dict(os.environ)
    # The running settings' module (None while settings are overridden, as in tests: then the
    # environment that chose them names it).
    env["DJANGO_SETTINGS_MODULE"] = settings.SETTINGS_MODULE or os.environ["DJANGO_SETTINGS_MODULE"]
    env[settings.AIPS_BACKUP_DATABASE_VARIABLE] = database_url
    for variable in settings.AIPS_BACKUP_SCRATCH_DIRS:
        (root / variable).mkdir(parents=True, exist_ok=True)
        env[variable] = str(root / variable)
    for part in configured_parts():
        # A part this instance does not configure (no EDS trust directory: the bundled one) is
        # left to the scratch instance's defaults; every other one points into the scratch, also
        # when the backup had nothing of it (no anchor yet must not mean the live anchor).
        if live_path(part) is not None:
            env[part.variable] = str(root / part.variable)
    env["AIPS_AUDIT_WITNESS_SYSLOG"] = ""
    env["AIPS_AUDIT_WITNESS_EMAILS"] = ""
    return env


def files_of(path: Path) -> list[tuple[str, Path]]:
    """(relative name, path) of every regular file of a part, in a stable order; a file part
    is the one entry ""."""
    if path.is_file():
        return [("", path)]
    if not path.is_dir():
        return []
    found = []
    for directory, _dirs, names in os.walk(path):
        for name in names:
            full = Path(directory) / name
            if full.is_file() and not full.is_symlink():
                found.append((full.relative_to(path).as_posix(), full))
    return sorted(found)
