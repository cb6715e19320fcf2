"""Work a request starts but its answer need not wait for: run once the request's transaction
has committed, by one background thread of the process, so the caller's answer goes out first.

For what may be lost with the process (it is in memory until it runs) and is written in its
own transaction: the outbid and extension notices of an accepted bid, say. Anything that must
survive a crash is a row in the same transaction and a worker job instead. A failure is logged
and never reaches the request. With `AIPS_DEFER_INLINE` (the tests) it runs at once, in the
caller's thread, so a test sees its effect when the commit callbacks have run."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, transaction

from aips.core.logging import get_logger

__all__ = ["after_commit"]

log = get_logger("aips.core.deferred")

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    # Made on first use, in the process that uses it (gunicorn forks its workers first).
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aips-deferred")
        return _executor


def _run(task: Callable[[], None], name: str, *, own_thread: bool = True) -> None:
    if own_thread:
        # The thread keeps its connection between tasks; not one the server dropped. Never in
        # the caller's thread: inside its transaction (a test's) this would close it mid-way.
        close_old_connections()
    try:
        task()
    except Exception:
        log.exception("deferred.failed", task=name)


def after_commit(task: Callable[[], None], *, name: str) -> None:
    """Run `task` once the current transaction commits (at once outside one), off the
    request's thread; never if it rolls back."""

    def submit() -> None:
        if getattr(settings, "AIPS_DEFER_INLINE", False):
            _run(task, name, own_thread=False)
        else:
            _pool().submit(_run, task, name)

    transaction.on_commit(submit, robust=True)
