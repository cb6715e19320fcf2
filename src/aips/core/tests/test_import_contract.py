"""The import contract (pyproject.toml, [tool.importlinter]): products → platform → core.

`make lint` runs `lint-imports` on the real tree; these tests show that the contract holds there
and that it really catches a wrong-way import: a copy of the package with one platform module
importing a product must fail, naming the import."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[4]
PYPROJECT = REPO / "pyproject.toml"
PACKAGE = REPO / "src" / "aips"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

pytestmark = pytest.mark.skipif(
    not (PYPROJECT.exists() and LINT_IMPORTS.exists()),
    reason="needs the source checkout and import-linter (requirements-dev.lock)",
)


def _lint_imports(source_root: Path) -> subprocess.CompletedProcess[str]:
    # The copy (or the real tree) comes first on the path, ahead of the editable install.
    env = {**os.environ, "PYTHONPATH": str(source_root)}
    return subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(PYPROJECT)],
        cwd=source_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _copy_sources(target: Path) -> Path:
    """The package's Python files only (no templates, static files or translations)."""

    def not_python(directory: str, names: list[str]) -> list[str]:
        return [
            n
            for n in names
            if n == "__pycache__" or (not n.endswith(".py") and not Path(directory, n).is_dir())
        ]

    shutil.copytree(PACKAGE, target / "aips", ignore=not_python)
    return target


def test_import_contract_holds_for_the_real_tree() -> None:
    result = _lint_imports(PACKAGE.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_import_contract_fails_when_a_platform_module_imports_a_product(tmp_path: Path) -> None:
    root = _copy_sources(tmp_path)
    platform_module = root / "aips" / "shared" / "notifications" / "services.py"
    platform_module.write_text(
        platform_module.read_text() + "\nimport aips.center.incidents.models  # the wrong way\n"
    )
    result = _lint_imports(root)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert (
        "aips.shared.notifications is not allowed to import aips.center.incidents" in result.stdout
    )
    assert "aips.shared.notifications.services -> aips.center.incidents.models" in result.stdout


def test_import_contract_fails_when_core_imports_the_platform(tmp_path: Path) -> None:
    root = _copy_sources(tmp_path)
    core_module = root / "aips" / "core" / "errors.py"
    core_module.write_text(
        core_module.read_text() + "\nimport aips.shared.audit.services  # the wrong way\n"
    )
    result = _lint_imports(root)
    assert result.returncode != 0
    assert "aips.core is not allowed to import aips.shared" in result.stdout
    assert "aips.core.errors -> aips.shared.audit.services" in result.stdout
