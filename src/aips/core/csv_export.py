"""The one rule for CSV cells that people open in a spreadsheet (R57.28.4: no formula injection).

A spreadsheet runs a cell as a formula when it starts with `=`, `+`, `-` or `@` (tab and CR are
refused with them: they let a formula hide after invisible space), and a "cell" is whatever sits
between two list separators *as the spreadsheet splits the line*. Excel splits a .csv it opens
on the list separator of the user's locale, which is `;` in the ru-KZ and kk-KZ defaults, and
it does not honour our double quotes once it splits on a character other than the one we wrote
(`"a","x;=cmd|' /C calc'!A0"` read with `;` yields the cell `=cmd|' /C calc'!A0"`). So checking
only a cell's first character is not enough: any point where a reader might start a new cell
is a cell start too.

The rule, for every text cell:
- a formula trigger (`=`, `+`, `-`, `@`, tab, CR, and the full-width `＝＋－＠` that some
  spreadsheets fold to them) at the start of the text, or after a character some reader splits
  on (`,`, `;`, tab, CR, LF), with only spaces or double quotes in between, gets an apostrophe
  written right before it (OWASP's neutralizer: a cell starting with `'` is text);
- every field is written quoted (`csv.QUOTE_ALL`), so a reader that splits on our `,` keeps
  separators and line breaks inside a cell.
Text is otherwise unchanged (no characters are dropped), so a consumer that wants the original
strips one `'` before each trigger; the audit export documents this for its readers.

Numbers the application itself produces (int, Decimal, float: sequence numbers, ids, counts) are
written as they are, so `-2` stays a number there; the same text typed by a user is neutralized.
"""

import csv
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

TRIGGERS = frozenset("=+-@\t\r＝＋－＠")
SEPARATORS = frozenset(",;\t\r\n")
# Between a separator and a trigger, a reader may still drop these before it looks at the cell.
_SKIPPED = frozenset(' "')


class _Writable(Protocol):
    def write(self, value: str, /) -> Any: ...


def neutralize(text: str) -> str:
    """`text` with an apostrophe before every trigger at a possible cell start (see above)."""
    out: list[str] = []
    at_start = True
    for char in text:
        if at_start and char in TRIGGERS:
            out.append("'")
        out.append(char)
        if char in SEPARATORS:
            at_start = True
        elif char not in _SKIPPED:
            at_start = False
    return "".join(out)


def csv_safe(value: Any) -> str:
    """One cell's text: empty for None, numbers as they are, any other value neutralized."""
    if value is None:
        return ""
    if isinstance(value, int | Decimal | float) and not isinstance(value, bool):
        return str(value)
    return neutralize(str(value))


def csv_writer(target: _Writable) -> Any:
    """A writer for an export: every field quoted, `\\r\\n` line ends (RFC 4180)."""
    return csv.writer(target, quoting=csv.QUOTE_ALL)


def csv_row(cells: Iterable[Any]) -> list[str]:
    return [csv_safe(cell) for cell in cells]
