"""Cached SVD bases of a network's activations on a corpus (novelty reuses them)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import sqlite_utils

Basis = tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]


def get_basis(db: sqlite_utils.Database, network_sha256: str, layer: str, corpus: str,
              n_positions: int) -> Basis | None:
    """(singular values, basis rows) stored for this key, or None."""
    rows = list(db.query(
        "SELECT singular_values, basis FROM bases WHERE network_sha256 = ? AND layer = ? AND corpus = ?"
        " AND n_positions = ?", [network_sha256, layer, corpus, n_positions]))
    if not rows:
        return None
    s = np.frombuffer(rows[0]["singular_values"], dtype="<f4").astype(np.float32)
    basis = np.frombuffer(rows[0]["basis"], dtype="<f4").astype(np.float32).reshape(len(s), -1)
    return s, basis


def put_basis(db: sqlite_utils.Database, network_sha256: str, layer: str, corpus: str, n_positions: int,
              basis: Basis) -> None:
    s, rows = basis
    db.execute(
        "INSERT OR REPLACE INTO bases (network_sha256, layer, corpus, n_positions, singular_values, basis)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [network_sha256, layer, corpus, n_positions, s.astype("<f4").tobytes(), rows.astype("<f4").tobytes()],
    )
