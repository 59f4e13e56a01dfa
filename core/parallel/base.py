"""What every back end offers (:class:`Backend`), its errors, and helpers for tasks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, TypeVar

from conceptcoach.progress import StopFn, never_stop

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

#: The back ends a run can choose (``DiscoveryConfig.backend``, ``--backend``).
BACKENDS = ("local", "ray")


class BackendUnavailable(ValueError):
    """The back end cannot start (Ray not installed, the cluster unreachable); the
    message says what to do. A ValueError, so the command line reports it as one line."""


class WorkerLost(RuntimeError):
    """A task's worker died more often than the back end retries it."""


class TaskFailed(RuntimeError):
    """A task raised an exception that could not travel back as itself; the message
    holds the worker's traceback."""


class Backend(ABC):
    """Runs independent tasks and brings their results back to the caller's process."""

    #: ``local`` or ``ray``.
    name: str = ""
    #: Whether workers may be other machines: networks then travel as their files'
    #: bytes (``engine.shipping``), never as a path only this machine has.
    ships_by_content: bool = False
    #: How many times a task whose worker died is started again.
    max_retries: int = 3

    @abstractmethod
    def map(self, fn: Callable[[S, T], R], tasks: Sequence[T], shared: S, *,
            should_stop: StopFn = never_stop) -> Iterator[tuple[int, R]]:
        """``(index in tasks, fn(shared, task))`` for every task, as each finishes.

        Returns early, with the running tasks cancelled, once ``should_stop()`` is true.
        Raises the task's own exception when one fails, and :class:`WorkerLost` when a
        task's worker died more than :attr:`max_retries` times.
        """

    @property
    @abstractmethod
    def size(self) -> int:
        """How many tasks run at once (CPUs of the pool or of the cluster)."""

    @abstractmethod
    def close(self) -> None:
        """Stop the workers this back end started (idempotent)."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def ordered(results: Iterable[tuple[int, R]], first: int = 0) -> Iterator[tuple[int, R]]:
    """``results`` (from :meth:`Backend.map`) in task order: each one is held back
    until every earlier task's result has come.

    Stages whose store rows get ids in the order they are written (games and their
    positions, candidate rows) write through this, so the ids do not depend on which
    worker finished first: the same seed gives the same rows on any back end, and a
    stopped stage has stored a prefix of its tasks, which a resumed one continues.
    """
    waiting: dict[int, R] = {}
    expected = first
    for index, value in results:
        waiting[index] = value
        while expected in waiting:
            yield expected, waiting.pop(expected)
            expected += 1


def orphaned() -> bool:
    """Whether this process is a worker whose parent has gone (killed without its process
    group): a long job's workers check it between pieces of work and stop, instead of
    computing on, unseen, beside the next run."""
    import multiprocessing

    parent = multiprocessing.parent_process()
    return parent is not None and not parent.is_alive()


def one_thread() -> None:
    """Pin torch and the BLAS libraries to one thread: workers share the cores, and
    several threads each on shared cores made inference 50-100x slower."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(limits=1)


def portable(exc: BaseException, where: str) -> BaseException:
    """``exc`` ready to travel back to the caller, with the worker's traceback as a
    note. Only exceptions that rebuild from plain arguments travel as themselves (a
    Python or Concept Coach exception whose args are strings and numbers), so that the
    caller can still tell a user error from a bug; anything else becomes a
    :class:`TaskFailed` holding its text. Nothing is round-tripped through pickle here."""
    import builtins
    import traceback

    text = "".join(traceback.format_exception(exc)).rstrip()
    cls = type(exc)
    known = getattr(builtins, cls.__name__, None) is cls or cls.__module__.startswith("conceptcoach.")
    plain = all(isinstance(a, str | int | float | bool) or a is None for a in exc.args)
    if not (known and plain):
        return TaskFailed(f"{cls.__name__}: {exc} ({where})\n{text}")
    exc.add_note(f"raised {where}:\n{text}")
    return exc


def describe(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
