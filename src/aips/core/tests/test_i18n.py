"""Every user-visible string exists in Kazakh, Russian and English."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.test import Client

LOCALE = Path(__file__).resolve().parents[2] / "locale"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_catalogue_complete_without_fuzzy_entries(language: str) -> None:
    with (LOCALE / language / "LC_MESSAGES" / "django.po").open("rb") as handle:
        catalog = read_po(handle)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = [str(i) for i in message.id] if isinstance(message.id, tuple) else [str(message.id)]
        raw = message.string
        strings = [str(s or "") for s in raw] if isinstance(raw, tuple) else [str(raw or "")]
        if message.fuzzy or not all(strings):
            problems.append(f"untranslated or fuzzy: {ids[0]!r}")
            continue
        wanted = set(PLACEHOLDER.findall(ids[0]))
        for text in strings:
            if set(PLACEHOLDER.findall(text)) != wanted:
                problems.append(f"placeholders differ: {ids[0]!r} → {text!r}")
    assert not problems, "\n".join(problems)
    assert len(catalog) > 150


@pytest.mark.django_db
def test_kazakh_visitor_sees_kazakh_labels() -> None:
    html = Client(HTTP_ACCEPT_LANGUAGE="kk").get("/login/").content.decode()
    assert "ААӨЖ-ге кіру" in html
    assert "Sign in to AIPS" not in html


@pytest.mark.django_db
def test_russian_visitor_sees_russian_labels() -> None:
    html = Client(HTTP_ACCEPT_LANGUAGE="ru").get("/login/").content.decode()
    assert '<html lang="ru">' in html
    assert "Sign in to AIPS" not in html
