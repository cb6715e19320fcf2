"""A page's list on `core.listing`, with the reader's saved filters and an audited CSV export."""

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from aips.core import listing
from aips.core.listing import ListSpec
from aips.shared.accounts import selectors, services
from aips.shared.accounts.sessions import acting_person


def list_context(request: HttpRequest, spec: ListSpec, qs: QuerySet[Any]) -> dict[str, Any]:
    params = listing.parse(spec, request.GET)
    return {
        "listing": listing.page(spec, qs, params),
        "list_spec": spec,
        "saved_filters": list(
            selectors.saved_filter_list(actor=acting_person(request), list_name=spec.name)
        ),
    }


def list_csv(
    request: HttpRequest,
    spec: ListSpec,
    qs: QuerySet[Any],
    *,
    header: Sequence[str],
    cells: Callable[[Any], Sequence[Any]],
) -> HttpResponse:
    """Exactly the rows the list shows under the same query string (all pages, bounded by
    `core.listing.EXPORT_MAX`), in the same order; the export is journaled."""
    params = listing.parse(spec, request.GET)
    rows = listing.export_rows(spec, qs, params)
    services.list_exported(
        actor=acting_person(request), list_name=spec.name, query=params.saved_query, rows=len(rows)
    )
    return listing.csv_response(filename=spec.name, header=header, rows=rows, cells=cells)
