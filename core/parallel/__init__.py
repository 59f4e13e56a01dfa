"""Independent pieces of work, on a local process pool or on a Ray cluster, one way.

A discovery run splits into many independent tasks (self-play games, the weaker
network's searches, per-candidate programs, student trainings, novelty bases). A
stage hands them to a :class:`Backend`:

>>> with make_backend("local", workers=2) as backend:  # doctest: +SKIP
...     for index, result in backend.map(square, [1, 2, 3], shared=None):
...         print(index, result)

``map`` yields ``(task index, result)`` as tasks finish, in any order; the caller (the
head: the one process that holds the store) writes what comes back. A task whose
worker dies is run again (up to ``max_retries`` times), an exception raised by the
task is raised in the caller, and when ``should_stop()`` turns true the tasks still
running are cancelled and ``map`` returns early (the caller notices and raises
``Cancelled``; what it stored is kept, so the stage resumes on either back end).

Tasks are module-level functions ``fn(shared, task)``; ``shared`` travels once per
worker (local pool) or once per cluster (Ray's object store). Every task must give
the same result wherever it runs (its seed is in the task), which is how a Ray run
writes the same concepts as a local one.
"""

from __future__ import annotations

from conceptcoach.parallel.base import (
    BACKENDS,
    Backend,
    BackendUnavailable,
    TaskFailed,
    WorkerLost,
    one_thread,
    ordered,
    orphaned,
)
from conceptcoach.parallel.local import LocalBackend


def ray_installed() -> bool:
    """Whether Ray can be imported here (``pip install 'conceptcoach[ray]'``), without importing it."""
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def make_backend(name: str = "local", workers: int = 1, address: str | None = None) -> Backend:
    """The back end called ``name``: ``local`` (a pool of ``workers`` processes) or
    ``ray`` (the cluster at ``address``: ``host:port``, ``auto`` or ``ray://host:port``;
    without one, a Ray instance of ``workers`` CPUs on this machine).

    Raises ValueError for an unknown name; a Ray back end raises
    :class:`BackendUnavailable` on first use when Ray is not installed or the cluster
    cannot be reached.
    """
    if name == "local":
        if address:
            raise ValueError("--address names a Ray cluster: use it with --backend ray")
        return LocalBackend(workers)
    if name == "ray":
        from conceptcoach.parallel.ray_cluster import RayBackend

        return RayBackend(address=address, workers=workers)
    raise ValueError(f"unknown back end {name!r}: choose one of {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Backend", "BackendUnavailable", "LocalBackend", "TaskFailed", "WorkerLost",
           "make_backend", "one_thread", "ordered", "orphaned", "ray_installed"]
