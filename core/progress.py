"""Progress reporting and cancellation shared by every long operation.

Core functions take a ``progress(done, total, message)`` callback and a
``should_stop()`` predicate; the CLI turns them into a tqdm bar and Ctrl-C, the
desktop app into a progress view and a Cancel button.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

ProgressFn = Callable[[int, int, str], None]
StopFn = Callable[[], bool]


class Cancelled(Exception):
    """Raised by a long operation that noticed ``should_stop()``; finished work is kept."""


class _Event(Protocol):
    def is_set(self) -> bool: ...


def no_progress(done: int, total: int, message: str) -> None:
    """A progress callback that shows nothing."""


def never_stop() -> bool:
    return False


def stop_when(event: _Event) -> StopFn:
    return event.is_set


class TqdmProgress:
    """A terminal progress bar as a ``ProgressFn`` (a fresh bar per stage name)."""

    def __init__(self, unit: str = "it") -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self._bar: Any = None
        self._stage = ""
        self._unit = unit
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int, message: str) -> None:
        stage = message.split(":", 1)[0]
        with self._lock:
            if self._bar is None or stage != self._stage:
                self.close()
                self._bar = self._tqdm(total=total, desc=stage, unit=self._unit, dynamic_ncols=True)
                self._stage = stage
            bar = self._bar
            bar.total = total
            bar.n = done
            bar.set_postfix_str(message[len(stage) + 1 :].strip()[:40], refresh=False)
            bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def run_with_bar(
    operation: Callable[[TqdmProgress], T],
    unit: str = "it",
    user_errors: tuple[type[Exception], ...] = (KeyError, ValueError),
) -> tuple[int, T | None]:
    """Run a long CLI operation with a terminal progress bar.

    Returns ``(0, result)``; or ``(2, None)`` after printing one ``error:`` line for a
    user error (unknown name, bad parameter); or ``(130, None)`` when it was cancelled
    (the work already stored is kept and a rerun resumes).
    """
    import sys

    bar = TqdmProgress(unit=unit)
    try:
        return 0, operation(bar)
    except user_errors as exc:
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2, None
    except Cancelled as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 130, None
    finally:
        bar.close()
