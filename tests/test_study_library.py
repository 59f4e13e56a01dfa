"""A small real concept library for the study tests, built from real games.

Prototype positions are taken from the Lichess sample in ../shared/data (each a
real position, the move played there as the teacher's move, the next moves as
its line); the root visits are a fixed spread over legal moves so scores are
checkable by hand: teacher's move n=60 q=+0.30, then n=20 q=+0.10, n=10 q=-0.20,
n=10 q=-0.50 (total 100).
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import chess
import chess.pgn
import numpy as np
import sqlite_utils
from conceptcoach.store.concepts import NewPrototype, add_concept, list_concepts

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LICHESS = SHARED_DATA / "human" / "lichess_fgf_sample_3000.pgn.gz"
VISIT_SPREAD = ((60, 0.30), (20, 0.10), (10, -0.20), (10, -0.50))


def _ply_21(ply: int) -> bool:
    # One position per game: a session plan keeps each game to one phase.
    return ply == 21


def real_positions(count: int, skip: int = 0, plies: Callable[[int], bool] = _ply_21,
                   next_moves: int = 4, min_legal: int = 4) -> list[tuple[str, str, list[str], str]]:
    """(fen, move played, the next ``next_moves`` moves, game key) of distinct real
    positions at the plies ``plies`` accepts, with at least ``min_legal`` legal moves."""
    out: list[tuple[str, str, list[str], str]] = []
    seen: set[str] = set()
    with gzip.open(LICHESS, "rt", encoding="utf-8", errors="replace") as fh:
        game_no = 0
        while len(out) < count + skip:
            game = chess.pgn.read_game(fh)
            if game is None:
                break
            game_no += 1
            moves = list(game.mainline_moves())
            board = game.board()
            for ply, mv in enumerate(moves):
                if plies(ply) and board.legal_moves.count() >= min_legal:
                    key = " ".join(board.fen().split()[:4])
                    if key not in seen:
                        seen.add(key)
                        out.append((board.fen(), mv.uci(), [m.uci() for m in moves[ply:ply + next_moves]],
                                    f"lichess#{game_no}"))
                board.push(mv)
    return out[skip:skip + count]


def visits_for(fen: str, best: str) -> dict[str, dict[str, float]]:
    board = chess.Board(fen)
    others = sorted(m.uci() for m in board.legal_moves if m.uci() != best)[:3]
    moves = [best, *others]
    return {m: {"n": n, "q": q, "p": 0.25} for m, (n, q) in zip(moves, VISIT_SPREAD, strict=False)}


def build_library(db: sqlite_utils.Database, concepts: int = 4, per_concept: int = 14, failed: int = 1) -> list[int]:
    """Add ``concepts`` teachable concepts and ``failed`` failed ones; returns all their ids."""
    total = concepts + failed
    positions = real_positions(total * per_concept)
    ids = []
    for k in range(total):
        chunk = positions[k * per_concept:(k + 1) * per_concept]
        protos = [NewPrototype(fen=f, best_move=b, line=line, value=0.3, visits=visits_for(f, b), game_key=g)
                  for f, b, line, g in chunk]
        status = "teachable" if k < concepts else "failed-teachability"
        ids.append(add_concept(db, uid=f"test-{k}", name=f"Idea {k}" if k < concepts else f"Failed {k}",
                               layer="block3", kind="dynamic", status=status,
                               vector=np.linspace(-1, 1, 16, dtype=np.float32), prototypes=protos))
    return ids


def wrong_move(fen: str, expected: tuple[str, ...]) -> str:
    """The second most visited move (a legal, wrong answer with known figures)."""
    visits = visits_for(fen, expected[0])
    return sorted((m for m in visits if m not in expected), key=lambda m: -visits[m]["n"])[0]


def test_library_is_real_and_complete(store: sqlite_utils.Database) -> None:
    ids = build_library(store, concepts=2, per_concept=5, failed=1)
    concepts = list_concepts(store, include_hidden=True)
    assert [c.id for c in concepts] == ids
    assert [c.prototype_count for c in concepts] == [5, 5, 5]
    assert [c.is_control for c in concepts] == [False, False, True]
