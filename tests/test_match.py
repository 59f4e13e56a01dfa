"""Matches: the Elo computation, player specs, and short matches end to end with PGN."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from pathlib import Path

import chess
import chess.pgn
import pytest
from conceptcoach.engine.checkpoint import CheckpointInfo, random_network, save_checkpoint
from conceptcoach.engine.network import NetworkConfig
from conceptcoach.training.generate import find_stockfish
from conceptcoach.training.match import (
    MatchConfig,
    PlayerSpec,
    elo_estimate,
    elo_from_score,
    make_openings,
    run_match,
)


def test_elo_on_known_results() -> None:
    assert elo_from_score(0.75) == pytest.approx(190.85, abs=0.01)
    assert elo_from_score(0.5) == 0.0
    assert elo_from_score(0.25) == pytest.approx(-190.85, abs=0.01)
    assert elo_from_score(1.0) == math.inf and elo_from_score(0.0) == -math.inf
    even = elo_estimate(40, 20, 40)
    assert even.score == 0.5 and even.elo == 0.0
    assert even.elo_low == pytest.approx(-even.elo_high)
    three_quarters = elo_estimate(75, 0, 25)
    assert three_quarters.elo == pytest.approx(190.85, abs=0.01)
    # 95% interval of a 75% score over 100 games: 0.75 +- 1.96 * sqrt(0.1875 / 100).
    assert three_quarters.elo_low == pytest.approx(elo_from_score(0.75 - 1.96 * math.sqrt(0.1875 / 100)))
    assert three_quarters.elo_low < 190.85 < three_quarters.elo_high
    assert elo_estimate(0, 10, 0).elo_low == elo_estimate(0, 10, 0).elo_high == 0.0
    # More games, narrower interval.
    wide, narrow = elo_estimate(6, 2, 2), elo_estimate(60, 20, 20)
    assert narrow.elo_high - narrow.elo_low < wide.elo_high - wide.elo_low


def test_player_specs() -> None:
    assert PlayerSpec.parse("net:a/teacher.safetensors:100") == PlayerSpec("net", path="a/teacher.safetensors", sims=100)
    assert PlayerSpec.parse("net:x.safetensors").sims == 1
    assert PlayerSpec.parse("sf:1500:0.05") == PlayerSpec("sf", elo=1500, seconds=0.05)
    with pytest.raises(ValueError, match="1350..2850"):
        PlayerSpec.parse("sf:1000")
    with pytest.raises(ValueError, match="expected"):
        PlayerSpec.parse("lc0:1")


def _tiny(tmp_path: Path, name: str, seed: int) -> Path:
    path = tmp_path / f"{name}.safetensors"
    save_checkpoint(random_network(NetworkConfig(blocks=1, channels=8), seed=seed), path,
                    CheckpointInfo(name=name, config=NetworkConfig(blocks=1, channels=8)))
    return path


# The ``legal_games`` fixture: a PGN text's games, each checked legal with a result.
LegalGames = Callable[[str], list[chess.pgn.Game]]


def _check_pgn(legal_games: LegalGames, pgn: Path, games: int) -> list[chess.pgn.Game]:
    parsed = legal_games(pgn.read_text())
    assert len(parsed) == games
    return parsed


def test_net_vs_net_match_writes_legal_pgn_and_resumes(tmp_path: Path, legal_games: LegalGames) -> None:
    a, b = _tiny(tmp_path, "a", 1), _tiny(tmp_path, "b", 2)
    openings = [chess.Board().fen(), "rnbqkbnr/pppp1ppp/8/4p3/4P3/8/PPPP1PPP/RNBQKBNR w KQkq - 0 2"]
    cfg = MatchConfig(a=f"net:{a}", b=f"net:{b}:4", games=2, workers=1, max_plies=30, judge_nodes=0)
    pgn = tmp_path / "m.pgn"
    first = run_match(cfg, pgn, openings)
    assert first["result"]["games"] == 2
    games = _check_pgn(legal_games, pgn, 2)
    assert games[0].headers["White"] == "a@policy" and games[1].headers["Black"] == "a@policy"
    assert games[0].board().fen() == games[1].board().fen() == openings[0]  # one opening, colours swapped
    more = run_match(MatchConfig(**{**cfg.to_json(), "games": 4}), pgn, openings)
    games = _check_pgn(legal_games, pgn, 4)
    assert more["result"]["games"] == 4
    assert [g.headers["Round"] for g in games] == ["1", "2", "3", "4"]
    assert games[2].board().fen() == openings[1]
    # In-process with a time limit already spent: the game in hand is finished and
    # written at once, and the match stops there (a rerun plays the rest).
    log = io.StringIO()
    cut = run_match(MatchConfig(**{**cfg.to_json(), "games": 8}), pgn, openings, log=log, minutes=1e-9)
    assert cut["result"]["games"] == 5 and len(_check_pgn(legal_games, pgn, 5)) == 5
    assert "game 5:" in log.getvalue() and "stopped after" in log.getvalue()


@pytest.mark.slow
def test_match_against_limited_stockfish(tmp_path: Path, legal_games: LegalGames) -> None:
    engine = find_stockfish()
    if engine is None:
        pytest.skip("Stockfish is not installed: install the Debian package 'stockfish' to run match tests")
    openings = make_openings(2, seed=5, engine_path=engine, nodes=500)
    assert len(openings) == 2 and len(set(openings)) == 2
    net = _tiny(tmp_path, "tiny", 0)
    cfg = MatchConfig(a=f"net:{net}", b="sf:1350:0.01", games=2, workers=2, max_plies=40,
                      judge_nodes=300, engine=engine)
    summary = run_match(cfg, tmp_path / "sf.pgn", openings)
    assert summary["result"]["games"] == 2
    assert (tmp_path / "sf.pgn.json").exists()
    games = _check_pgn(legal_games, tmp_path / "sf.pgn", 2)
    assert {g.headers["White"] for g in games} == {"tiny@policy", "stockfish-elo1350@0.01s"}


def test_net_player_plays_a_forced_move_without_searching(tmp_path: Path) -> None:
    from conceptcoach.training.match import NetPlayer

    # Black's only legal move is Kf4 (in check from the rook); search must not be needed.
    board = chess.Board("8/8/7Q/P4kR1/4b3/8/5K2/8 b - - 2 54")
    assert [m.uci() for m in board.legal_moves] == ["f5f4"]
    player = NetPlayer(PlayerSpec.parse(f"net:{_tiny(tmp_path, 'forced', 0)}:8"))
    assert player.move(board).uci() == "f5f4"
