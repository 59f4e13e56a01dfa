"""Background work for the GUI: one pattern for everything slower than a frame.

An ``Operation`` wraps a callable ``fn(ctx)``; its result, error and progress come back
as Qt signals, so the callbacks run on the GUI thread. Store work runs on one DB worker
thread that opens its own connection (SQLite connections must stay in the thread that
made them) and runs operations one at a time in submission order. CPU work (discovery,
imports, inference) runs on a QThreadPool; when it needs the store it opens a private
connection there. Every operation can be cancelled: ``ctx.should_stop()`` turns true and
core functions that take a ``should_stop``/``stop`` callable end early.

An operation that writes says what it changed (``changes=Changes(...)``); when it
succeeds, after its own callbacks, ``Workers.changed`` is emitted once with that value
and every screen redraws what concerns it (see :mod:`conceptcoach.desktop.changes`).

``StallMonitor`` measures how long the GUI thread goes without serving its event loop;
tests assert it never exceeds 100 ms.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conceptcoach.desktop.changes import Changes
from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, QTimer, Signal

DbFactory = Callable[[], Any]  # returns a sqlite_utils.Database; kept opaque so Qt code never imports sqlite


@dataclass
class Context:
    """What an operation's callable receives."""

    stop_event: threading.Event
    report: Callable[[int, int, str], None]
    db: Any = None  # the worker's own store connection (DB worker and needs_db pool jobs)

    def should_stop(self) -> bool:
        return self.stop_event.is_set()

    def progress(self, done: int, total: int, message: str = "") -> None:
        self.report(int(done), int(total), str(message))


class Operation(QObject):
    """One unit of background work; connect to its signals or pass callbacks."""

    succeeded = Signal(object)
    failed = Signal(str, str)  # message for the user, traceback for the log
    progressed = Signal(int, int, str)
    finished = Signal()  # after succeeded/failed, also when cancelled

    def __init__(
        self,
        fn: Callable[[Context], Any],
        *,
        name: str = "",
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[str], None] | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "operation")
        self.stop_event = threading.Event()
        self.done = False
        self.result: Any = None
        self.error: str | None = None
        self.cancelled = False
        if on_success is not None:
            self.succeeded.connect(on_success)
        if on_failure is not None:
            self.failed.connect(lambda msg, _tb: on_failure(msg))
        if on_progress is not None:
            self.progressed.connect(on_progress)
        if on_finished is not None:
            # Connected here, before the operation is submitted: a connection made after
            # submitting can miss a signal the worker emitted in the meantime.
            self.finished.connect(on_finished)
        # Keep the Python side alive until the result has been delivered.
        self.finished.connect(self._mark_done)

    def cancel(self) -> None:
        self.stop_event.set()

    def _mark_done(self) -> None:
        self.done = True

    def execute(self, db: Any = None) -> None:
        """Runs in a worker thread; results cross back through queued signals."""
        ctx = Context(self.stop_event, self.progressed.emit, db)
        if self.stop_event.is_set():
            self.cancelled = True
            self.finished.emit()
            return
        try:
            result = self.fn(ctx)
        except Exception as exc:  # noqa: BLE001 - every failure must reach the window
            name = type(exc).__name__
            if name in ("Cancelled", "_ProcessCancelled") or self.stop_event.is_set():
                self.cancelled = True
            else:
                self.error = str(exc) or name
                self.failed.emit(self.error, traceback.format_exc())
            self.finished.emit()
            return
        self.result = result
        if self.stop_event.is_set():
            self.cancelled = True
        self.succeeded.emit(result)
        self.finished.emit()


class _ProcessCancelled(Exception):
    """A child process stopped because it was asked to (reported as cancelled, not failed)."""


class DbWorker(QThread):
    """The one thread that talks to the user's store; operations run in order."""

    opened = Signal()
    openFailed = Signal(str)

    def __init__(self, factory: DbFactory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._factory = factory
        self._queue: queue.Queue[Operation | None] = queue.Queue()
        # Set once the store is open (and migrated): pool jobs that open their own
        # connection wait for it so two threads never race through the migrations.
        self.ready = threading.Event()
        self.setObjectName("conceptcoach-db")

    def submit(self, op: Operation) -> Operation:
        self._queue.put(op)
        return op

    def stop(self) -> None:
        self._queue.put(None)

    def run(self) -> None:
        try:
            db = self._factory()
        except Exception as exc:  # noqa: BLE001
            self.ready.set()
            self.openFailed.emit(f"could not open the store: {exc}")
            # Drain so callers learn why instead of waiting forever.
            while (op := self._queue.get()) is not None:
                op.error = f"the store could not be opened: {exc}"
                op.failed.emit(op.error, "")
                op.finished.emit()
            return
        self.ready.set()
        self.opened.emit()
        try:
            while (op := self._queue.get()) is not None:
                op.execute(db)
        finally:
            conn = getattr(db, "conn", None)
            if conn is not None:
                conn.close()


class _Runnable(QRunnable):
    def __init__(self, op: Operation, factory: DbFactory | None, ready: threading.Event) -> None:
        super().__init__()
        self.op = op
        self.factory = factory
        self.ready = ready
        self.setAutoDelete(True)

    def run(self) -> None:
        db = None
        if self.factory is not None:
            self.ready.wait()
            try:
                db = self.factory()
            except Exception as exc:  # noqa: BLE001
                self.op.error = f"could not open the store: {exc}"
                self.op.failed.emit(self.op.error, traceback.format_exc())
                self.op.finished.emit()
                return
        try:
            self.op.execute(db)
        finally:
            conn = getattr(db, "conn", None)
            if conn is not None:
                conn.close()


class Workers(QObject):
    """The application's background machinery: ``db(...)`` for store work, ``cpu(...)``
    for heavy work, ``process(...)`` for work in a child process. Each returns the
    Operation (connect to it, or cancel it); ``changes=`` says what a successful one
    wrote, announced by ``changed``."""

    changed = Signal(object)  # Changes, once per successful operation that wrote something

    def __init__(self, factory: DbFactory, parent: QObject | None = None, cpu_threads: int = 4) -> None:
        super().__init__(parent)
        self.factory = factory
        self.db_thread = DbWorker(factory, self)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max(1, cpu_threads))
        # Process relays mostly wait on a queue, so they get threads of their own beyond cpu_threads.
        self._live: set[Operation] = set()
        self.db_thread.start()

    def _track(self, op: Operation) -> Operation:
        # The GUI keeps a reference until the operation finished, so the QObject (which
        # receives the worker's signals) cannot be collected while work is in flight.
        self._live.add(op)
        op.finished.connect(lambda: self._live.discard(op))
        return op

    def _announce(self, op: Operation, changes: Changes | None) -> None:
        if changes:
            # Connected after the operation's own on_success, so the initiator has shown its
            # result before the screens redraw.
            op.succeeded.connect(lambda _result: self.changed.emit(changes))

    def notify(self, changes: Changes) -> None:
        """Announce a change made outside an operation (settings saved, store opened)."""
        if changes:
            self.changed.emit(changes)

    def db(self, fn: Callable[[Context], Any], *, changes: Changes | None = None, **kwargs: Any) -> Operation:
        op = self._track(Operation(fn, **kwargs))
        self._announce(op, changes)
        return self.db_thread.submit(op)

    def cpu(self, fn: Callable[[Context], Any], *, needs_db: bool = False, changes: Changes | None = None,
            **kwargs: Any) -> Operation:
        op = self._track(Operation(fn, **kwargs))
        self._announce(op, changes)
        self.pool.start(_Runnable(op, self.factory if needs_db else None, self.db_thread.ready))
        return op

    def process(self, target: str, kwargs: dict[str, Any] | None = None, **op_kwargs: Any) -> Operation:
        """Run ``module:function`` (see :mod:`conceptcoach.desktop.jobs`) in a spawned child
        process; a pool thread relays its progress and result. Cancel stops the child
        cooperatively, then terminates it if it does not stop within five seconds."""
        target_kwargs = dict(kwargs or {})

        def relay(ctx: Context) -> Any:
            import multiprocessing as mp

            from conceptcoach.desktop.jobs import child_main

            mpc = mp.get_context("spawn")
            out = mpc.Queue()
            stop = mpc.Event()
            # Not a daemon: discovery starts its own worker pool, and a daemonic process may
            # not have children. The relay below always joins or kills the child.
            proc = mpc.Process(target=child_main, args=(target, target_kwargs, out, stop), daemon=False)
            proc.start()
            asked_at: float | None = None
            try:
                while True:
                    if ctx.should_stop() and asked_at is None:
                        stop.set()
                        asked_at = time.monotonic()
                    if asked_at is not None and time.monotonic() - asked_at > 5.0:
                        proc.terminate()
                        raise _ProcessCancelled()
                    try:
                        msg = out.get(timeout=0.1)
                    except queue.Empty:
                        if not proc.is_alive() and out.empty():
                            if asked_at is not None:
                                raise _ProcessCancelled() from None
                            raise RuntimeError(f"the background process for {target} ended without a result "
                                               f"(exit code {proc.exitcode}); see the log") from None
                        continue
                    kind = msg[0]
                    if kind == "progress":
                        ctx.progress(*msg[1:])
                    elif kind == "result":
                        return msg[1]
                    elif kind == "cancelled":
                        raise _ProcessCancelled()
                    elif kind == "error":
                        raise RuntimeError(msg[1])
            finally:
                proc.join(timeout=5)
                if proc.is_alive():
                    proc.kill()

        op_kwargs.setdefault("name", target)
        return self.cpu(relay, **op_kwargs)

    def busy(self) -> bool:
        return bool(self._live)

    def cancel_all(self) -> None:
        for op in list(self._live):
            op.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel what runs, let the DB thread finish its queue and close the store."""
        self.cancel_all()
        self.db_thread.stop()
        self.db_thread.wait(timeout_ms)
        self.pool.waitForDone(timeout_ms)


def _runqueue_wait_ns() -> int | None:
    """Nanoseconds the calling thread has spent runnable but waiting for a CPU (Linux
    schedstat); None where the kernel does not say."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as fh:
            return int(fh.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None


class StallMonitor(QObject):
    """A heartbeat on the GUI thread: any gap between beats longer than ``limit_ms``
    beyond the beat interval is recorded as a stall (gap in ms, perf_counter time).

    Time the GUI thread spent runnable but waiting for a CPU (the machine busy with other
    programs: on a shared two-core test machine this alone reaches 150 ms) is not the
    application's doing and is subtracted, where Linux reports it. Everything else counts:
    the GUI thread computing, sleeping, waiting for a lock, or waiting for the interpreter
    lock held by one of our threads. Raw gaps are kept in ``gaps``.

    For each raw gap over the limit the GUI thread's own CPU time across it is kept too
    (``cpu_gaps``: raw ms, GUI-thread CPU ms, when; ``time.thread_time``): :meth:`busy`
    lists the gaps in which the GUI thread itself computed longer than a limit, as opposed
    to waiting (for a descheduled worker holding the interpreter lock, or for a CPU)."""

    def __init__(self, interval_ms: int = 20, limit_ms: float = 100.0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.limit_ms = limit_ms
        self.stalls: list[tuple[float, float]] = []
        self.gaps: list[tuple[float, float, float]] = []  # (raw gap ms, runqueue wait ms, when)
        self.cpu_gaps: list[tuple[float, float, float]] = []  # (raw gap ms, GUI-thread CPU ms, when)
        self._last_cpu = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)
        self._last = 0.0
        self._last_wait: int | None = None
        self.max_gap_ms = 0.0
        self.beats = 0

    def start(self) -> None:
        self._last = time.perf_counter()
        self._last_wait = _runqueue_wait_ns()
        self._last_cpu = time.thread_time()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _beat(self) -> None:
        now = time.perf_counter()
        wait = _runqueue_wait_ns()
        cpu = time.thread_time()
        cpu_ms, self._last_cpu = (cpu - self._last_cpu) * 1000.0, cpu
        raw = (now - self._last) * 1000.0 - self.interval_ms
        starved = (wait - self._last_wait) / 1e6 if wait is not None and self._last_wait is not None else 0.0
        self._last, self._last_wait = now, wait
        gap = raw - starved
        self.beats += 1
        self.max_gap_ms = max(self.max_gap_ms, gap)
        if raw > self.limit_ms:
            self.gaps.append((raw, starved, now))
            self.cpu_gaps.append((raw, cpu_ms, now))
        if gap > self.limit_ms:
            self.stalls.append((gap, now))

    def busy(self, limit_ms: float | None = None) -> list[tuple[float, float, float]]:
        """The gaps over ``limit_ms`` (default: the monitor's limit) in which the GUI thread
        itself was on a CPU for longer than ``limit_ms``: (raw ms, CPU ms, when)."""
        limit = self.limit_ms if limit_ms is None else limit_ms
        return [g for g in self.cpu_gaps if g[0] > limit and g[1] > limit]
