"""The Ray back end: the same tasks on a Ray cluster (``pip install 'conceptcoach[ray]'``).

Each node of the cluster needs this package installed (the same version as the head):
tasks are this package's functions, sent by name. What they share goes into Ray's
object store once per map; networks travel inside it as their files' bytes
(``engine.shipping``), so no worker needs a path of the head's disk. Results come back
to the driver (the head), which alone writes the store. A task whose worker process
or node dies is retried by Ray (``max_retries``); one that raises is not.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from conceptcoach.parallel.base import (
    Backend,
    BackendUnavailable,
    R,
    S,
    T,
    WorkerLost,
    describe,
    one_thread,
)
from conceptcoach.progress import StopFn, never_stop


@functools.cache
def _pinned() -> bool:
    """One thread in this Ray worker, once per process (threadpoolctl's scan of the
    loaded libraries costs more than a small task)."""
    one_thread()
    return True


def _run(fn: Callable[[Any, Any], Any], shared: Any, task: Any) -> Any:
    _pinned()
    return fn(shared, task)


class RayBackend(Backend):
    """Tasks on the Ray cluster at ``address``, or on a Ray instance of ``workers`` CPUs
    started on this machine when no address is given (stopped by :meth:`close`)."""

    name = "ray"
    ships_by_content = True

    def __init__(self, address: str | None = None, workers: int = 2, max_retries: int = 3) -> None:
        self.address = address
        self.workers = max(1, int(workers))
        self.max_retries = max_retries
        self._ray: Any = None
        self._owns_connection = False

    def connect(self) -> Any:
        """The ``ray`` module, connected (on first use). Raises BackendUnavailable."""
        if self._ray is not None:
            return self._ray
        try:
            import ray
        except ImportError as exc:
            raise BackendUnavailable("the Ray back end needs Ray: pip install 'conceptcoach[ray]' "
                                     "(on the head and on every machine of the cluster)") from exc
        if not ray.is_initialized():
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray instance"
            try:
                if self.address:
                    ray.init(address=self.address, log_to_driver=False, logging_level=logging.WARNING)
                else:
                    ray.init(num_cpus=self.workers, include_dashboard=False, log_to_driver=False,
                             logging_level=logging.WARNING)
            except Exception as exc:  # ConnectionError, RuntimeError, TimeoutError...: all mean "not reachable"
                raise BackendUnavailable(f"could not start or join {where}: {exc}. Start the cluster first "
                                         "(ray start --head on the head, ray start --address HEAD:PORT on "
                                         "each worker machine; see docs/SCALE.md)") from exc
            self._owns_connection = True
        self._ray = ray
        return ray

    @property
    def size(self) -> int:
        ray = self.connect()
        return max(1, int(ray.cluster_resources().get("CPU", 1)))

    def map(self, fn: Callable[[S, T], R], tasks: Sequence[T], shared: S, *,
            should_stop: StopFn = never_stop) -> Iterator[tuple[int, R]]:
        if not tasks:
            return
        ray = self.connect()
        from ray.exceptions import NodeDiedError, RayTaskError, WorkerCrashedError
        remote = ray.remote(_run).options(num_cpus=1, max_retries=self.max_retries, retry_exceptions=False,
                                          name=describe(fn).rsplit(".", 1)[-1])
        shared_ref = ray.put(shared)
        # A window of tasks in flight: enough to keep every CPU busy, few enough that
        # results do not pile up in the object store on a long stage.
        window = 2 * self.size + 2
        running: dict[Any, int] = {}
        submitted = 0
        try:
            while submitted < len(tasks) or running:
                if should_stop():
                    return
                while submitted < len(tasks) and len(running) < window:
                    running[remote.remote(fn, shared_ref, tasks[submitted])] = submitted
                    submitted += 1
                ready, _ = ray.wait(list(running), num_returns=1, timeout=0.25)
                for ref in ready:
                    index = running.pop(ref)
                    try:
                        value = ray.get(ref)
                    except RayTaskError as exc:
                        raise exc.as_instanceof_cause() from None
                    except (WorkerCrashedError, NodeDiedError) as exc:
                        raise WorkerLost(f"task {index} of {describe(fn)}: its worker died "
                                         f"{self.max_retries + 1} times ({exc})") from exc
                    yield index, value
        finally:
            for ref in running:
                # Already finished, or its worker is gone: nothing to cancel.
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)

    def close(self) -> None:
        if self._ray is not None and self._owns_connection:
            self._ray.shutdown()
        self._ray = None
        self._owns_connection = False
