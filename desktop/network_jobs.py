"""Child-process job for the Settings screen: register a network file the user chose,
of either family: one of our checkpoints (.safetensors with its .json) or an lc0
network (.pb.gz, e.g. a Maia network, which becomes a human model of its rating).
Reading a network loads torch, so it never runs in the GUI process.

Qt-free: ``Workers.process`` runs ``conceptcoach.desktop.network_jobs:register_file``
through ``conceptcoach.desktop.jobs.child_main``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def register_file(db_path: str, path: str, role: str, progress: Callable[[int, int, str], None],
                  should_stop: Callable[[], bool]) -> dict[str, Any]:
    """Register the network file ``path`` with ``role`` ('' keeps the checkpoint's own
    role; for an lc0 file, human for Maia and other otherwise). Returns its name, role,
    family, sha256 and the rating a Maia network models (or None)."""
    from conceptcoach.engine.checkpoint import CheckpointError
    from conceptcoach.engine.networks import register_file as register_network_file
    from conceptcoach.store.db import open_store

    progress(0, 1, f"checking {path}")
    db = open_store(db_path)
    try:
        record = register_network_file(db, path, role=role or None)
    except (CheckpointError, OSError, ValueError) as exc:
        # One line for the window; the checkpoint module's messages say which file and why.
        raise ValueError(f"{path} is not a usable network (a Concept Coach checkpoint or an lc0 .pb.gz): "
                         f"{exc}") from exc
    finally:
        db.conn.close()
    progress(1, 1, "registered")
    return {"name": record.name, "role": record.role, "family": record.family.value, "sha256": record.sha256,
            "rating": record.metadata.get("rating")}
