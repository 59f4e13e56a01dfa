"""Rollouts: the chosen line and the subpar branches of one stored search tree, as
constraint pairs for discovery (METHOD.md section 3).

A :class:`Rollout` holds the positions x+_0..x+_T of the chosen line (x+_0 is the
root) and, for each subpar branch leaving at depth j, its positions x-_{t,j}. The
constraint rows are pairs (x+_t, x-_{t,j}) for every depth t > j both lines reach:

* ``players='both'`` keeps every such t;
* ``players='single'`` keeps the t where the root's side is to move again (t even),
  so the concept describes one player's plan;
* ``polarity='prophylactic'`` flips the sign of every row.

A pair whose two positions are the same (a transposition) says nothing and would
make the program infeasible, so it is dropped here and counted in ``dropped``.

Positions are encoded by the teacher's evaluator, whatever its family: an lc0 teacher
reads each board's move stack (the line from the root, and the game before it when
:func:`build_rollout` is given the root board of the game).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import chess
import numpy as np
import numpy.typing as npt
from conceptcoach.engine.network import Evaluator
from conceptcoach.engine.summary import TreeSummary

PLAYERS = ("single", "both")
POLARITIES = ("active", "prophylactic")


@dataclass(frozen=True)
class RolloutParams:
    """Which lines of a tree become constraints; recorded with every concept."""

    depth: int = 10  # T: length of the chosen line
    value_gap: float = 0.20  # a branch is subpar if |Q(best) - Q(alt)| >= value_gap ...
    visit_gap: float = 0.10  # ... or (N(best) - N(alt)) / N(best) >= visit_gap
    max_branch_depth_margin: int = 5  # branches leave at depth j <= T - margin
    max_branches: int = 6

    def to_dict(self) -> dict[str, Any]:
        return {"depth": self.depth, "value_gap": self.value_gap, "visit_gap": self.visit_gap,
                "max_branch_depth_margin": self.max_branch_depth_margin, "max_branches": self.max_branches}


@dataclass
class Rollout:
    """The positions of one tree's chosen line and subpar branches."""

    root_fen: str
    boards: list[chess.Board]  # unique positions: chosen line first, then branch positions
    chosen: list[int]  # index into boards of x+_t, t = 0..len-1
    branches: list[tuple[int, dict[int, int]]] = field(default_factory=list)  # (j, {t: board index})

    def pairs(self, players: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[tuple[int, int]]]:
        """(plus indices, minus indices, (t, j) of each row) for ``players``."""
        if players not in PLAYERS:
            raise ValueError(f"players must be one of {PLAYERS}, got {players!r}")
        plus: list[int] = []
        minus: list[int] = []
        where: list[tuple[int, int]] = []
        fens = [b.fen() for b in self.boards]
        for j, positions in self.branches:
            for t, k in sorted(positions.items()):
                if t <= j or t >= len(self.chosen):
                    continue
                if players == "single" and t % 2:
                    continue
                if fens[self.chosen[t]] == fens[k]:
                    continue
                plus.append(self.chosen[t])
                minus.append(k)
                where.append((t, j))
        return np.asarray(plus, np.int64), np.asarray(minus, np.int64), where


def build_rollout(summary: TreeSummary, params: RolloutParams | None = None,
                  root: chess.Board | None = None) -> Rollout:
    """Replay a stored tree summary's chosen line and qualifying branches. ``root`` is
    the summary's position with the game's moves before it on its stack, for a network
    that reads history (lc0); by default the position is set up from the FEN alone."""
    p = params or RolloutParams()
    if root is not None and root.fen() != summary.fen:
        raise ValueError(f"the root board {root.fen()} is not the summary's position {summary.fen}")
    root = chess.Board(summary.fen) if root is None else root
    boards: list[chess.Board] = [root.copy()]
    chosen = [0]
    board = root.copy()
    for uci in summary.chosen_line[: p.depth]:
        board.push_uci(uci)
        boards.append(board.copy())
        chosen.append(len(boards) - 1)
    branches: list[tuple[int, dict[int, int]]] = []
    for br in summary.branches:
        if len(branches) >= p.max_branches:
            break
        if br.depth > p.depth - p.max_branch_depth_margin:
            continue
        if not (abs(br.value_gap) >= p.value_gap or br.visit_gap >= p.visit_gap):
            continue
        board = root.copy()
        positions: dict[int, int] = {}
        for t, uci in enumerate(br.line[: p.depth], start=1):
            board.push_uci(uci)
            if t > br.depth:
                boards.append(board.copy())
                positions[t] = len(boards) - 1
        if positions:
            branches.append((br.depth, positions))
    return Rollout(summary.fen, boards, chosen, branches)


def rollout_activations(
    evaluator: Evaluator, rollouts: Sequence[Rollout], layers: Sequence[str], batch_size: int = 256
) -> list[dict[str, npt.NDArray[np.float32]]]:
    """Activations of every position of every rollout, per layer (one batched pass),
    the positions encoded by ``evaluator`` (its family's planes)."""
    boards = [b for r in rollouts for b in r.boards]
    if not boards:
        return [{layer: np.zeros((0, 0), np.float32) for layer in layers} for _ in rollouts]
    acts = evaluator.activations(evaluator.encode_batch(boards), layers, batch_size=batch_size)
    out: list[dict[str, npt.NDArray[np.float32]]] = []
    start = 0
    for r in rollouts:
        n = len(r.boards)
        out.append({layer: acts[layer][start : start + n] for layer in layers})
        start += n
    return out


def differences(
    acts: npt.NDArray[np.floating[Any]], rollout: Rollout, players: str, polarity: str
) -> tuple[npt.NDArray[np.float64], list[tuple[int, int]]]:
    """The program's rows z+_t - z-_{t,j} (sign flipped when prophylactic)."""
    if polarity not in POLARITIES:
        raise ValueError(f"polarity must be one of {POLARITIES}, got {polarity!r}")
    plus, minus, where = rollout.pairs(players)
    D = np.asarray(acts[plus], np.float64) - np.asarray(acts[minus], np.float64)
    if polarity == "prophylactic":
        D = -D
    return D, where


def default_layers(blocks: int) -> list[str]:
    """An early, a middle and the last residual block."""
    picks = sorted({min(1, blocks - 1), blocks // 2, blocks - 1})
    return [f"block{i}" for i in picks]
