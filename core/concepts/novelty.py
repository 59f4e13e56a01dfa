"""Novelty (METHOD.md section 5): is a concept better explained by machine games
than by human games?

Orthonormal bases come from the SVD of the activations (one layer) of as many
human positions (Z_h) as machine positions (Z_a), sorted by singular value. For
each basis size k in a grid, L(k) = ||v - V_k V_k' v||^2 is what the first k basis
vectors leave unexplained of the (unit) concept vector. The concept is novel when
L_h(k) - L_a(k) > 0 for every k: human games explain it worse at every size.

Bases are cached in the store per (network sha256, layer, corpus, number of
positions) and reused by later runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlite_utils

Basis = tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]  # (singular values (r,), rows (r, d))


def svd_basis(acts: npt.NDArray[np.floating[Any]]) -> Basis:
    """Right singular vectors (rows, orthonormal) of the activation matrix, sorted by
    singular value; numerically null directions are dropped."""
    A = np.asarray(acts, np.float64)
    _, s, vt = np.linalg.svd(A, full_matrices=False)
    keep = s > s[0] * 1e-6 if s.size else np.zeros(0, bool)
    return s[keep].astype(np.float32), vt[keep].astype(np.float32)


def cached_basis(
    db: sqlite_utils.Database,
    network_sha256: str,
    layer: str,
    corpus: str,
    n_positions: int,
    activations: Callable[[], npt.NDArray[np.float32]],
) -> Basis:
    """The basis from the store, or computed from ``activations()`` and stored."""
    rows = list(db.query(
        "SELECT singular_values, basis FROM bases WHERE network_sha256 = ? AND layer = ? AND corpus = ?"
        " AND n_positions = ?", [network_sha256, layer, corpus, n_positions]))
    if rows:
        s = np.frombuffer(rows[0]["singular_values"], dtype="<f4").astype(np.float32)
        basis = np.frombuffer(rows[0]["basis"], dtype="<f4").astype(np.float32).reshape(len(s), -1)
        return s, basis
    s, basis = svd_basis(activations())
    db.execute(
        "INSERT OR REPLACE INTO bases (network_sha256, layer, corpus, n_positions, singular_values, basis)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [network_sha256, layer, corpus, n_positions, s.astype("<f4").tobytes(), basis.astype("<f4").tobytes()],
    )
    return s, basis


def k_grid(rank: int) -> list[int]:
    """1, 2, 4, ... up to the rank, and the rank itself."""
    grid: list[int] = []
    k = 1
    while k < rank:
        grid.append(k)
        k *= 2
    if rank > 0:
        grid.append(rank)
    return grid


def residuals(vector: npt.NDArray[np.floating[Any]], basis: npt.NDArray[np.float32], grid: list[int]) -> list[float]:
    """L(k) = ||v - V_k V_k' v||^2 for the unit vector v and each k in ``grid``."""
    v = np.asarray(vector, np.float64)
    v = v / (np.linalg.norm(v) or 1.0)
    coeff = basis.astype(np.float64) @ v
    explained = np.cumsum(coeff**2)
    return [float(max(0.0, 1.0 - explained[min(k, len(explained)) - 1])) for k in grid]


def novelty_curve(
    vector: npt.NDArray[np.floating[Any]], human: npt.NDArray[np.float32], machine: npt.NDArray[np.float32],
) -> dict[str, Any]:
    """The curve and the verdict: {'k': [...], 'human': [...], 'machine': [...], 'novel': bool}."""
    grid = k_grid(min(len(human), len(machine)))
    lh = residuals(vector, human, grid)
    la = residuals(vector, machine, grid)
    diffs = [h - a for h, a in zip(lh, la, strict=True)]
    return {"k": grid, "human": lh, "machine": la, "novel": bool(diffs) and all(x > 0 for x in diffs),
            "min_difference": min(diffs) if diffs else 0.0}
