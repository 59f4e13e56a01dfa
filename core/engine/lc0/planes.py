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

import weakref
from typing import Any

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


# One position of the game as the planes need it: the six piece bitboards, White's and
# Black's occupancy, side to move, castling rights, rule-50 count.
_Position = tuple[int, int, int, int, int, int, int, int, bool, int, int]


def _position(p: Any) -> _Position:
    """``p`` is a board or one of python-chess's saved states of one (the same fields)."""
    if isinstance(p, chess.Board):
        white, black = p.occupied_co[chess.WHITE], p.occupied_co[chess.BLACK]
    else:
        white, black = p.occupied_w, p.occupied_b
    return (p.pawns, p.knights, p.bishops, p.rooks, p.queens, p.kings,
            white, black, p.turn, p.castling_rights, p.halfmove_clock)


def _key(pos: _Position) -> tuple[int | bool, ...]:
    return pos[:7] + pos[8:10]  # no black occupancy (implied), no rule-50 count


def _positions(board: chess.Board, first: int) -> dict[int, _Position]:
    """Positions ``first`` .. ``len(board.move_stack)`` of the game (0 is the root).

    python-chess keeps the state before each move on its stack (``Board._stack``, what
    ``pop`` restores), so earlier positions are read, not replayed: encoding stays as cheap
    at move 80 as at move 1, which matters for a search that encodes every leaf."""
    last = len(board.move_stack)
    states = getattr(board, "_stack", None)
    out: dict[int, _Position] = {last: _position(board)}
    if states is not None and len(states) == last:
        for idx in range(first, last):
            out[idx] = _position(states[idx])
    else:  # a python-chess without the state stack: replay from the root
        replay = board.root()
        for idx, move in enumerate(board.move_stack):
            if idx >= first:
                out[idx] = _position(replay)
            replay.push(move)
    if first == 0 and last > 0:
        # The root's rights as a FEN gave them may name rooks or kings that are not there;
        # python-chess cleans them at the first push, so every later state is clean.
        out[0] = out[0][:9] + (board.root().clean_castling_rights(),) + out[0][10:]
    return out


def encode_lc0(board: chess.Board, cache: HistoryCache | None = None,
               out: npt.NDArray[np.float32] | None = None) -> npt.NDArray[np.float32]:
    """The (112, 8, 8) float32 input planes lc0 builds for ``board`` and its move stack.

    ``cache`` (a search's :class:`HistoryCache`) keeps what each earlier position of the
    history contributes, so a search that encodes thousands of leaves sharing their
    history works out each position once; ``out`` is written in place of a new array.

    >>> encode_lc0(chess.Board()).shape
    (112, 8, 8)
    """
    planes = out if out is not None else np.empty((NUM_PLANES, 8, 8), dtype=np.float32)
    found = cache.slots(board) if cache is not None else None
    if found is None:
        masks, repeated = _history_slots(board)
    else:
        masks, repeated = found
    _write_planes(planes, board, masks, repeated)
    return planes


class HistoryCache:
    """What each saved position of a game contributes to lc0's history planes: its piece
    masks (White's six kinds, then Black's), its repetition key and whether it occurred
    before in the game; and for a game's root, the positions lc0 repeats before it.

    Keyed by python-chess's saved state objects (``Board._stack``), weakly, so an entry
    lives as long as the state. A search keeps each tree node's state and puts that
    same object on the board's stack whenever it passes through the node (see
    ``conceptcoach.engine.mcts.descend``), so the older seven slots of a leaf are nearly
    always found here. A state object sits at the same place of the same game (python-chess
    never re-parents one; a full copy shares every earlier state), which makes its
    repetition flag a property of the object and its index; a state met at another index
    (a copy with part of the stack) is worked out afresh."""

    def __init__(self) -> None:
        # state -> (absolute masks, repetition key, occurred before, index in its game)
        self._slots: weakref.WeakKeyDictionary[Any, tuple[tuple[int, ...], tuple[int | bool, ...], bool, int]] = (
            weakref.WeakKeyDictionary())
        self._fill: weakref.WeakKeyDictionary[Any, tuple[int, ...] | None] = weakref.WeakKeyDictionary()

    def slots(self, board: chess.Board) -> tuple[list[int], list[bool]] | None:
        """The history masks (13 per slot, newest first) and the slots' repetition flags
        of ``board``, as :func:`_history_slots` gives them; None when the board keeps no
        saved states (then the general path answers)."""
        last = len(board.move_stack)
        states = getattr(board, "_stack", None)
        if states is None or len(states) != last:
            return None
        us = board.turn
        now = _position(board)
        key = _key(now)
        clock = now[10]
        masks: list[int] = []
        repeated = [clock >= 4 and any(self._entry(states, j)[1] == key
                                       for j in range(last - 2, max(-1, last - clock - 1), -2))]
        _relative(masks, _absolute_masks(now), us)
        for idx in range(last - 1, max(-1, last - HISTORY), -1):
            entry = self._entry(states, idx)
            _relative(masks, entry[0], us)
            repeated.append(entry[2])
        if last < HISTORY - 1:
            fill = self._root_fill(board, states[0] if last else None)
            if fill is not None:
                for _ in range(HISTORY - 1 - last):
                    _relative(masks, fill, us)
                    repeated.append(False)
        return masks, repeated

    def _entry(self, states: list[Any], idx: int) -> tuple[tuple[int, ...], tuple[int | bool, ...], bool, int]:
        state = states[idx]
        entry = self._slots.get(state)
        if entry is not None and entry[3] == idx:
            return entry
        # New, or met at another index: a board copied with part of its stack
        # (``copy(stack=n)``) shares the later states but not the history before them.
        pos = _position(state)
        if idx == 0:  # the root's rights as the FEN gave them, cleaned as python-chess will
            pos = pos[:9] + (_restored(state).clean_castling_rights(),) + pos[10:]
        key, clock = _key(pos), pos[10]
        seen = clock >= 4 and any(self._entry(states, j)[1] == key
                                  for j in range(idx - 2, max(-1, idx - clock - 1), -2))
        fresh = (_absolute_masks(pos), key, seen, idx)
        if entry is None:
            self._slots[state] = fresh
        return fresh

    def _root_fill(self, board: chess.Board, root_state: Any) -> tuple[int, ...] | None:
        """The masks lc0 repeats before a root that is not the standard start, or None."""
        if root_state is None:
            return _fill_masks(board)
        if root_state not in self._fill:
            self._fill[root_state] = _fill_masks(_restored(root_state))
        return self._fill[root_state]


def _restored(state: Any) -> chess.Board:
    """A board in a saved state (what python-chess's ``Board.root`` does with the first)."""
    board = chess.Board(None)
    state.restore(board)
    return board


def _fill_masks(root: chess.Board) -> tuple[int, ...] | None:
    if _is_standard_start(root):
        return None
    return _absolute_masks(_position(_before_double_step(root)))


def _absolute_masks(pos: _Position) -> tuple[int, ...]:
    white, black = pos[6], pos[7]
    return tuple(piece & side for side in (white, black) for piece in pos[:6])


def _relative(masks: list[int], absolute: tuple[int, ...], us: bool) -> None:
    """Append one history slot's 13 masks: ours, theirs, the repetition plane (0)."""
    if us == chess.WHITE:
        masks.extend(absolute)
    else:
        masks.extend(absolute[6:])
        masks.extend(absolute[:6])
    masks.append(0)


def _history_slots(board: chess.Board) -> tuple[list[int], list[bool]]:
    """The 104 history masks (13 per slot, newest first) and the slots' repetition flags,
    from the board's own stack: the general path, for any game and any root."""
    last = len(board.move_stack)
    drawn = range(last, max(-1, last - HISTORY), -1)  # newest first
    # A position can only repeat one since the last pawn move or capture (both
    # irreversible), so the keys needed go back that far from each drawn position.
    clocks = {last: board.halfmove_clock}
    first = max(0, last - HISTORY + 1)
    positions = _positions(board, first)
    for idx in drawn:
        clocks[idx] = positions[idx][10]
    window = max(0, min(idx - clocks[idx] for idx in drawn))
    if window < first:
        positions = _positions(board, window)
    keys = {idx: _key(pos) for idx, pos in positions.items()}

    us = board.turn
    masks: list[int] = []
    repeated: list[bool] = []
    for idx in drawn:
        pos = positions[idx]
        lo = max(0, idx - clocks[idx])
        repeated.append(any(keys[j] == keys[idx] for j in range(lo, idx)))
        masks.extend(_piece_masks(pos, us))
    if last < HISTORY - 1:
        root = board.root() if last else board
        if not _is_standard_start(root):
            fill = _position(_before_double_step(root))
            for _ in range(HISTORY - 1 - last):
                masks.extend(_piece_masks(fill, us))
                repeated.append(False)
    return masks, repeated


def _write_planes(planes: npt.NDArray[np.float32], board: chess.Board, masks: list[int],
                  repeated: list[bool]) -> None:
    us = board.turn
    n = len(masks)
    if n:
        drawn_planes = _bitboard_planes(masks)
        # Black to move: the board mirrored top to bottom (rank 8 becomes row 0).
        planes[:n] = drawn_planes[:, ::-1] if us == chess.BLACK else drawn_planes
    planes[n:] = 0.0
    for slot, seen_before in enumerate(repeated):
        if seen_before:
            planes[slot * PLANES_PER_POSITION + 12] = 1.0
    them = not us
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


def _piece_masks(pos: _Position, us: bool) -> list[int]:
    """13 masks of one history slot: our six piece kinds, theirs, the repetition plane (0)."""
    ours, theirs = (pos[6], pos[7]) if us == chess.WHITE else (pos[7], pos[6])
    out = [piece & side for side in (ours, theirs) for piece in pos[:6]]
    out.append(0)
    return out
