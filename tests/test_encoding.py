"""Board and move encoding: every legal move of real games maps to a unique index and back."""

from __future__ import annotations

import gzip
from pathlib import Path

import chess
import chess.pgn
import numpy as np
import pytest
from conceptcoach.engine.encoding import (
    NUM_MOVES,
    NUM_PLANES,
    encode_board,
    index_to_move,
    legal_move_indices,
    move_to_index,
)


def _games(path: Path, count: int) -> list[chess.pgn.Game]:
    games = []
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as handle:
        while len(games) < count:
            game = chess.pgn.read_game(handle)
            if game is None:
                break
            games.append(game)
    return games


def _check_position(board: chess.Board) -> None:
    moves, idx = legal_move_indices(board)
    assert len(set(idx.tolist())) == len(moves), board.fen()
    assert all(0 <= i < NUM_MOVES for i in idx)
    for move, i in zip(moves, idx, strict=True):
        assert index_to_move(board, int(i)) == move, (board.fen(), move.uci())


@pytest.mark.slow
def test_round_trip_on_every_position_of_real_games(shared_data: Path) -> None:
    games = _games(shared_data / "human" / "lichess_fgf_sample_3000.pgn.gz", 150)
    games += _games(shared_data / "human" / "masters_wch_candidates_1886-2022.pgn.gz", 150)
    positions = 0
    for game in games:
        board = game.board()
        for move in game.mainline_moves():
            _check_position(board)
            positions += 1
            board.push(move)
    assert positions > 20_000


@pytest.mark.parametrize(
    "fen",
    [
        "r3k2r/pppppppp/8/8/8/8/PPPPPPPP/R3K2R w KQkq - 0 1",  # both castlings, White
        "r3k2r/pppppppp/8/8/8/8/PPPPPPPP/R3K2R b KQkq - 0 1",  # both castlings, Black
        "8/8/8/3pP3/8/8/8/4K2k w - d6 0 1",  # en passant, White
        "4k3/8/8/8/3Pp3/8/8/4K3 b - d3 0 1",  # en passant, Black
        "1n2k3/P7/8/8/8/8/8/4K3 w - - 0 1",  # promotions and under-promotions with capture
        "4k3/8/8/8/8/8/p7/1N2K3 b - - 0 1",  # Black promotions with capture
    ],
)
def test_special_moves_round_trip(fen: str) -> None:
    board = chess.Board(fen)
    _check_position(board)


def test_all_underpromotions_have_distinct_indices() -> None:
    board = chess.Board("1n2k3/P7/8/8/8/8/8/4K3 w - - 0 1")
    promos = [m for m in board.legal_moves if m.promotion]
    assert len(promos) == 8  # 4 pieces x (push, capture)
    assert len({move_to_index(board, m) for m in promos}) == 8


def test_perspective_flip_is_symmetric() -> None:
    board = chess.Board("r1bqkb1r/pppp1ppp/2n2n2/4p3/2B1P3/5N2/PPPP1PPP/RNBQK2R w KQkq - 4 4")
    mirrored = board.mirror()  # colours swapped, Black to move
    a, b = encode_board(board), encode_board(mirrored)
    assert a.shape == (NUM_PLANES, 8, 8)
    same = [p for p in range(NUM_PLANES) if p != 18]  # plane 18 is the colour to move
    np.testing.assert_array_equal(a[same], b[same])
    assert a[18].all() and not b[18].any()
    for move in board.legal_moves:
        flipped = chess.Move(chess.square_mirror(move.from_square), chess.square_mirror(move.to_square), move.promotion)
        assert move_to_index(board, move) == move_to_index(mirrored, flipped)


def test_planes_show_side_to_move_pieces_first() -> None:
    board = chess.Board()
    board.push_uci("e2e4")  # Black to move: Black's pieces are "ours", on rows 0-1
    planes = encode_board(board)
    assert planes[5, 0, 4] == 1.0  # our king (Black, e8) on row 0 after the flip
    assert planes[11, 7, 4] == 1.0  # their king (White, e1) on row 7
    assert planes[6, 4, 4] == 1.0  # their pawn on e4 seen from Black: row 4


def test_bad_index_is_refused() -> None:
    board = chess.Board()
    with pytest.raises(ValueError, match="outside"):
        index_to_move(board, NUM_MOVES)
    with pytest.raises(ValueError, match="leaves the board"):
        index_to_move(board, 42 * 64 + 0)  # one square west of a1
