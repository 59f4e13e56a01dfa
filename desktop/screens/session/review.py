"""The review page: after a test phase (and at the end of a session, or from Results) the
coach goes through the positions one by one: the board with the player's move and the
teacher's as arrows, the accepted moves, and the figures behind them (the teacher's
visit share and value for each move, from the item's stored search, and an engine's
evaluation where the position was verified). Left/Right (or Page Up/Down, or the
buttons) step through the positions; Home/End jump to the first and the last.

The page reads ``conceptcoach.study.review.answer_review`` on the DB worker; it writes
nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import chess
from conceptcoach.desktop.board.theme import PieceSet
from conceptcoach.desktop.board.view import Arrow
from conceptcoach.desktop.board.widget import BoardWidget, figurine
from conceptcoach.desktop.screens.widgets import Banner, fit_table_height, heading, plural
from conceptcoach.desktop.workers import Workers
from conceptcoach.study.phases import Phase
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

ALL = "all"
RIGHT_COLOUR = "#2f855a"
WRONG_COLOUR = "#b3261e"
TABLE_MOVES = 6  # rows of the figures table: the most searched moves, plus the ones that matter


def _cp(cp: int | None) -> str:
    if cp is None:
        return "–"
    return f"{cp / 100:+.2f}"


def review_arrows(pos: Any) -> list[Arrow]:
    """The other accepted moves (thin green), the player's move (blue when accepted, red
    when not; labelled 'you') and the teacher's move (green, wide), drawn in that order so
    the teacher's is on top where they overlap."""
    arrows: list[Arrow] = []

    def arrow(uci: str, colour: str, width: float, label: str = "") -> Arrow:
        m = chess.Move.from_uci(uci)
        return Arrow(m.from_square, m.to_square, colour, width, label)

    for uci in pos.accepted[1:]:
        if uci != pos.answer_uci:
            arrows.append(arrow(uci, "green", 0.08))
    if pos.answer_uci and pos.answer_uci != pos.teacher_uci:
        arrows.append(arrow(pos.answer_uci, "blue" if pos.correct else "red", 0.13, "you"))
    if pos.teacher_uci:
        share = next((m.visit_share for m in pos.moves if m.teacher), None)
        label = "you" if pos.answer_uci == pos.teacher_uci else (f"{share:.0%}" if share is not None else "")
        arrows.append(arrow(pos.teacher_uci, "teacher", 0.2, label))
    return arrows


class ReviewPage(QWidget):
    """``continued()`` when the coach presses the page's button (continue the session,
    finish, or go back); ``open(session_id, ...)`` loads a session's test positions."""

    continued = Signal()

    def __init__(self, workers: Workers, pieces: PieceSet | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.notation = "san"
        self.session_id: int | None = None
        self.positions: list[Any] = []  # study.review.ReviewedPosition, the answered ones
        self.unanswered: dict[str, int] = {}  # phase -> positions not answered yet
        self.shown: list[Any] = []  # those of the phase chosen
        self.index = 0
        self._loading = False
        self._sized = False

        self.title = heading("Review")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.phase = QComboBox()
        self.phase.setAccessibleName("Phase to review")
        self.phase.activated.connect(lambda _i: self._filter(self.phase.currentData()))
        self.error = Banner("error", "")

        self.board = BoardWidget(pieces, san_entry=False)
        self.board.set_interactive(None)
        self.where = QLabel()
        self.where.setWordWrap(True)
        wf = self.where.font()
        wf.setBold(True)
        wf.setPointSizeF(wf.pointSizeF() * 1.1)
        self.where.setFont(wf)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(Qt.TextFormat.RichText)
        self.accepted = QLabel()
        self.accepted.setWordWrap(True)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Move", "Search", "Value", "Engine", ""])
        self.table.horizontalHeaderItem(1).setToolTip("Share of the teacher's search visits")
        self.table.horizontalHeaderItem(2).setToolTip("The teacher's value after the move, for the side to move "
                                                      "(−1 lost … +1 won)")
        self.table.horizontalHeaderItem(3).setToolTip("The engine's evaluation in pawns, for the side to move "
                                                      "(only where the position was verified)")
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        h = self.table.horizontalHeader()
        for c in range(4):
            h.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.engine = QLabel()
        self.engine.setWordWrap(True)
        self.engine.setStyleSheet("color:#555;")
        self.why = QLabel()  # why the position was chosen (SessionItem.why), under its figures
        self.why.setWordWrap(True)
        self.why.setStyleSheet("color:#555;")
        self._whys: dict[int, str] = {}
        self.line = QLabel()
        self.line.setWordWrap(True)
        self.prev_btn = QPushButton("◀ Previous")
        self.next_btn = QPushButton("Next ▶")
        self.count = QLabel()
        self.count.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for b, tip in ((self.prev_btn, "Previous position (Left, Page Up)"),
                       (self.next_btn, "Next position (Right, Page Down)")):
            b.setToolTip(tip)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys keep going to the page
        self.prev_btn.clicked.connect(lambda: self.go(self.index - 1))
        self.next_btn.clicked.connect(lambda: self.go(self.index + 1))
        keys = QLabel("Keys: ← → (Page Up/Down) previous and next, Home/End first and last, F flip")
        keys.setWordWrap(True)
        keys.setStyleSheet("color:#666;")
        self.continue_btn = QPushButton("Continue")
        self.continue_btn.setDefault(True)
        self.continue_btn.setMinimumHeight(34)
        self.continue_btn.clicked.connect(self.continued)

        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(6, 0, 0, 0)
        sl.addWidget(self.where)
        sl.addWidget(self.verdict)
        sl.addWidget(self.accepted)
        sl.addWidget(self.table)
        sl.addWidget(self.engine)
        sl.addWidget(self.why)
        sl.addWidget(heading("The teacher's line", 2))
        sl.addWidget(self.line)
        sl.addStretch(1)
        nav = QHBoxLayout()
        nav.addWidget(self.prev_btn)
        nav.addWidget(self.count, 1)
        nav.addWidget(self.next_btn)
        sl.addLayout(nav)
        sl.addWidget(keys)
        sl.addWidget(self.continue_btn)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(side)
        scroll.setMinimumWidth(300)
        split = self.split = QSplitter()
        split.addWidget(self.board)
        split.addWidget(scroll)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.phase)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.summary)
        lay.addWidget(self.error)
        lay.addWidget(split, 1)

        for key, slot in (("Left", lambda: self.go(self.index - 1)), ("PgUp", lambda: self.go(self.index - 1)),
                          ("Right", lambda: self.go(self.index + 1)), ("PgDown", lambda: self.go(self.index + 1)),
                          ("Home", lambda: self.go(0)), ("End", lambda: self.go(len(self.shown) - 1)),
                          ("F", self.board.view.flip)):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        self._show_nothing("")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._sized and self.split.width() > 0:
            # The figures need room as much as the board: about 58/42 (the stretch factors
            # only share what is left beyond the board's own size hint).
            self._sized = True
            w = self.split.width()
            self.split.setSizes([int(w * 0.58), w - int(w * 0.58)])

    # ----- loading -----------------------------------------------------------------------------

    def open(self, session_id: int, *, phase: str | None = None, only: bool = False, button: str = "Continue",
             title: str | None = None) -> None:
        """Load ``session_id``'s answered test positions and show those of ``phase`` first
        (None: every test phase; ``only``: no other phase offered); ``button`` labels the
        way on."""
        self.session_id = session_id
        self.continue_btn.setText(button)
        self.title.setText(title or (f"{Phase(phase).display} review" if phase else "Review of the session"))
        self.error.set("error", "")
        self._loading = True
        self.positions, self.shown = [], []
        self.summary.clear()
        self._show_nothing("Reading the answers…")

        def work(ctx: Any) -> tuple[list[Any], dict[int, str]]:
            from conceptcoach.store.sessions import session_items
            from conceptcoach.study.review import answer_review

            rows = answer_review(ctx.db, session_id, phases=(phase,) if phase and only else None)
            # Why each position was chosen (e.g. how often players of the rating find it).
            return rows, {it.id: it.why for it in session_items(ctx.db, session_id) if it.why}

        self.workers.db(work, name="answer review",
                        on_success=lambda got: self._loaded(session_id, got[0], phase, got[1]),
                        on_failure=self._failed)

    @property
    def loading(self) -> bool:
        return self._loading

    def _failed(self, message: str) -> None:
        self._loading = False
        self.error.set("error", f"The answers could not be read: {message}")

    def _loaded(self, session_id: int, rows: list[Any], phase: str | None,
                whys: dict[int, str] | None = None) -> None:
        if session_id != self.session_id:
            return  # another session was opened meanwhile
        self._loading = False
        self._whys = whys or {}
        # Positions not answered yet are not shown (nor their answers): the session may go on.
        self.positions = [r for r in rows if r.answered]
        self.unanswered = {p: sum(1 for r in rows if r.phase == p and not r.answered) for p in {r.phase for r in rows}}
        rows = self.positions
        phases = [p for p in (Phase.PRE, Phase.POST, Phase.REVIEW) if any(r.phase == p for r in rows)]
        self.phase.clear()
        for p in phases:
            self.phase.addItem(p.display, p.value)
        if len(phases) > 1:
            self.phase.addItem("All test positions", ALL)
        self.phase.setVisible(len(phases) > 1)
        want = phase if phase in phases else ALL if len(phases) > 1 else (phases[0].value if phases else ALL)
        self.phase.setCurrentIndex(max(0, self.phase.findData(want)))
        self._filter(want)

    def _filter(self, phase: str | None) -> None:
        self.shown = [r for r in self.positions if phase in (None, ALL) or r.phase == phase]
        self.summary.setText(self._summary())
        if not self.shown:
            self._show_nothing("No test positions to review in this session.")
            return
        self.go(0)
        self.board.view.setFocus()

    def _summary(self) -> str:
        parts = []
        for p in (Phase.PRE, Phase.POST, Phase.REVIEW):
            rows = [r for r in self.shown if r.phase == p]
            if not rows:
                continue
            right = sum(r.correct for r in rows)
            text = f"<b>{p.display}</b>: {right} of {plural(len(rows), 'position')} found"
            if self.unanswered.get(p.value):
                text += f" ({self.unanswered[p.value]} not answered yet)"
            parts.append(text)
        if not parts:
            return ""
        return (" · ".join(parts) + ". Green arrow: the teacher's move; thin green: other accepted moves; "
                "your move in blue when accepted, red when not.")

    # ----- one position --------------------------------------------------------------------------

    def _san(self, san: str) -> str:
        return figurine(san) if self.notation == "figurine" else san

    def go(self, index: int) -> None:
        if not self.shown:
            return
        self.index = max(0, min(index, len(self.shown) - 1))
        pos = self.shown[self.index]
        board = chess.Board(pos.fen)
        self.board.view.set_flipped(board.turn == chess.BLACK)
        self.board.set_board(board)
        self.board.set_arrows(review_arrows(pos))
        self.board.view.set_annotations([], [])
        side = "White" if board.turn == chess.WHITE else "Black"
        concept = "control position" if pos.is_control else (pos.concept_name or "")
        self.where.setText(f"{Phase(pos.phase).display} {pos.number} of {pos.phase_size}"
                           + (f" · {concept}" if concept else "") + f" · {side} to play")
        teacher = self._san(pos.teacher_san)
        if not pos.answered:
            verdict = f"Not answered yet. The teacher plays <b>{teacher}</b>."
        elif not pos.answer_uci:
            verdict = (f"<span style='color:{WRONG_COLOUR}'><b>No answer</b></span> (skipped, or the time ran "
                       f"out). The teacher plays <b>{teacher}</b>.")
        elif pos.answer_uci == pos.teacher_uci:
            verdict = f"<span style='color:{RIGHT_COLOUR}'><b>✓ {self._san(pos.answer_san)}</b></span>: the teacher's move."
        elif pos.correct:
            verdict = (f"<span style='color:{RIGHT_COLOUR}'><b>✓ {self._san(pos.answer_san)}</b></span>: accepted "
                       f"(the engine finds it as good). The teacher plays <b>{teacher}</b>.")
        else:
            verdict = (f"<span style='color:{WRONG_COLOUR}'><b>✗ {self._san(pos.answer_san)}</b></span>. "
                       f"The teacher plays <b>{teacher}</b>.")
        if pos.response_ms is not None and pos.answered:
            secs = pos.response_ms / 1000
            verdict += f" Answered in {secs:.1f} s." if secs < 10 else f" Answered in {secs:.0f} s."
        self.verdict.setText(verdict)
        others = [self._san(s) for s in pos.accepted_san]
        self.accepted.setText("Accepted: " + ", ".join(others) if len(others) > 1
                              else "Only the teacher's move is accepted here.")
        self._fill_table(pos)
        e = pos.engine
        if e is None or e.status == "unverified":
            self.engine.setText("No engine check for this position: the figures are the teacher's search.")
        else:
            depth = f" at depth {e.depth}" if e.depth else ""
            best = f"; its best move {self._san(e.best_san or '')} ({_cp(e.best_cp)})" if e.best_san else ""
            loss = (f"; the teacher's move loses {e.loss_cp / 100:.2f}" if e.loss_cp else "")
            self.engine.setText(f"Engine check{depth}: {e.status}{best}{loss}.")
        why = self._whys.get(pos.item_id, "")
        self.why.setText(f"Chosen because: {why}" if why else "")
        self.why.setVisible(bool(why))
        self.line.setText(self._line_text(pos))
        self.count.setText(f"{self.index + 1} / {len(self.shown)}")
        self.prev_btn.setEnabled(self.index > 0)
        self.next_btn.setEnabled(self.index < len(self.shown) - 1)

    def _line_text(self, pos: Any) -> str:
        from conceptcoach.desktop.board.lineviewer import numbered

        if not pos.line_san:
            return "No line recorded."
        return " ".join(numbered(pos.fen, [self._san(s) for s in pos.line_san]))

    def _fill_table(self, pos: Any) -> None:
        moves: Sequence[Any] = pos.moves
        keep = list(moves[:TABLE_MOVES])
        keep += [m for m in moves[TABLE_MOVES:] if m.played or m.accepted or m.teacher]
        self.table.setRowCount(len(keep))
        for i, m in enumerate(keep):
            who = ", ".join(w for w, on in (("teacher", m.teacher), ("accepted", m.accepted and not m.teacher),
                                            ("your move", m.played)) if on)
            cells = (self._san(m.san), "–" if m.visit_share is None else f"{m.visit_share:.0%}",
                     "–" if m.value is None else f"{m.value:+.2f}", _cp(m.engine_cp), who)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c in (1, 2, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if m.played and not m.accepted:
                    item.setForeground(Qt.GlobalColor.darkRed)
                elif m.teacher or m.accepted:
                    item.setForeground(Qt.GlobalColor.darkGreen)
                if m.teacher:
                    f = item.font()
                    f.setBold(True)
                    item.setFont(f)
                self.table.setItem(i, c, item)
        fit_table_height(self.table, max_rows=len(keep))  # the side panel scrolls, not the table

    def _show_nothing(self, message: str) -> None:
        self.board.set_board(chess.Board(None))
        self.board.set_arrows([])
        self.where.setText(message)
        for w in (self.verdict, self.accepted, self.engine, self.why, self.line, self.count):
            w.clear()
        self.why.hide()
        self.table.setRowCount(0)
        self.prev_btn.setEnabled(False)
        self.next_btn.setEnabled(False)

    @property
    def current(self) -> Any:
        return self.shown[self.index] if self.shown else None


__all__ = ["ReviewPage", "review_arrows"]
