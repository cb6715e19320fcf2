"""One way for a page's list to sort, filter by text, page and export (issue 15, decision 0008).

A list declares a `ListSpec`: the columns a reader may sort by (a whitelist: the URL names a key,
never an ORM path), the fields its text filter searches, and its default order. `parse` reads
`sort`, `q`, `page_size` and `after` from the query string and turns anything it does not
recognize into the default, so no query string can raise. Every other parameter (the list's own
filters) stays in the URL untouched: sort links, the next page and the CSV link keep them.

Pages are keyset pages on (sort column, id), like the API's (decision 0008): the cursor holds the
last row's sort value and id, signed so a reader cannot hand the database a value of their own;
a bad or stale cursor shows the first page. Empty sort values come last in both directions.
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
OWN_PARAMS = ("sort", "q", "page_size", "after")
_SORT_VALUE = "_list_sort_value"

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Column:
    key: str
    field: str
    label: str | Promise


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

    def url(self, **changes: str | None) -> str:
        """This list's query string with `changes` (None removes a parameter); always a new
        first page, since a cursor belongs to the order and filters it was made under."""
        qd = self.query.copy()
        qd.pop("after", None)
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
    qd.pop("after", None)
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


def _after(spec: ListSpec, qs: QuerySet[M], params: ListParams) -> QuerySet[M]:
    if not params.after:
        return qs
    try:
        raw_value, last_pk = signing.loads(params.after, salt=_salt(spec, params))
        column = spec.column(params.sort)
        assert column is not None  # noqa: S101
        value = (
            None if raw_value is None else _model_field(qs.model, column.field).to_python(raw_value)
        )
        last_pk = int(last_pk)
    except (signing.BadSignature, ValueError, TypeError, ValidationError):
        return qs  # a stale or forged cursor: the first page
    f = column.field
    op = "lt" if params.descending else "gt"
    if value is None:
        return qs.filter(**{f"{f}__isnull": True, f"pk__{op}": last_pk})
    return qs.filter(
        Q(**{f"{f}__{op}": value})
        | Q(**{f: value, f"pk__{op}": last_pk})
        | Q(**{f"{f}__isnull": True})
    )


def page(spec: ListSpec, qs: QuerySet[M], params: ListParams) -> ListPage:
    rows = list(_after(spec, ordered(spec, qs, params), params)[: params.page_size + 1])
    more = len(rows) > params.page_size
    rows = rows[: params.page_size]
    next_url = None
    if more and rows:
        last = rows[-1]
        cursor = signing.dumps(
            [_encode(getattr(last, _SORT_VALUE)), last.pk], salt=_salt(spec, params)
        )
        next_url = params.url(after=cursor)
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
        first_url=params.url() if params.after else None,
        page_sizes=[(n, params.url(page_size=str(n)), n == params.page_size) for n in PAGE_SIZES],
        csv_query=params.url(page_size=None),
    )


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
