"""Labelled positions in memory: shards merged, deduplicated, split, and turned into batches.

The policy target is made here from the stored multi-PV scores,
``softmax((score - best) / policy_temperature_cp)`` over the multi-PV moves, so the
temperature is a parameter of the fit (recorded with every checkpoint), not of the
expensive generation. The value target is the engine's expected score from the side
to move, ``(wins - losses) / 1000``.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from conceptcoach.engine.encoding import NUM_MOVES
from conceptcoach.training.generate import list_shards, unpack_planes


@dataclass
class LabelledPositions:
    """Column arrays of labelled positions (ragged legal-move lists via offsets)."""

    fen: npt.NDArray[np.str_]
    planes: npt.NDArray[np.uint8]
    halfmove: npt.NDArray[np.uint8]
    legal: npt.NDArray[np.int16]
    legal_offsets: npt.NDArray[np.int64]
    pv_moves: npt.NDArray[np.int16]
    pv_scores: npt.NDArray[np.int16]
    wdl: npt.NDArray[np.int16]
    ply: npt.NDArray[np.int16]
    phase: npt.NDArray[np.int8]

    def __len__(self) -> int:
        return len(self.fen)

    def subset(self, rows: npt.NDArray[np.int64]) -> LabelledPositions:
        starts, ends = self.legal_offsets[rows], self.legal_offsets[rows + 1]
        lengths = ends - starts
        gather = _ranges(starts, lengths)
        return LabelledPositions(
            fen=self.fen[rows], planes=self.planes[rows], halfmove=self.halfmove[rows],
            legal=self.legal[gather],
            legal_offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            pv_moves=self.pv_moves[rows], pv_scores=self.pv_scores[rows], wdl=self.wdl[rows],
            ply=self.ply[rows], phase=self.phase[rows],
        )

    def best_moves(self) -> npt.NDArray[np.int64]:
        """The label's best move (highest multi-PV score) for each position."""
        scores = np.where(self.pv_moves >= 0, self.pv_scores.astype(np.int64), -(10**9))
        return self.pv_moves[np.arange(len(self)), scores.argmax(axis=1)].astype(np.int64)


def _ranges(starts: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Concatenation of ``arange(s, s + n)`` for each (s, n), without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shifts = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return shifts + np.arange(total, dtype=np.int64)


def _key(fen: str) -> str:
    return " ".join(fen.split(" ")[:4])


def load_positions(
    data_dir: str | os.PathLike[str], limit_shards: int | None = None, shards: Sequence[Path] | None = None
) -> tuple[LabelledPositions, dict[str, Any]]:
    """All shards of ``data_dir`` merged; a position seen by several workers is kept once.

    Returns the positions and a summary (shard count, duplicates dropped, phase counts).
    """
    paths = list(shards) if shards is not None else list(list_shards(data_dir))
    if limit_shards is not None:
        paths = paths[:limit_shards]
    if not paths:
        raise FileNotFoundError(f"{data_dir}: no shards (w*-s*.npz); run 'conceptcoach train generate' first")
    parts: dict[str, list[Any]] = {k: [] for k in LabelledPositions.__dataclass_fields__}
    offset = 0
    for path in paths:
        with np.load(path) as data:
            for name in parts:
                parts[name].append(data[name])
            # Each shard's offsets start at 0: shift them past the legal moves before them.
            parts["legal_offsets"][-1] = parts["legal_offsets"][-1][:-1] + offset
            offset += int(data["legal_offsets"][-1])
    merged = {k: np.concatenate(v) for k, v in parts.items()}
    merged["legal_offsets"] = np.concatenate([merged["legal_offsets"], [offset]]).astype(np.int64)
    allpos = LabelledPositions(**merged)
    keys = [_key(f) for f in allpos.fen]
    _, first = np.unique(np.array(keys), return_index=True)
    keep = np.sort(first).astype(np.int64)
    result = allpos.subset(keep) if len(keep) < len(allpos) else allpos
    summary = {
        "shards": len(paths),
        # A shard of ``data_dir`` by its file name; one of another folder (a fit on several,
        # e.g. the teacher's own games beside Stockfish's) by its whole path.
        "shard_names": [Path(x).name if Path(x).parent == Path(data_dir) else str(x) for x in paths],
        "positions_in_shards": len(allpos),
        "duplicates_dropped": len(allpos) - len(keep),
        "positions": len(result),
        "phases": dict(zip(("opening", "middlegame", "endgame"),
                           np.bincount(result.phase.astype(np.int64), minlength=3).tolist(), strict=True)),
    }
    return result, summary


def split_validation(
    data: LabelledPositions, permille: int = 20
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(train rows, validation rows): a position's split depends only on its FEN (crc32),
    so it stays in the same split when more data is generated."""
    bucket = np.fromiter((zlib.crc32(_key(f).encode()) % 1000 for f in data.fen), dtype=np.int64, count=len(data))
    val = bucket < permille
    return np.flatnonzero(~val), np.flatnonzero(val)


@dataclass
class Batch:
    planes: torch.Tensor  # (B, 21, 8, 8)
    legal: torch.Tensor  # (B, 4672) bool
    policy: torch.Tensor  # (B, 4672) target probabilities
    value: torch.Tensor  # (B,)
    best: torch.Tensor  # (B,) label's best move index


def mate_spread(scores: npt.NDArray[np.float64], mate_cp: int = 3000, clip_cp: int = 2500) -> npt.NDArray[np.float64]:
    """Stored mate scores (``mate_cp - n``) differ by 1 per move of mate distance, which a
    50 cp temperature cannot see; spread them 100 cp per move, above every non-mate score,
    so that the policy target prefers the shortest mate."""
    mag = np.abs(scores)
    n = mate_cp - mag
    spread = np.sign(scores) * (clip_cp + 100.0 * (mate_cp - clip_cp - n))
    return np.where(mag > clip_cp, spread, scores)


def make_batch(data: LabelledPositions, rows: npt.NDArray[np.int64], policy_temperature_cp: float) -> Batch:
    """Dense tensors for ``rows``."""
    b = len(rows)
    planes = unpack_planes(data.planes[rows], data.halfmove[rows])
    starts = data.legal_offsets[rows]
    lengths = data.legal_offsets[rows + 1] - starts
    legal = np.zeros((b, NUM_MOVES), dtype=bool)
    legal[np.repeat(np.arange(b), lengths), data.legal[_ranges(starts, lengths)].astype(np.int64)] = True
    moves = data.pv_moves[rows].astype(np.int64)
    present = moves >= 0
    scores = mate_spread(data.pv_scores[rows].astype(np.float64))
    scores = np.where(present, scores, -np.inf)
    logits = (scores - scores.max(axis=1, keepdims=True)) / policy_temperature_cp
    probs = np.where(present, np.exp(logits), 0.0)
    probs /= probs.sum(axis=1, keepdims=True)
    policy = np.zeros((b, NUM_MOVES), dtype=np.float32)
    r, c = np.nonzero(present)
    policy[r, moves[r, c]] = probs[r, c]
    best = moves[np.arange(b), np.where(present, scores, -np.inf).argmax(axis=1)]
    wdl = data.wdl[rows].astype(np.float32)
    value = (wdl[:, 0] - wdl[:, 2]) / 1000.0
    return Batch(
        planes=torch.from_numpy(planes), legal=torch.from_numpy(legal), policy=torch.from_numpy(policy),
        value=torch.from_numpy(value.astype(np.float32)), best=torch.from_numpy(best),
    )
