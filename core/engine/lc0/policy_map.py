"""lc0's 1858-move policy: the move order, the convolutional head's plane map, and
python-chess moves to policy indices.

lc0 names a move from the side to move's point of view: for Black the board is
mirrored top to bottom (e7e5 is stored as e2e4). Castling is the king taking its own
rook (e1h1 for O-O), and a promotion to a knight is the plain move (a7a8); queen,
rook and bishop promotions carry a letter (a7a8q).

Both tables are generated from those rules rather than stored:

- the 1858 moves: for each from-square a1, b1, ..., h8, every square a queen or a
  knight could reach from it, in square order; then the 66 promotions a7..h7, by
  target file, each as q, r, b;
- the convolutional head's 80 x 8 x 8 outputs: 56 planes of queen moves (directions N,
  NE, E, SE, S, SW, W, NW, each 1..7 squares), 8 planes of knight moves, 9 planes of
  under- and queen promotions (directions NW, N, NE, each r, b, q), and 7 unused planes;
  within a plane the from-square a1 = 0 .. h8 = 63.

>>> policy_index()[:3], len(policy_index())
(['a1b1', 'a1c1', 'a1d1'], 1858)
"""

from __future__ import annotations

from functools import cache

import chess
import numpy as np
import numpy.typing as npt
from conceptcoach.engine.movegen import legal_moves

NUM_MOVES = 1858
CONV_PLANES = 80

_QUEEN_DIRECTIONS = ((0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1))
_KNIGHT_JUMPS = ((1, 2), (2, 1), (2, -1), (1, -2), (-1, -2), (-2, -1), (-2, 1), (-1, 2))
_PROMOTION_PLANE_PIECES = "rbq"  # the conv head's order; knights are the plain move


def _on_board(file: int, rank: int) -> bool:
    return 0 <= file < 8 and 0 <= rank < 8


@cache
def _moves() -> tuple[str, ...]:
    moves: list[str] = []
    for src in range(64):
        f, r = src % 8, src // 8
        targets: set[int] = set()
        for df, dr in _QUEEN_DIRECTIONS:
            for step in range(1, 8):
                if _on_board(f + df * step, r + dr * step):
                    targets.add(src + df * step + 8 * dr * step)
        for df, dr in _KNIGHT_JUMPS:
            if _on_board(f + df, r + dr):
                targets.add(src + df + 8 * dr)
        moves.extend(chess.SQUARE_NAMES[src] + chess.SQUARE_NAMES[dst] for dst in sorted(targets))
    for f in range(8):
        for df in (-1, 0, 1):
            if _on_board(f + df, 7):
                stem = chess.SQUARE_NAMES[48 + f] + chess.SQUARE_NAMES[56 + f + df]
                moves.extend(stem + piece for piece in "qrb")
    if len(moves) != NUM_MOVES:  # pragma: no cover - a broken rule, not a runtime condition
        raise AssertionError(f"generated {len(moves)} lc0 moves, expected {NUM_MOVES}")
    return tuple(moves)


@cache
def _index_of() -> dict[str, int]:
    return {move: i for i, move in enumerate(_moves())}


def policy_index() -> list[str]:
    """The 1858 lc0 move strings in network output order (side-to-move view, castling
    as king-takes-rook, knight promotion as the plain move)."""
    return list(_moves())


@cache
def _conv_gather() -> npt.NDArray[np.int64]:
    """For each of the 1858 moves, its position in the conv head's flattened 80*64 outputs."""
    positions = np.full(NUM_MOVES, -1, dtype=np.int64)
    index = _index_of()

    def put(plane: int, src: int, move: str) -> None:
        positions[index[move]] = plane * 64 + src

    for d, (df, dr) in enumerate(_QUEEN_DIRECTIONS):
        for step in range(1, 8):
            for src in range(64):
                f, r = src % 8 + df * step, src // 8 + dr * step
                if _on_board(f, r):
                    put(
                        d * 7 + step - 1,
                        src,
                        chess.SQUARE_NAMES[src] + chess.SQUARE_NAMES[r * 8 + f],
                    )
    for k, (df, dr) in enumerate(_KNIGHT_JUMPS):
        for src in range(64):
            f, r = src % 8 + df, src // 8 + dr
            if _on_board(f, r):
                put(56 + k, src, chess.SQUARE_NAMES[src] + chess.SQUARE_NAMES[r * 8 + f])
    for d, df in enumerate((-1, 0, 1)):
        for p, piece in enumerate(_PROMOTION_PLANE_PIECES):
            for src in range(48, 56):
                f = src % 8 + df
                if _on_board(f, 7):
                    move = chess.SQUARE_NAMES[src] + chess.SQUARE_NAMES[56 + f] + piece
                    put(64 + d * 3 + p, src, move)
    if (positions < 0).any():  # pragma: no cover - a broken rule, not a runtime condition
        raise AssertionError("some lc0 moves have no place in the convolutional policy map")
    return positions


def conv_policy_gather() -> npt.NDArray[np.int64]:
    """Indices into a conv policy head's flattened (80 * 64) output, one per lc0 move:
    ``logits_1858 = conv_out.reshape(B, 5120)[:, conv_policy_gather()]``."""
    return _conv_gather().copy()


def lc0_move_string(board: chess.Board, move: chess.Move) -> str:
    """``move`` (legal on ``board``, python-chess notation) as lc0 writes it: from the side
    to move's view, castling as king-takes-rook, knight promotion as the plain move.

    >>> board = chess.Board("r3k2r/8/8/8/8/8/8/R3K2R b KQkq - 0 1")
    >>> lc0_move_string(board, chess.Move.from_uci("e8c8"))
    'e1a1'
    """
    src, dst = move.from_square, move.to_square
    # python-chess gives a castling king's destination (g/c file) in standard chess, or
    # the rook's square in Chess960; lc0 always wants the rook's square.
    if board.is_castling(move) and board.piece_type_at(dst) != chess.ROOK:
        rook_file = 7 if chess.square_file(dst) > chess.square_file(src) else 0
        dst = chess.square(rook_file, chess.square_rank(src))
    if board.turn == chess.BLACK:
        src, dst = chess.square_mirror(src), chess.square_mirror(dst)
    text = chess.SQUARE_NAMES[src] + chess.SQUARE_NAMES[dst]
    if move.promotion is not None and move.promotion != chess.KNIGHT:
        text += chess.piece_symbol(move.promotion)
    return text


def move_to_policy_index(board: chess.Board, move: chess.Move) -> int:
    """The lc0 policy index (0..1857) of ``move`` on ``board``. Raises ``ValueError`` for
    a move lc0 cannot express (not a queen, knight or promotion move)."""
    text = lc0_move_string(board, move)
    try:
        return _index_of()[text]
    except KeyError:
        raise ValueError(f"{move.uci()} ({text} in lc0's view) is not an lc0 policy move") from None


@cache
def _move_table() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The policy index of every (from, to, promotion) move shape, with White and with
    Black to move, keyed ``(from * 64 + to) * 7 + (promotion or 0)`` (-1: no lc0 move).
    Castling is looked up as the king taking its rook."""
    index = _index_of()
    tables = []
    for black in (False, True):
        table = [-1] * (64 * 64 * 7)
        for src in range(64):
            for dst in range(64):
                a, b = (chess.square_mirror(src), chess.square_mirror(dst)) if black else (src, dst)
                stem = chess.SQUARE_NAMES[a] + chess.SQUARE_NAMES[b]
                for promotion in (0, chess.KNIGHT, chess.BISHOP, chess.ROOK, chess.QUEEN):
                    letter = chess.piece_symbol(promotion) if promotion > chess.KNIGHT else ""
                    table[(src * 64 + dst) * 7 + promotion] = index.get(stem + letter, -1)
        tables.append(tuple(table))
    return tables[0], tables[1]


def legal_policy_indices(board: chess.Board) -> tuple[list[chess.Move], npt.NDArray[np.int64]]:
    """The legal moves of ``board`` and their lc0 policy indices, in the same order.

    The same indices as :func:`move_to_policy_index`, by table lookup: a search calls
    this for every node it expands."""
    moves, keys = legal_moves(board)
    table = _move_table()[board.turn == chess.BLACK]
    found = [table[k] for k in keys]
    if board.castling_rights & board.occupied_co[board.turn]:
        kings = board.kings
        for i, m in enumerate(moves):
            src, dst = m.from_square, m.to_square
            if (dst - src == 2 or src - dst == 2) and kings >> src & 1:
                # python-chess's standard castling names the king's square; lc0 the rook's.
                found[i] = table[(src * 64 + ((src & ~7) | (7 if dst > src else 0))) * 7]
    out = np.array(found, dtype=np.int64)
    if len(out) and out.min() < 0:  # pragma: no cover - every legal chess move has an lc0 index
        raise ValueError(f"a legal move of {board.fen()} has no lc0 policy index")
    return moves, out
