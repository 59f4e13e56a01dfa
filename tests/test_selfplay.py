"""Self-play writes games and per-move trees to the store, records its parameters, resumes."""

from __future__ import annotations

import json
from pathlib import Path

import chess
import pytest
import sqlite_utils
from conceptcoach.engine.mcts import SearchConfig
from conceptcoach.engine.networks import register_file
from conceptcoach.engine.selfplay import SelfPlayConfig, run_selfplay
from conceptcoach.engine.summary import TreeSummary
from conceptcoach.progress import Cancelled
from conceptcoach.store.db import open_store
from conceptcoach.store.games import iter_summaries
from conceptcoach.store.networks import get_network
from conceptcoach.store.runs import get_run


def _config(games: int) -> SelfPlayConfig:
    # Short games keep the test fast; the move limit is recorded as an adjudication.
    return SelfPlayConfig(games=games, simulations=12, seed=5, max_plies=24,
                          search=SearchConfig(simulations=12, batch_size=4, root_noise=True))


@pytest.mark.slow
def test_selfplay_stores_games_and_resumes(tiny_store: sqlite_utils.Database, store_path: Path,
                                           tmp_path: Path) -> None:
    db, db_path = tiny_store, store_path

    seen: list[int] = []

    def stop_after_first() -> bool:
        return len(seen) >= 1

    with pytest.raises(Cancelled, match="run again to resume"):
        run_selfplay(db, str(db_path), "tiny", _config(3), workers=1,
                     progress=lambda done, total, msg: seen.append(done) if "stored" in msg and done else None,
                     should_stop=stop_after_first)
    first = [dict(r) for r in db.query("SELECT game_index, moves FROM games ORDER BY game_index")]
    assert 1 <= len(first) < 3

    run_id = run_selfplay(db, str(db_path), "tiny", _config(3), workers=1)
    rows = [dict(r) for r in db.query("SELECT game_index, moves, result, headers FROM games ORDER BY game_index")]
    assert [r["game_index"] for r in rows] == [0, 1, 2]  # nothing replayed twice
    kept = {r["game_index"]: r["moves"] for r in first}
    assert all(rows[i]["moves"] == kept[i] for i in kept)
    run = get_run(db, run_id)
    assert run is not None and run["status"] == "done" and run["params"]["seed"] == 5
    assert run["params"]["search"]["simulations"] == 12

    # Every move has a legal tree summary whose best move is in the tree.
    count = 0
    for _pid, _gid, _ply, stored in iter_summaries(db, run_id=run_id):
        summary = TreeSummary.from_dict(stored)
        board = chess.Board(summary.fen)
        assert chess.Move.from_uci(summary.best_move) in board.legal_moves
        assert sum(c.n for c in summary.children) >= 12
        count += 1
    assert count == sum(len(r["moves"].split()) for r in rows)
    assert all(json.loads(r["headers"])["Termination"] for r in rows)

    # Same seed, same games: a fresh store replays identically.
    db2_path = tmp_path / "again.sqlite"
    db2 = open_store(db2_path)
    register_file(db2, get_network(db, "tiny").path)
    run_selfplay(db2, str(db2_path), "tiny", _config(3), workers=2)
    again = [r["moves"] for r in db2.query("SELECT moves FROM games ORDER BY game_index")]
    assert again == [r["moves"] for r in rows]


def test_unknown_network_is_named(store: object, tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="no network named 'nope'"):
        run_selfplay(store, str(tmp_path / "store.sqlite"), "nope", _config(1))  # type: ignore[arg-type]
