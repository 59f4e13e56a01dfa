"""The value bar of the learning view: the network's evaluation for White as a vertical bar."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QGraphicsView, QWidget

ACCENT = QColor("#c0392b")


class ValueBar(QWidget):
    """The network's value for White as a vertical bar (white share from the bottom)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value: float | None = None  # -1..1 from White's point of view
        self.flipped = False
        self.setFixedWidth(44)
        self.setToolTip("The network's evaluation for White (-1 lost .. +1 won)")
        self.board_view: QGraphicsView | None = None

    def follow(self, view: QGraphicsView) -> None:
        """Span exactly the board drawn in ``view`` (its squares, not the margins around
        it or the move entry below), redrawn whenever the view is resized."""
        self.board_view = view
        view.viewport().installEventFilter(self)
        self.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            self.update()
        return False

    def bar_rect(self) -> QRectF:
        """Where the bar is drawn: beside the board's squares when following a view."""
        r = QRectF(self.rect()).adjusted(2, 2, -2, -2)
        view = self.board_view
        if view is None or not view.isVisible():
            return r
        board = view.mapFromScene(view.sceneRect()).boundingRect()
        top = self.mapFromGlobal(view.viewport().mapToGlobal(board.topLeft())).y()
        bottom = self.mapFromGlobal(view.viewport().mapToGlobal(board.bottomLeft())).y()
        top, bottom = max(r.top(), top), min(r.bottom(), bottom)
        return QRectF(r.left(), top, r.width(), bottom - top) if bottom - top > 20 else r

    def set_value(self, value: float | None, flipped: bool = False) -> None:
        self.value, self.flipped = value, flipped
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.value is None:
            return  # nothing at all: during tests the bar must not hint (and keeps its width)
        p = QPainter(self)
        r = self.bar_rect()
        p.fillRect(r, QColor("#333"))
        share = (max(-1.0, min(1.0, self.value)) + 1) / 2
        h = r.height() * share
        white = QRectF(r.left(), r.top() if self.flipped else r.bottom() - h, r.width(), h)
        p.fillRect(white, QColor("#f4f4f4"))
        p.setPen(QPen(ACCENT, 1))
        p.drawLine(QPointF(r.left(), r.center().y()), QPointF(r.right(), r.center().y()))
        f = QFont(self.font())
        f.setBold(True)
        f.setPointSizeF(max(6.5, f.pointSizeF() * 0.85))
        p.setFont(f)
        # The number sits inside the side that is ahead, so it is always readable.
        white_ahead = share >= 0.5
        p.setPen(QColor("#111") if white_ahead else QColor("#f4f4f4"))
        fm_h = p.fontMetrics().height() + 4
        at_top = white_ahead == self.flipped
        text_rect = QRectF(r.left(), r.top() + 4, r.width(), fm_h) if at_top else QRectF(
            r.left(), r.bottom() - fm_h - 4, r.width(), fm_h)
        p.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, f"{self.value:+.2f}"[:5])
