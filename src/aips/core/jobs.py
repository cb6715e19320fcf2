"""The worker's job table (`aips worker`), filled by the apps that own the work.

Core knows how to run periodic jobs, not which ones exist: each app registers its jobs from its
own `AppConfig.ready()` (audit: checkpoints, anchors, archive; signals: correlation, partitions,
archive; notifications: reminders and the outbox), so core imports no app above it. Jobs run in
registration order, which is INSTALLED_APPS order and then the order within one app's ready()."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[], str]  # does the work; returns a one-line summary for the log
    # A concurrent job opens its own transactions and is safe on several workers at once (row
    # locks with SKIP LOCKED): the worker runs it without its one transaction and job lock, so
    # each unit of work commits as soon as it is done (an auction's close, say).
    concurrent: bool = False
    # When the job next has work, if it knows (an auction's end): the worker runs it then
    # rather than up to `every` plus the worker's interval later. Never later than `every`.
    wake: Callable[[], datetime | None] | None = None


@dataclass(frozen=True)
class _Entry:
    name: str
    # Read when the table is built, so settings (and tests that change them) apply.
    every: Callable[[], timedelta]
    run: Callable[[], str]
    concurrent: bool
    wake: Callable[[], datetime | None] | None


_JOBS: dict[str, _Entry] = {}


def register_job(
    name: str,
    *,
    every: timedelta | Callable[[], timedelta],
    run: Callable[[], str],
    concurrent: bool = False,
    wake: Callable[[], datetime | None] | None = None,
) -> None:
    """Idempotent: registering a name again replaces its entry and keeps its place."""
    period = every if callable(every) else (lambda: every)
    _JOBS[name] = _Entry(name=name, every=period, run=run, concurrent=concurrent, wake=wake)


def registered_jobs() -> list[Job]:
    return [Job(e.name, e.every(), e.run, e.concurrent, e.wake) for e in _JOBS.values()]
