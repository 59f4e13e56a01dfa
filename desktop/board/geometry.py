"""The board's scene geometry: the square size, the stacking order of its layers, and
the mapping between squares and scene rectangles (either way round)."""

from __future__ import annotations

import chess
from PySide6.QtCore import QPointF, QRectF

SQ = 100.0  # scene units per square; the view scales the whole scene to fit
BOARD = 8 * SQ
ANIM_MS = 160

# Coordinates sit above the pieces (small, in the corners) so they stay readable.
Z_SQUARE, Z_HEAT, Z_HIGHLIGHT, Z_MARK, Z_PIECE, Z_COORD, Z_DOT, Z_ARROW, Z_DRAG, Z_CHOOSER = (
    0, 1, 2, 3, 5, 5.5, 6, 7, 10, 20)


def square_rect(square: int, flipped: bool) -> QRectF:
    file, rank = chess.square_file(square), chess.square_rank(square)
    col, row = (7 - file, rank) if flipped else (file, 7 - rank)
    return QRectF(col * SQ, row * SQ, SQ, SQ)


def square_at(point: QPointF, flipped: bool) -> int | None:
    col, row = int(point.x() // SQ), int(point.y() // SQ)
    if not (0 <= col < 8 and 0 <= row < 8) or point.x() < 0 or point.y() < 0:
        return None
    file, rank = (7 - col, row) if flipped else (col, 7 - row)
    return chess.square(file, rank)

