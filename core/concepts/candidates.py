"""Candidate positions (METHOD.md section 2): where the teacher's MCTS move differs
from the weaker checkpoint's MCTS move, with trivially decided positions skipped.

The teacher's move is read from the stored self-play tree; the weaker network
searches the same position afresh (in worker processes, one torch thread each).
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import chess
import torch
from conceptcoach.engine.mcts import MCTS, SearchConfig
from conceptcoach.engine.summary import TreeSummary
from conceptcoach.store.networks import Network


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


def _search_weaker(args: tuple[Network, int, Sequence[WeakerJob]]) -> list[tuple[int, str, float]]:
    network, sims, jobs = args
    torch.set_num_threads(1)  # several processes share the cores
    import numpy as np
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    from conceptcoach.engine.networks import load_evaluator

    evaluator = load_evaluator(network)
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


def iter_weaker_moves(
    network: Network, jobs: Sequence[WeakerJob], simulations: int, workers: int = 1, chunk: int = 8,
) -> Iterator[list[tuple[int, str, float]]]:
    """The weaker network's MCTS move and value per job, a chunk at a time (parallel
    processes when ``workers`` > 1), so the caller can store, report and stop between chunks."""
    chunks = [list(jobs[i : i + chunk]) for i in range(0, len(jobs), chunk)]
    if workers <= 1:
        for c in chunks:
            yield _search_weaker((network, simulations, c))
        return
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers) as pool:
        yield from pool.imap_unordered(_search_weaker, [(network, simulations, c) for c in chunks])
