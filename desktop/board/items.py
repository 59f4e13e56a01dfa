"""Scene items of the board other than arrows: a piece, the heat overlay, and the
promotion chooser's pieces."""

from __future__ import annotations

import chess
from conceptcoach.desktop.board.geometry import BOARD, SQ, Z_CHOOSER, Z_HEAT, Z_PIECE, square_rect
from conceptcoach.desktop.board.theme import PieceSet, element_id
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsObject,
    QGraphicsScene,
    QStyleOptionGraphicsItem,
    QWidget,
)

PROMOTION_KINDS = (chess.QUEEN, chess.ROOK, chess.BISHOP, chess.KNIGHT)


class PieceItem(QGraphicsObject):
    """One piece, painted by the board's shared renderer; ``pos`` is animatable."""

    def __init__(self, pieces: PieceSet, symbol: str) -> None:
        super().__init__()
        self._pieces = pieces
        self.symbol = symbol
        self.setZValue(Z_PIECE)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # the view handles the mouse

    def set_symbol(self, symbol: str) -> None:
        if symbol != self.symbol:
            self.symbol = symbol
            self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, SQ, SQ)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        size = SQ * 0.9 * max(0.5, min(1.1, self._pieces.scale))
        margin = (SQ - size) / 2
        target = QRectF(margin, margin, size, size)
        t = painter.worldTransform()
        px = round(size * max(abs(t.m11()), abs(t.m12())) * painter.device().devicePixelRatioF())
        if px <= 0 or px > 1024:
            self._pieces.paint(painter, element_id(self.symbol), target)  # odd transforms: vector
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawPixmap(target, self._pieces.pixmap(element_id(self.symbol), px), QRectF(0, 0, px, px))


class HeatItem(QGraphicsItem):
    """64 translucent squares: positive values warm (orange-red), negative cool (blue)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[float] = []
        self.flipped = False
        self.setZValue(Z_HEAT)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, BOARD, BOARD)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if not self.values:
            return
        top = max(abs(v) for v in self.values) or 1.0
        painter.setPen(Qt.PenStyle.NoPen)
        for square, value in enumerate(self.values):
            share = abs(value) / top
            if share < 0.04:
                continue
            colour = QColor(230, 70, 20) if value > 0 else QColor(20, 90, 255)
            colour.setAlphaF(0.18 + 0.52 * share)
            painter.setBrush(colour)
            painter.drawRect(square_rect(square, self.flipped))



def chooser_square(to_sq: int, i: int) -> int:
    """The square of the promotion chooser's ``i``-th piece: from ``to_sq`` towards the middle."""
    step = -8 if chess.square_rank(to_sq) == 7 else 8
    return to_sq + step * i


def chooser_items(scene: QGraphicsScene, pieces: PieceSet, colour: chess.Color, to_sq: int,
                  flipped: bool) -> list[QGraphicsItem]:
    """Add the promotion chooser (a shade over the board, then queen, rook, bishop and knight
    in a file from ``to_sq``) to ``scene``; returns the items added."""
    shade = scene.addRect(QRectF(0, 0, BOARD, BOARD), QPen(Qt.PenStyle.NoPen), QBrush(QColor(0, 0, 0, 90)))
    shade.setZValue(Z_CHOOSER)
    items: list[QGraphicsItem] = [shade]
    for i, kind in enumerate(PROMOTION_KINDS):
        r = square_rect(chooser_square(to_sq, i), flipped)
        bg = scene.addEllipse(r.adjusted(4, 4, -4, -4), QPen(QColor("#555"), 2), QBrush(QColor("#f4f4f4")))
        bg.setZValue(Z_CHOOSER + 1)
        piece = PieceItem(pieces, chess.Piece(kind, colour).symbol())
        piece.setPos(r.topLeft())
        piece.setZValue(Z_CHOOSER + 2)
        scene.addItem(piece)
        items += [bg, piece]
    return items
