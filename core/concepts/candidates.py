"""Candidate positions (METHOD.md section 2): where the teacher's MCTS move differs
from the weaker checkpoint's MCTS move, with trivially decided positions skipped.

The teacher's move is read from the stored self-play tree; the weaker network
searches the same position afresh (tasks on the run's back end, one torch thread each).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import chess
import numpy as np
from conceptcoach.engine.mcts import MCTS, SearchConfig
from conceptcoach.engine.networks import load_evaluator
from conceptcoach.engine.shipping import NetworkPayload, unpack
from conceptcoach.engine.summary import TreeSummary


@dataclass(frozen=True)
class CandidateParams:
    weaker_simulations: int = 200
    max_abs_value: float = 0.95  # |value| above this: decided, not instructive
    min_pieces: int = 8  # at most 7 pieces: tablebase territory
    min_ply: int = 8  # skip the opening moves played with temperature

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def has_mate_in_one(board: chess.Board) -> bool:
    for move in board.legal_moves:
        board.push(move)
        mate = board.is_checkmate()
        board.pop()
        if mate:
            return True
    return False


def trivial_reason(board: chess.Board, value: float, params: CandidateParams) -> str | None:
    """Why a position is trivially decided (and skipped), or None."""
    if board.is_game_over(claim_draw=False):
        return "game over"
    if len(board.piece_map()) < params.min_pieces:
        return f"{len(board.piece_map())} pieces (tablebase-size ending)"
    if abs(value) > params.max_abs_value:
        return f"|value| {abs(value):.2f} > {params.max_abs_value}"
    if has_mate_in_one(board):
        return "mate in one"
    return None


@dataclass
class WeakerJob:
    key: int  # position id
    fen: str
    moves_before: list[str]  # the game's moves up to the position (for repetition planes)
    start_fen: str
    seed: int


def search_weaker(shared: tuple[NetworkPayload, int], jobs: Sequence[WeakerJob]) -> list[tuple[int, str, float]]:
    """The weaker network's MCTS move and value per job: one task of the candidates
    stage (a few positions, so the network is loaded once for them)."""
    payload, sims = shared
    evaluator = load_evaluator(unpack(payload))
    out: list[tuple[int, str, float]] = []
    for job in jobs:
        board = chess.Board(job.start_fen)
        for uci in job.moves_before:
            board.push_uci(uci)
        # A time cap per position: a search that stops making progress must not hold up
        # the whole stage (the move found so far is used).
        deadline = time.monotonic() + max(30.0, sims * 0.5)
        summary: TreeSummary = MCTS(evaluator, board, SearchConfig(simulations=sims),
                                    rng=np.random.default_rng(job.seed)).run(
                                        should_stop=lambda deadline=deadline: time.monotonic() > deadline)
        out.append((job.key, summary.best_move, summary.value))
    return out
