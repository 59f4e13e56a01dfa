"""The chess board: a QGraphicsScene of squares, overlays and SVG pieces in a scaling view.

The python-chess board held here is the truth; items are reconciled with it after every
change. Human moves (drag-and-drop or click-click, with a promotion chooser) are checked
against the legal moves before anything happens, so ``moveMade`` only ever carries a legal
UCI move. Programmatic moves (``play``) are animated one after the other, each started by
the previous animation's ``finished`` signal.
"""

from __future__ import annotations

from collections.abc import Sequence

import chess
from conceptcoach.desktop.board.arrows import ARROW_COLOURS, USER_ARROW_WIDTH, Arrow, arrow_items
from conceptcoach.desktop.board.arrows import arrow_path as arrow_path  # re-exported
from conceptcoach.desktop.board.arrows import arrow_points as arrow_points  # re-exported
from conceptcoach.desktop.board.arrows import label_anchor as label_anchor  # re-exported
from conceptcoach.desktop.board.geometry import (
    BOARD,
    SQ,
    Z_COORD,
    Z_DOT,
    Z_DRAG,
    Z_HIGHLIGHT,
    Z_MARK,
    Z_PIECE,
    Z_SQUARE,
    square_at,
    square_rect,
)
from conceptcoach.desktop.board.items import (
    PROMOTION_KINDS,
    HeatItem,
    PieceItem,
    chooser_items,
    chooser_square,
)
from conceptcoach.desktop.board.theme import DEFAULT_THEME, BoardTheme, PieceSet, rgba, theme
from PySide6.QtCore import (
    Property,
    QEasingCurve,
    QPointF,
    QPropertyAnimation,
    QRectF,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QMouseEvent,
    QPainter,
    QPen,
    QRadialGradient,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QWidget,
)

_HeatItem = HeatItem  # the old private name
ANIM_MS = 160

class BoardView(QGraphicsView):
    """Interactive board. ``moveMade(uci)`` fires once per legal human move."""

    moveMade = Signal(str)
    animationsFinished = Signal()
    userArrowsChanged = Signal()
    annotationsEdited = Signal()  # the user drew or erased an arrow or a mark (right button)

    def __init__(self, pieces: PieceSet | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pieces = pieces or PieceSet()
        self._scene = QGraphicsScene(0, 0, BOARD, BOARD, self)
        self.setScene(self._scene)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setMinimumSize(240, 240)
        # The margins around the square board take the window's colour, not a white canvas.
        self.setStyleSheet("QGraphicsView { background: transparent; border: none; }")
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)

        self.board = chess.Board()
        self.flipped = False
        self.theme: BoardTheme = theme(DEFAULT_THEME)
        self.show_coordinates = True
        self.interactive: set[bool] = {chess.WHITE, chess.BLACK}
        self.auto_apply = True  # apply human moves to self.board before emitting moveMade
        self.show_legal = True
        self.last_move: chess.Move | None = None
        self.animation_ms = ANIM_MS  # 0: programmatic moves jump at once (settings: no animation)

        self._squares: list[QGraphicsRectItem] = []
        self._coords: list[QGraphicsSimpleTextItem] = []
        self._overlays: list[QGraphicsItem] = []  # last move, selection, check
        self._dots: list[QGraphicsItem] = []
        self._marks: dict[int, QGraphicsItem] = {}
        self._arrow_items: list[QGraphicsItem] = []
        self._arrows: list[Arrow] = []
        self.user_arrows: list[Arrow] = []
        self._pieces_at: dict[int, PieceItem] = {}
        self._heat = HeatItem()
        self._scene.addItem(self._heat)
        self._chooser: list[QGraphicsItem] = []
        self._pending_promotion: tuple[int, int] | None = None

        self._selected: int | None = None
        self._press_square: int | None = None
        self._press_pos: QPointF | None = None
        self._dragging: PieceItem | None = None
        self._drag_started = False
        self._hover: QGraphicsRectItem | None = None  # outline of the legal target under a dragged piece
        self._right_from: int | None = None
        self._was_selected_on_press = False

        self._queue: list[chess.Move] = []
        self._animation: QPropertyAnimation | None = None
        self._animating: list[QPropertyAnimation] = []

        self._build_squares()
        self._sync_all()

    # ----- public API -------------------------------------------------------------------

    def set_board(self, board: chess.Board, last_move: chess.Move | None = None) -> None:
        """Show ``board`` at once (no animation); pending animations are dropped."""
        self._stop_animations()
        self.board = board.copy()
        self.last_move = last_move if last_move is not None else (board.peek() if board.move_stack else None)
        self._selected = None
        self._close_chooser()
        self._sync_all()

    def set_fen(self, fen: str) -> None:
        self.set_board(chess.Board(fen))

    def play(self, uci: str | chess.Move) -> None:
        """Play a legal move on the board, animated after any animations already queued."""
        move = chess.Move.from_uci(uci) if isinstance(uci, str) else uci
        self._queue.append(move)
        if self._animation is None:
            self._next_animation()

    def is_animating(self) -> bool:
        return self._animation is not None or bool(self._queue)

    def set_flipped(self, flipped: bool) -> None:
        if flipped != self.flipped:
            self.flipped = flipped
            self._heat.flipped = flipped
            self._build_squares()
            self._sync_all()

    def flip(self) -> None:
        self.set_flipped(not self.flipped)

    def set_theme(self, name: str) -> None:
        self.theme = theme(name)
        if self._hover is not None:
            self._scene.removeItem(self._hover)
            self._hover = None
        self._build_squares()
        self._sync_all()

    def set_coordinates(self, shown: bool) -> None:
        self.show_coordinates = shown
        self._build_squares()

    def set_interactive(self, colours: Sequence[bool] | None) -> None:
        """Which sides a human may move (``None`` or empty: the board is read-only)."""
        self.interactive = set(colours or ())
        if not self.interactive:
            self._selected = None
            self._sync_overlays()

    def set_arrows(self, arrows: Sequence[Arrow]) -> None:
        self._arrows = list(arrows)
        self._sync_arrows()

    def set_heat(self, values: Sequence[float] | None) -> None:
        self._heat.values = list(values) if values else []
        self._heat.update()

    def clear_annotations(self) -> None:
        """Remove the arrows and marks a user drew with the right button."""
        self.user_arrows.clear()
        for item in self._marks.values():
            self._scene.removeItem(item)
        self._marks.clear()
        self._sync_arrows()
        self.userArrowsChanged.emit()

    def marked_squares(self) -> list[int]:
        return sorted(self._marks)

    def annotations(self) -> tuple[list[tuple[int, int]], list[int]]:
        """The arrows (from, to) and marked squares the user drew, in drawing order."""
        return [(a.start, a.end) for a in self.user_arrows], sorted(self._marks)

    def set_annotations(self, arrows: Sequence[tuple[int, int]], squares: Sequence[int]) -> None:
        """Show these arrows and marks as the user's own (e.g. a coach's, read back from a
        note), replacing those drawn; ``annotationsEdited`` is not emitted."""
        if self.annotations() == ([tuple(a) for a in arrows], sorted(set(squares))):
            return
        self.user_arrows = [Arrow(a, b, "user", USER_ARROW_WIDTH) for a, b in arrows if a != b]
        for item in self._marks.values():
            self._scene.removeItem(item)
        self._marks.clear()
        for square in squares:
            if square not in self._marks:
                self._add_mark(square)
        self._sync_arrows()
        self.userArrowsChanged.emit()

    def _add_mark(self, square: int) -> None:
        ring = QGraphicsEllipseItem(square_rect(square, self.flipped).adjusted(5, 5, -5, -5))
        ring.setPen(QPen(rgba(ARROW_COLOURS["user"]), SQ * 0.07))
        ring.setZValue(Z_MARK)
        ring.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._scene.addItem(ring)
        self._marks[square] = ring

    def square_center(self, square: int) -> QPointF:
        """Viewport coordinates of a square's centre (for tests and tooltips)."""
        scene_pt = square_rect(square, self.flipped).center()
        return QPointF(self.mapFromScene(scene_pt))

    def try_move(self, move: chess.Move) -> bool:
        """A human move from any input (mouse, typed SAN): applied and emitted when legal."""
        if move not in self.board.legal_moves or self.board.turn not in self.interactive:
            return False
        self._selected = None
        if self.auto_apply:
            self.last_move = move
            self.board.push(move)
        self._sync_all()
        self.moveMade.emit(move.uci())
        return True

    # ----- construction and reconciliation ------------------------------------------------

    def _build_squares(self) -> None:
        for item in self._squares + self._coords:
            self._scene.removeItem(item)
        self._squares, self._coords = [], []
        light, dark = self.theme.qcolor("light"), self.theme.qcolor("dark")
        for square in chess.SQUARES:
            is_light = (chess.square_file(square) + chess.square_rank(square)) % 2 == 1
            rect = self._scene.addRect(square_rect(square, self.flipped), QPen(Qt.PenStyle.NoPen),
                                       QBrush(light if is_light else dark))
            rect.setZValue(Z_SQUARE)
            self._squares.append(rect)
        if not self.show_coordinates:
            return
        font = QFont()
        font.setPixelSize(int(SQ * 0.17))
        font.setBold(True)
        for i in range(8):
            # Files along the bottom edge, ranks along the left edge, in the square's opposite colour.
            file_sq = chess.square(7 - i if self.flipped else i, 7 if self.flipped else 0)
            rank_sq = chess.square(7 if self.flipped else 0, 7 - i if self.flipped else i)
            for square, text, corner in ((file_sq, chess.FILE_NAMES[chess.square_file(file_sq)], "br"),
                                         (rank_sq, chess.RANK_NAMES[chess.square_rank(rank_sq)], "tl")):
                is_light = (chess.square_file(square) + chess.square_rank(square)) % 2 == 1
                item = self._scene.addSimpleText(text, font)
                item.setBrush(dark if is_light else light)
                r = square_rect(square, self.flipped)
                br = item.boundingRect()
                if corner == "br":
                    item.setPos(r.right() - br.width() - SQ * 0.05, r.bottom() - br.height() - SQ * 0.01)
                else:
                    item.setPos(r.left() + SQ * 0.05, r.top() + SQ * 0.02)
                item.setZValue(Z_COORD)
                self._coords.append(item)

    def _sync_all(self) -> None:
        self._sync_pieces()
        self._sync_overlays()
        self._sync_arrows()
        for square, item in self._marks.items():
            item.setRect(square_rect(square, self.flipped).adjusted(5, 5, -5, -5))  # type: ignore[attr-defined]
        self._heat.update()

    def _sync_pieces(self) -> None:
        wanted = self.board.piece_map()
        for square in list(self._pieces_at):
            piece = wanted.get(square)
            item = self._pieces_at[square]
            if piece is None:
                self._scene.removeItem(item)
                del self._pieces_at[square]
            else:
                item.set_symbol(piece.symbol())
        for square, piece in wanted.items():
            existing = self._pieces_at.get(square)
            if existing is None:
                existing = PieceItem(self.pieces, piece.symbol())
                self._scene.addItem(existing)
                self._pieces_at[square] = existing
            existing.setZValue(Z_PIECE)
            existing.setPos(square_rect(square, self.flipped).topLeft())

    def _clear(self, items: list[QGraphicsItem]) -> None:
        for item in items:
            self._scene.removeItem(item)
        items.clear()

    def _sync_overlays(self) -> None:
        self._clear(self._overlays)
        self._clear(self._dots)
        no_pen = QPen(Qt.PenStyle.NoPen)
        if self.last_move is not None:
            for square in (self.last_move.from_square, self.last_move.to_square):
                item = self._scene.addRect(square_rect(square, self.flipped), no_pen,
                                           QBrush(self.theme.qcolor("last_move")))
                item.setZValue(Z_HIGHLIGHT)
                self._overlays.append(item)
        if self.board.is_check():
            king = self.board.king(self.board.turn)
            if king is not None:
                r = square_rect(king, self.flipped)
                grad = QRadialGradient(r.center(), SQ * 0.6)
                grad.setColorAt(0.0, QColor(255, 0, 0, 230))
                grad.setColorAt(0.35, QColor(231, 0, 0, 200))
                grad.setColorAt(1.0, QColor(169, 0, 0, 0))
                item = self._scene.addRect(r, no_pen, QBrush(grad))
                item.setZValue(Z_HIGHLIGHT)
                self._overlays.append(item)
        if self._selected is not None:
            item = self._scene.addRect(square_rect(self._selected, self.flipped), no_pen,
                                       QBrush(self.theme.qcolor("selected")))
            item.setZValue(Z_HIGHLIGHT)
            self._overlays.append(item)
            if self.show_legal:
                targets = {m.to_square for m in self.board.legal_moves if m.from_square == self._selected}
                for target in targets:
                    r = square_rect(target, self.flipped)
                    if self.board.piece_at(target) is not None:
                        # Capture: a ring in the corners so the piece stays visible.
                        ring = QGraphicsEllipseItem(r.adjusted(2, 2, -2, -2))
                        pen = QPen(self.theme.qcolor("dot"), SQ * 0.08)
                        ring.setPen(pen)
                        ring.setBrush(Qt.BrushStyle.NoBrush)
                        self._scene.addItem(ring)
                        dot: QGraphicsItem = ring
                    else:
                        c = r.center()
                        dot = self._scene.addEllipse(QRectF(c.x() - SQ * 0.15, c.y() - SQ * 0.15, SQ * 0.3, SQ * 0.3),
                                                     no_pen, QBrush(self.theme.qcolor("dot")))
                    dot.setZValue(Z_DOT)
                    dot.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
                    self._dots.append(dot)

    def _sync_arrows(self) -> None:
        self._clear(self._arrow_items)
        self._arrow_items = arrow_items(self._scene, self._arrows + self.user_arrows, self.flipped,
                                        self.board.piece_map())

    # ----- animation -----------------------------------------------------------------------

    def _stop_animations(self) -> None:
        self._queue.clear()
        for anim in self._animating:
            anim.stop()
        self._animating.clear()
        self._animation = None

    def _next_animation(self) -> None:
        if not self._queue:
            self._animation = None
            self._sync_all()
            self.animationsFinished.emit()
            return
        move = self._queue.pop(0)
        if move not in self.board.legal_moves:
            # A line that no longer fits the position (e.g. after set_board); stop there.
            self._queue.clear()
            self._next_animation()
            return
        item = self._pieces_at.get(move.from_square)
        self.board.push(move)
        self.last_move = move
        if item is None:
            self._next_animation()
            return
        # The captured piece disappears at once; the mover glides; everything else
        # (castling rook, en-passant pawn, promotion) is reconciled when it lands.
        victim = self._pieces_at.pop(move.to_square, None)
        if victim is not None:
            self._scene.removeItem(victim)
        del self._pieces_at[move.from_square]
        self._pieces_at[move.to_square] = item
        item.setZValue(Z_DRAG)
        if self.animation_ms <= 0:
            item.setPos(square_rect(move.to_square, self.flipped).topLeft())
            self._sync_pieces()
            self._sync_overlays()
            # Still asynchronous, so listeners of animationsFinished see the same order.
            QTimer.singleShot(0, self._next_animation)
            self._animation = True  # type: ignore[assignment]
            return
        anim = QPropertyAnimation(item, b"pos", self)
        anim.setDuration(self.animation_ms)
        anim.setStartValue(item.pos())
        anim.setEndValue(square_rect(move.to_square, self.flipped).topLeft())
        anim.setEasingCurve(QEasingCurve.Type.InOutCubic)
        anim.finished.connect(self._animation_done)
        self._animation = anim
        self._animating = [anim]
        self._sync_overlays()
        anim.start()

    def _animation_done(self) -> None:
        self._animating.clear()
        self._animation = None
        self._sync_pieces()
        self._next_animation()

    # ----- promotion chooser --------------------------------------------------------------

    def _open_chooser(self, from_sq: int, to_sq: int) -> None:
        self._close_chooser()
        self._pending_promotion = (from_sq, to_sq)
        self._chooser = chooser_items(self._scene, self.pieces, self.board.turn, to_sq, self.flipped)
        self._sync_overlays()

    def _chooser_square(self, to_sq: int, i: int) -> int:
        return chooser_square(to_sq, i)

    def _chooser_pick(self, square: int | None) -> None:
        assert self._pending_promotion is not None
        from_sq, to_sq = self._pending_promotion
        self._close_chooser()
        for i, kind in enumerate(PROMOTION_KINDS):
            if square == chooser_square(to_sq, i):
                self.try_move(chess.Move(from_sq, to_sq, promotion=kind))
                return
        self._sync_all()  # cancelled: the pawn goes back


    def _close_chooser(self) -> None:
        self._clear(self._chooser)
        self._pending_promotion = None

    def promotion_pending(self) -> bool:
        return self._pending_promotion is not None

    # ----- mouse -------------------------------------------------------------------------

    def _can_move_from(self, square: int | None) -> bool:
        if square is None or self.board.turn not in self.interactive or self.is_animating():
            return False
        piece = self.board.piece_at(square)
        return piece is not None and piece.color == self.board.turn

    def _attempt(self, from_sq: int, to_sq: int) -> bool:
        """Move from->to if some legal move matches (promotion asks which piece)."""
        candidates = [m for m in self.board.legal_moves if m.from_square == from_sq and m.to_square == to_sq]
        if not candidates:
            return False
        if any(m.promotion for m in candidates):
            self._selected = None
            self._open_chooser(from_sq, to_sq)
            return True
        return self.try_move(candidates[0])

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = self.mapToScene(event.position().toPoint())
        square = square_at(pos, self.flipped)
        if event.button() == Qt.MouseButton.RightButton:
            self._right_from = square
            event.accept()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if self._pending_promotion is not None:
            self._chooser_pick(square)
            return
        if self.user_arrows or self._marks:
            self.clear_annotations()
        self._press_square, self._press_pos, self._drag_started = square, pos, False
        if (self._selected is not None and square is not None and square != self._selected
                and self._attempt(self._selected, square)):
            self._press_square = None
            return
        if self._can_move_from(square):
            assert square is not None
            self._was_selected_on_press = self._selected == square
            self._selected = square
            self._dragging = self._pieces_at.get(square)
            self._sync_overlays()
        else:
            self._selected = None
            self._dragging = None
            self._press_square = None
            self._sync_overlays()
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._dragging is None or self._press_pos is None:
            return
        pos = self.mapToScene(event.position().toPoint())
        if not self._drag_started and (pos - self._press_pos).manhattanLength() < SQ * 0.08:
            return
        self._drag_started = True
        self._dragging.setZValue(Z_DRAG)
        self._dragging.setPos(pos - QPointF(SQ / 2, SQ / 2))
        self._show_hover(square_at(pos, self.flipped))
        event.accept()

    def _show_hover(self, square: int | None) -> None:
        legal = square is not None and self._selected is not None and any(
            m.from_square == self._selected and m.to_square == square for m in self.board.legal_moves)
        if not legal:
            if self._hover is not None:
                self._hover.hide()
            return
        assert square is not None
        if self._hover is None:
            self._hover = self._scene.addRect(QRectF(), QPen(self.theme.qcolor("selected"), SQ * 0.06),
                                              QBrush(Qt.BrushStyle.NoBrush))
            self._hover.setZValue(Z_HIGHLIGHT + 0.5)
            self._hover.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._hover.setRect(square_rect(square, self.flipped).adjusted(SQ * 0.03, SQ * 0.03, -SQ * 0.03, -SQ * 0.03))
        self._hover.show()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        pos = self.mapToScene(event.position().toPoint())
        square = square_at(pos, self.flipped)
        if event.button() == Qt.MouseButton.RightButton:
            self._right_release(square)
            event.accept()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        dragging, from_sq = self._dragging, self._press_square
        self._dragging, self._press_square, self._press_pos = None, None, None
        self._show_hover(None)
        if dragging is None or from_sq is None:
            return
        if square is not None and square != from_sq and self._attempt(from_sq, square):
            event.accept()
            return
        # Illegal drop or a click: the piece goes back; a second click on it deselects.
        if not self._drag_started and square == from_sq and self._was_selected_on_press:
            self._selected = None
        self._sync_all()
        event.accept()

    def _right_release(self, square: int | None) -> None:
        start, self._right_from = self._right_from, None
        if start is None or square is None:
            return
        if start == square:
            item = self._marks.pop(square, None)
            if item is not None:
                self._scene.removeItem(item)
            else:
                self._add_mark(square)
        else:
            existing = [a for a in self.user_arrows if a.start == start and a.end == square]
            if existing:
                self.user_arrows.remove(existing[0])
            else:
                self.user_arrows.append(Arrow(start, square, "user", USER_ARROW_WIDTH))
            self._sync_arrows()
        self.userArrowsChanged.emit()
        self.annotationsEdited.emit()

    # ----- scaling ---------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fitInView(self._scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().showEvent(event)
        self.fitInView(self._scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    # Qt property so styles/tests can read the orientation.
    def _get_flipped(self) -> bool:
        return self.flipped

    flippedProperty = Property(bool, _get_flipped)
