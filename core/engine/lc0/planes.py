"""lc0's input planes (format 1, ``INPUT_CLASSICAL_112_PLANE``) from a python-chess board.

112 planes of 8 x 8, row = rank, column = file, seen from the side to move (for Black
the board is mirrored top to bottom, so the side to move always plays up the board):

- 8 history positions, newest first, 13 planes each: our pawns, knights, bishops, rooks,
  queens, king; theirs likewise; and a plane of ones when that position occurred before
  in the game;
- 104..107: ones if we can castle queenside, we can castle kingside, they can castle
  queenside, they can castle kingside;
- 108: ones if Black is to move; 109: the halfmove (rule-50) count, unscaled;
  110: zeros; 111: ones (lets the convolutions find the board's edge).

The history is the board's own: ``board.root()`` then ``board.move_stack``. Positions
before the root are unknown, and lc0 (its ``FillEmptyHistory::FEN_ONLY``, what its
Python bindings and search use) handles them in two ways: after the standard start
position the missing slots stay zero; after any other root they repeat the root, with
an en-passant pawn put back on its square before the double step.
"""

from __future__ import annotations

import chess
import numpy as np
import numpy.typing as npt

NUM_PLANES = 112
HISTORY = 8
PLANES_PER_POSITION = 13
AUX_BASE = HISTORY * PLANES_PER_POSITION  # 104

_PIECES = (chess.PAWN, chess.KNIGHT, chess.BISHOP, chess.ROOK, chess.QUEEN, chess.KING)
_START = chess.Board()


def _bitboard_planes(masks: list[int]) -> npt.NDArray[np.float32]:
    # Bit i of a mask is square i (a1 = 0), i.e. row i // 8 and column i % 8.
    raw = np.array(masks, dtype="<u8").view(np.uint8)
    bits = np.unpackbits(raw, bitorder="little").reshape(len(masks), 8, 8)
    return bits.astype(np.float32)


def _position_key(board: chess.Board) -> tuple[int, ...]:
    # What makes two positions "the same" for lc0's repetition plane: pieces, side to
    # move and castling rights. (An en-passant right cannot recur: the double step that
    # made it is irreversible.)
    return (
        board.pawns,
        board.knights,
        board.bishops,
        board.rooks,
        board.queens,
        board.kings,
        board.occupied_co[chess.WHITE],
        int(board.turn),
        board.clean_castling_rights(),
    )


def _is_standard_start(board: chess.Board) -> bool:
    return (
        _position_key(board) == _position_key(_START)
        and board.ep_square is None
        and board.turn == chess.WHITE
    )


def _before_double_step(board: chess.Board) -> chess.Board:
    """The root as lc0 repeats it into unknown history: a pawn that has just made a
    double step (the FEN's en-passant square) is put back where it started."""
    if board.ep_square is None:
        return board
    mover = not board.turn
    ahead = 8 if mover == chess.WHITE else -8
    pawn_at, started_at = board.ep_square + ahead, board.ep_square - ahead
    if board.piece_at(pawn_at) != chess.Piece(chess.PAWN, mover) or board.piece_at(started_at):
        return board
    before = board.copy(stack=False)
    before.remove_piece_at(pawn_at)
    before.set_piece_at(started_at, chess.Piece(chess.PAWN, mover))
    return before


def encode_lc0(board: chess.Board) -> npt.NDArray[np.float32]:
    """The (112, 8, 8) float32 input planes lc0 builds for ``board`` and its move stack.

    >>> encode_lc0(chess.Board()).shape
    (112, 8, 8)
    """
    root = board.root()
    # Only the last HISTORY positions are drawn, but every one is keyed: a drawn
    # position is marked when any earlier position of the game had the same key.
    last = len(board.move_stack)
    drawn: dict[int, chess.Board] = {0: root}
    keys = [_position_key(root)]
    replay = root.copy(stack=False)
    for ply, move in enumerate(board.move_stack, start=1):
        replay.push(move)
        keys.append(_position_key(replay))
        if ply > last - HISTORY:
            drawn[ply] = replay.copy(stack=False)

    us = board.turn
    them = not us
    mirror = us == chess.BLACK
    masks: list[int] = []
    repeated: list[bool] = []
    fill = None if _is_standard_start(root) else _before_double_step(root)
    for slot in range(HISTORY):
        idx = last - slot
        if idx >= 0:
            position = drawn[idx]
            seen_before = keys[idx] in keys[:idx]
        elif fill is not None:
            position, seen_before = fill, False
        else:
            break
        for color in (us, them):
            for piece in _PIECES:
                mask = int(position.pieces_mask(piece, color))
                masks.append(chess.flip_vertical(mask) if mirror else mask)
        masks.append(0)  # the repetition plane, set below
        repeated.append(seen_before)

    planes = np.zeros((NUM_PLANES, 8, 8), dtype=np.float32)
    if masks:
        planes[: len(masks)] = _bitboard_planes(masks)
    for slot, seen_before in enumerate(repeated):
        if seen_before:
            planes[slot * PLANES_PER_POSITION + 12] = 1.0
    castling = (
        board.has_queenside_castling_rights(us),
        board.has_kingside_castling_rights(us),
        board.has_queenside_castling_rights(them),
        board.has_kingside_castling_rights(them),
    )
    for offset, allowed in enumerate(castling):
        if allowed:
            planes[AUX_BASE + offset] = 1.0
    if us == chess.BLACK:
        planes[AUX_BASE + 4] = 1.0
    planes[AUX_BASE + 5] = float(board.halfmove_clock)
    planes[AUX_BASE + 7] = 1.0
    return planes
