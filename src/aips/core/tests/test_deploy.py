"""Release gates: production settings pass `check --deploy`, migrations and the committed OpenAPI
schema match the code, DEBUG stays off unless asked for."""

import os
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from aips.core.management.commands.export_openapi import openapi_text

REPO = Path(__file__).resolve().parents[4]


def _aips(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AIPS_")}
    base.update({"AIPS_DATA_DIR": str(tmp_path), **env})
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "aips", *args],
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_r57_25_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = _aips(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "AIPS_HTTPS": "1",
            "AIPS_SECRET_KEY": secrets.token_urlsafe(64),
            "AIPS_ALLOWED_HOSTS": "aips.example.kz",
        },
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_r57_26_5_debug_is_off_unless_asked(tmp_path: Path) -> None:
    code = "from django.conf import settings; print(settings.DEBUG)"
    result = _aips("shell", "-c", code, env={}, tmp_path=tmp_path)
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


@pytest.mark.django_db
def test_migrations_match_models() -> None:
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())


def test_r57_18_openapi_schema_committed_without_drift() -> None:
    committed = (REPO / "docs" / "openapi.json").read_text()
    assert committed == openapi_text(), "run `make openapi` and commit docs/openapi.json"
