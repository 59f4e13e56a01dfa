"""Work that runs in a child process: anything that imports torch or parses many games.

Importing torch (or running long pure-Python loops) in a thread of the GUI process holds
the interpreter lock long enough to freeze the window (measured: 490 ms while torch
initialises), so the GUI hands such work to a spawned process through
``Workers.process(...)``. This module must stay free of Qt: the child imports it.
Each job takes ``progress(done, total, message)`` and ``should_stop()`` and returns
plain picklable data.
"""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

Progress = Callable[[int, int, str], None]
Stop = Callable[[], bool]


CORE_MODULES = (
    "conceptcoach.store.players", "conceptcoach.store.sessions", "conceptcoach.store.attempts",
    "conceptcoach.store.concepts", "conceptcoach.store.notes", "conceptcoach.study.plan",
    "conceptcoach.study.runner", "conceptcoach.study.stats", "conceptcoach.io.exports",
)


def preload_core() -> list[str]:
    """Import the study core (numpy, scipy, sqlite-utils). The first import of an extension
    module holds the interpreter lock for up to half a second, so the app does this once
    on the DB thread at start-up, before the user acts, not in the middle of a session."""
    loaded = []
    for name in CORE_MODULES:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except ImportError:
            continue  # an optional part that is not installed: its screen reports it
    return loaded


def child_main(target: str, kwargs: dict[str, Any], out: Any, stop: Any) -> None:
    """Entry point of the child process: run ``module:function`` and report through ``out``."""
    try:
        module, name = target.split(":")
        fn = getattr(importlib.import_module(module), name)

        def progress(done: int, total: int, message: str = "") -> None:
            out.put(("progress", int(done), int(total), str(message)))

        result = fn(progress=progress, should_stop=stop.is_set, **kwargs)
        out.put(("result", result))
    except Exception as exc:  # noqa: BLE001 - the parent shows every failure
        if type(exc).__name__ == "Cancelled":
            out.put(("cancelled",))
        else:
            out.put(("error", str(exc) or type(exc).__name__, traceback.format_exc()))


def prepare_store(data_dir: str | None, progress: Progress, should_stop: Stop) -> dict[str, Any]:
    """First run (or new bundled files): register the bundled networks and load the
    default concept library, the way ``conceptcoach`` does from the command line."""
    from conceptcoach.bootstrap import open_user_store
    from conceptcoach.store.concepts import library_counts

    progress(0, 1, "registering the bundled networks and the concept library")
    db, path = open_user_store(data_dir)
    try:
        counts = library_counts(db)
    finally:
        db.conn.close()
    progress(1, 1, "ready")
    return {"path": str(path), "concepts": counts}


def import_games(db_path: str, files: list[str], progress: Progress, should_stop: Stop) -> list[dict[str, Any]]:
    """Import PGN files; one summary per file with the games skipped and why (``problems``)
    and what the lenient reader repaired in the file's layout (``repairs``), each as
    (file, game number, line, reason); no game is lost to a repair."""
    from conceptcoach.io.pgn_import import import_pgn
    from conceptcoach.store.db import open_store

    db = open_store(db_path)
    out = []
    try:
        for k, f in enumerate(files):
            name = Path(f).name

            def per_file(done: int, total: int, message: str, k: int = k, name: str = name) -> None:
                # The core says "import: <file>: 120 games"; the file is named once, here.
                detail = message.removeprefix("import:").strip().removeprefix(f"{name}:").strip()
                progress(done, total, f"Importing {name} ({k + 1} of {len(files)}): {detail}")

            try:
                report = import_pgn(db, f, progress=per_file, should_stop=should_stop)
            except FileNotFoundError as exc:
                out.append({"file": f, "error": f"{f}: file not found ({exc})", "problems": [], "repairs": []})
                continue
            summary = report.summary()
            summary["problems"] = [(p.file, p.game_number, p.line, p.reason) for p in report.problems]
            summary["repairs"] = [(p.file, p.game_number, p.line, p.reason) for p in report.repairs]
            out.append(summary)
    finally:
        db.conn.close()
    return out


def discover(db_path: str, files: list[str], overrides: dict[str, Any], progress: Progress,
             should_stop: Stop) -> dict[str, Any]:
    """Run (or resume) concept discovery on the store, importing ``files`` first."""
    from conceptcoach.concepts.run import DiscoveryConfig, run_discovery
    from conceptcoach.store.db import open_store

    config = DiscoveryConfig(human_pgn=tuple(files), **overrides)
    db = open_store(db_path)
    try:
        run_id, funnel = run_discovery(db, db_path, config, progress=progress, should_stop=should_stop)
    finally:
        db.conn.close()
    return {"run_id": run_id, "funnel": funnel.lines(), "written": funnel.written}


def sleeper(seconds: float, progress: Progress, should_stop: Stop) -> int:
    """A job for tests of the process machinery: counts up, stops when asked."""
    import time

    steps = int(seconds * 20)
    for i in range(steps):
        if should_stop():
            from conceptcoach.progress import Cancelled

            raise Cancelled("stopped")
        progress(i + 1, steps, "sleeping")
        time.sleep(0.05)
    return steps
