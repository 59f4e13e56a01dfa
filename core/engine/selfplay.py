"""Self-play: the network plays itself with MCTS; games and per-move trees go to the store.

Games are independent tasks on a :mod:`conceptcoach.parallel` back end (a local
process pool, or Ray); only the calling process writes the store.

Each game is seeded from the run seed and its index, so a run interrupted and
started again replays nothing it already stored and produces the same games.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import chess
import numpy as np
import sqlite_utils
from conceptcoach.engine.mcts import MCTS, SearchConfig
from conceptcoach.engine.network import Evaluator
from conceptcoach.engine.networks import load_evaluator
from conceptcoach.engine.shipping import NetworkPayload, pack, unpack
from conceptcoach.engine.summary import TreeSummary
from conceptcoach.parallel import Backend, LocalBackend, ordered
from conceptcoach.progress import Cancelled, ProgressFn, StopFn, never_stop, no_progress
from conceptcoach.store.games import GameRecord, games_of_run, insert_game
from conceptcoach.store.networks import get_network
from conceptcoach.store.runs import finish_run, start_run


@dataclass(frozen=True)
class SelfPlayConfig:
    games: int = 10
    simulations: int = 200
    seed: int = 0
    temperature_plies: int = 16  # sample by visit counts for this many plies, then play the best
    temperature: float = 1.0
    max_plies: int = 300  # adjudicated a draw beyond this
    resign_value: float = -0.97  # resign after ``resign_plies`` root values below this
    resign_plies: int = 4
    summary_depth: int = 10
    search: SearchConfig = field(default_factory=lambda: SearchConfig(root_noise=True))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PlayedGame:
    moves: list[str]
    result: str
    summaries: list[TreeSummary]
    termination: str


def play_game(evaluator: Evaluator, config: SelfPlayConfig, seed: int, should_stop: StopFn = never_stop) -> PlayedGame:
    """Play one self-play game from the start position."""
    rng = np.random.default_rng(seed)
    board = chess.Board()
    search = MCTS(evaluator, board, config.search, rng=rng)
    moves: list[str] = []
    summaries: list[TreeSummary] = []
    low = {chess.WHITE: 0, chess.BLACK: 0}
    termination = "normal"
    while not board.is_game_over(claim_draw=True):
        if should_stop():
            raise Cancelled("self-play stopped")
        if len(moves) >= config.max_plies:
            termination = "adjudicated: move limit"
            break
        search.run(config.search.simulations)
        summary = search.summary(depth=config.summary_depth)
        summaries.append(summary)
        side = board.turn
        low[side] = low[side] + 1 if summary.value < config.resign_value else 0
        if low[side] >= config.resign_plies:
            termination = "resigned"
            result = "0-1" if side == chess.WHITE else "1-0"
            return PlayedGame(moves, result, summaries, termination)
        temp = config.temperature if len(moves) < config.temperature_plies else 0.0
        move = search.sample_move(temp)
        moves.append(move.uci())
        search.advance(move)
        board.push(move)
    result = board.result(claim_draw=True) if termination == "normal" else "1/2-1/2"
    return PlayedGame(moves, result, summaries, termination)


def run_id_for(network: str, config: SelfPlayConfig) -> str:
    return f"selfplay-{network}-s{config.search.simulations}-seed{config.seed}"


def play_task(shared: tuple[NetworkPayload, SelfPlayConfig], index: int) -> dict[str, Any]:
    """One game, in a worker (it never opens the store: the head writes what comes back)."""
    payload, config = shared
    evaluator = load_evaluator(unpack(payload))
    game = play_game(evaluator, config, seed=config.seed * 1_000_003 + index)
    return {"moves": game.moves, "result": game.result, "termination": game.termination,
            "summaries": [sm.to_dict() for sm in game.summaries]}


def run_selfplay(
    db: sqlite_utils.Database,
    db_path: str,
    network: str,
    config: SelfPlayConfig,
    workers: int = 1,
    progress: ProgressFn = no_progress,
    should_stop: StopFn = never_stop,
    backend: Backend | None = None,
) -> str:
    """Play ``config.games`` games (skipping those already stored for this run) and
    return the run id.

    Games are played on ``backend`` (default: a local pool of ``workers`` processes) and
    come back here, where they are stored in game order (so position ids follow the
    games whichever finished first); ``db_path`` is kept for callers and not used.
    Raises Cancelled when ``should_stop()`` ends the run early (the games stored stay).
    """
    record = get_network(db, network)
    run_id = run_id_for(network, config)
    params = {**config.to_dict(), "network": record.name, "network_sha256": record.sha256}
    start_run(db, run_id, "selfplay", params)
    done = games_of_run(db, run_id)
    todo = [i for i in range(config.games) if i not in done]
    progress(len(done), config.games, f"self-play: {len(done)} games already stored")
    completed = len(done)
    if todo:
        pool = backend if backend is not None else LocalBackend(min(workers, len(todo)))
        try:
            shared = (pack(record, pool.ships_by_content), config)
            for task, game in ordered(pool.map(play_task, todo, shared, should_stop=should_stop)):
                index = todo[task]
                insert_game(db, GameRecord("selfplay", chess.STARTING_FEN, game["moves"], game["result"],
                                           {"Termination": game["termination"], "White": record.name,
                                            "Black": record.name}, run_id=run_id, game_index=index),
                            game["summaries"], network_id=record.id)
                completed += 1
                progress(completed, config.games, f"self-play: game {index + 1} stored")
                if should_stop():  # games finished meanwhile are played again on resume, identically
                    break
        finally:
            if backend is None:
                pool.close()
        if completed < config.games:
            raise Cancelled(f"self-play stopped after {completed} of {config.games} games; run again to resume")
    stored = len(games_of_run(db, run_id))
    if stored >= config.games:
        finish_run(db, run_id, {"games": stored})
    return run_id
