"""The home page's work queue: what waits for this person, and what the center watches.

Core knows no product, so each product registers what it contributes from its own
`AppConfig.ready()` (incidents, alerts, inquiries, signals), as the worker's jobs do:

* `register_work_source(name, fn)`: `fn(actor, limit)` returns `WorkGroup`s, the items waiting
  for *this person's* next step (approve, fix, accept, answer, publish…), each group with its
  full count and the filtered list behind it. A source reads through its model's
  `visible_to(actor)` and checks the permissions and the lifecycle itself, and loads at most
  `limit` items per group, so the page's cost does not grow with the number of items.
* `register_home_tile(name, fn)`: `fn(actor)` returns `Tile`s, the figures a role watches (the
  center: incoming today, overdue by organization, acknowledgement compliance, signal
  activity, open findings), or nothing for a role they do not concern.

"Since I last looked" is `HomeVisit`: the moment this person last opened the page."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.functional import Promise

from aips.core.actors import Actor
from aips.core.logging import get_logger
from aips.core.models import HomeVisit

log = get_logger("aips.core.worklist")

# Items loaded per group; the page lists the most urgent ones and links to the rest.
GROUP_LIMIT = 20
QUEUE_LIMIT = 30

Label = str | Promise


@dataclass(frozen=True)
class WorkItem:
    """One thing waiting for the reader: an item to approve, fix, accept, answer or publish."""

    kind: Label  # "Incident card", "Threat alert"… (translated)
    ref: str  # INC-000012
    title: str
    url: str
    action: Label  # what the reader does next ("Approve", "Fix and resubmit"…)
    deadline: datetime | None = None  # the statutory deadline (R67.13–R67.15), if one runs
    arrived_at: datetime | None = None  # when it came to the reader
    organization: str = ""

    def overdue_at(self, now: datetime) -> bool:
        return self.deadline is not None and self.deadline < now


@dataclass(frozen=True)
class WorkGroup:
    """Items of one kind awaiting one step: `count` is the full number, `url` the list."""

    key: str
    label: Label
    count: int
    url: str
    items: list[WorkItem] = field(default_factory=list)


@dataclass(frozen=True)
class TileRow:
    label: str
    value: int | str
    url: str = ""


@dataclass(frozen=True)
class Tile:
    """A figure on the home page; every number links to the list behind it."""

    key: str
    title: Label
    value: int | str
    url: str
    note: Label = ""
    rows: list[TileRow] = field(default_factory=list)
    order: int = 100


WorkSource = Callable[[Actor, int], list[WorkGroup]]
TileSource = Callable[[Actor], list[Tile]]

_SOURCES: dict[str, WorkSource] = {}
_TILES: dict[str, TileSource] = {}


def register_work_source(name: str, fn: WorkSource) -> None:
    """Idempotent: registering a name again replaces its source and keeps its place."""
    _SOURCES[name] = fn


def register_home_tile(name: str, fn: TileSource) -> None:
    _TILES[name] = fn


def count_of(items: list[object], limit: int, count: Callable[[], int]) -> int:
    """The full count, queried only when the page of items is full."""
    return count() if len(items) >= limit else len(items)


@dataclass(frozen=True)
class Home:
    groups: list[WorkGroup]
    queue: list[WorkItem]  # overdue first, then by deadline, then the oldest arrival
    total: int
    overdue: int
    new: list[WorkItem]
    tiles: list[Tile]
    since: datetime | None
    now: datetime


def _urgency(now: datetime) -> Callable[[WorkItem], tuple[int, float, float]]:
    def key(item: WorkItem) -> tuple[int, float, float]:
        deadline = item.deadline.timestamp() if item.deadline else float("inf")
        arrived = item.arrived_at.timestamp() if item.arrived_at else 0.0
        return (0 if item.overdue_at(now) else 1, deadline, arrived)

    return key


def home_for(actor: Actor, *, since: datetime | None, now: datetime | None = None) -> Home:
    now = now or timezone.now()
    groups: list[WorkGroup] = []
    for source in _SOURCES.values():
        groups.extend(g for g in source(actor, GROUP_LIMIT) if g.count)
    items = sorted((i for g in groups for i in g.items), key=_urgency(now))
    tiles: list[Tile] = []
    for tile_source in _TILES.values():
        tiles.extend(tile_source(actor))
    new = [i for i in items if since and i.arrived_at and i.arrived_at > since]
    return Home(
        groups=groups,
        queue=items[:QUEUE_LIMIT],
        total=sum(g.count for g in groups),
        overdue=sum(1 for i in items if i.overdue_at(now)),
        new=new,
        tiles=sorted(tiles, key=lambda t: t.order),
        since=since,
        now=now,
    )


@contextmanager
def _without_flush() -> Iterator[None]:
    """Commit without waiting for the disk. Every home page writes its visit, and waiting for the
    flush was the page's largest and least steady cost on a busy machine (10 ms, spikes past
    100 ms). A visit lost to a power cut only widens the next "since I last looked", so it does
    not need the power-cut durability that submissions and signals keep: PostgreSQL's
    `synchronous_commit` off for this transaction, SQLite's WAL `synchronous=NORMAL` (which may
    only change outside a transaction; inside an outer one the visit commits with it)."""
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            yield
        return
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        level = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA synchronous=NORMAL")
    try:
        with transaction.atomic():
            yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous={level:d}")


def mark_home_seen(*, actor: Actor, now: datetime | None = None) -> datetime | None:
    """Record this visit; returns the previous one (None the first time). A preference of the
    person's own, not a business change, so not audited."""
    if actor.pk is None:
        return None
    now = now or timezone.now()
    with _without_flush():
        visit, created = HomeVisit.objects.select_for_update().get_or_create(
            user_id=actor.pk, defaults={"seen_at": now}
        )
        if created:
            return None
        previous = visit.seen_at
        HomeVisit.objects.filter(pk=visit.pk).update(seen_at=now)
        return previous
