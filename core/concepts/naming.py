"""Working names for discovered concepts, until a coach names them.

A name must tell concepts apart in a list that shows its first twenty-odd
characters, so it starts with what differs most: the kind, then the teacher's
move in the source position (in SAN, numbered as in a game score), then the layer.
"""

from __future__ import annotations

import chess


def move_label(fen: str, uci: str) -> str:
    """'16...Nc4' for Black's move 16, '17.Rxh4' for White's; the UCI text if the
    move does not fit the position."""
    board = chess.Board(fen)
    try:
        move = chess.Move.from_uci(uci)
    except ValueError:
        return uci
    if not board.is_legal(move):
        return uci
    dots = "." if board.turn == chess.WHITE else "..."
    return f"{board.fullmove_number}{dots}{board.san(move)}"


def concept_name(polarity: str, players: str, layer: str, source_fen: str, teacher_move: str | None) -> str:
    """e.g. 'Plan 16...Nc4 (block5)', 'Prevention 21.Rd1 (block3, both sides)'."""
    kind = "Plan" if polarity == "active" else "Prevention"
    move = f" {move_label(source_fen, teacher_move)}" if teacher_move else ""
    sides = ", both sides" if players == "both" else ""
    return f"{kind}{move} ({layer}{sides})"
