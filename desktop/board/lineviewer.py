"""A position and the teacher's line from it: the board, the line in numbered SAN with
the current move marked (each move a link), step buttons and autoplay.

Both the session's learning view and the concept explorer show lessons with this one
widget. At the start position the board carries the search's arrows (the teacher's move
and the next most visited moves, widths by share) and the concept's heat; further along
the line, an arrow for the next move. SAN comes from the caller, computed by the study
core on the DB thread (``conceptcoach.study.runner.line_san``); the widget only numbers
and shows it.

A screen may let the player try a move of their own at the start position
(``set_try_enabled``); the board then leaves the line (``ply == OFF_LINE``) until the
player steps back to it, and autoplay or Forward start from the beginning again.

Arrows and marks drawn with the right button at the start position belong to that
position (``marks``, given with ``set_line``; ``marksEdited`` when the user changes
them): they are shown whenever the board is back at the start and hidden along the
line. Those drawn further along the line last until the next step.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import chess
from conceptcoach.desktop.board.theme import PieceSet
from conceptcoach.desktop.board.view import Arrow
from conceptcoach.desktop.board.widget import BoardWidget, figurine
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

__all__ = ["OFF_LINE", "LineViewer", "mark_names", "marks_of", "numbered", "search_arrows"]

OFF_LINE = -1  # the board shows a move the player tried, not the line
AUTOPLAY_PAUSE_MS = 650
NEXT_MOVE_WIDTH = 0.14


def search_arrows(best: str, shares: Iterable[tuple[str, float]], *, others: int = 3,
                  min_share: float = 0.03) -> list[Arrow]:
    """Arrows for the teacher's move and the ``others`` next most visited moves (those with
    at least ``min_share`` of the visits), each as wide as its share and labelled with it.
    The teacher's arrow comes last so it is drawn on top."""
    ranked = sorted(shares, key=lambda e: -e[1])
    out: list[Arrow] = []
    for uci, share in ranked:
        if uci == best or share < min_share or len(out) >= others:
            continue
        m = chess.Move.from_uci(uci)
        out.append(Arrow(m.from_square, m.to_square, "visits", 0.06 + 0.24 * share, f"{share:.0%}"))
    if best:
        mine = next((s for u, s in ranked if u == best), None)
        m = chess.Move.from_uci(best)
        out.append(Arrow(m.from_square, m.to_square, "teacher", 0.08 + 0.24 * (mine if mine is not None else 0.5),
                         f"{mine:.0%}" if mine is not None else ""))
    return out


def marks_of(arrows: tuple[str, ...], squares: tuple[str, ...]) -> tuple[list[tuple[int, int]], list[int]]:
    """A note's marks as the board draws them: (from, to) squares and square numbers."""
    return ([(chess.parse_square(a[:2]), chess.parse_square(a[2:4])) for a in arrows],
            [chess.parse_square(q) for q in squares])


def mark_names(arrows: list[tuple[int, int]], squares: list[int]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The board's marks as a note stores them ('e2e4', 'd5')."""
    return (tuple(chess.square_name(a) + chess.square_name(b) for a, b in arrows),
            tuple(chess.square_name(q) for q in squares))


def numbered(fen: str, sans: Sequence[str]) -> list[str]:
    """Move numbers for a line played from ``fen``: '12. Nf3', 'Nc6', '13. d4', or
    '12... Nc6' when Black moves first."""
    board = chess.Board(fen)
    number, white = board.fullmove_number, board.turn == chess.WHITE
    out = []
    for i, san in enumerate(sans):
        if white:
            out.append(f"{number}. {san}")
        elif i == 0:
            out.append(f"{number}... {san}")
        else:
            out.append(san)
        if not white:
            number += 1
        white = not white
    return out


class LineViewer(QWidget):
    """The board with a line to step through. ``plyChanged(ply)`` after every step
    (``OFF_LINE`` when the player left the line with a move of their own).

    ``controls`` (the line and the buttons) sits under the board unless the screen
    takes it (``controls_below=False``) to place it in its own layout."""

    plyChanged = Signal(int)
    marksEdited = Signal()  # the user drew or erased an arrow or mark at the start position

    def __init__(self, pieces: PieceSet | None = None, parent: QWidget | None = None, *, san_entry: bool = False,
                 controls_below: bool = True) -> None:
        super().__init__(parent)
        self.board = BoardWidget(pieces, self, san_entry=san_entry)
        self.figurines = False
        self.pause_ms = AUTOPLAY_PAUSE_MS  # between moves when the line plays itself
        self._fen = chess.STARTING_FEN
        self._uci: list[str] = []
        self._san: list[str] = []
        self._ply = 0
        self._root_arrows: list[Arrow] = []
        self._heat: list[float] | None = None
        self._try = False
        self._empty_text = "No line recorded."
        self._marks: tuple[list[tuple[int, int]], list[int]] = ([], [])

        self.line_label = QLabel()
        self.line_label.setWordWrap(True)
        self.line_label.setTextFormat(Qt.TextFormat.RichText)
        self.line_label.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.line_label.linkActivated.connect(lambda href: self.goto(int(href.split(":")[1])))
        self.line_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        icon, sp = self.style().standardIcon, QStyle.StandardPixmap
        self.first_btn = QPushButton(icon(sp.SP_MediaSkipBackward), "")
        self.back_btn = QPushButton(icon(sp.SP_MediaSeekBackward), "")
        self.fwd_btn = QPushButton(icon(sp.SP_MediaSeekForward), "")
        self.last_btn = QPushButton(icon(sp.SP_MediaSkipForward), "")
        self.auto_btn = QPushButton("Autoplay (A)")
        self.auto_btn.setCheckable(True)
        nav = QHBoxLayout()
        nav.setContentsMargins(0, 0, 0, 0)
        for b, tip in ((self.first_btn, "Start position (Home)"), (self.back_btn, "Back (Left)"),
                       (self.fwd_btn, "Forward (Right)"), (self.last_btn, "End of the line (End)")):
            b.setToolTip(tip)
            b.setMaximumWidth(48)
            nav.addWidget(b)
        nav.addWidget(self.auto_btn)
        nav.addStretch(1)
        for b in (self.first_btn, self.back_btn, self.fwd_btn, self.last_btn, self.auto_btn):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys keep going to the board
        self.first_btn.clicked.connect(lambda: self.goto(0))
        self.back_btn.clicked.connect(self.step_back)
        self.fwd_btn.clicked.connect(self.step_forward)
        self.last_btn.clicked.connect(lambda: self.goto(len(self._uci)))
        self.auto_btn.toggled.connect(self._autoplay_toggled)

        self.controls = QWidget()
        cl = QVBoxLayout(self.controls)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.line_label)
        cl.addLayout(nav)

        self.board_row = QHBoxLayout()
        self.board_row.setContentsMargins(0, 0, 0, 0)
        self.board_row.addWidget(self.board, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.board_row, 1)
        if controls_below:
            layout.addWidget(self.controls)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._autoplay_next)
        self.board.view.animationsFinished.connect(self._after_animation)
        self.board.view.annotationsEdited.connect(self._annotations_edited)
        for key, slot in (("Left", self.step_back), ("Right", self.step_forward), ("Home", lambda: self.goto(0)),
                          ("End", lambda: self.goto(len(self._uci))), ("A", self.auto_btn.toggle),
                          ("F", self.board.view.flip)):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        self._update_controls()

    # ----- what is shown -----------------------------------------------------------------

    def add_beside_board(self, widget: QWidget) -> None:
        """Place ``widget`` (a value bar) left of the board."""
        self.board_row.insertWidget(0, widget)

    def set_line(self, fen: str, line_uci: Sequence[str], line_san: Sequence[str], *,
                 arrows: Sequence[Arrow] = (), heat: Sequence[float] | None = None, flip: bool | None = None,
                 marks: tuple[Sequence[tuple[int, int]], Sequence[int]] | None = None) -> None:
        """Show ``fen`` with its line (UCI and the SAN the core computed; the shorter of the
        two counts). ``arrows`` and ``heat`` are drawn at the start position, with the user's
        own ``marks`` (arrows as (from, to) squares, marked squares; none by default);
        ``flip`` None puts the side to move at the bottom."""
        self.stop_autoplay()
        self._empty_text = "No line recorded."
        n = min(len(line_uci), len(line_san))
        self._fen, self._uci, self._san = fen, list(line_uci[:n]), list(line_san[:n])
        self._root_arrows, self._heat = list(arrows), list(heat) if heat else None
        self._marks = ([tuple(a) for a in marks[0]], list(marks[1])) if marks else ([], [])  # type: ignore[misc]
        board = chess.Board(fen)
        self.board.view.set_flipped(board.turn == chess.BLACK if flip is None else flip)
        self._show(0, board, None)

    def set_root_overlays(self, arrows: Sequence[Arrow] | None = None, heat: Sequence[float] | None = None) -> None:
        """Change what the start position shows (e.g. heat switched off)."""
        if arrows is not None:
            self._root_arrows = list(arrows)
        self._heat = list(heat) if heat else None
        if self._ply == 0:
            self._overlays()

    def set_figurines(self, on: bool) -> None:
        self.figurines = on
        self._update_controls()

    def set_try_enabled(self, on: bool) -> None:
        """Whether the player may play a move of their own at the start position."""
        self._try = on
        self._interactive()

    def clear(self, message: str = "No line recorded.") -> None:
        self.stop_autoplay()
        self._fen, self._uci, self._san, self._root_arrows, self._heat = chess.STARTING_FEN, [], [], [], None
        self._marks = ([], [])
        self._empty_text = message
        self._ply = 0
        self.board.set_board(chess.Board(None))
        self.board.set_arrows([])
        self.board.set_heat(None)
        self.board.view.set_annotations([], [])
        self._interactive()
        self._update_controls()

    @property
    def marks(self) -> tuple[list[tuple[int, int]], list[int]]:
        """The user's arrows (from, to) and marked squares at the start position."""
        return list(self._marks[0]), list(self._marks[1])

    def _annotations_edited(self) -> None:
        if self._ply == 0:
            self._marks = self.board.view.annotations()
            self.marksEdited.emit()

    @property
    def ply(self) -> int:
        return self._ply

    @property
    def line(self) -> list[str]:
        return list(self._uci)

    @property
    def fen(self) -> str:
        return self._fen

    @property
    def off_line(self) -> bool:
        return self._ply == OFF_LINE

    @property
    def autoplaying(self) -> bool:
        return self.auto_btn.isChecked()

    # ----- moving along the line -------------------------------------------------------------

    def goto(self, ply: int) -> None:
        """Jump to ``ply`` moves into the line (0: the start position), without animation."""
        self.stop_autoplay()
        self._jump(ply)

    def _jump(self, ply: int) -> None:
        ply = max(0, min(ply, len(self._uci)))
        board = chess.Board(self._fen)
        last = None
        for uci in self._uci[:ply]:
            last = chess.Move.from_uci(uci)
            board.push(last)
        self._show(ply, board, last)

    def step_forward(self) -> None:
        """One move along the line, animated; from a tried move, back to the start."""
        if self._ply == OFF_LINE:
            self._jump(0)
            return
        if self._ply >= len(self._uci) or self.board.view.is_animating():
            return
        self.board.set_arrows([])
        self.board.set_heat(None)
        self.board.set_interactive(None)
        self.board.view.set_annotations([], [])
        self.board.view.play(self._uci[self._ply])
        self._ply += 1
        self._update_controls()
        self.plyChanged.emit(self._ply)

    def step_back(self) -> None:
        self.goto(0 if self._ply == OFF_LINE else self._ply - 1)

    def leave_line(self) -> None:
        """The board shows a move the player tried (already on the board): off the line."""
        self.stop_autoplay()
        self._ply = OFF_LINE
        self.board.set_arrows([])
        self.board.set_heat(None)
        self.board.set_interactive(None)
        self.board.view.set_annotations([], [])
        self._update_controls()
        self.plyChanged.emit(OFF_LINE)

    # ----- autoplay: chained by the board's animationsFinished and a timer, never a loop ----------

    def toggle_autoplay(self) -> None:
        self.auto_btn.toggle()

    def stop_autoplay(self) -> None:
        self._timer.stop()
        if self.auto_btn.isChecked():
            self.auto_btn.blockSignals(True)
            self.auto_btn.setChecked(False)
            self.auto_btn.blockSignals(False)

    def _autoplay_toggled(self, on: bool) -> None:
        if not on:
            self._timer.stop()
            return
        if not self._uci:
            self.stop_autoplay()
            return
        if self._ply == OFF_LINE or self._ply >= len(self._uci):
            self._jump(0)  # from a tried move or the end: play the line from its start
        self._timer.start(min(self.pause_ms, 300))

    def _autoplay_next(self) -> None:
        if not self.auto_btn.isChecked():
            return
        if self._ply == OFF_LINE or self._ply >= len(self._uci):
            self.stop_autoplay()
            return
        if self.board.view.is_animating():
            self._timer.start(50)
            return
        self.step_forward()

    def _after_animation(self) -> None:
        if self._ply > 0:
            self._overlays()
        if self.auto_btn.isChecked():
            if 0 <= self._ply < len(self._uci):
                self._timer.start(self.pause_ms)
            else:
                self.stop_autoplay()

    # ----- drawing ----------------------------------------------------------------------------

    def _show(self, ply: int, board: chess.Board, last: chess.Move | None) -> None:
        self._ply = ply
        self.board.set_board(board, last)
        self._overlays()
        if ply != 0:
            self.board.view.set_annotations([], [])  # the start position's marks stay with it
        self._interactive()
        self._update_controls()
        self.plyChanged.emit(ply)

    def _overlays(self) -> None:
        if self._ply == 0:
            self.board.set_arrows(self._root_arrows)
            self.board.set_heat(self._heat)
            self.board.view.set_annotations(*self._marks)
            return
        self.board.set_heat(None)
        if 0 < self._ply < len(self._uci) and not self.board.view.is_animating():
            m = chess.Move.from_uci(self._uci[self._ply])
            self.board.set_arrows([Arrow(m.from_square, m.to_square, "teacher", NEXT_MOVE_WIDTH)])
        else:
            self.board.set_arrows([])

    def _interactive(self) -> None:
        if self._try and self._ply == 0:
            self.board.set_interactive([chess.Board(self._fen).turn])
        else:
            self.board.set_interactive(None)

    def _update_controls(self) -> None:
        sans = [figurine(s) for s in self._san] if self.figurines else self._san
        parts = []
        plain = self.palette().color(QPalette.ColorRole.WindowText).name()
        for i, text in enumerate(numbered(self._fen, sans)):
            style = "background:#1f6fb2;color:white;" if i == self._ply - 1 else f"color:{plain};"
            parts.append(f"<a href='ply:{i + 1}' style='{style}text-decoration:none'>{text}</a>")
        self.line_label.setText(" ".join(parts) if parts else self._empty_text)
        n, ply = len(self._uci), self._ply
        self.first_btn.setEnabled(ply != 0)
        self.back_btn.setEnabled(ply != 0)
        self.fwd_btn.setEnabled(ply == OFF_LINE or ply < n)
        self.last_btn.setEnabled(0 <= ply < n)
        self.auto_btn.setEnabled(n > 0)
