"""Static concepts from labelled position sets (METHOD.md section 3).

A positive set (a theme is present) and a negative set (it is absent) give the rows
z_pos - z_neg of sampled pairs; the same L1 program finds the concept. Known
themes check that the method finds what the network is expected to know (the
paper's sanity check); a coach can also define a concept from example positions.
Sets are split by game, so held-out accuracy is measured on games the program
never saw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import chess
import numpy as np
import numpy.typing as npt
import sqlite_utils
from conceptcoach.concepts.discovery import SolveResult, pair_accuracy, solve, static_differences
from conceptcoach.store.games import games_of_source


@dataclass
class Labelled:
    fen: str
    game_key: str
    positive: bool


def _queen(board: chess.Board, moves: Sequence[str], ply: int) -> bool | None:
    return bool(board.pieces(chess.QUEEN, board.turn))


def _sicilian(board: chess.Board, moves: Sequence[str], ply: int) -> bool | None:
    # Compare like with like: positions of the same stage of games that all began 1.e4.
    if not 6 <= ply <= 12 or not moves or moves[0] != "e2e4":
        return None
    return list(moves[:2]) == ["e2e4", "c7c5"]


#: Known themes: name -> (label function (None: not used), description).
THEMES: dict[str, tuple[Callable[[chess.Board, Sequence[str], int], bool | None], str]] = {
    "queen": (_queen, "the side to move has its queen"),
    "sicilian": (_sicilian, "1.e4 c5 (Sicilian Defence) against other replies to 1.e4, plies 6-12"),
}


def labelled_positions(
    db: sqlite_utils.Database, theme: str, per_class: int, seed: int, source: str = "human",
    corpus: str | None = None, max_games: int = 4000,
) -> list[Labelled]:
    """Up to ``per_class`` positive and negative positions for ``theme`` from stored games."""
    if theme not in THEMES:
        raise KeyError(f"unknown theme {theme!r}; known: {', '.join(THEMES)}")
    label_fn = THEMES[theme][0]
    games = games_of_source(db, source, corpus, limit=max_games)
    rng = np.random.default_rng(seed)
    rng.shuffle(games)
    pos: list[Labelled] = []
    neg: list[Labelled] = []
    for g in games:
        if len(pos) >= per_class and len(neg) >= per_class:
            break
        moves = g["moves"].split()
        board = chess.Board(g["start_fen"])
        # A few positions per game, so one game does not dominate a set.
        plies = sorted(rng.choice(len(moves) + 1, size=min(3, len(moves) + 1), replace=False).tolist())
        if theme == "sicilian":
            plies = sorted({int(p) for p in rng.integers(6, 13, size=3)})
        for ply, uci in enumerate([*moves, None]):
            if ply in plies:
                label = label_fn(board, moves, ply)
                if label is not None:
                    bucket = pos if label else neg
                    if len(bucket) < per_class:
                        bucket.append(Labelled(board.fen(), str(g["id"]), label))
            if uci is None or ply >= max(plies, default=0):
                break
            board.push_uci(uci)
    return pos + neg


@dataclass
class StaticResult:
    solve: SolveResult
    train_accuracy: float
    test_accuracy: float
    pairs: int


def fit_static(
    acts: npt.NDArray[np.floating[Any]],
    labels: Sequence[Labelled],
    pairs: int,
    seed: int,
    test_fraction: float = 0.3,
    method: str = "fast",
    slack_penalty: float | None = None,
) -> StaticResult:
    """Discover a static concept from ``acts`` (one row per labelled position), split by game."""
    games = sorted({lab.game_key for lab in labels})
    rng = np.random.default_rng(seed)
    rng.shuffle(games)
    test_games = set(games[: int(round(test_fraction * len(games)))])
    is_pos = np.array([lab.positive for lab in labels])
    is_test = np.array([lab.game_key in test_games for lab in labels])
    tr_p, tr_n = acts[is_pos & ~is_test], acts[~is_pos & ~is_test]
    te_p, te_n = acts[is_pos & is_test], acts[~is_pos & is_test]
    D, _ = static_differences(tr_p, tr_n, pairs, rng)
    result = solve(D, method=method, slack_penalty=slack_penalty)
    if result.vector is None:
        return StaticResult(result, float("nan"), float("nan"), pairs)
    return StaticResult(result, pair_accuracy(result.vector, tr_p, tr_n), pair_accuracy(result.vector, te_p, te_n),
                        pairs)


@dataclass
class LayerChoice:
    layer: str
    result: StaticResult
    validation: dict[str, float]  # layer -> validation pair accuracy


def fit_static_best_layer(
    acts: dict[str, npt.NDArray[np.floating[Any]]],
    labels: Sequence[Labelled],
    pairs: int,
    seed: int,
    method: str = "fast",
) -> LayerChoice:
    """Fit the concept at each layer and keep the layer with the best validation accuracy.

    Games are split three ways (60/20/20): the program sees the first part, the layer
    is chosen on the second, and the reported ``test_accuracy`` is measured on the
    third, which played no part in either choice.
    """
    games = sorted({lab.game_key for lab in labels})
    rng = np.random.default_rng(seed)
    rng.shuffle(games)
    n = len(games)
    val_games = set(games[: int(0.2 * n)])
    test_games = set(games[int(0.2 * n) : int(0.4 * n)])
    is_pos = np.array([lab.positive for lab in labels])
    part = np.array([2 if lab.game_key in test_games else 1 if lab.game_key in val_games else 0 for lab in labels])
    best: tuple[float, str, StaticResult] | None = None
    validation: dict[str, float] = {}
    for layer, z in acts.items():
        D, _ = static_differences(z[is_pos & (part == 0)], z[~is_pos & (part == 0)], pairs, np.random.default_rng(seed))
        result = solve(D, method=method)
        if result.vector is None:
            validation[layer] = float("nan")
            continue
        val = pair_accuracy(result.vector, z[is_pos & (part == 1)], z[~is_pos & (part == 1)])
        validation[layer] = val
        test = pair_accuracy(result.vector, z[is_pos & (part == 2)], z[~is_pos & (part == 2)])
        train = pair_accuracy(result.vector, z[is_pos & (part == 0)], z[~is_pos & (part == 0)])
        if best is None or val > best[0]:
            best = (val, layer, StaticResult(result, train, test, pairs))
    if best is None:
        raise ValueError("no layer gave a solvable static program (see the solver status per layer)")
    return LayerChoice(best[1], best[2], validation)
