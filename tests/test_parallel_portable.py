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


_ORPHAN_SCRIPT = """
import multiprocessing as mp, os, sys, time
from pathlib import Path

def child(flag):
    from conceptcoach.parallel import orphaned
    Path(flag + ".started").write_text(str(os.getpid()))
    deadline = time.time() + 60
    while not orphaned() and time.time() < deadline:
        time.sleep(0.05)
    Path(flag).write_text("orphaned" if orphaned() else "timeout")

if __name__ == "__main__":
    p = mp.get_context("spawn").Process(target=child, args=(sys.argv[1],))
    p.start()
    time.sleep(120)  # killed by the test long before
"""


def test_a_worker_notices_its_parent_is_gone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Killing a generation or match command without its process group left its spawned
    # workers computing on; they now check orphaned() between pieces of work and stop.
    import subprocess
    import sys
    import time

    from conceptcoach.parallel import orphaned

    assert not orphaned()  # the test process itself has no multiprocessing parent
    script = tmp_path / "parent.py"
    script.write_text(_ORPHAN_SCRIPT)
    flag = tmp_path / "flag"
    parent = subprocess.Popen([sys.executable, str(script), str(flag)])
    try:
        deadline = time.time() + 60
        while not (tmp_path / "flag.started").exists() and time.time() < deadline:
            time.sleep(0.05)
        assert (tmp_path / "flag.started").exists() and not flag.exists()  # the child waits while its parent lives
        parent.kill()
        parent.wait()
        deadline = time.time() + 30
        while not flag.exists() and time.time() < deadline:
            time.sleep(0.05)
        assert flag.read_text() == "orphaned"
    finally:
        parent.kill()
