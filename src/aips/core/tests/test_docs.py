"""The documents a newcomer reads stay short, linked and current: ARCHITECTURE.md fits a
15-minute read, every app says what it is for, every link and every `docs/….md` a file names
exists, decision records are numbered once each, and the specifications carry no history."""

import importlib
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[4]
SRC = ROOT / "src" / "aips"
ARCHITECTURE = ROOT / "ARCHITECTURE.md"
DECISIONS = ROOT / "docs" / "decisions"
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
DOC_PATH = re.compile(r"\bdocs/[\w./-]+\.md\b")


def _documents() -> list[Path]:
    found = [ROOT / "README.md", ARCHITECTURE, *sorted((ROOT / "docs").rglob("*.md"))]
    agent = ROOT / "agent" / "README.md"
    return [*found, agent] if agent.exists() else found


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", path.read_text(encoding="utf-8"), flags=re.M)
    return {_slug(h) for h in headings}


def test_architecture_is_a_fifteen_minute_read() -> None:
    lines = ARCHITECTURE.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"{len(lines)} lines; move detail to docs/domains/"
    assert not (ROOT / "docs" / "architecture.md").exists()


def test_every_app_says_what_it_is_for() -> None:
    apps = [name for name in settings.INSTALLED_APPS if name.startswith("aips.")]
    assert apps
    missing = [
        name for name in apps if len((importlib.import_module(name).__doc__ or "").split()) < 12
    ]
    assert not missing, f"give these apps a one-paragraph docstring in __init__.py: {missing}"


def test_every_document_link_exists() -> None:
    broken = []
    for doc in _documents():
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            path_part, _, anchor = target.partition("#")
            resolved = (doc.parent / path_part).resolve() if path_part else doc
            if not resolved.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                broken.append(f"{doc.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, broken


def test_every_named_document_exists() -> None:
    """A `docs/….md` named in code or in a document, so a moved or deleted page is noticed."""
    sources = [*SRC.rglob("*.py"), *_documents(), ROOT / "pyproject.toml", ROOT / "Makefile"]
    missing = set()
    for source in sources:
        if "tests" in source.parts and source.name == Path(__file__).name:
            continue
        for name in DOC_PATH.findall(source.read_text(encoding="utf-8", errors="replace")):
            if not (ROOT / name).exists():
                missing.add(f"{source.relative_to(ROOT)}: {name}")
    assert not missing, sorted(missing)


def test_decisions_are_numbered_once_and_indexed() -> None:
    records = sorted(p.name for p in DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md"))
    numbers = [name[:4] for name in records]
    assert len(numbers) == len(set(numbers)), f"two records share a number: {records}"
    index = (DECISIONS / "README.md").read_text(encoding="utf-8")
    assert [name for name in records if name not in index] == []


def test_specifications_carry_no_history() -> None:
    """Git has the history; the documents describe the code as it is."""
    history = re.compile(r"\b(issue \d+|commit `[0-9a-f]{7,}`)", re.I)
    docs = [ARCHITECTURE, *sorted((ROOT / "docs" / "domains").glob("*.md"))]
    found = [
        f"{doc.relative_to(ROOT)}: {m.group(0)}"
        for doc in docs
        for m in history.finditer(doc.read_text(encoding="utf-8"))
    ]
    assert not found, found
