"""The local back end: a pool of worker processes on this machine (the default).

Unlike ``multiprocessing.Pool`` it notices a worker that died (killed, out of
memory) and starts its task again on a fresh one, ends running tasks at once when
asked to stop (a self-play game may take minutes), and sends the value the tasks
share to each worker once. Workers are started on first use (spawned: a clean
interpreter, one torch thread) and kept for the back end's life, so the stages of one
run pay their start-up once.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import signal
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from conceptcoach.parallel.base import Backend, R, S, T, WorkerLost, describe, one_thread, portable
from conceptcoach.progress import StopFn, never_stop


def _serve(conn: Connection) -> None:
    """A worker: run the tasks it is sent until the pipe closes."""
    # Ctrl-C reaches the whole process group: the head handles it and ends its workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    one_thread()
    shared: Any = None
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        if message[0] == "shared":
            shared = message[1]
            continue
        _, index, fn, task = message
        try:
            reply: tuple[str, int, Any] = ("ok", index, fn(shared, task))
        except Exception as exc:
            reply = ("error", index, portable(exc, f"by {describe(fn)} in a local worker"))
        try:
            conn.send(reply)
        except Exception as exc:  # a result that cannot be pickled
            conn.send(("error", index, portable(exc, f"returning from {describe(fn)}")))


@dataclass(eq=False)
class _Worker:
    process: Any  # multiprocessing's SpawnProcess
    conn: Connection
    shared_key: int = -1

    def end(self, *, now: bool) -> None:
        if now:
            self.process.terminate()
        else:
            try:
                self.conn.send(None)
            except OSError:
                self.process.terminate()
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.conn.close()


class LocalBackend(Backend):
    """``workers`` processes on this machine."""

    name = "local"
    ships_by_content = False

    def __init__(self, workers: int = 1, max_retries: int = 3) -> None:
        self.workers = max(1, int(workers))
        self.max_retries = max_retries
        self._ctx = mp.get_context("spawn")
        self._idle: list[_Worker] = []
        self._maps = itertools.count()

    @property
    def size(self) -> int:
        return self.workers

    def _start(self) -> _Worker:
        head, child = self._ctx.Pipe()
        process = self._ctx.Process(target=_serve, args=(child,), daemon=True, name="conceptcoach-worker")
        process.start()
        child.close()
        return _Worker(process, head)

    def map(self, fn: Callable[[S, T], R], tasks: Sequence[T], shared: S, *,
            should_stop: StopFn = never_stop) -> Iterator[tuple[int, R]]:
        if not tasks:
            return
        key = next(self._maps)
        queue = deque(range(len(tasks)))
        attempts = [0] * len(tasks)
        busy: dict[_Worker, int] = {}
        try:
            while queue or busy:
                if should_stop():
                    return
                while queue and (self._idle or len(busy) < self.workers):
                    worker = self._idle.pop() if self._idle else self._start()
                    if worker.shared_key != key:
                        worker.conn.send(("shared", shared))
                        worker.shared_key = key
                    index = queue.popleft()
                    worker.conn.send(("task", index, fn, tasks[index]))
                    busy[worker] = index
                wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=0.25)
                for worker, index in list(busy.items()):
                    reply = None
                    if worker.conn.poll():
                        try:
                            reply = worker.conn.recv()
                        except (EOFError, OSError):
                            reply = None
                    if reply is None:
                        if worker.process.is_alive():
                            continue
                        # The worker died with the task (killed, out of memory): run it again.
                        del busy[worker]
                        worker.end(now=True)
                        attempts[index] += 1
                        if attempts[index] > self.max_retries:
                            raise WorkerLost(f"task {index} of {describe(fn)}: its worker died "
                                             f"{attempts[index]} times (exit code {worker.process.exitcode})")
                        queue.appendleft(index)
                        continue
                    del busy[worker]
                    self._idle.append(worker)
                    kind, done, value = reply
                    if kind == "error":
                        raise value
                    yield done, value
        finally:
            # Stopped, failed or abandoned by the caller: end the tasks still running.
            for worker in busy:
                worker.end(now=True)

    def close(self) -> None:
        idle, self._idle = self._idle, []
        for worker in idle:
            worker.end(now=False)
