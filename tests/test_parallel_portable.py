"""Errors of a worker travel back as themselves only when they rebuild from plain data."""

from __future__ import annotations

from conceptcoach.parallel.base import TaskFailed, portable
from conceptcoach.progress import Cancelled


class _Foreign(Exception):
    pass


def test_user_errors_keep_their_type_and_others_become_task_failed() -> None:
    err = portable(ValueError("bad FEN at line 3"), "in a test")
    assert type(err) is ValueError and "raised in a test" in "".join(err.__notes__)
    assert type(portable(Cancelled("stopped"), "here")) is Cancelled
    failed = portable(_Foreign("odd"), "in a worker")
    assert isinstance(failed, TaskFailed) and "_Foreign: odd (in a worker)" in str(failed)
    assert isinstance(portable(KeyError(object()), "there"), TaskFailed)
