"""MCTS: terminal handling finds mates even with an untrained network; tree invariants."""

from __future__ import annotations

import chess
import numpy as np
import pytest
from conceptcoach.engine.mcts import MCTS, SearchConfig
from conceptcoach.engine.network import Evaluator, PolicyValueNet


def _mates_in(board: chess.Board, n: int) -> bool:
    """True if the side to move can force mate within ``n`` of its moves (brute force)."""
    for move in list(board.legal_moves):
        board.push(move)
        try:
            if board.is_checkmate():
                return True
            if n > 1 and not board.is_game_over() and all(
                _after(board, reply, n - 1) for reply in list(board.legal_moves)
            ):
                return True
        finally:
            board.pop()
    return False


def _after(board: chess.Board, reply: chess.Move, n: int) -> bool:
    board.push(reply)
    try:
        return _mates_in(board, n)
    finally:
        board.pop()


@pytest.mark.parametrize("fen", ["6k1/5ppp/8/8/8/8/8/R3R1K1 w - - 0 1", "7k/8/6K1/8/8/8/8/R7 w - - 0 1"])
def test_finds_mate_in_one_with_untrained_network(tiny_net: PolicyValueNet, fen: str) -> None:
    board = chess.Board(fen)
    summary = MCTS(Evaluator(tiny_net), board, SearchConfig(simulations=200, batch_size=8)).run()
    board.push_uci(summary.best_move)
    assert board.is_checkmate()
    assert summary.children[0].q > 0.99


def test_finds_mate_in_two_with_untrained_network(tiny_net: PolicyValueNet) -> None:
    board = chess.Board("k7/8/2K5/8/8/8/8/1R6 w - - 0 1")
    assert not _mates_in(board, 1) and _mates_in(board, 2)
    summary = MCTS(Evaluator(tiny_net), board, SearchConfig(simulations=1500, batch_size=8)).run()
    board.push_uci(summary.best_move)
    # Whatever Black replies, White mates next move.
    for reply in list(board.legal_moves):
        board.push(reply)
        assert _mates_in(board, 1), f"after {summary.best_move} {reply.uci()} no mate"
        board.pop()
    assert summary.children[0].q > 0.9  # the root mean includes exploration; the move itself wins


def test_terminal_root_is_never_evaluated(tiny_net: PolicyValueNet) -> None:
    calls = []

    def evaluate(planes):  # type: ignore[no-untyped-def]
        calls.append(len(planes))
        return Evaluator(tiny_net)(planes)

    for fen in ["7k/5Q2/6K1/8/8/8/8/8 b - - 0 1", "7k/8/6QK/8/8/8/8/8 b - - 0 1"]:  # stalemate positions
        summary = MCTS(evaluate, chess.Board(fen), SearchConfig(simulations=50)).run()
        assert summary.children == [] and summary.best_move == ""
    mated = chess.Board("7k/6Q1/6K1/8/8/8/8/8 b - - 0 1")
    assert MCTS(evaluate, mated, SearchConfig(simulations=50)).run().value == -1.0
    assert calls == []


def test_tree_summary_invariants(tiny_net: PolicyValueNet) -> None:
    board = chess.Board("r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - 2 3")
    search = MCTS(Evaluator(tiny_net), board, SearchConfig(simulations=400, batch_size=16))
    summary = search.run()
    assert sum(c.n for c in summary.children) == summary.visits == 400
    assert abs(sum(c.p for c in summary.children) - 1.0) < 1e-4
    assert summary.children == sorted(summary.children, key=lambda c: (-c.n, -c.p))
    assert summary.best_move == summary.children[0].move == summary.principal_line[0]
    assert summary.chosen_line == summary.principal_line[: len(summary.chosen_line)]
    for line in [summary.principal_line, *(b.line for b in summary.branches)]:
        b = board.copy()
        for uci in line:
            assert chess.Move.from_uci(uci) in b.legal_moves
            b.push_uci(uci)
    for br in summary.branches:
        assert br.line[: br.depth] == summary.chosen_line[: br.depth]
        assert br.line[br.depth] == br.move != summary.chosen_line[br.depth]
        assert abs(br.value_gap) >= 0.2 or br.visit_gap >= 0.1
        assert len(br.line) <= 10
    # Virtual loss fully undone: every edge's visits are whole numbers.
    assert np.allclose(search.root.n, np.round(search.root.n))


def test_tree_reuse_keeps_the_subtree(tiny_net: PolicyValueNet) -> None:
    search = MCTS(Evaluator(tiny_net), chess.Board(), SearchConfig(simulations=300, batch_size=8))
    summary = search.run()
    best = chess.Move.from_uci(summary.best_move)
    kept = summary.children[0].n
    search.advance(best)
    assert search.root.visits >= kept  # the child's visits came along
    before = search.evaluations
    search.run(100)
    assert search.evaluations - before <= 100


def test_root_noise_is_seeded(tiny_net: PolicyValueNet) -> None:
    cfg = SearchConfig(simulations=64, batch_size=8, root_noise=True)
    a = MCTS(Evaluator(tiny_net), chess.Board(), cfg, rng=np.random.default_rng(3)).run()
    b = MCTS(Evaluator(tiny_net), chess.Board(), cfg, rng=np.random.default_rng(3)).run()
    c = MCTS(Evaluator(tiny_net), chess.Board(), cfg, rng=np.random.default_rng(4)).run()
    assert [x.p for x in a.children] == [x.p for x in b.children]
    assert [x.p for x in a.children] != [x.p for x in c.children]


def test_a_root_with_one_legal_move_is_searched(tiny_net: PolicyValueNet) -> None:
    # Every descent then meets the same pending leaf: a collision, not a hang.
    board = chess.Board("7k/8/6K1/8/8/8/8/6R1 b - - 0 1")
    assert board.legal_moves.count() == 1
    summary = MCTS(Evaluator(tiny_net), board, SearchConfig(simulations=100, batch_size=16)).run()
    assert summary.best_move == "h8g8" and summary.visits == 100


def test_leaves_are_expanded_only_when_a_playout_passes_through(tiny_net: PolicyValueNet) -> None:
    # Moves and priors of a leaf are generated the first time a playout goes through it:
    # the many leaves visited once keep the network's logits and no move list.
    board = chess.Board("r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - 2 3")
    search = MCTS(Evaluator(tiny_net), board, SearchConfig(simulations=300, batch_size=8))
    summary = search.run()
    waiting = expanded = 0
    stack = [search.root]
    while stack:
        node = stack.pop()
        if node.logits is not None:
            waiting += 1
            assert node.moves == [] and node.visits == 1.0 and node.terminal is None
        elif node.moves:
            expanded += 1
            assert len(node.priors) == len(node.moves) == len(node.children)
            assert abs(float(node.priors.sum()) - 1.0) < 1e-4
        stack.extend(c for c in node.children if c is not None)
    assert waiting > 0 and expanded > 1 and waiting + expanded <= search.evaluations
    assert MCTS(Evaluator(tiny_net), board, SearchConfig(simulations=300, batch_size=8)).run() == summary
    # A kept leaf becomes a root that is expanded then, with the visit it had.
    search = MCTS(Evaluator(tiny_net), board, SearchConfig(simulations=12, batch_size=8))
    search.run()
    # A root child the search evaluated once and never passed through.
    move = next(m for m, c in zip(search.root.moves, search.root.children, strict=True)
                if c is not None and c.logits is not None)
    child = search.root.child(move)
    assert child is not None and child.logits is not None
    search.advance(move)
    assert search.root is child and search.run(20).visits == 20 and child.moves


def test_repetition_check_agrees_with_python_chess() -> None:
    # Games full of reversible moves (knights and kings shuffling, checks, castling rights
    # lost by moving), from the start and from FENs, checked at every ply for twofold and
    # threefold repetition against python-chess's own replay.
    import random

    from conceptcoach.engine.repetition import repeated

    starts = [chess.STARTING_FEN, "r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1", "4k3/8/8/8/8/8/4P3/4K2R w KQ - 0 1",
              "8/8/3k4/8/8/3K4/8/6N1 w - - 40 60", "rnbqkbnr/ppp1pppp/8/3pP3/8/8/PPPP1PPP/RNBQKBNR b KQkq - 0 2"]
    rng = random.Random(11)
    checked = repeats = 0
    for game in range(60):
        board = chess.Board(starts[game % len(starts)])
        for _ply in range(80):
            moves = list(board.legal_moves)
            if not moves:
                break
            quiet = [m for m in moves if not board.is_capture(m) and board.piece_type_at(m.from_square) != chess.PAWN]
            # Often take back this side's last move (a piece goes home): positions recur.
            back = chess.Move(board.move_stack[-2].to_square, board.move_stack[-2].from_square) \
                if len(board.move_stack) >= 2 else None
            if back is not None and back in quiet and rng.random() < 0.5:
                board.push(back)
            else:
                board.push(rng.choice(quiet if quiet and rng.random() < 0.95 else moves))
            for count in (2, 3):
                expected = board.is_repetition(count)
                assert repeated(board, count) == expected, (board.fen(), count, [m.uci() for m in board.move_stack])
                checked += 1
                repeats += expected
    assert checked > 5000 and repeats > 200  # the shuffling really repeats positions
