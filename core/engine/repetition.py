"""Whether a position has occurred before in its game, cheaply.

Search asks this of every new leaf (draws by repetition) and our encoding of every
position it encodes (its repetition planes); python-chess's own check scans the whole
game for equal occupancy and then replays it.
"""

from __future__ import annotations

import chess


def repeated(board: chess.Board, count: int) -> bool:
    """``board.is_repetition(count)``, cheaply: python-chess's own check first scans the
    whole game for equal occupancy and then replays it, for every leaf of a search. A
    position can only equal one since the last capture or pawn move (the halfmove
    clock), with the same side to move, so only every second saved state of that window
    is compared. The two rare cases where the saved state alone cannot say (the root of a
    game set up from a FEN, whose castling rights python-chess has not cleaned yet, and a
    position with an en-passant square) are left to python-chess."""
    states = getattr(board, "_stack", None)
    if states is None or len(states) != len(board.move_stack):
        return board.is_repetition(count)
    last = len(states)
    white = board.occupied_co[chess.WHITE]
    seen = 1
    for i in range(last - 2, max(0, last - board.halfmove_clock) - 1, -2):
        s = states[i]
        if (s.occupied == board.occupied and s.occupied_w == white and s.pawns == board.pawns
                and s.knights == board.knights and s.bishops == board.bishops and s.rooks == board.rooks
                and s.queens == board.queens and s.kings == board.kings and s.promoted == board.promoted
                and s.castling_rights == board.castling_rights):
            if i == 0 or s.ep_square is not None or board.ep_square is not None:
                return board.is_repetition(count)
            seen += 1
            if seen >= count:
                return True
    return False
