"""Keyset pagination by primary key: stable under inserts and O(limit) at any depth."""

from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db.models import QuerySet
from ninja import Schema

T = TypeVar("T")


class Page(Schema, Generic[T]):
    items: list[T]
    next_cursor: int | None


def keyset_page(queryset: QuerySet[Any], *, after: int | None, limit: int) -> dict[str, Any]:
    limit = max(1, min(limit, settings.AIPS_API_PAGE_MAX))
    qs = queryset.order_by("pk")
    if after is not None:
        qs = qs.filter(pk__gt=after)
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": rows[-1].pk if more and rows else None}
