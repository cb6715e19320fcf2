"""In Kazakh «АҚ» is акционерлік қоғам (JSC), as in organizations' names: the catalogue never
uses it for information security, which is written in full (locale/GLOSSARY.md)."""

import re
from pathlib import Path

from babel.messages.pofile import read_po
from django.utils import translation

from aips.core.permissions import Role
from aips.shared.accounts.models import User

LOCALE = Path(__file__).resolve().parents[2] / "locale"
JSC = re.compile(r"(?<![\w-])АҚ(?![\w])")


def test_kk_catalogue_keeps_aq_for_joint_stock_companies_only() -> None:
    with (LOCALE / "kk" / "LC_MESSAGES" / "django.po").open("rb") as handle:
        catalog = read_po(handle)
    misused = []
    for message in catalog:
        raw = message.string
        strings = raw if isinstance(raw, tuple) else (raw,)
        if not message.id:
            continue
        misused += [str(s) for s in strings if s and JSC.search(str(s))]
    assert misused == []


def test_kk_bank_head_line_has_one_meaning_of_aq(personas: dict[str, User]) -> None:
    head = personas["bank_a_head"]
    with translation.override("kk"):
        line = f"{head.organization.display_name} — {Role(head.role).label}"
    assert line.count("АҚ") <= 1
    assert "ақпараттық қауіпсіздік бөлімшесінің басшысы" in line.lower()
