"""Where on the board a concept lives: per-square contributions to its score.

A concept's score on a position is v . z_l(x) with z_l laid out as channels x 8 x 8
in the side-to-move frame. Summing v * z over channels gives one number per cell,
its share of the score; mapped back to board squares (a1 = 0 .. h8 = 63) and scaled
to [-1, 1], that is the heat the learning view paints on the squares.

Both families lay their planes out the same way (row = rank, column = file, flipped
top to bottom when Black is to move), so one mapping serves ours and lc0's; positions
are encoded by the evaluator of the network the concept came from.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import chess
import numpy as np
import numpy.typing as npt
from conceptcoach.engine.encoding import square_to_plane_cell
from conceptcoach.engine.network import Evaluator


def square_heat(vector: npt.NDArray[np.float32], activation: npt.NDArray[np.float32], white_to_move: bool) -> list[float]:
    """64 values, indexed by chess square, of the concept's per-square contribution,
    scaled so that the largest magnitude is 1 (all zeros when the score is zero)."""
    channels = vector.size // 64
    cells = (vector.reshape(channels, 8, 8) * activation.reshape(channels, 8, 8)).sum(axis=0)
    heat = np.zeros(64, dtype=np.float64)
    for square in chess.SQUARES:
        row, col = square_to_plane_cell(square, white_to_move)
        heat[square] = cells[row, col]
    peak = float(np.abs(heat).max())
    if peak > 0:
        heat /= peak
    return [round(float(h), 4) for h in heat]


def prototype_heats(
    evaluator: Evaluator, vector: npt.NDArray[np.float32], layer: str, fens: Sequence[str]
) -> list[list[float]]:
    """The heat of a concept on each position in ``fens``."""
    if not fens:
        return []
    boards = [chess.Board(f) for f in fens]
    acts = evaluator.activations(evaluator.encode_batch(boards), [layer])[layer]
    return [square_heat(vector, acts[i], b.turn == chess.WHITE) for i, b in enumerate(boards)]


def add_heat_to_library(lib_dir: Path, evaluator: Evaluator) -> int:
    """Fill in the ``heat`` of every prototype in a library folder written by
    :func:`conceptcoach.concepts.library.write_library`; returns the prototypes updated."""
    path = lib_dir / "library.json"
    data: dict[str, Any] = json.loads(path.read_text())
    vectors = np.load(lib_dir / "vectors.npy", allow_pickle=False)
    updated = 0
    for concept in data["concepts"]:
        protos = concept.get("prototypes", [])
        vector = np.asarray(vectors[int(concept["vector_row"])], dtype=np.float32)
        heats = prototype_heats(evaluator, vector, concept["layer"], [p["fen"] for p in protos])
        for proto, heat in zip(protos, heats, strict=True):
            proto["heat"] = heat
            updated += 1
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return updated
