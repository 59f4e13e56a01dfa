"""AlphaZero-style board and move encoding, always from the side to move.

Input planes (``NUM_PLANES`` x 8 x 8, float32), board flipped vertically when Black
is to move so that the side to move always plays "up":

====  ==========================================================
0-5   side to move's pawns, knights, bishops, rooks, queens, king
6-11  opponent's pieces in the same order
12    position seen once before (repetition count >= 1)
13    position seen twice before (repetition count >= 2)
14-15 side to move may castle king side / queen side
16-17 opponent may castle king side / queen side
18    colour: all ones when White is to move
19    fifty-move counter / 100
20    all ones (lets convolutions see the board edge)
====  ==========================================================

Moves use the 8 x 8 x 73 = 4672 AlphaZero index ``plane * 64 + from_square``, with
squares in the side-to-move frame: planes 0-55 are queen-like moves (8 directions x
distances 1-7; castling is the king's two-square move, queen promotions are plain
pawn moves), 56-63 knight moves, 64-72 under-promotions (knight, bishop, rook x
capture-left, straight, capture-right).

>>> import chess
>>> board = chess.Board()
>>> move_to_index(board, chess.Move.from_uci("e2e4"))
76
>>> index_to_move(board, 76).uci()
'e2e4'
"""

from __future__ import annotations

import contextlib
import functools

import chess
import numpy as np
import numpy.typing as npt
from conceptcoach.engine.movegen import legal_moves
from conceptcoach.engine.repetition import repeated

NUM_PLANES = 21
NUM_MOVES = 4672
MOVE_PLANES = 73

# (file delta, rank delta) for the 8 queen directions: N, NE, E, SE, S, SW, W, NW.
_QUEEN_DIRS: tuple[tuple[int, int], ...] = ((0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1))
_KNIGHT_DELTAS: tuple[tuple[int, int], ...] = ((1, 2), (2, 1), (2, -1), (1, -2), (-1, -2), (-2, -1), (-2, 1), (-1, 2))
_UNDERPROMOS: tuple[int, ...] = (chess.KNIGHT, chess.BISHOP, chess.ROOK)


def _build_tables() -> tuple[dict[tuple[int, int], int], dict[int, tuple[int, int]]]:
    """(file delta, rank delta) -> plane for non-promotion planes, and the inverse."""
    forward: dict[tuple[int, int], int] = {}
    for d, (df, dr) in enumerate(_QUEEN_DIRS):
        for dist in range(1, 8):
            forward[(df * dist, dr * dist)] = d * 7 + (dist - 1)
    for k, delta in enumerate(_KNIGHT_DELTAS):
        forward[delta] = 56 + k
    inverse = {plane: delta for delta, plane in forward.items()}
    return forward, inverse


_DELTA_TO_PLANE, _PLANE_TO_DELTA = _build_tables()


def _flip(square: int, white_to_move: bool) -> int:
    return square if white_to_move else chess.square_mirror(square)


def move_to_index(board: chess.Board, move: chess.Move) -> int:
    """The policy index of ``move`` in ``board`` (the move need not be checked for legality)."""
    white = board.turn == chess.WHITE
    frm = _flip(move.from_square, white)
    to = _flip(move.to_square, white)
    df = chess.square_file(to) - chess.square_file(frm)
    dr = chess.square_rank(to) - chess.square_rank(frm)
    if move.promotion is not None and move.promotion != chess.QUEEN:
        plane = 64 + _UNDERPROMOS.index(move.promotion) * 3 + (df + 1)
    else:
        try:
            plane = _DELTA_TO_PLANE[(df, dr)]
        except KeyError:
            raise ValueError(f"{move.uci()} is not a chess move shape") from None
    return plane * 64 + frm


def index_to_move(board: chess.Board, index: int) -> chess.Move:
    """The move that ``index`` stands for in ``board`` (queen promotion added for pawns
    reaching the last rank). Raises ValueError for an index outside 0..4671."""
    if not 0 <= index < NUM_MOVES:
        raise ValueError(f"move index {index} is outside 0..{NUM_MOVES - 1}")
    white = board.turn == chess.WHITE
    plane, frm = divmod(index, 64)
    promotion: int | None = None
    if plane >= 64:
        piece_i, dir_i = divmod(plane - 64, 3)
        df, dr = dir_i - 1, 1
        promotion = _UNDERPROMOS[piece_i]
    else:
        df, dr = _PLANE_TO_DELTA[plane]
    f, r = chess.square_file(frm) + df, chess.square_rank(frm) + dr
    if not (0 <= f < 8 and 0 <= r < 8):
        raise ValueError(f"move index {index} leaves the board")
    to = chess.square(f, r)
    if promotion is None and r == 7:
        piece = board.piece_at(_flip(frm, white))
        if piece is not None and piece.piece_type == chess.PAWN:
            promotion = chess.QUEEN
    return chess.Move(_flip(frm, white), _flip(to, white), promotion)


@functools.cache
def _fast_index() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Index of every (from, to, promotion) move shape, for White and for Black to move,
    as flat lists keyed by ``(from * 64 + to) * 7 + (promotion or 0)`` (-1: not a shape)."""
    # Built once, on first use (about 0.2 s), and read-only: the hot path of search is a
    # tuple lookup instead of arithmetic per move.
    black_to_move = chess.Board(None)
    black_to_move.turn = chess.BLACK
    tables = []
    for frame in (chess.Board(None), black_to_move):
        table = [-1] * (64 * 64 * 7)
        for frm in range(64):
            for to in range(64):
                for promo in (None, chess.KNIGHT, chess.BISHOP, chess.ROOK, chess.QUEEN):
                    key = (frm * 64 + to) * 7 + (promo or 0)
                    with contextlib.suppress(ValueError):  # not a chess move shape
                        table[key] = move_to_index(frame, chess.Move(frm, to, promo))
        tables.append(tuple(table))
    return tables[0], tables[1]


def legal_move_indices(board: chess.Board) -> tuple[list[chess.Move], npt.NDArray[np.int64]]:
    """The legal moves of ``board`` and their policy indices, in the same order."""
    moves, keys = legal_moves(board)
    fast_white, fast_black = _fast_index()
    table = fast_white if board.turn == chess.WHITE else fast_black
    return moves, np.array([table[k] for k in keys], dtype=np.int64)


_PIECE_ORDER = (chess.PAWN, chess.KNIGHT, chess.BISHOP, chess.ROOK, chess.QUEEN, chess.KING)


def encode_board(board: chess.Board, out: npt.NDArray[np.float32] | None = None) -> npt.NDArray[np.float32]:
    """The ``NUM_PLANES`` x 8 x 8 input planes of ``board`` (see module docstring).

    Row 0 of a plane is rank 1 of the side to move; column 0 is the a-file.
    """
    white = board.turn == chess.WHITE
    us, them = (chess.WHITE, chess.BLACK) if white else (chess.BLACK, chess.WHITE)
    boards = []
    for colour in (us, them):
        cmask = board.occupied_co[colour]
        for pt in _PIECE_ORDER:
            bb = board.pieces_mask(pt, colour) & cmask
            boards.append(bb if white else chess.flip_vertical(bb))
    bits = np.unpackbits(np.array(boards, dtype="<u8").view(np.uint8), bitorder="little")
    if out is None:
        out = np.zeros((NUM_PLANES, 8, 8), dtype=np.float32)
    else:
        out.fill(0.0)
    out[:12] = bits.reshape(12, 8, 8)
    # Repetitions are only possible after a reversible move; skip the costly check otherwise.
    if board.halfmove_clock >= 4 and repeated(board, 2):
        out[12] = 1.0
        if repeated(board, 3):
            out[13] = 1.0
    out[14] = float(board.has_kingside_castling_rights(us))
    out[15] = float(board.has_queenside_castling_rights(us))
    out[16] = float(board.has_kingside_castling_rights(them))
    out[17] = float(board.has_queenside_castling_rights(them))
    out[18] = 1.0 if white else 0.0
    out[19] = min(board.halfmove_clock, 100) / 100.0
    out[20] = 1.0
    return out


def encode_batch(boards: list[chess.Board]) -> npt.NDArray[np.float32]:
    out = np.zeros((len(boards), NUM_PLANES, 8, 8), dtype=np.float32)
    for i, b in enumerate(boards):
        encode_board(b, out[i])
    return out


def square_to_plane_cell(square: int, white_to_move: bool) -> tuple[int, int]:
    """(row, column) of ``square`` in the planes of a position with that side to move."""
    sq = _flip(square, white_to_move)
    return chess.square_rank(sq), chess.square_file(sq)
