"""The one search seam: the header's box and the indicator page.

Core knows no product, so each product registers a `SearchProvider` from its own
`AppConfig.ready()` (incidents, alerts, inquiries, signals), as it registers its work sources
(`core/worklist.py`). A provider reads through its selectors, which start from the model's
`visible_to(actor)`: the search shows only what the reader may open, and another
organization's item answers exactly as a missing one does.

What a query is decides what is asked of the providers, in this order:

* a reference (`INC-000012`, `THR-…`, `VUL-…`, `REQ-…`): `reference(actor, prefix, pk)` returns
  the item's address when the reader may see it, and the page redirects there; otherwise the
  result is empty, as for a reference that does not exist;
* an indicator (`core.indicators`: IP, network, domain, URL, hash, e-mail) or a CVE id:
  `indicator(actor, indicator, limit)` returns the items that hold it, per kind, and the page
  links to the indicator page, which adds `sightings(actor, indicator)` (first and last seen,
  the organizations that reported it: the center's view);
* anything else: `text(actor, query, limit)` matches titles and bodies, ranked; a reference among
  the words (`INC-12 skimmer`) puts that item first.

Text is full-text search (`core/fulltext.py`): a provider declares its `TextIndex` (model and
fields, the title first) in its `SearchProvider`, builds its group with `text_group` over its
visible queryset, and core picks the engine by `connection.vendor` (SQLite FTS5, PostgreSQL
tsvector). The tenant filter comes first, then the match, the rank, the count and the limit."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.models import Count, Q, QuerySet, Window
from django.urls import reverse
from django.utils.functional import Promise

from aips.core import fulltext
from aips.core.actors import Actor
from aips.core.fulltext import TextIndex as TextIndex  # re-exported: the products declare theirs
from aips.core.indicators import CVE, normalize_indicator

Label = str | Promise

# Results per kind; the group's count says how many more there are.
LIMIT = 20
MAX_QUERY = 300
_REFERENCE = re.compile(r"^(INC|THR|VUL|REQ)-?0*(\d{1,9})$", re.IGNORECASE)
_HASH = re.compile(r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$")


@dataclass(frozen=True)
class Indicator:
    """A normalized indicator: `type` is `core.indicators`' (ip, cidr, domain, url, md5, sha1,
    sha256, email) or "cve"."""

    type: str
    value: str


@dataclass(frozen=True)
class Hit:
    ref: str
    title: str
    url: str
    organization: str = ""
    state: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class HitGroup:
    """Items of one kind: `count` is the full number (or the limit when a kind cannot count
    cheaply), `url` the page with all of them, if there is one."""

    key: str
    label: Label
    count: int
    hits: list[Hit] = field(default_factory=list)
    url: str = ""
    more: bool = False


@dataclass(frozen=True)
class Sightings:
    """What the signals say about an indicator."""

    first: datetime | None
    last: datetime | None
    signals: int
    organizations: list[tuple[str, int]]  # (name, signals), the center's view; else empty


@dataclass(frozen=True)
class TextQuery:
    """A text query: its words (at most `fulltext.MAX_WORDS`, no control characters) and the
    references among them, `(prefix, pk)`."""

    words: tuple[str, ...] = ()
    references: tuple[tuple[str, int], ...] = ()

    def named(self, *prefixes: str) -> list[int]:
        """The pks of the references with one of `prefixes` (`"INC"`)."""
        return [pk for prefix, pk in self.references if prefix in prefixes]


def text_query(text: str) -> TextQuery:
    words: list[str] = []
    references: list[tuple[str, int]] = []
    for word in text[:MAX_QUERY].split():
        match = _REFERENCE.match(word)
        if match:
            references.append((match.group(1).upper(), int(match.group(2))))
        else:
            words.append(word)
    return TextQuery(fulltext.clean_words(words), tuple(references[: fulltext.MAX_WORDS]))


Reference = Callable[[Actor, str, int], str | None]
TextSearch = Callable[[Actor, TextQuery, int], list[HitGroup]]
IndicatorSearch = Callable[[Actor, Indicator, int], list[HitGroup]]
SightingSource = Callable[[Actor, Indicator], Sightings | None]


@dataclass(frozen=True)
class SearchProvider:
    reference: Reference | None = None
    text: TextSearch | None = None
    indicator: IndicatorSearch | None = None
    sightings: SightingSource | None = None
    # What `text` reads: core keeps an engine index of each (`fulltext.ensure_text_indexes`).
    indexes: tuple[TextIndex, ...] = ()


_PROVIDERS: dict[str, SearchProvider] = {}


def register_search_provider(name: str, provider: SearchProvider) -> None:
    """Idempotent: registering a name again replaces its provider and keeps its place."""
    _PROVIDERS[name] = provider


def text_indexes() -> list[TextIndex]:
    return [index for p in _PROVIDERS.values() for index in p.indexes]


def ensure_text_indexes(*, using: str = "default", **_kwargs: Any) -> list[str]:
    """Core's `post_migrate` receiver (`apps.py`): every provider's engine index, made or
    remade where it differs from the declaration."""
    return fulltext.ensure_text_indexes(text_indexes(), connections[using])


@dataclass(frozen=True)
class Parsed:
    text: str
    reference: tuple[str, int] | None = None
    indicator: Indicator | None = None


def parse(query: str) -> Parsed:
    text = " ".join(query.split())[:MAX_QUERY]
    match = _REFERENCE.match(text)
    if match:
        return Parsed(text, reference=(match.group(1).upper(), int(match.group(2))))
    if CVE.match(text.upper()):
        return Parsed(text, indicator=Indicator("cve", text.upper()))
    # A phrase is text; an indicator is one token. A bare word ("phishing") is no domain.
    if text and " " not in text and (any(c in text for c in ".:@/") or _HASH.match(text)):
        try:
            found = normalize_indicator(text)
        except ValueError:
            pass
        else:
            return Parsed(text, indicator=Indicator(found["type"], found["value"]))
    return Parsed(text)


def parse_indicator(value: str) -> Indicator | None:
    """The indicator page's value: any indicator or CVE id, or None."""
    text = value.strip()[:2048]
    if CVE.match(text.upper()):
        return Indicator("cve", text.upper())
    try:
        found = normalize_indicator(text)
    except ValueError:
        return None
    return Indicator(found["type"], found["value"])


def resolve_reference(actor: Actor, prefix: str, pk: int) -> str | None:
    for provider in _PROVIDERS.values():
        if provider.reference is not None:
            url = provider.reference(actor, prefix, pk)
            if url:
                return url
    return None


def search_text(actor: Actor, words: str, *, limit: int = LIMIT) -> list[HitGroup]:
    query = text_query(words)
    if not query.words and not query.references:
        return []
    groups: list[HitGroup] = []
    for provider in _PROVIDERS.values():
        if provider.text is not None:
            groups.extend(provider.text(actor, query, limit))
    return groups


def occurrences(actor: Actor, indicator: Indicator, *, limit: int = LIMIT) -> list[HitGroup]:
    groups: list[HitGroup] = []
    for provider in _PROVIDERS.values():
        if provider.indicator is not None:
            groups.extend(provider.indicator(actor, indicator, limit))
    return groups


def sightings(actor: Actor, indicator: Indicator) -> Sightings | None:
    for provider in _PROVIDERS.values():
        if provider.sightings is not None:
            found = provider.sightings(actor, indicator)
            if found is not None:
                return found
    return None


def json_string(value: str) -> str:
    """How a string appears inside a JSON list stored by `JSONField`, quotes included, for an
    `icontains` that matches a whole element and not a part of a longer one."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def words_match(words: str, fields: tuple[str, ...]) -> Q:
    """Every word in one of the fields (case-insensitive): at most eight words."""
    match = Q()
    for word in words.split()[:8]:
        any_field = Q()
        for name in fields:
            any_field |= Q(**{f"{name}__icontains": word})
        match &= any_field
    return match


def _item_hit(detail: str, title: str) -> Callable[[Any], Hit]:
    def hit(item: Any) -> Hit:
        return Hit(
            ref=item.reference,
            title=getattr(item, title),
            url=reverse(detail, args=[item.pk]),
            organization=item.organization.display_name,
            state=item.state_label,
            at=item.updated_at,
        )

    return hit


def item_group(
    qs: "QuerySet[Any]",
    *,
    key: str,
    label: Label,
    detail: str,
    listing: str,
    limit: int,
    title: str = "title",
) -> HitGroup:
    """`group_of` for the workflow items (cards, alerts, requests): they share a reference, an
    organization, a state label and a detail page named `detail` taking the item's pk."""
    return group_of(
        qs.select_related("organization").order_by("-id"),
        key=key,
        label=label,
        hit=_item_hit(detail, title),
        limit=limit,
        url=reverse(listing),
    )


def group_of(
    qs: "QuerySet[Any]",
    *,
    key: str,
    label: Label,
    hit: Callable[[Any], Hit],
    limit: int,
    url: str = "",
) -> HitGroup:
    """At most `limit` rows of a visible queryset; the full count only when there are more."""
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    count = qs.count() if more else len(rows)
    return HitGroup(
        key=key, label=label, count=count, hits=[hit(r) for r in rows[:limit]], url=url, more=more
    )


def text_group(
    qs: "QuerySet[Any]",
    *,
    index: TextIndex,
    query: TextQuery,
    named: Q | None = None,
    content: Q | None = None,
    key: str,
    label: Label,
    detail: str,
    listing: str,
    limit: int,
) -> HitGroup:
    """A provider's text hits, ranked (`fulltext.ranked`; only when whole words find nothing,
    parts of words, `fulltext.contained`): `qs` is the reader's visible queryset, `named` the
    items the query's references name (first), `content` the rows whose fields beyond the
    title may match (an alert whose content the reader may not read matches on its title)."""
    if qs.query.distinct:
        # A window counts the rows before DISTINCT removes the duplicates of a join: rank the
        # visible ids instead, one row per item (still one statement, the tenant filter inside).
        qs = qs.model._default_manager.filter(pk__in=qs.values("pk"))
    found = fulltext.ranked(qs, index, query.words, named=named, content=content)
    top = [] if found is None else _ranked_ids(found, limit)
    if not top and query.words:
        top = _ranked_ids(
            fulltext.contained(qs, index, query.words, named=named, content=content), limit
        )
    # One narrow query ranks and counts every match (the window); the page's rows come after.
    ids = [pk for pk, _total in top[:limit]]
    rows = qs.filter(pk__in=ids).select_related("organization").in_bulk(ids)
    hit = _item_hit(detail, index.title)
    return HitGroup(
        key=key,
        label=label,
        count=top[0][1] if top else 0,
        hits=[hit(rows[pk]) for pk in ids if pk in rows],
        url=reverse(listing),
        more=len(top) > limit,
    )


def _ranked_ids(qs: "QuerySet[Any]", limit: int) -> list[tuple[int, int]]:
    """(pk, the number of matches) of the best `limit + 1` rows: rank, then newest."""
    ordered = qs.annotate(search_total=Window(Count("pk"))).order_by(f"-{fulltext.RANK}", "-pk")
    return list(ordered.values_list("pk", "search_total")[: limit + 1])
