"""One way for a page's list to sort, filter by text, page and export (issue 15, decision 0008).

A list declares a `ListSpec`: the columns a reader may sort by (a whitelist: the URL names a key,
never an ORM path), the fields its text filter searches, and its default order. `parse` reads
`sort`, `q`, `page_size` and `after` from the query string and turns anything it does not
recognize into the default, so no query string can raise. Every other parameter (the list's own
filters) stays in the URL untouched: sort links, the next page and the CSV link keep them.

Pages are keyset pages on (sort column, id), like the API's (decision 0008): the cursor holds a
row's sort value and id, signed so a reader cannot hand the database a value of their own; a bad
or stale cursor shows the first page. Empty sort values come last in both directions. `after`
(the next page) starts right after the current page's last row; `before` (the previous page)
reads backwards from its first row and turns the rows round, and when fewer than a page remain
before it, it is the first page. Each page's links come from the rows it shows, so walking
forwards or backwards never skips or repeats a row of an unchanged list.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import F, Model, Q, QuerySet
from django.http import HttpResponse, QueryDict
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.functional import Promise

from aips.core.csv_export import csv_row, csv_writer

PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 25
# A CSV export is the whole filtered list, bounded so one click cannot dump a table.
EXPORT_MAX = 10_000
QUERY_MAX = 200
# The parameters this module owns; every other one is the list's own filter and passes through.
OWN_PARAMS = ("sort", "q", "page_size", "after", "before")
# The page cursors: a saved filter, a sort link or a new page size never keeps them.
CURSOR_PARAMS = ("after", "before")
_SORT_VALUE = "_list_sort_value"

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Column:
    key: str
    field: str
    label: str | Promise
    # The list's rows never hold an empty value here (a published lot always has its date): the
    # page conditions then leave out the "or empty" branch, which keeps them on the index.
    never_empty: bool = False


@dataclass(frozen=True)
class ListSpec:
    name: str
    url_name: str
    columns: tuple[Column, ...]
    default_sort: str
    search_fields: tuple[str, ...]

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)


@dataclass(frozen=True)
class ListParams:
    sort: str
    descending: bool
    q: str
    page_size: int
    after: str
    query: QueryDict = field(compare=False)
    before: str = ""

    def url(self, **changes: str | None) -> str:
        """This list's query string with `changes` (None removes a parameter); always a new
        first page, since a cursor belongs to the order and filters it was made under."""
        qd = self.query.copy()
        for cursor in CURSOR_PARAMS:
            qd.pop(cursor, None)
        for key, value in changes.items():
            if value is None:
                qd.pop(key, None)
            else:
                qd[key] = value
        encoded = qd.urlencode()
        return f"?{encoded}" if encoded else "?"

    @property
    def saved_query(self) -> str:
        """The query string a saved filter keeps: everything but the cursor."""
        return self.url()[1:]


@dataclass
class Header:
    key: str
    label: str | Promise
    url: str
    aria_sort: str


@dataclass
class ListPage:
    rows: list[Any]
    params: ListParams
    headers: dict[str, Header]
    next_url: str | None
    previous_url: str | None
    first_url: str | None
    page_sizes: list[tuple[int, str, bool]]
    csv_query: str


_SPECS: dict[str, ListSpec] = {}


def register(spec: ListSpec) -> ListSpec:
    """Declare a list, so that saved filters can name it (the platform knows no product)."""
    _SPECS[spec.name] = spec
    return spec


def spec_named(name: str) -> ListSpec | None:
    return _SPECS.get(name)


def clean_query(raw: str) -> str:
    """A query string as a saved filter keeps it: re-encoded, without the page cursor."""
    qd = QueryDict(raw, mutable=True)
    for cursor in CURSOR_PARAMS:
        qd.pop(cursor, None)
    return qd.urlencode()


def _clean_text(raw: str) -> str:
    # Control characters (NUL among them) would make PostgreSQL refuse the query.
    return "".join(ch for ch in raw if ch >= " " and not 0xD800 <= ord(ch) <= 0xDFFF)[:QUERY_MAX]


def parse(spec: ListSpec, query: QueryDict) -> ListParams:
    raw_sort = query.get("sort", "")
    descending = raw_sort.startswith("-")
    key = raw_sort[1:] if descending else raw_sort
    if spec.column(key) is None:
        default = spec.default_sort
        descending = default.startswith("-")
        key = default.lstrip("-")
    try:
        size = int(query.get("page_size", ""))
    except ValueError:
        size = DEFAULT_PAGE_SIZE
    if size not in PAGE_SIZES:
        size = DEFAULT_PAGE_SIZE
    return ListParams(
        sort=key,
        descending=descending,
        q=_clean_text(query.get("q", "")).strip(),
        page_size=size,
        after=query.get("after", "")[:500],
        # One direction at a time: with both, `after` wins.
        before="" if query.get("after") else query.get("before", "")[:500],
        query=query,
    )


def _model_field(model: type[Model], path: str) -> Any:
    current: Any = model
    found: Any = None
    for part in path.split("__"):
        found = current._meta.get_field(part)
        if found.is_relation and found.related_model is not None:
            current = found.related_model
    return found


def text_filtered(spec: ListSpec, qs: QuerySet[M], params: ListParams) -> QuerySet[M]:
    if not params.q:
        return qs
    cond = Q()
    for name in spec.search_fields:
        cond |= Q(**{f"{name}__icontains": params.q})
    return qs.filter(cond)


def ordered(spec: ListSpec, qs: QuerySet[M], params: ListParams) -> QuerySet[M]:
    """The text filter and the order: what a page and the CSV export both start from."""
    column = spec.column(params.sort)
    assert column is not None  # noqa: S101 - parse() only keeps declared columns
    expr = F(column.field)
    order = expr.desc(nulls_last=True) if params.descending else expr.asc(nulls_last=True)
    tie = "-pk" if params.descending else "pk"
    annotated: QuerySet[M] = text_filtered(spec, qs, params).annotate(
        **{_SORT_VALUE: F(column.field)}
    )
    return annotated.order_by(order, tie)


def _encode(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _salt(spec: ListSpec, params: ListParams) -> str:
    return f"aips.listing:{spec.name}:{params.sort}:{int(params.descending)}"


def _cursor(
    spec: ListSpec, qs: QuerySet[M], params: ListParams, raw: str
) -> tuple[Any, int] | None:
    """The (sort value, id) a signed cursor holds, or None for a stale or forged one."""
    try:
        raw_value, pk = signing.loads(raw, salt=_salt(spec, params))
        column = spec.column(params.sort)
        assert column is not None  # noqa: S101 - parse() only keeps declared columns
        value = (
            None if raw_value is None else _model_field(qs.model, column.field).to_python(raw_value)
        )
        return value, int(pk)
    except (signing.BadSignature, ValueError, TypeError, ValidationError):
        return None


def _make_cursor(spec: ListSpec, params: ListParams, row: Any) -> str:
    return signing.dumps([_encode(getattr(row, _SORT_VALUE)), row.pk], salt=_salt(spec, params))


def _beyond(
    spec: ListSpec, qs: QuerySet[M], params: ListParams, key: tuple[Any, int], *, forward: bool
) -> QuerySet[M]:
    """The rows after (`forward`) or before the row at `key` in the list's order, which is
    (sort column, id) with empty values last whichever way the column is sorted."""
    value, pk = key
    column = spec.column(params.sort)
    assert column is not None  # noqa: S101
    f = column.field
    # Rows that come later in this direction have a larger value when ascending and forward.
    op = "gt" if forward != params.descending else "lt"
    if column.never_empty and value is not None:
        # The same rows, written as a range on the column (gte/lte) that an index can seek to,
        # then the tie on the id: an OR of the two alone makes SQLite scan from the start.
        return qs.filter(
            Q(**{f"{f}__{op}e": value}), Q(**{f"{f}__{op}": value}) | Q(**{f"pk__{op}": pk})
        )
    if forward:
        if value is None:
            return qs.filter(**{f"{f}__isnull": True, f"pk__{op}": pk})
        return qs.filter(
            Q(**{f"{f}__{op}": value})
            | Q(**{f: value, f"pk__{op}": pk})
            | Q(**{f"{f}__isnull": True})
        )
    if value is None:
        return qs.filter(
            Q(**{f"{f}__isnull": False}) | Q(**{f"{f}__isnull": True, f"pk__{op}": pk})
        )
    return qs.filter(Q(**{f"{f}__{op}": value}) | Q(**{f: value, f"pk__{op}": pk}))


def _reversed(spec: ListSpec, qs: QuerySet[M], params: ListParams) -> QuerySet[M]:
    """The list's order turned round (empty values first), to read a page backwards."""
    column = spec.column(params.sort)
    assert column is not None  # noqa: S101
    expr = F(column.field)
    order = expr.asc(nulls_first=True) if params.descending else expr.desc(nulls_first=True)
    return qs.order_by(order, "pk" if params.descending else "-pk")


def page(spec: ListSpec, qs: QuerySet[M], params: ListParams) -> ListPage:
    base = ordered(spec, qs, params)
    size = params.page_size
    after = _cursor(spec, qs, params, params.after) if params.after else None
    before = _cursor(spec, qs, params, params.before) if params.before and after is None else None
    rows: list[Any]
    if before is not None:
        back = list(
            _reversed(spec, _beyond(spec, base, params, before, forward=False), params)[: size + 1]
        )
        if len(back) > size:
            rows = back[:size][::-1]
            has_previous = True
            has_next = _beyond(spec, base, params, _key(rows[-1]), forward=True).exists()
        else:
            # Fewer than a page before it: the reader is back at the start, so show the first page.
            before = None
    if before is None:
        start = base if after is None else _beyond(spec, base, params, after, forward=True)
        rows = list(start[: size + 1])
        has_next = len(rows) > size
        rows = rows[:size]
        has_previous = False
        if after is not None and rows:
            has_previous = _beyond(spec, base, params, _key(rows[0]), forward=False).exists()
    next_url = params.url(after=_make_cursor(spec, params, rows[-1])) if has_next and rows else None
    previous_url = (
        params.url(before=_make_cursor(spec, params, rows[0])) if has_previous and rows else None
    )
    headers = {}
    for col in spec.columns:
        current = col.key == params.sort
        headers[col.key] = Header(
            key=col.key,
            label=col.label,
            url=params.url(sort=f"-{col.key}" if current and not params.descending else col.key),
            aria_sort=(("descending" if params.descending else "ascending") if current else "none"),
        )
    return ListPage(
        rows=rows,
        params=params,
        headers=headers,
        next_url=next_url,
        previous_url=previous_url,
        first_url=params.url() if previous_url else None,
        page_sizes=[(n, params.url(page_size=str(n)), n == params.page_size) for n in PAGE_SIZES],
        csv_query=params.url(page_size=None),
    )


def _key(row: Any) -> tuple[Any, int]:
    return getattr(row, _SORT_VALUE), row.pk


def export_rows(spec: ListSpec, qs: QuerySet[M], params: ListParams) -> list[M]:
    return list(ordered(spec, qs, params)[:EXPORT_MAX])


def csv_response(
    *,
    filename: str,
    header: Sequence[str],
    rows: Iterable[Any],
    cells: Callable[[Any], Sequence[Any]],
) -> HttpResponse:
    """A CSV download through the one injection-safe writer (core/csv_export.py)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    # The byte-order mark lets spreadsheet programs read Kazakh and Russian text as UTF-8.
    response.write("\ufeff")
    writer = csv_writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow(csv_row(cells(row)))
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="aips-{filename}-{stamp}.csv"'
    add_never_cache_headers(response)
    return response


def when(at: datetime | None) -> str:
    return timezone.localtime(at).isoformat(timespec="seconds") if at else ""
