"""The search's move generator against python-chess's, move for move."""

from __future__ import annotations

import random

import chess
from conceptcoach.engine.movegen import legal_moves

# Pins, checks, en passant (legal, pinned, skewered), castling through attacks,
# promotions with captures, both sides to move.
FENS = (
    chess.STARTING_FEN,
    "r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq - 0 1",  # "kiwipete"
    "8/2p5/3p4/KP5r/1R3p1k/8/4P1P1/8 w - - 0 1",
    "r3k2r/Pppp1ppp/1b3nbN/nP6/BBP1P3/q4N2/Pp1P2PP/R2Q1RK1 w kq - 0 1",
    "rnbq1k1r/pp1Pbppp/2p5/8/2B5/8/PPP1NnPP/RNBQK2R w KQ - 1 8",
    "r4rk1/1pp1qppp/p1np1n2/2b1p1B1/2B1P1b1/P1NP1N2/1PP1QPPP/R4RK1 w - - 0 10",
    "8/8/8/K2pP2r/8/8/8/7k w - d6 0 2",  # en passant would expose the king
    "4k3/8/8/2KpP2q/8/8/8/8 w - d6 0 2",
    "4k3/4r3/8/8/8/8/4B3/4K3 w - - 0 1",  # bishop pinned on the file
    "4k3/8/8/8/8/8/1b6/4K2R w K - 0 1",
    "3k4/8/8/8/8/8/2p5/1N1K4 b - - 0 1",
)


def _check(board: chess.Board) -> None:
    moves, keys = legal_moves(board)
    assert sorted(m.uci() for m in moves) == sorted(m.uci() for m in board.generate_legal_moves()), board.fen()
    assert len(set(moves)) == len(moves)
    assert keys == [(m.from_square * 64 + m.to_square) * 7 + (m.promotion or 0) for m in moves]


def test_legal_moves_equal_python_chess_on_random_games() -> None:
    rng = random.Random(11)
    checked = 0
    for game in range(400):
        board = chess.Board(FENS[game % len(FENS)])
        for _ in range(rng.randint(1, 120)):
            _check(board)
            checked += 1
            moves = list(board.legal_moves)
            if not moves:
                break
            board.push(rng.choice(moves))
    assert checked > 15000


def test_legal_moves_equal_python_chess_on_tricky_positions() -> None:
    for fen in FENS:
        board = chess.Board(fen)
        _check(board)
        board.turn = not board.turn
        if board.is_valid():
            _check(board)
