"""lc0 networks behind the one search interface: the evaluator both families share, MCTS
with the game's history, the registry, `conceptcoach networks add` and `analyse`, heat,
match players, and the fast encodings checked against straightforward replays."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import chess
import numpy as np
import numpy.typing as npt
import pytest
from conceptcoach.concepts.heat import prototype_heats
from conceptcoach.engine.checkpoint import CheckpointError
from conceptcoach.engine.encoding import encode_board
from conceptcoach.engine.lc0 import (
    Lc0Evaluator,
    describe_lc0,
    encode_lc0,
    evaluate_board,
    lc0_evaluator,
    legal_policy_indices,
    move_to_policy_index,
)
from conceptcoach.engine.lc0.planes import (
    HISTORY,
    NUM_PLANES,
    HistoryCache,
    _before_double_step,
    _is_standard_start,
)
from conceptcoach.engine.mcts import MCTS, SearchConfig
from conceptcoach.engine.network import Evaluator, PolicyValueNet
from conceptcoach.engine.networks import load_evaluator, register_file
from conceptcoach.training.match import NetPlayer, PlayerSpec

LC0_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lc0"
ITALIAN = ["e2e4", "e7e5", "g1f3", "b8c6", "f1c4", "f8c5", "c2c3", "g8f6", "d2d3", "d7d6", "e1g1", "e8g8"]


@pytest.fixture(scope="module")
def maia_path() -> Path:
    path = LC0_DATA / "maia-1900.pb.gz"
    if not path.is_file():
        pytest.skip(f"lc0 test networks missing: {LC0_DATA} (shared data is cloned beside the repo)")
    return path


@pytest.fixture(scope="module")
def maia(maia_path: Path) -> Lc0Evaluator:
    return lc0_evaluator(maia_path)


def _game(moves: list[str], fen: str = chess.STARTING_FEN) -> chess.Board:
    board = chess.Board(fen)
    for uci in moves:
        board.push_uci(uci)
    return board


def _softmax(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    e = np.exp(x.astype(np.float64) - x.max())
    return e / e.sum()


# ------------------------------------------------------------------ one interface


def test_both_families_answer_the_same_questions(tiny_net: PolicyValueNet, maia: Lc0Evaluator) -> None:
    board = _game(ITALIAN[:6])
    for evaluator, planes, moves_out, width in ((Evaluator(tiny_net), 21, 4672, 16 * 64), (maia, 112, 1858, 64 * 64)):
        assert evaluator.encode(board).shape == (planes, 8, 8)
        batch = evaluator.encode_batch([board, chess.Board()])
        assert batch.shape == (2, planes, 8, 8) and np.array_equal(batch[0], evaluator.encode(board))
        moves, idx = evaluator.legal(board)
        assert set(moves) == set(board.legal_moves) and len(set(idx.tolist())) == len(moves)
        logits, values = evaluator(batch)
        assert logits.shape == (2, moves_out) and values.shape == (2,) and (np.abs(values) <= 1).all()
        names = evaluator.layer_names()
        assert names[0] == "stem" and names[-1].startswith("block")
        acts = evaluator.activations(batch, names[-2:], batch_size=1)
        assert all(a.shape == (2, width) for a in acts.values())
        assert evaluator.activations(batch[:0], ["stem"])["stem"].shape == (0, width)
    assert maia.family == "lc0" and Evaluator(tiny_net).family == "ours"


def test_lc0_value_is_win_minus_loss(maia: Lc0Evaluator) -> None:
    board = _game(ITALIAN)
    planes = maia.encode_batch([board])
    logits, values = maia(planes)
    ref_logits, wdl = evaluate_board(maia.net, board)
    assert values[0] == pytest.approx(float(wdl[0] - wdl[2]), abs=1e-6)
    np.testing.assert_allclose(maia.wdl(planes)[0], wdl, atol=1e-6)
    moves, idx = maia.legal(board)
    np.testing.assert_allclose(logits[0][idx], [ref_logits[m.uci()] for m in moves], atol=1e-5)


# ------------------------------------------------------------------ search


def test_mcts_searches_with_the_games_history(maia: Lc0Evaluator) -> None:
    played = _game(ITALIAN)
    from_fen = chess.Board(played.fen())
    search = MCTS(maia, played, SearchConfig(simulations=96, batch_size=8))
    summary = search.run()
    assert summary.visits == 96 and sum(c.n for c in summary.children) == 96
    assert {c.move for c in summary.children} == {m.uci() for m in played.legal_moves}
    assert abs(sum(c.p for c in summary.children) - 1.0) < 1e-4
    assert played.move_stack == [chess.Move.from_uci(m) for m in ITALIAN]  # the caller's board is untouched
    # The root priors are the network's policy on the board *with* its moves: lc0 reads
    # the seven earlier positions, which a board set up from the FEN does not have.
    logits, _ = evaluate_board(maia.net, played)
    priors = {c.move: c.p for c in summary.children}
    moves = sorted(logits)
    expected = _softmax(np.array([logits[m] for m in moves], np.float32))
    np.testing.assert_allclose([priors[m] for m in moves], expected, atol=1e-5)
    fen_logits, _ = evaluate_board(maia.net, from_fen)
    assert max(abs(logits[m] - fen_logits[m]) for m in moves) > 1e-3
    for line in [summary.principal_line, *(b.line for b in summary.branches)]:
        b = played.copy()
        for uci in line:
            assert chess.Move.from_uci(uci) in b.legal_moves
            b.push_uci(uci)


def test_mcts_with_lc0_finds_mate_and_never_evaluates_a_finished_game(maia: Lc0Evaluator) -> None:
    summary = MCTS(maia, chess.Board("6k1/5ppp/8/8/8/8/8/R3R1K1 w - - 0 1"), SearchConfig(simulations=64)).run()
    assert summary.best_move in ("a1a8", "e1e8") and summary.children[0].q > 0.99
    mated = MCTS(maia, chess.Board("7k/6Q1/6K1/8/8/8/8/8 b - - 0 1"), SearchConfig(simulations=16))
    assert mated.run().value == -1.0 and mated.evaluations == 0


def test_a_plain_function_is_still_one_of_ours(tiny_net: PolicyValueNet) -> None:
    seen: list[int] = []

    def evaluate(planes):  # type: ignore[no-untyped-def]
        seen.append(planes.shape[1])
        return Evaluator(tiny_net)(planes)

    summary = MCTS(evaluate, chess.Board(), SearchConfig(simulations=32, batch_size=8)).run()
    assert summary.visits == 32 and set(seen) == {21}


# ------------------------------------------------------------------ registry and CLI


def test_a_maia_file_registers_as_an_lc0_human_model(store, maia_path: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    architecture, metadata = describe_lc0(maia_path)
    assert (architecture["blocks"], architecture["channels"], architecture["se"]) == (6, 64, True)
    assert metadata["rating"] == 1900
    rec = register_file(store, maia_path)
    assert (rec.name, rec.family.value, rec.role, rec.describe()) == ("maia-1900", "lc0", "human", "6x64 lc0")
    assert rec.metadata["rating"] == 1900 and len(rec.sha256) == 64
    evaluator = load_evaluator(rec)
    assert isinstance(evaluator, Lc0Evaluator) and evaluator.layer_names()[-1] == "block5"
    named = register_file(store, maia_path, name="coach-lc0", role="teacher")
    assert (named.name, named.role) == ("coach-lc0", "teacher")

    # An altered file is refused when loaded, and a file that is not lc0 when registered.
    copy = tmp_path / "maia-1500.pb.gz"
    shutil.copy(maia_path, copy)
    rec = register_file(store, copy)
    assert rec.metadata["rating"] == 1500
    copy.write_bytes(copy.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match="sha256"):
        load_evaluator(rec)
    junk = tmp_path / "junk.pb.gz"
    junk.write_bytes(b"not a network")
    with pytest.raises(CheckpointError, match="junk.pb.gz"):
        register_file(store, junk)


def test_cli_adds_an_lc0_network_and_analyses_with_it(maia_path: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.cli.main import main

    data = ["--data-dir", str(tmp_path)]
    assert main([*data, "networks", "add", str(maia_path), "--role", "teacher"]) == 0
    out = capsys.readouterr().out
    assert "registered maia-1900 (6x64 lc0, role teacher" in out
    assert main([*data, "networks", "--register", str(maia_path), "--name", "maia-alias"]) == 0
    assert "maia-alias" in capsys.readouterr().out
    assert main([*data, "networks", "add", str(tmp_path / "missing.pb.gz")]) == 2
    assert "no such network file" in capsys.readouterr().err

    fen = "r1bqkb1r/pppp1ppp/2n2n2/4p3/2B1P3/5N2/PPPP1PPP/RNBQK2R w KQkq - 4 4"
    assert main([*data, "analyse", fen, "--network", "maia-1900", "--sims", "40", "--threads", "1",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    board = chess.Board(fen)
    assert result["family"] == "lc0" and result["fen"] == fen and result["visits"] == 40
    assert {m["move"] for m in result["moves"]} == {m.uci() for m in board.legal_moves}
    assert sum(m["visits"] for m in result["moves"]) == 40
    assert abs(sum(m["prior"] for m in result["moves"]) - 1) < 1e-4
    assert result["best_move"] == result["moves"][0]["move"] and all(-1 <= m["q"] <= 1 for m in result["moves"])
    assert main([*data, "analyse", "--network", "maia-1900", "--moves", "e2e4 e7e5", "--sims", "16",
                 "--threads", "1"]) == 0
    assert "value" in capsys.readouterr().out
    assert main([*data, "analyse", "--network", "nobody", "--sims", "8"]) == 2
    assert "no network named 'nobody'" in capsys.readouterr().err


# ------------------------------------------------------------------ heat and matches


def test_heat_of_an_lc0_concept_reads_its_own_planes(maia: Lc0Evaluator) -> None:
    fens = [chess.STARTING_FEN, "r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R b KQkq - 3 3"]
    vector = np.random.default_rng(0).normal(size=64 * 64).astype(np.float32)
    heats = prototype_heats(maia, vector, "block3", fens)
    assert len(heats) == 2 and all(len(h) == 64 and max(abs(x) for x in h) == 1.0 for h in heats)


def test_lc0_match_players(maia_path: Path) -> None:
    spec = PlayerSpec.parse(f"lc0:{maia_path}:1")
    assert (spec.kind, spec.sims, spec.label()) == ("lc0", 1, "maia-1900@policy")
    assert PlayerSpec.parse(f"lc0:{maia_path}:8").label() == "maia-1900@8sims"
    with pytest.raises(ValueError, match="lc0:PATH"):
        PlayerSpec.parse("maia")
    policy, search = NetPlayer(spec), NetPlayer(PlayerSpec.parse(f"lc0:{maia_path}:8"))
    board = chess.Board()
    assert policy.move(board) in (chess.Move.from_uci("e2e4"), chess.Move.from_uci("d2d4"))
    for _ in range(6):
        player = policy if board.turn == chess.WHITE else search
        move = player.move(board)
        assert move in board.legal_moves
        board.push(move)


# ------------------------------------------------------------------ fast encodings


def _replayed_planes(board: chess.Board) -> npt.NDArray[np.float32]:
    """lc0's planes the straightforward way: replay the game from its root, key every
    position, draw the last eight (what encode_lc0 did before it read python-chess's
    state stack; that version matched lc0 itself on the reference positions)."""
    root = board.root()
    seq = [root.copy(stack=False)]
    replay = root.copy(stack=False)
    for move in board.move_stack:
        replay.push(move)
        seq.append(replay.copy(stack=False))

    def key(b: chess.Board) -> tuple[int, ...]:
        return (b.pawns, b.knights, b.bishops, b.rooks, b.queens, b.kings, b.occupied_co[chess.WHITE],
                int(b.turn), b.clean_castling_rights())

    keys = [key(b) for b in seq]
    us = board.turn
    planes = np.zeros((NUM_PLANES, 8, 8), np.float32)
    fill = None if _is_standard_start(root) else _before_double_step(root)
    for slot in range(HISTORY):
        idx = len(seq) - 1 - slot
        if idx >= 0:
            pos, repeated = seq[idx], keys[idx] in keys[:idx]
        elif fill is not None:
            pos, repeated = fill, False
        else:
            break
        for k, color in enumerate((us, not us)):
            for p, piece in enumerate(chess.PIECE_TYPES):
                mask = int(pos.pieces_mask(piece, color))
                if us == chess.BLACK:
                    mask = chess.flip_vertical(mask)
                for sq in chess.scan_forward(mask):
                    planes[slot * 13 + k * 6 + p, sq // 8, sq % 8] = 1.0
        if repeated:
            planes[slot * 13 + 12] = 1.0
    planes[104:] = encode_lc0(board)[104:]  # castling, colour, rule 50: from the board alone
    return planes


ROOTS = (chess.STARTING_FEN, "r3k2r/pppq1ppp/2npbn2/4p3/4P3/2NPBN2/PPPQ1PPP/R3K2R w KQkq - 4 8",
         "rnbqkbnr/ppp1p1pp/8/3pPp2/8/8/PPPP1PPP/RNBQKBNR w KQkq f6 0 3",
         "4k3/8/8/8/8/8/8/R3K2R w KQkq - 37 60",  # black's castling rights name pieces not there
         "4k3/8/8/8/8/8/8/R3K1NR w KQkq - 12 40",  # the same, and a knight to come back with
         "8/8/4k3/8/2K5/8/3Q4/8 b - - 37 80")


def _shuffles_first(board: chess.Board) -> list[chess.Move]:
    """The legal moves, quiet knight, king and rook moves first (they make repetitions)."""
    moves = list(board.legal_moves)
    quiet = [m for m in moves if not board.is_capture(m)
             and board.piece_type_at(m.from_square) in (chess.KNIGHT, chess.KING, chess.ROOK)]
    return quiet + [m for m in moves if m not in quiet]


def test_planes_from_the_state_stack_equal_a_replay_of_the_game() -> None:
    rng = random.Random(3)
    checked = 0
    for game in range(60):
        board = chess.Board(ROOTS[game % len(ROOTS)])
        for _ in range(rng.randint(1, 70)):
            moves = list(board.legal_moves)
            if not moves:
                break
            # Mostly pieces shuffling back and forth, so that positions repeat.
            quiet = [m for m in moves if not board.is_capture(m)
                     and board.piece_type_at(m.from_square) in (chess.KNIGHT, chess.KING, chess.ROOK)]
            board.push(rng.choice(quiet if quiet and rng.random() < 0.7 else moves))
            assert np.array_equal(encode_lc0(board), _replayed_planes(board)), (
                f"{board.root().fen()} {[m.uci() for m in board.move_stack]}")
            checked += 1
    assert checked > 1000


def test_history_cache_in_a_search_equals_a_replay() -> None:
    """A search's encodings (the board walked through a tree as MCTS walks it, states
    restored and shared, one cache for every game) equal the replayed planes: after
    game prefixes of every length, from every kind of root, with repetitions inside the
    tree and across the root."""
    from conceptcoach.engine.mcts import Node, _BoardState, descend

    rng = random.Random(5)
    cache = HistoryCache()
    checked = 0
    for game in range(50):
        board = chess.Board(ROOTS[game % len(ROOTS)])
        for _ in range(rng.randint(0, 30)):
            moves = _shuffles_first(board)
            if not moves:
                break
            board.push(moves[rng.randrange(min(4, len(moves)))])
        root = Node()
        root.state = _BoardState(board)
        for _walk in range(12):
            node, depth = root, 0
            for _ in range(rng.randint(1, 12)):
                if not node.moves:
                    node.moves = _shuffles_first(board)
                    node.children = [None] * len(node.moves)
                if not node.moves:
                    break
                i = rng.randrange(min(3, len(node.moves)))  # few branches: walks meet again
                child = node.children[i]
                descend(board, node.moves[i], child, node.state)
                if child is None:
                    child = Node()
                    child.state = _BoardState(board)
                    node.children[i] = child
                node, depth = child, depth + 1
                assert np.array_equal(encode_lc0(board, cache), _replayed_planes(board)), (
                    f"{board.root().fen()} {[m.uci() for m in board.move_stack]}")
                checked += 1
            for _ in range(depth):
                board.pop()
            assert np.array_equal(encode_lc0(board, cache), _replayed_planes(board))
    assert checked > 2000

    # The root's castling rights as its FEN gave them (kq with no black rook) are cleaned
    # before the root is compared: the knight's and the king's round trip repeats it.
    board = chess.Board(ROOTS[4])
    node = Node()
    node.state = _BoardState(board)
    for uci in ("g1f3", "e8d8", "f3g1", "d8e8"):
        child = Node()
        descend(board, chess.Move.from_uci(uci), None, node.state)
        child.state = _BoardState(board)
        node = child
    planes = encode_lc0(board, cache)
    assert planes[12].all() and np.array_equal(planes, _replayed_planes(board))

    # Copies with part of the stack share the later states but not the history before
    # them: the same cache still answers as a replay of each copy's own game.
    board = chess.Board()
    for uci in ("g1f3", "g8f6", "f3g1", "f6g8") * 3 + ("e2e4", "e7e5", "g1f3", "g8f6", "f3g1", "f6g8"):
        board.push_uci(uci)
        encode_lc0(board, cache)
    for keep in range(len(board.move_stack) + 1):
        part = board.copy(stack=keep)
        assert np.array_equal(encode_lc0(part, cache), _replayed_planes(part)), keep


def test_policy_indices_by_table_equal_the_rules() -> None:
    rng = random.Random(4)
    for fen in [chess.STARTING_FEN, "r3k2r/1P6/8/8/8/8/6p1/R3K2R w KQkq - 0 1",
                "r3k2r/1P6/8/8/8/8/6p1/R3K2R b KQkq - 0 1"]:
        for _ in range(15):
            board = chess.Board(fen)
            for _ in range(rng.randint(0, 50)):
                moves, idx = legal_policy_indices(board)
                assert idx.tolist() == [move_to_policy_index(board, m) for m in moves], board.fen()
                if not moves:
                    break
                board.push(rng.choice(moves))


def test_our_encoding_through_the_evaluator_is_unchanged(tiny_net: PolicyValueNet) -> None:
    board = _game(ITALIAN)
    assert np.array_equal(Evaluator(tiny_net).encode(board), encode_board(board))


def test_the_settings_job_registers_an_lc0_file(store_path: Path, maia_path: Path, tmp_path: Path) -> None:
    from conceptcoach.desktop.network_jobs import register_file as register_job

    steps: list[str] = []
    result = register_job(str(store_path), str(maia_path), "", lambda d, t, m: steps.append(m), lambda: False)
    assert (result["name"], result["family"], result["role"], result["rating"]) == ("maia-1900", "lc0", "human", 1900)
    assert steps[-1] == "registered"
    junk = tmp_path / "junk.pb.gz"
    junk.write_bytes(b"\x1f\x8b not really")
    with pytest.raises(ValueError, match="junk.pb.gz is not a usable network"):
        register_job(str(store_path), str(junk), "teacher", lambda d, t, m: None, lambda: False)
