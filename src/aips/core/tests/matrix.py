"""The authorization matrix's vocabulary, shared by every domain's rows (R57.5, R67.4)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PERSONAS = [
    "anon",
    "center_admin",
    "center_analyst",
    "auditor",
    "bank_a_head",
    "bank_a_maker",
    "bank_a_viewer",
    "bank_b_head",
    "bank_b_maker",
]
CENTER = ("center_admin", "center_analyst", "auditor")
BANK_A = ("bank_a_head", "bank_a_maker", "bank_a_viewer")
SIGNED_IN = [p for p in PERSONAS if p != "anon"]


@dataclass
class Row:
    name: str
    method: str
    expect: dict[str, int]
    kwargs: Callable[[dict[str, Any]], dict[str, Any]] = lambda objs: {}
    data: dict[str, Any] | None = None
    api: bool = False


def statuses(default: int, **overrides: int) -> dict[str, int]:
    table = dict.fromkeys(PERSONAS, default)
    table.update(overrides)
    return table


def only(
    ok: int, who: tuple[str, ...], *, other: int = 403, anon: int = 302, **extra: int
) -> dict[str, int]:
    table = statuses(other, anon=anon)
    for persona in who:
        table[persona] = ok
    table.update(extra)
    return table
