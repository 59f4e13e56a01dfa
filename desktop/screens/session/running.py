"""Running a phase: the board (a line viewer), the phase bar, the clock, pause, and the
side panel: the test panel (pre-test, post-test, review: no feedback) or the learning
panel. Every answer, try and study record is written by the study core on the DB thread
before the next position is shown."""

from __future__ import annotations

import time
from typing import Any

import chess
from conceptcoach.desktop.board.lineviewer import (
    OFF_LINE,
    LineViewer,
    mark_names,
    marks_of,
    search_arrows,
)
from conceptcoach.desktop.board.theme import PieceSet
from conceptcoach.desktop.board.valuebar import ValueBar
from conceptcoach.desktop.board.widget import figurine
from conceptcoach.desktop.changes import Changes
from conceptcoach.desktop.screens.session.data import ItemView, item_view
from conceptcoach.desktop.screens.session.learning import LearningPanel, try_text
from conceptcoach.desktop.screens.widgets import Banner
from conceptcoach.desktop.workers import Workers
from conceptcoach.study.phases import SESSION_ORDER, Phase
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)


class PhaseBar(QWidget):
    """Pre-test / Learning / Post-test as steps, the current one highlighted, and a bar of
    the items done in the whole session."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps: dict[Phase, QLabel] = {}
        self.arrows: list[QLabel] = []
        row = QHBoxLayout()
        for phase in SESSION_ORDER:
            label = QLabel(phase.display)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setMinimumWidth(110)
            label.setMinimumHeight(label.fontMetrics().height() + 10)
            self.steps[phase] = label
            row.addWidget(label)
            if phase is not SESSION_ORDER[-1]:
                arrow = QLabel("→")
                arrow.setAlignment(Qt.AlignmentFlag.AlignCenter)
                self.arrows.append(arrow)
                row.addWidget(arrow)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.bar.setFormat("%v of %m positions")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(row)
        lay.addWidget(self.bar)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_state(self, phase: Phase, index: int, size: int, done: int, total: int) -> None:
        review = phase is Phase.REVIEW
        for p, label in self.steps.items():
            label.setVisible(not review or p is Phase.PRE)
        for arrow in self.arrows:
            arrow.setVisible(not review)
        self.bar.setMaximum(max(1, total))
        self.bar.setValue(done)
        if review:
            label = self.steps[Phase.PRE]
            label.setText(f"{Phase.REVIEW.display}  {index + 1}/{size}")
            label.setStyleSheet("background:#1f6fb2;color:white;font-weight:bold;border-radius:10px;padding:4px 10px;")
            return
        order = list(SESSION_ORDER)
        for p, label in self.steps.items():
            current = p == phase
            finished = phase is Phase.DONE or (phase in order and order.index(p) < order.index(phase))
            label.setText(p.display + (f"  {index + 1}/{size}" if current else "") + ("  ✓" if finished else ""))
            style = ("background:#1f6fb2;color:white;font-weight:bold;" if current
                     else "background:#dcefdc;color:#225522;" if finished
                     else "background:#f7f7f7;color:#666;border:1px solid #c8c8c8;")
            label.setStyleSheet(style + "border-radius:10px;padding:4px 10px;")


class ConfirmBar(QFrame):
    """'You played Nf3: confirm or take it back' (the confirm-moves setting)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confirmBar")
        self.setStyleSheet("#confirmBar { background:#fff6e0; border:1px solid #8a5a00; border-radius:6px; }")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.confirm = QPushButton("Confirm (Enter)")
        self.take_back = QPushButton("Take back (Esc)")
        lay = QHBoxLayout(self)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.confirm)
        lay.addWidget(self.take_back)
        self.hide()


NoteState = tuple[str, tuple[str, ...], tuple[str, ...]]  # text, arrows ('e2e4'), squares ('d5')


class RunnerPage(QWidget):
    """Runs a session from its current item to its end. ``finished(view)`` when every item
    is done, ``leaveRequested()`` when the coach leaves (the session stays resumable)."""

    finished = Signal(object)  # ItemView of the finished session
    leaveRequested = Signal()
    testPhaseDone = Signal(int, str)  # session id, the test phase just finished (the session goes on)

    def __init__(self, workers: Workers, pieces: PieceSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.notation = "san"  # or 'figurine'
        self.confirm_moves = False  # ask before a test answer is committed
        self.session_id: int | None = None
        self.view: ItemView | None = None
        self.paused = False
        self.pending: str | None = None  # a test move waiting for confirmation
        self._busy = False
        self._shown_at = 0.0  # perf_counter when the current item appeared
        self._paused_total = 0.0
        self._paused_at = 0.0
        self._remaining = 0.0
        self._note_loaded: NoteState = ("", (), ())  # the learning position's note as read from the store

        self.phase_bar = PhaseBar()
        self.prompt = QLabel()
        self.prompt.setWordWrap(True)
        f = self.prompt.font()
        f.setPointSizeF(f.pointSizeF() * 1.25)
        f.setBold(True)
        self.prompt.setFont(f)
        self.clock = QLabel()
        self.clock.setMinimumWidth(70)
        self.clock.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.pause_btn = QPushButton("Pause (P)")
        self.pause_btn.clicked.connect(self.toggle_pause)
        self.quit_btn = QPushButton("Leave")
        self.quit_btn.setToolTip("Stop here; the session can be resumed from Home")
        self.quit_btn.clicked.connect(self.leave)

        self.viewer = LineViewer(pieces, san_entry=True, controls_below=False)
        self.viewer.pause_ms = 900
        self.board = self.viewer.board
        self.board.moveMade.connect(self._moved)
        self._try_text = ""  # the rating of the move tried last, kept once back on the line
        self.viewer.plyChanged.connect(self._ply_changed)
        self.value_bar = ValueBar()
        self.viewer.add_beside_board(self.value_bar)
        self.value_bar.follow(self.board.view)
        self.paused_label = QLabel("Paused.\nThe position is hidden until you resume (P).")
        self.paused_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.paused_label.setStyleSheet("font-size: 18pt; color: #555; background: #f2f2f2;")
        self.board_stack = QStackedWidget()
        self.board_stack.addWidget(self.viewer)
        self.board_stack.addWidget(self.paused_label)

        # Side panel: for tests an explanation; for learning the lesson.
        self.side = QStackedWidget()
        test_panel = QWidget()
        tl = QVBoxLayout(test_panel)
        self.test_text = QLabel()
        self.test_text.setWordWrap(True)
        self.test_text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.skip_btn = QPushButton("I don't know (skip)")
        self.skip_btn.clicked.connect(lambda: self.submit(None))
        tl.addWidget(self.skip_btn)
        # The wrapped text takes the free height (a stacked page does not pass on
        # height-for-width, so a fixed-size label would be clipped).
        tl.addWidget(self.test_text, 1)
        self.test_keys = QLabel("Keys: F flip the board, P pause (hides the position)")
        self.test_keys.setWordWrap(True)
        self.test_keys.setStyleSheet("color:#666;")
        tl.addWidget(self.test_keys)
        self.learning = LearningPanel(self.viewer.controls)
        self.learning.heat_box.toggled.connect(lambda _on: self._heat_toggled())
        self.learning.next_btn.clicked.connect(self.next_learning)
        self.side.addWidget(test_panel)
        self.side.addWidget(self.learning)
        self.side.setMinimumWidth(280)

        self.confirm_bar = ConfirmBar()
        self.confirm_bar.confirm.clicked.connect(self.confirm_move)
        self.confirm_bar.take_back.clicked.connect(self.take_back)

        top = QHBoxLayout()
        top.addWidget(self.phase_bar, 1)
        top.addWidget(self.clock)
        top.addWidget(self.pause_btn)
        top.addWidget(self.quit_btn)
        split = QSplitter()
        split.addWidget(self.board_stack)
        split.addWidget(self.side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        self.error = Banner("error", "")
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.prompt)
        lay.addWidget(self.error)
        lay.addWidget(self.confirm_bar)
        lay.addWidget(split, 1)

        self.countdown = QTimer(self)
        self.countdown.setInterval(200)
        self.countdown.timeout.connect(self._tick)
        self._confirm_keys: list[QShortcut] = []
        for key, slot in (("P", self.toggle_pause), ("Space", self._space), ("Return", self.confirm_move),
                          ("Enter", self.confirm_move), ("Escape", self.take_back)):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
            if key in ("Return", "Enter", "Escape"):
                sc.setEnabled(False)  # only while a move waits for confirmation
                self._confirm_keys.append(sc)

    # ----- in and out --------------------------------------------------------------------------

    def open(self, session_id: int) -> None:
        self.session_id = session_id
        self.view = None
        self.paused = False
        self.board_stack.setCurrentIndex(0)
        self.pause_btn.setText("Pause (P)")
        self.error.set("error", "")
        self._run(lambda db: item_view(db, session_id), "session item")

    def stop(self) -> None:
        self.countdown.stop()
        self.viewer.stop_autoplay()
        self._clear_pending()
        self.session_id = None

    def leave(self) -> None:
        self.save_note()
        self.stop()
        self.leaveRequested.emit()

    def _run(self, fn: Any, name: str, changes: Changes | None = None) -> None:
        sid = self.session_id
        self._busy = True
        self.workers.db(lambda ctx: fn(ctx.db), on_success=lambda v: self._show_item(v, sid),
                        on_failure=self._failed, name=name, changes=changes)

    def _failed(self, message: str) -> None:
        self._busy = False
        self.error.set("error", f"{message}. Your answers so far are saved; try again or leave the session.")

    def _san(self, san: str) -> str:
        return figurine(san) if self.notation == "figurine" else san

    # ----- showing items -----------------------------------------------------------------------

    def _show_item(self, view: ItemView, sid: int | None) -> None:
        if sid != self.session_id or view.state.session.id != self.session_id:
            return  # an answer that landed after the coach left or opened another session
        self._busy = False
        self._clear_pending()
        before = self.view.state if self.view is not None else None
        self.view = view
        st = view.state
        self.phase_bar.set_state(st.phase, st.index_in_phase, st.phase_size, st.done_items, st.total_items)
        if st.current is None:
            self.stop()
            self.session_id = sid  # still the session shown (the done page's results need it)
            self.finished.emit(view)
            return
        item = st.current
        board = chess.Board(item.fen)
        side = "White" if board.turn == chess.WHITE else "Black"
        self._shown_at = time.perf_counter()
        self._paused_total = 0.0
        if item.phase == Phase.LEARNING:
            self.countdown.stop()
            self.clock.setText("")
            self.side.setCurrentIndex(1)
            self._show_lesson(view, side)
        else:
            self.side.setCurrentIndex(0)
            self.viewer.set_line(item.fen, [], [])
            self.prompt.setText(f"{st.phase.display} {st.index_in_phase + 1}/{st.phase_size}: "
                                f"{side} to play. Find the best move.")
            self.test_text.setText("Play the move on the board (drag the piece or click it and then its square) "
                                   "or type it below the board. There is no feedback during a test: answers are "
                                   "scored when the session ends."
                                   + (" You confirm each move before it counts." if self.confirm_moves else ""))
            self.value_bar.set_value(None)  # blank: no hints of any kind during a test
            self._remaining = float(view.seconds or 0)
            self._update_clock()
            if view.seconds:
                self.countdown.start()
            else:
                self.countdown.stop()
        self.viewer.set_try_enabled(True)  # a test answer, or a try of the player's own
        self.board.view.setFocus()
        if (before is not None and before.current is not None and before.phase.is_test
                and st.phase != before.phase):
            # A test phase is over: the coach reviews it before the session goes on; the
            # clock of the next position starts when the session is shown again (resume).
            self.countdown.stop()
            self.testPhaseDone.emit(st.session.id, before.phase.value)

    def resume(self) -> None:
        """Shown again after a review: the current position's time starts now."""
        self._shown_at = time.perf_counter()
        self._paused_total = 0.0
        item = self._current()
        if item is not None and item.phase != Phase.LEARNING and self.view is not None and self.view.seconds:
            self._remaining = float(self.view.seconds)
            self._update_clock()
            self.countdown.start()
        self.board.view.setFocus()

    def _show_lesson(self, view: ItemView, side: str) -> None:
        les, st = view.lesson, view.state
        self.prompt.setText(f"{Phase.LEARNING.display} {st.index_in_phase + 1}/{st.phase_size}: study the idea. "
                            f"{side} to play.")
        self.viewer.set_figurines(self.notation == "figurine")
        shares = [(uci, share) for uci, _san, share, _q in les.children]
        note = view.note
        self._note_loaded = (note.text, tuple(note.arrows), tuple(note.squares)) if note is not None else ("", (), ())
        self.viewer.set_line(les.fen, les.line_uci, les.line_san, arrows=search_arrows(les.move_uci, shares),
                             heat=view.heat if self.learning.heat_box.isChecked() else None,
                             marks=marks_of(*self._note_loaded[1:]))
        self._try_text = ""
        self.learning.show_lesson(les, side, bool(view.heat), self._san)
        if note is not None:
            other = note.session_id != view.state.session.id
            self.learning.set_note(note.text, f"Written in session {note.session_id} ({note.written_at[:10]}); "
                                              "edit it to keep it with this session too." if other else "")
        white_value = None if les.value is None else (les.value if side == "White" else -les.value)
        self.value_bar.set_value(white_value, self.board.view.flipped)

    def _ply_changed(self, ply: int) -> None:
        # Back on the line: the rating stays, the way back it pointed to is gone.
        if ply != OFF_LINE and self._try_text and self.learning.try_label.text().startswith(self._try_text):
            self.learning.try_label.setText(self._try_text)

    def _heat_toggled(self) -> None:
        view = self.view
        if view is not None and view.lesson is not None:
            self.viewer.set_root_overlays(heat=view.heat if self.learning.heat_box.isChecked() else None)

    # ----- the player's moves ------------------------------------------------------------------

    def _elapsed_ms(self) -> int:
        return int((time.perf_counter() - self._shown_at - self._paused_total) * 1000)

    def _current(self) -> Any:
        view = self.view
        return None if view is None or self.session_id is None else view.state.current

    def _moved(self, uci: str) -> None:
        item = self._current()
        if item is None:
            return
        if item.phase == Phase.LEARNING:
            self._tried(item, uci)
        elif self.confirm_moves:
            self.pending = uci
            self.viewer.set_try_enabled(False)
            shown = chess.Board(item.fen).san(chess.Move.from_uci(uci))
            self.confirm_bar.text.setText(f"You played <b>{self._san(shown)}</b>. Confirm it, or take it back "
                                          "and play another move.")
            self.confirm_bar.show()
            for sc in self._confirm_keys:
                sc.setEnabled(True)
        else:
            self.submit(uci)

    def confirm_move(self) -> None:
        if self.pending is not None:
            uci = self.pending
            self._clear_pending()
            self.submit(uci)

    def take_back(self) -> None:
        item = self._current()
        if self.pending is None or item is None:
            return
        self._clear_pending()
        self.viewer.set_line(item.fen, [], [])
        self.viewer.set_try_enabled(True)
        self.board.view.setFocus()

    def _clear_pending(self) -> None:
        self.pending = None
        self.confirm_bar.hide()
        for sc in self._confirm_keys:
            sc.setEnabled(False)  # Return belongs to the move entry field again

    def _tried(self, item: Any, uci: str) -> None:
        """A move of the player's own in the learning position: rated and logged by the core."""
        self.viewer.leave_line()
        sid, ms = self.session_id, self._elapsed_ms()
        self.learning.try_label.setText("Asking the network's search…")

        def work(ctx: Any) -> Any:
            from conceptcoach.study.runner import try_move

            return try_move(ctx.db, sid, item.id, uci, response_ms=ms)

        def rated(result: Any) -> None:
            if self._current() is item and self.viewer.off_line:
                self._try_text = try_text(result.rating, self._san)
                self.learning.try_label.setText(self._try_text + " Press Home or ◀ to go back.")

        self.workers.db(work, on_success=rated, name="try move",
                        on_failure=lambda m: self.learning.try_label.setText(f"Could not rate that move: {m}"))

    def submit(self, uci: str | None) -> None:
        """Answer the current test item (None: no answer, e.g. the time ran out)."""
        item, sid = self._current(), self.session_id
        if item is None or sid is None or self._busy or self.paused or item.phase == Phase.LEARNING:
            return
        self.countdown.stop()
        self.viewer.set_try_enabled(False)
        ms = self._elapsed_ms()

        def answer(db: Any) -> ItemView:
            from conceptcoach.study.runner import answer as core_answer

            result = core_answer(db, sid, item.id, uci, response_ms=ms)
            return item_view(db, sid, result.state)

        self._run(answer, "answer", Changes(sessions=True))

    def _space(self) -> None:
        item = self._current()
        if item is not None and item.phase == Phase.LEARNING:
            self.next_learning()

    def next_learning(self) -> None:
        view, sid, item = self.view, self.session_id, self._current()
        if view is None or sid is None or item is None or self._busy or self.paused or item.phase != Phase.LEARNING:
            return
        self.viewer.stop_autoplay()
        ms = self._elapsed_ms()
        save = self._note_changes()

        def studied(db: Any) -> ItemView:
            from conceptcoach.study.runner import mark_studied

            if save is not None:
                save(db)
            return item_view(db, sid, mark_studied(db, sid, item.id, study_ms=ms))

        self._run(studied, "studied", Changes(sessions=True))

    # ----- the coach's note and marks on a learning position ----------------------------------------

    def note_state(self) -> NoteState:
        """The note as the coach left it: text, and the marks drawn at the start position."""
        return (self.learning.notes.toPlainText().strip(), *mark_names(*self.viewer.marks))

    def _note_changes(self) -> Any:
        """A store call that saves the current learning position's note and marks when they
        differ from what was read (None when nothing changed)."""
        view, sid, item = self.view, self.session_id, self._current()
        if view is None or sid is None or item is None or item.phase != Phase.LEARNING:
            return None
        text, arrows, squares = state = self.note_state()
        if state == self._note_loaded:
            return None
        proto = view.prototype_id
        self._note_loaded = state

        def save(db: Any) -> None:
            from conceptcoach.store.notes import add_note, save_position_note

            if proto is not None:
                save_position_note(db, session_id=sid, prototype_id=proto, text=text, arrows=arrows, squares=squares)
            elif text or arrows or squares:
                add_note(db, text, session_id=sid, arrows=arrows, squares=squares)

        return save

    def save_note(self) -> None:
        """Save the learning position's note and marks now if they changed (leaving the
        session, closing the window)."""
        save = self._note_changes()
        if save is not None:
            self.workers.db(lambda ctx: save(ctx.db), name="save note", changes=Changes(sessions=True),
                            on_failure=lambda m: self.error.set("error", f"The note could not be saved: {m}"))

    # ----- timer and pause ---------------------------------------------------------------------

    def _update_clock(self) -> None:
        if self.view is None or not self.view.seconds:
            self.clock.setText("")
            return
        left = max(0.0, self._remaining)
        self.clock.setText(f"⏱ {int(left) // 60}:{int(left) % 60:02d}")
        self.clock.setStyleSheet("color:#a1261b;font-weight:bold;" if left < 10 else "")

    def _tick(self) -> None:
        if self.paused or self.view is None or not self.view.seconds:
            return
        self._remaining = float(self.view.seconds) - (time.perf_counter() - self._shown_at - self._paused_total)
        self._update_clock()
        if self._remaining <= 0:
            self.countdown.stop()
            self._clear_pending()  # a move not confirmed in time does not count
            self.submit(None)  # time is up: recorded as no answer

    def toggle_pause(self) -> None:
        if self.session_id is None or self.view is None or self.view.state.current is None:
            return
        self.paused = not self.paused
        if self.paused:
            self._paused_at = time.perf_counter()
            self.viewer.stop_autoplay()
            self.board_stack.setCurrentIndex(1)
            self.pause_btn.setText("Resume (P)")
        else:
            self._paused_total += time.perf_counter() - self._paused_at
            self.board_stack.setCurrentIndex(0)
            self.pause_btn.setText("Pause (P)")
            self.board.view.setFocus()

    @property
    def try_label(self) -> QLabel:
        return self.learning.try_label

    @property
    def off_line(self) -> bool:
        return self.viewer.ply == OFF_LINE


__all__ = ["ConfirmBar", "PhaseBar", "RunnerPage"]
