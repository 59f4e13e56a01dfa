"""The background-work pattern: results, failures, progress and cancel reach the GUI thread;
the store connection lives in the DB thread; the stall monitor notices a blocked GUI."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui


@pytest.fixture
def workers(qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.workers import Workers
    from conceptcoach.store.db import open_store

    w = Workers(lambda: open_store(tmp_path / "store.sqlite"))
    yield w
    w.shutdown()


def test_db_operation_runs_off_the_gui_thread(workers, qtbot) -> None:  # type: ignore[no-untyped-def]
    gui = threading.get_ident()
    seen: list[object] = []

    def work(ctx):  # type: ignore[no-untyped-def]
        return threading.get_ident(), [r["n"] for r in ctx.db.query("select 41 + 1 as n")]

    op = workers.db(work, on_success=seen.append)
    with qtbot.waitSignal(op.finished, timeout=5000):
        pass
    (ident, rows), = seen
    assert ident != gui and rows == [42]
    # Operations run in submission order on the same connection/thread.
    order: list[int] = []
    ops = [workers.db(lambda ctx, i=i: i, on_success=order.append) for i in range(5)]
    qtbot.waitUntil(lambda: all(o.done for o in ops), timeout=5000)
    assert order == [0, 1, 2, 3, 4]


def test_failure_and_progress_are_delivered(workers, qtbot) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    progress: list[tuple[int, int, str]] = []

    def bad(ctx):  # type: ignore[no-untyped-def]
        for i in range(3):
            ctx.progress(i + 1, 3, f"step {i + 1}")
        raise ValueError("game 7 in broken.pgn: illegal move")

    op = workers.cpu(bad, on_failure=errors.append, on_progress=lambda *a: progress.append(a))
    qtbot.waitUntil(lambda: op.done, timeout=5000)
    assert errors == ["game 7 in broken.pgn: illegal move"]
    assert progress == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]


def test_cancel_stops_a_long_job(workers, qtbot) -> None:  # type: ignore[no-untyped-def]
    started = threading.Event()

    def long(ctx):  # type: ignore[no-untyped-def]
        started.set()
        for i in range(1000):
            if ctx.should_stop():
                return i
            time.sleep(0.01)
        return 1000

    op = workers.cpu(long, needs_db=True)
    assert started.wait(5), op.error
    op.cancel()
    qtbot.waitUntil(lambda: op.done, timeout=5000)
    assert op.cancelled and op.result < 1000


def test_stall_monitor_sees_a_blocked_gui(qtbot) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.workers import StallMonitor

    mon = StallMonitor()
    mon.start()
    qtbot.wait(100)
    assert mon.stalls == [] or mon.max_gap_ms < 1000
    before = len(mon.stalls)
    time.sleep(0.25)  # deliberately block the GUI thread
    qtbot.wait(60)
    mon.stop()
    assert len(mon.stalls) > before and mon.stalls[-1][0] > 100
    # Asleep, the GUI thread was blocked but not busy: no CPU time of its own in the gap.
    assert mon.busy(100) == [] and mon.cpu_gaps and mon.cpu_gaps[-1][1] < 100


def test_stall_monitor_tells_a_busy_gui_thread_from_a_waiting_one(qtbot) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.workers import StallMonitor

    mon = StallMonitor(limit_ms=150)
    mon.start()
    qtbot.wait(60)
    end = time.thread_time() + 0.3
    while time.thread_time() < end:  # the GUI thread computes for 300 ms of its own CPU time
        pass
    qtbot.wait(60)
    mon.stop()
    (raw, cpu, _when), = mon.busy()
    # Wall and thread-CPU clocks tick differently: a few ms either way is the same 300 ms.
    assert cpu > 250 and raw > cpu - 20


def test_process_job_progress_result_and_cancel(workers, qtbot) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.workers import StallMonitor

    mon = StallMonitor()
    mon.start()
    seen: list[tuple[int, int, str]] = []
    op = workers.process("conceptcoach.desktop.jobs:sleeper", {"seconds": 0.3},
                         on_progress=lambda *a: seen.append(a))
    qtbot.waitUntil(lambda: op.done, timeout=30000)
    assert op.error is None and op.result == 6 and seen[-1] == (6, 6, "sleeping")
    op = workers.process("conceptcoach.desktop.jobs:sleeper", {"seconds": 60})
    qtbot.wait(1500)
    assert not op.done
    op.cancel()
    qtbot.waitUntil(lambda: op.done, timeout=10000)
    assert op.cancelled and op.error is None
    bad = workers.process("conceptcoach.desktop.jobs:import_games", {"db_path": "/nonexistent/dir/x.sqlite", "files": []})
    qtbot.waitUntil(lambda: bad.done, timeout=30000)
    assert bad.error
    mon.stop()
    assert mon.stalls == [], f"GUI blocked: {mon.stalls}"


def test_an_operation_announces_what_it_changed_once(workers, qtbot) -> None:  # type: ignore[no-untyped-def]
    """``changes=`` on an operation: ``Workers.changed`` is emitted once after it succeeded
    (after its own on_success), never when it failed; the value combines and prints."""
    from conceptcoach.desktop.changes import Changes

    events: list[object] = []
    workers.changed.connect(lambda c: events.append(("changed", c)))
    op = workers.db(lambda ctx: 1, on_success=lambda r: events.append(("success", r)), changes=Changes(players=True))
    qtbot.waitUntil(lambda: op.done, timeout=5000)
    qtbot.wait(50)
    assert events == [("success", 1), ("changed", Changes(players=True))]

    def broken(ctx):  # type: ignore[no-untyped-def]
        raise RuntimeError("no")

    bad = workers.db(broken, changes=Changes(sessions=True))
    quiet = workers.db(lambda ctx: None)  # writes nothing, says nothing
    qtbot.waitUntil(lambda: bad.done and quiet.done, timeout=5000)
    qtbot.wait(50)
    assert len(events) == 2
    both = Changes(players=True) | Changes(concepts=True)
    assert both == Changes(players=True, concepts=True) and str(both) == "players, concepts"
    assert not Changes() and Changes.everything().settings and str(Changes()) == "nothing"
    workers.notify(Changes(settings=True))
    assert events[-1] == ("changed", Changes(settings=True))


def test_natural_sort_and_plurals() -> None:
    from conceptcoach.desktop.screens.widgets import natural_key, plural

    names = ["Plan 38...Rxf2", "Plan 9...Bxh3", "plan 100", "Plan 9...a5", "Outpost 2"]
    assert sorted(names, key=natural_key) == ["Outpost 2", "Plan 9...a5", "Plan 9...Bxh3", "Plan 38...Rxf2",
                                              "plan 100"]
    assert (plural(1, "game"), plural(2, "game"), plural(0, "match", "matches")) == ("1 game", "2 games", "0 matches")
