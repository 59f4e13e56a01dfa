"""Registered networks: checkpoints the store knows by name, with their sha256."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils


@dataclass(frozen=True)
class NetworkRecord:
    id: int
    name: str
    path: str
    sha256: str
    role: str | None
    architecture: dict[str, Any]
    metadata: dict[str, Any]
    bundled: bool


def _record(row: dict[str, Any]) -> NetworkRecord:
    return NetworkRecord(
        id=row["id"], name=row["name"], path=row["path"], sha256=row["sha256"], role=row["role"],
        architecture=json.loads(row["architecture"]), metadata=json.loads(row["metadata"]),
        bundled=bool(row["bundled"]),
    )


def register_network(
    db: sqlite_utils.Database, path: str | os.PathLike[str], *, name: str | None = None,
    role: str | None = None, bundled: bool = False,
) -> NetworkRecord:
    """Register (or refresh) a checkpoint. Raises CheckpointError for a bad file."""
    # Imported here: the checkpoint module loads torch, which readers of the registry
    # (the desktop app's DB thread) must not pay for.
    from conceptcoach.engine.checkpoint import (
        CheckpointError,
        CheckpointInfo,
        read_info,
        sha256_file,
    )

    weights = Path(path).resolve()
    info: CheckpointInfo = read_info(weights)
    actual = sha256_file(weights)
    if info.sha256 and info.sha256 != actual:
        raise CheckpointError(f"{weights}: sha256 does not match its metadata; the file was altered or truncated")
    row = {
        "name": name or info.name,
        "path": str(weights),
        "sha256": actual,
        "architecture": json.dumps(info.config.to_dict()),
        "metadata": json.dumps({k: v for k, v in info.to_json().items() if k not in ("architecture",)}),
        "role": role or info.role,
        "bundled": int(bundled),
    }
    existing = list(db.query("SELECT id FROM networks WHERE name = ?", [row["name"]]))
    if existing:
        db.table("networks").update(existing[0]["id"], row)
    else:
        db.table("networks").insert(row)
    return get_network(db, str(row["name"]))


def get_network(db: sqlite_utils.Database, name: str) -> NetworkRecord:
    rows = list(db.query("SELECT * FROM networks WHERE name = ?", [name]))
    if not rows:
        known = ", ".join(r["name"] for r in db.query("SELECT name FROM networks ORDER BY name")) or "none"
        raise KeyError(f"no network named {name!r} in the store (known: {known})")
    return _record(rows[0])


def get_network_by_id(db: sqlite_utils.Database, network_id: int) -> NetworkRecord:
    rows = list(db.query("SELECT * FROM networks WHERE id = ?", [network_id]))
    if not rows:
        raise KeyError(f"no network with id {network_id}")
    return _record(rows[0])


def list_networks(db: sqlite_utils.Database) -> list[NetworkRecord]:
    return [_record(r) for r in db.query("SELECT * FROM networks ORDER BY bundled DESC, name")]


def network_by_role(db: sqlite_utils.Database, role: str) -> NetworkRecord | None:
    rows = list(db.query("SELECT * FROM networks WHERE role = ? ORDER BY bundled DESC, id LIMIT 1", [role]))
    return _record(rows[0]) if rows else None


def register_bundled(db: sqlite_utils.Database, models: Path) -> list[NetworkRecord]:
    """Register every checkpoint in ``models`` (assets/models); unchanged ones are skipped."""
    from conceptcoach.engine.checkpoint import read_info

    out: list[NetworkRecord] = []
    if not models.is_dir():
        return out
    known = {r["path"]: r["sha256"] for r in db.query("SELECT path, sha256 FROM networks")}
    for weights in sorted(models.glob("*.safetensors")):
        info = read_info(weights)
        if known.get(str(weights.resolve())) == info.sha256:
            continue
        out.append(register_network(db, weights, bundled=True))
    return out
