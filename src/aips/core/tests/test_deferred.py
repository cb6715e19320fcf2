"""core.deferred: work that runs after the commit, off the request's thread."""

import threading
from typing import Any

import pytest
from django.db import transaction
from django.test import TestCase
from structlog.testing import capture_logs

from aips.core import deferred


@pytest.mark.django_db
def test_runs_after_the_commit_on_another_thread(settings: Any) -> None:
    settings.AIPS_DEFER_INLINE = False
    ran = threading.Event()
    where: list[str] = []

    def task() -> None:
        where.append(threading.current_thread().name)
        ran.set()

    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        deferred.after_commit(task, name="test")
        assert not ran.is_set()  # not before the commit
    assert len(callbacks) == 1
    assert ran.wait(5)
    assert where[0].startswith("aips-deferred")


@pytest.mark.django_db
def test_never_runs_when_the_transaction_rolls_back(settings: Any) -> None:
    settings.AIPS_DEFER_INLINE = True
    ran: list[int] = []

    class Undo(Exception):
        pass

    def rolled_back() -> None:
        with transaction.atomic():
            deferred.after_commit(lambda: ran.append(1), name="test")
            raise Undo

    with TestCase.captureOnCommitCallbacks(execute=True), pytest.raises(Undo):
        rolled_back()
    assert ran == []


@pytest.mark.django_db
def test_a_failure_is_logged_and_never_raised(settings: Any) -> None:
    settings.AIPS_DEFER_INLINE = True

    def broken() -> None:
        raise RuntimeError("disk full")

    with capture_logs() as logs, TestCase.captureOnCommitCallbacks(execute=True):
        deferred.after_commit(broken, name="broken-task")
    assert [(e["event"], e["task"]) for e in logs] == [("deferred.failed", "broken-task")]
