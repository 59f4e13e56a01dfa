"""Arrows on the board: their description, their geometry (straight or a knight's bend),
where a label sits on one, and the scene items that draw them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import chess
from conceptcoach.desktop.board.geometry import SQ, Z_ARROW, square_rect
from conceptcoach.desktop.board.theme import rgba
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainterPath, QPainterPathStroker, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsScene

USER_ARROW_WIDTH = 0.16

ARROW_COLOURS = {
    "green": "#15781bd0",
    "red": "#882020d0",
    "blue": "#003088d0",
    "yellow": "#e68f00d0",
    "teacher": "#15781be0",
    "visits": "#1f5fbf99",
    "user": "#15781bb0",
}


@dataclass(frozen=True)
class Arrow:
    """An arrow between two squares; ``width`` is in squares (0.08 thin .. 0.3 wide)."""

    start: int
    end: int
    colour: str = "green"
    width: float = 0.18
    label: str = ""



def arrow_points(start: QPointF, end: QPointF, knight: bool) -> list[QPointF]:
    """The arrow's polyline: straight, or bent at a right angle for a knight move
    (the long leg first, like on a real board)."""
    points = [start]
    if knight:
        dx, dy = end.x() - start.x(), end.y() - start.y()
        points.append(QPointF(end.x(), start.y()) if abs(dx) > abs(dy) else QPointF(start.x(), end.y()))
    points.append(end)
    return points


def _along(points: Sequence[QPointF], t: float) -> QPointF:
    """The point at fraction ``t`` of the polyline's length."""
    legs = [(a, b, math.hypot(b.x() - a.x(), b.y() - a.y())) for a, b in zip(points, points[1:], strict=False)]
    left = t * sum(n for _, _, n in legs)
    for a, b, n in legs:
        if left <= n or b is points[-1]:
            f = left / n if n else 0.0
            return a + (b - a) * min(1.0, f)
        left -= n
    return points[-1]


def label_anchor(points: Sequence[QPointF], pieces: Sequence[QPointF], taken: Sequence[QPointF]) -> QPointF:
    """Where on an arrow its label covers least: among points of the middle half of
    the shaft, the one farthest from the centres of occupied squares (a piece fills
    the middle of its square; the edge between two squares is free) and from labels
    already placed; the middle wins ties."""
    best, best_score = _along(points, 0.5), -1e9
    for i in range(21):
        t = 0.25 + 0.5 * i / 20
        pt = _along(points, t)
        near_piece = min((math.hypot(pt.x() - c.x(), pt.y() - c.y()) for c in pieces), default=SQ)
        near_label = min((math.hypot(pt.x() - c.x(), pt.y() - c.y()) for c in taken), default=SQ)
        score = min(near_piece, SQ * 0.5) + min(near_label, SQ * 0.6) - abs(t - 0.5) * SQ * 0.05
        if score > best_score:
            best, best_score = pt, score
    return best


def arrow_path(start: QPointF, end: QPointF, width: float, knight: bool) -> QPainterPath:
    """A filled arrow with a head; knight moves bend at a right angle like on a real board."""
    path = QPainterPath()
    w = width * SQ
    head_w, head_l = w * 2.2, min(w * 2.2, SQ * 0.45)
    points = arrow_points(start, end, knight)
    segs = []
    for i in range(len(points) - 1):
        a, b = points[i], points[i + 1]
        segs.append((a, b))
    # Shaft: a stroked polyline that stops where the head begins.
    a, b = segs[-1]
    vec = b - a
    length = (vec.x() ** 2 + vec.y() ** 2) ** 0.5 or 1.0
    ux, uy = vec.x() / length, vec.y() / length
    base = QPointF(b.x() - ux * head_l, b.y() - uy * head_l)
    shaft = QPainterPath(points[0])
    for p in points[1:-1]:
        shaft.lineTo(p)
    shaft.lineTo(base)
    stroker_pen = QPen()
    stroker_pen.setWidthF(w)
    stroker_pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    stroker_pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    stroker = QPainterPathStroker(stroker_pen)
    path = stroker.createStroke(shaft)
    px, py = -uy, ux
    head = QPolygonF([
        QPointF(base.x() + px * head_w / 2, base.y() + py * head_w / 2),
        b,
        QPointF(base.x() - px * head_w / 2, base.y() - py * head_w / 2),
    ])
    path.addPolygon(head)
    path.closeSubpath()
    return path.simplified()



def arrow_items(scene: QGraphicsScene, arrows: Sequence[Arrow], flipped: bool,
                occupied: Iterable[int]) -> list[QGraphicsItem]:
    """Add the arrows (and their labels on dark pills) to ``scene``; returns the items added,
    for the caller to remove later. ``occupied`` are the squares with a piece, which labels avoid."""
    pieces = [square_rect(sq, flipped).center() for sq in occupied]
    items: list[QGraphicsItem] = []
    labels: list[QPointF] = []
    for arrow in arrows:
        if arrow.start == arrow.end:
            continue
        start = square_rect(arrow.start, flipped).center()
        end = square_rect(arrow.end, flipped).center()
        df = abs(chess.square_file(arrow.start) - chess.square_file(arrow.end))
        dr = abs(chess.square_rank(arrow.start) - chess.square_rank(arrow.end))
        knight = {df, dr} == {1, 2}
        path = arrow_path(start, end, max(0.04, min(arrow.width, 0.4)), knight)
        item = QGraphicsPathItem(path)
        item.setBrush(rgba(ARROW_COLOURS.get(arrow.colour, arrow.colour)))
        item.setPen(QPen(Qt.PenStyle.NoPen))
        item.setZValue(Z_ARROW)
        item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        scene.addItem(item)
        items.append(item)
        if arrow.label:
            font = QFont()
            font.setPixelSize(int(SQ * 0.2))
            font.setBold(True)
            text = scene.addSimpleText(arrow.label, font)
            text.setBrush(QColor("#ffffff"))
            text.setPen(QPen(QColor("#000000"), 1.2))
            br = text.boundingRect()
            at = label_anchor(arrow_points(start, end, knight), pieces, labels)
            labels.append(at)
            text.setPos(at.x() - br.width() / 2, at.y() - br.height() / 2)
            text.setZValue(Z_ARROW + 0.2)
            # A dark pill behind the figure keeps it legible over light squares and pieces.
            pill = QPainterPath()
            pill.addRoundedRect(QRectF(at.x() - br.width() / 2 - SQ * 0.04, at.y() - br.height() / 2,
                                       br.width() + SQ * 0.08, br.height()), SQ * 0.06, SQ * 0.06)
            back = QGraphicsPathItem(pill)
            back.setBrush(QColor(0, 0, 0, 150))
            back.setPen(QPen(Qt.PenStyle.NoPen))
            back.setZValue(Z_ARROW + 0.1)
            back.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            scene.addItem(back)
            items.append(back)
            items.append(text)
    return items
