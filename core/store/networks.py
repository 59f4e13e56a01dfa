"""Registered networks: the rows of the ``networks`` table, as :class:`Network` values.

A network is one value wherever it travels (what it is, where its file is, its
sha256, its family). The store keeps the row and never opens the file: reading a
checkpoint and checking its sha256 is the engine's job (``engine/networks.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import sqlite_utils


class NetworkFamily(StrEnum):
    """The file format and encoding a network comes in."""

    #: Ours: safetensors + JSON sidecar, 21 input planes, 4,672 AlphaZero moves.
    OURS = "ours"
    #: Leela Chess Zero: ``.pb.gz`` protobuf, 112 planes with history, 1,858 moves.
    LC0 = "lc0"


@dataclass(frozen=True)
class Network:
    """A network: its name, file, sha256 and family; ``id`` once it is registered."""

    name: str
    path: str
    sha256: str
    family: NetworkFamily = NetworkFamily.OURS
    role: str | None = None
    architecture: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    bundled: bool = False
    id: int | None = None

    @property
    def step(self) -> int:
        """Training step of our checkpoints (0 when unknown), used to order students."""
        return int(self.metadata.get("step", 0) or 0)

    def describe(self) -> str:
        """A short human-readable form: '6x64 ours' or '6x64 lc0 (SE)'."""
        arch = self.architecture
        size = f"{arch.get('blocks', '?')}x{arch.get('channels', arch.get('filters', '?'))}"
        return f"{size} {self.family.value}"


def _network(row: dict[str, Any]) -> Network:
    return Network(
        id=row["id"], name=row["name"], path=row["path"], sha256=row["sha256"],
        family=NetworkFamily(row.get("family") or NetworkFamily.OURS), role=row["role"],
        architecture=json.loads(row["architecture"]), metadata=json.loads(row["metadata"]),
        bundled=bool(row["bundled"]),
    )


def save_network(db: sqlite_utils.Database, network: Network) -> Network:
    """Insert or refresh the row of ``network`` (by name); returns it with its id."""
    row = {
        "name": network.name,
        "path": network.path,
        "sha256": network.sha256,
        "family": network.family.value,
        "architecture": json.dumps(network.architecture),
        "metadata": json.dumps(network.metadata),
        "role": network.role,
        "bundled": int(network.bundled),
    }
    existing = list(db.query("SELECT id FROM networks WHERE name = ?", [network.name]))
    if existing:
        db.table("networks").update(existing[0]["id"], row)
        return replace(network, id=int(existing[0]["id"]))
    db.table("networks").insert(row)
    return get_network(db, network.name)


def get_network(db: sqlite_utils.Database, name: str) -> Network:
    rows = list(db.query("SELECT * FROM networks WHERE name = ?", [name]))
    if not rows:
        known = ", ".join(r["name"] for r in db.query("SELECT name FROM networks ORDER BY name")) or "none"
        raise KeyError(f"no network named {name!r} in the store (known: {known})")
    return _network(rows[0])


def get_network_by_id(db: sqlite_utils.Database, network_id: int) -> Network:
    rows = list(db.query("SELECT * FROM networks WHERE id = ?", [network_id]))
    if not rows:
        raise KeyError(f"no network with id {network_id}")
    return _network(rows[0])


def list_networks(db: sqlite_utils.Database) -> list[Network]:
    return [_network(r) for r in db.query("SELECT * FROM networks ORDER BY bundled DESC, name")]


def network_by_role(db: sqlite_utils.Database, role: str) -> Network | None:
    rows = list(db.query("SELECT * FROM networks WHERE role = ? ORDER BY bundled DESC, id LIMIT 1", [role]))
    return _network(rows[0]) if rows else None


def known_files(db: sqlite_utils.Database) -> dict[str, str]:
    """Registered file paths and the sha256 stored for each."""
    return {r["path"]: r["sha256"] for r in db.query("SELECT path, sha256 FROM networks")}
