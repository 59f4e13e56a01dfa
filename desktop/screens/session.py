"""Session: the coach's setup (player, concepts or a template, counts, timer) and the
runner: pre-test without feedback, the learning view, post-test, pause and resume.

Every answer and every studied position is written by the study core on the DB thread
before the next position is shown, so a session can be closed at any moment and
resumed from Home where it stopped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import chess
from conceptcoach.desktop.board.theme import PieceSet
from conceptcoach.desktop.board.valuebar import ValueBar
from conceptcoach.desktop.board.view import Arrow
from conceptcoach.desktop.board.widget import BoardWidget, figurine
from conceptcoach.desktop.workers import Workers
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

PHASE_NAMES = {"pre": "Pre-test", "learning": "Learning", "post": "Post-test", "review": "Review", "done": "Done"}


# ----- DB-thread functions ---------------------------------------------------------------------


def load_setup(ctx: Any) -> dict[str, Any]:
    from conceptcoach.store.concepts import list_concepts
    from conceptcoach.store.players import list_groups, list_players
    from conceptcoach.store.sessions import list_templates

    db = ctx.db
    concepts = [c for c in list_concepts(db) if not c.is_control and c.status != "candidate"]
    return {"players": list_players(db), "groups": list_groups(db), "concepts": concepts,
            "templates": list_templates(db)}


@dataclass(frozen=True)
class ItemView:
    """What the runner needs to show the current item (built on the DB thread)."""

    state: Any  # runner.SessionState
    lesson: Any = None  # runner.Lesson for learning items
    heat: list[float] | None = None
    prototype_id: int | None = None
    seconds: float | None = None
    summary: dict[str, tuple[int, int]] | None = None  # when finished: phase -> (correct, answered), concepts only


def _item_view(db: Any, session_id: int) -> ItemView:
    from conceptcoach.store.concepts import get_prototype
    from conceptcoach.study.runner import lesson, session_state

    state = session_state(db, session_id)
    seconds = state.session.spec.get("seconds_per_position")
    item = state.current
    if item is None:
        from conceptcoach.store.attempts import list_attempts

        summary: dict[str, tuple[int, int]] = {}
        for a in list_attempts(db, session_ids=[session_id]):
            if a.is_control:
                continue
            c, n = summary.get(a.phase, (0, 0))
            summary[a.phase] = (c + int(a.correct), n + 1)
        return ItemView(state, seconds=seconds, summary=summary)
    proto_id = item.source_id if item.source == "prototype" else None
    if item.phase != "learning":
        return ItemView(state, prototype_id=proto_id, seconds=seconds)
    heat = None
    if proto_id is not None:
        try:
            heat = get_prototype(db, proto_id).heat
        except KeyError:
            heat = None
    return ItemView(state, lesson(db, item), heat, proto_id, seconds)


# ----- small widgets ---------------------------------------------------------------------------


def heading(text: str, level: int = 1) -> QLabel:
    label = QLabel(text)
    f = label.font()
    f.setPointSizeF(f.pointSizeF() * (1.6 if level == 1 else 1.15))
    f.setBold(True)
    label.setFont(f)
    return label


class Banner(QFrame):
    """A coloured message line ('info', 'warn', 'error', 'empty'); hidden when empty."""

    COLOURS = {"info": ("#e8f1fb", "#1f5f99"), "warn": ("#fff6e0", "#8a5a00"),
               "error": ("#fdecea", "#a1261b"), "empty": ("#f4f4f4", "#555555")}

    def __init__(self, kind: str = "info", text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 6, 12, 6)
        lay.addWidget(self.label)
        self.set(kind, text)

    def set(self, kind: str, text: str) -> None:
        bg, fg = self.COLOURS.get(kind, self.COLOURS["info"])
        self.setStyleSheet(f"Banner {{ background: {bg}; border: 1px solid {fg}; border-radius: 6px; }}"
                           f" QLabel {{ color: {fg}; }}")
        self.label.setText(text)
        self.setVisible(bool(text))

    def text(self) -> str:
        return self.label.text()


class PhaseBar(QWidget):
    """Pre-test / Learning / Post-test as steps, the current one highlighted, and a bar of
    the items done in the whole session."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps: dict[str, QLabel] = {}
        row = QHBoxLayout()
        for phase in ("pre", "learning", "post"):
            label = QLabel(PHASE_NAMES[phase])
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setMinimumWidth(110)
            label.setMinimumHeight(label.fontMetrics().height() + 10)
            self.steps[phase] = label
            row.addWidget(label)
            if phase != "post":
                arrow = QLabel("→")
                arrow.setObjectName("phase-arrow")
                arrow.setAlignment(Qt.AlignmentFlag.AlignCenter)
                row.addWidget(arrow)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.bar.setFormat("%v of %m positions")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(row)
        lay.addWidget(self.bar)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_state(self, phase: str, index: int, size: int, done: int, total: int) -> None:
        review = phase == "review"
        for p, label in self.steps.items():
            label.setVisible(not review or p == "pre")
        for arrow in self.findChildren(QLabel, "phase-arrow"):
            arrow.setVisible(not review)
        if review:
            label = self.steps["pre"]
            label.setText(f"Review  {index + 1}/{size}")
            label.setStyleSheet("background:#1f6fb2;color:white;font-weight:bold;border-radius:10px;padding:4px 10px;")
            self.bar.setMaximum(max(1, total))
            self.bar.setValue(done)
            return
        order = ["pre", "learning", "post"]
        for p, label in self.steps.items():
            current = p == phase
            finished = phase == "done" or (phase in order and order.index(p) < order.index(phase))
            text = PHASE_NAMES[p] + (f"  {index + 1}/{size}" if current else "") + ("  ✓" if finished else "")
            label.setText(text)
            style = ("background:#1f6fb2;color:white;font-weight:bold;" if current
                     else "background:#dcefdc;color:#225522;" if finished else "background:#f7f7f7;color:#666;border:1px solid #c8c8c8;")
            label.setStyleSheet(style + "border-radius:10px;padding:4px 10px;")
        self.bar.setMaximum(max(1, total))
        self.bar.setValue(done)


# ----- the screen ------------------------------------------------------------------------------


class SessionScreen(QWidget):
    """Setup and runner of a session. Outward navigation goes through signals so the
    main window decides where to go: ``resultsRequested(session_id, player_id)``,
    ``homeRequested()``; ``sessionsChanged()`` after anything was written;
    ``message(text)`` for the status bar."""

    name = "session"
    title = "Session"
    resultsRequested = Signal(int, int)
    homeRequested = Signal()
    sessionsChanged = Signal()
    message = Signal(str)

    def __init__(self, workers: Workers, pieces: PieceSet | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.pieces = pieces or PieceSet()
        self.notation = "san"  # or 'figurine'
        self.autoplay_ms = 900
        self.default_player_id: int | None = None
        self.pages = QStackedWidget()
        self.setup_page = self._build_setup()
        self.runner_page = self._build_runner()
        self.done_page = self._build_done()
        for page in (self.setup_page, self.runner_page, self.done_page):
            self.pages.addWidget(page)
        lay = QVBoxLayout(self)
        lay.addWidget(self.pages)

        self.session_id: int | None = None
        self.view: ItemView | None = None
        self.paused = False
        self._shown_at = 0.0  # perf_counter when the current item appeared (pause excluded)
        self._paused_total = 0.0
        self._paused_at = 0.0
        self._busy = False
        self._line: list[str] = []  # UCI moves of the learning line
        self._ply = 0
        self._remaining = 0.0
        self._setup_data: dict[str, Any] = {}
        self._pending_player: int | None = None
        self.countdown = QTimer(self)
        self.countdown.setInterval(200)
        self.countdown.timeout.connect(self._tick)
        self.autoplay = QTimer(self)
        self.autoplay.setSingleShot(True)
        self.autoplay.timeout.connect(self._autoplay_step)
        self._shortcuts()

    # ----- setup page --------------------------------------------------------------------------

    def _build_setup(self) -> QWidget:
        page = QWidget()
        self.setup_error = Banner("error", "")
        self.player_box = QComboBox()
        self.player_box.setAccessibleName("Player")
        self.template_box = QComboBox()
        self.template_box.currentIndexChanged.connect(self._template_chosen)
        self.concept_list = QListWidget()
        self.concept_list.setAccessibleName("Concepts")
        self.concept_list.itemChanged.connect(lambda _i: self._update_start())
        self.concepts_empty = Banner("empty", "")
        self.per_phase = QSpinBox()
        self.per_phase.setRange(1, 30)
        self.per_phase.setValue(4)
        self.per_phase.setSuffix(" positions per concept and phase")
        self.controls = QSpinBox()
        self.controls.setRange(0, 20)
        self.controls.setValue(2)
        self.controls.setSuffix(" control positions per phase")
        self.controls.setToolTip("Positions of concepts that failed a filter: they measure what a player gains "
                                 "from practice alone")
        self.seconds = QSpinBox()
        self.seconds.setRange(0, 600)
        self.seconds.setValue(0)
        self.seconds.setSpecialValueText("no time limit")
        self.seconds.setSuffix(" s per test position")
        self.mode = QComboBox()
        self.mode.addItem("Coach with player", "coach")
        self.mode.addItem("Self-study", "self")
        self.label = QLineEdit()
        self.label.setPlaceholderText("Optional label, e.g. 'Tuesday lesson'")
        self.template_name = QLineEdit()
        self.template_name.setPlaceholderText("Template name")
        self.save_template_btn = QPushButton("Save as template")
        self.save_template_btn.clicked.connect(self._save_template)
        self.select_all = QPushButton("Select all")
        self.select_all.clicked.connect(lambda: self._check_all(True))
        self.select_none = QPushButton("Clear")
        self.select_none.clicked.connect(lambda: self._check_all(False))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        for w in (self.per_phase, self.controls):
            w.valueChanged.connect(lambda _v: self._update_start())
        self.start_btn = QPushButton("Start session")
        self.start_btn.setDefault(True)
        self.start_btn.clicked.connect(self.start_session)

        form = QFormLayout()
        form.addRow("Player", self.player_box)
        form.addRow("Template", self.template_box)
        form.addRow("Counts", self.per_phase)
        form.addRow("Controls", self.controls)
        form.addRow("Timer", self.seconds)
        form.addRow("Mode", self.mode)
        form.addRow("Label", self.label)
        trow = QHBoxLayout()
        trow.addWidget(self.template_name, 1)
        trow.addWidget(self.save_template_btn)
        form.addRow("", trow)

        concepts = QVBoxLayout()
        concepts.addWidget(heading("Concepts to teach", 2))
        concepts.addWidget(self.concepts_empty)
        concepts.addWidget(self.concept_list, 1)
        crow = QHBoxLayout()
        crow.addWidget(self.select_all)
        crow.addWidget(self.select_none)
        crow.addStretch(1)
        concepts.addLayout(crow)

        body = QHBoxLayout()
        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.summary)
        left.addStretch(1)
        left.addWidget(self.start_btn)
        body.addLayout(left, 2)
        body.addLayout(concepts, 3)
        lay = QVBoxLayout(page)
        lay.addWidget(heading("New session"))
        lay.addWidget(QLabel("The player first answers a pre-test (no feedback), then studies the concept's "
                             "positions with the network's move, line and figures, then answers a post-test."))
        lay.addWidget(self.setup_error)
        lay.addLayout(body, 1)
        return page

    def _check_all(self, on: bool) -> None:
        for i in range(self.concept_list.count()):
            self.concept_list.item(i).setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def checked_concepts(self) -> list[int]:
        out = []
        for i in range(self.concept_list.count()):
            item = self.concept_list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(int(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def _update_start(self) -> None:
        n = len(self.checked_concepts())
        per, ctl = self.per_phase.value(), self.controls.value()
        test = n * per + ctl
        self.summary.setText(
            f"<b>This plan:</b> {n} concept(s); pre-test {test} positions, learning {n * per + ctl}, post-test "
            f"{test} (including {ctl} control position(s) per phase). About {max(1, round((2 * test) * 0.75 + (n * per + ctl) * 1.5))} minutes."
            if n else "Tick the concepts to teach on the right.")
        ok = self.player_box.count() > 0 and bool(self.checked_concepts())
        self.start_btn.setEnabled(ok)
        self.start_btn.setToolTip("" if ok else "Choose a player and at least one concept")

    def _load_setup(self) -> None:
        self.workers.db(load_setup, on_success=self._setup_loaded,
                            on_failure=lambda m: self.setup_error.set("error", f"Could not read the library: {m}"))

    def _setup_loaded(self, data: dict[str, Any]) -> None:
        self._setup_data = data
        want = self._pending_player or self.default_player_id
        self.player_box.clear()
        for p in data["players"]:
            self.player_box.addItem(p.name, [p.id])
            if p.id == want:
                self.player_box.setCurrentIndex(self.player_box.count() - 1)
        for g in data["groups"]:
            if g.member_ids:
                self.player_box.addItem(f"Group: {g.name} ({len(g.member_ids)} players)", list(g.member_ids))
        checked = set(self.checked_concepts())
        self.concept_list.blockSignals(True)
        self.concept_list.clear()
        for c in data["concepts"]:
            item = QListWidgetItem(f"{c.name}   [{c.status}, {c.layer}, {c.prototype_count} positions]")
            item.setData(Qt.ItemDataRole.UserRole, c.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if c.id in checked else Qt.CheckState.Unchecked)
            item.setToolTip(c.annotation or c.name)
            self.concept_list.addItem(item)
        self.concept_list.blockSignals(False)
        self.template_box.blockSignals(True)
        self.template_box.clear()
        self.template_box.addItem("(none)", None)
        for t in data["templates"]:
            self.template_box.addItem(t.name, t.plan)
        self.template_box.blockSignals(False)
        if not data["players"]:
            self.setup_error.set("warn", "There are no players yet: add one on the Home screen.")
        else:
            self.setup_error.set("info", "")
        self.concepts_empty.set("empty", "" if data["concepts"] else
                                "The library has no teachable concepts. Run Discovery or reinstall the bundled library.")
        self._update_start()

    def _template_chosen(self) -> None:
        plan = self.template_box.currentData()
        if not plan:
            return
        wanted = set(plan.get("concept_ids", []))
        for i in range(self.concept_list.count()):
            item = self.concept_list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in wanted
                               else Qt.CheckState.Unchecked)
        self.per_phase.setValue(int(plan.get("per_phase", 4)))
        self.controls.setValue(int((plan.get("control") or {}).get("count", 0)))
        self.seconds.setValue(int(plan.get("seconds_per_position") or 0))

    def plan_dict(self) -> dict[str, Any]:
        return {
            "player_ids": list(self.player_box.currentData() or []), "concept_ids": self.checked_concepts(),
            "per_phase": self.per_phase.value(), "control": {"count": self.controls.value(), "source": "failed"},
            "seconds_per_position": float(self.seconds.value()) or None, "mode": self.mode.currentData(),
            "label": self.label.text().strip(),
        }

    def _save_template(self) -> None:
        name = self.template_name.text().strip()
        if not name:
            self.setup_error.set("warn", "Type a name for the template first.")
            return
        plan = self.plan_dict()
        plan.pop("player_ids")

        def save(ctx: Any) -> Any:
            from conceptcoach.store.sessions import save_template

            return save_template(ctx.db, name, plan, replace=True)

        def saved(template: Any) -> None:
            self.message.emit(f"Saved template '{template.name}'")
            self._load_setup()

        self.workers.db(save, on_success=saved,
                        on_failure=lambda m: self.setup_error.set("error", f"Could not save the template: {m}"))

    def start_session(self) -> None:
        plan = self.plan_dict()
        if not plan["player_ids"] or not plan["concept_ids"]:
            self.setup_error.set("warn", "Choose a player and at least one concept.")
            return
        self.start_btn.setEnabled(False)

        def create(ctx: Any) -> Any:
            from conceptcoach.study.plan import PlanSpec, create_sessions

            return create_sessions(ctx.db, PlanSpec.from_dict(plan))

        def created(planned: Any) -> None:
            self.sessionsChanged.emit()
            more = len(planned.session_ids) - 1
            if more:
                self.message.emit(f"Created {len(planned.session_ids)} sessions (one per player); the others can be "
                             "resumed from Home")
            self.open_session(planned.session_ids[0])

        def failed(message: str) -> None:
            self.start_btn.setEnabled(True)
            self.setup_error.set("error", message)

        self.workers.db(create, on_success=created, on_failure=failed, name="create session")

    # ----- runner page -------------------------------------------------------------------------

    def _build_runner(self) -> QWidget:
        page = QWidget()
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
        self.quit_btn.clicked.connect(self._leave)

        self.board = BoardWidget(self.pieces)
        self.board.moveMade.connect(self._answered)
        self.value_bar = ValueBar()
        self.board_stack = QStackedWidget()
        board_row = QWidget()
        brl = QHBoxLayout(board_row)
        brl.setContentsMargins(0, 0, 0, 0)
        brl.addWidget(self.value_bar)
        brl.addWidget(self.board, 1)
        self.paused_label = QLabel("Paused.\nThe position is hidden until you resume (P).")
        self.paused_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.paused_label.setStyleSheet("font-size: 18pt; color: #555; background: #f2f2f2;")
        self.board_stack.addWidget(board_row)
        self.board_stack.addWidget(self.paused_label)

        # Side panel: for tests an explanation; for learning the lesson.
        self.side = QStackedWidget()
        test_panel = QWidget()
        tl = QVBoxLayout(test_panel)
        self.test_text = QLabel()
        self.test_text.setWordWrap(True)
        self.test_text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.skip_btn = QPushButton("I don't know (skip)")
        self.skip_btn.clicked.connect(lambda: self._submit(None))
        tl.addWidget(self.skip_btn)
        # The wrapped text takes the free height (a stacked page does not pass on
        # height-for-width, so a fixed-size label would be clipped).
        tl.addWidget(self.test_text, 1)
        test_keys = QLabel("Keys: F flip the board, P pause (hides the position)")
        test_keys.setStyleSheet("color:#666;")
        tl.addWidget(test_keys)
        learn_panel = QWidget()
        ll = QVBoxLayout(learn_panel)
        self.concept_label = QLabel()
        self.concept_label.setWordWrap(True)
        cf = self.concept_label.font()
        cf.setBold(True)
        cf.setPointSizeF(cf.pointSizeF() * 1.15)
        self.concept_label.setFont(cf)
        self.teacher_label = QLabel()
        self.teacher_label.setWordWrap(True)
        self.line_label = QLabel()
        self.line_label.setWordWrap(True)
        self.line_label.setTextFormat(Qt.TextFormat.RichText)
        self.line_label.setMinimumHeight(40)
        nav = QHBoxLayout()
        icon = self.style().standardIcon
        sp = QStyle.StandardPixmap
        self.first_btn = QPushButton(icon(sp.SP_MediaSkipBackward), "")
        self.back_btn = QPushButton(icon(sp.SP_MediaSeekBackward), "")
        self.fwd_btn = QPushButton(icon(sp.SP_MediaSeekForward), "")
        self.last_btn = QPushButton(icon(sp.SP_MediaSkipForward), "")
        self.auto_btn = QPushButton("Autoplay (A)")
        self.auto_btn.setCheckable(True)
        for b, tip in ((self.first_btn, "Start position (Home)"), (self.back_btn, "Back (Left)"),
                       (self.fwd_btn, "Forward (Right)"), (self.last_btn, "End of the line (End)")):
            b.setToolTip(tip)
            b.setMaximumWidth(48)
            nav.addWidget(b)
        nav.addWidget(self.auto_btn)
        nav.addStretch(1)
        self.first_btn.clicked.connect(lambda: self.goto_ply(0))
        self.back_btn.clicked.connect(lambda: self.goto_ply(max(0, self._ply - 1)))
        self.fwd_btn.clicked.connect(self.step_forward)
        self.last_btn.clicked.connect(lambda: self.goto_ply(len(self._line)))
        self.auto_btn.toggled.connect(self._autoplay_toggled)
        self.moves_label = QLabel()
        self.moves_label.setWordWrap(True)
        self.try_label = QLabel()
        self.try_label.setWordWrap(True)
        self.try_label.setStyleSheet("color:#1f5f99;")
        self.heat_box = QCheckBox("Show the concept's heat on the squares")
        self.heat_box.setChecked(True)
        self.heat_box.toggled.connect(lambda _on: self._draw_root_overlays())
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Coach's notes on this position (saved with the session)")
        self.notes.setMaximumHeight(110)
        self.next_btn = QPushButton("Next position (Space)")
        self.next_btn.setDefault(True)
        self.next_btn.clicked.connect(self.next_learning)
        ll.addWidget(self.concept_label)
        ll.addWidget(self.teacher_label)
        ll.addWidget(heading("The line", 2))
        ll.addWidget(self.line_label)
        ll.addLayout(nav)
        ll.addWidget(heading("The network's top moves", 2))
        ll.addWidget(self.moves_label)
        ll.addWidget(self.try_label)
        ll.addWidget(self.heat_box)
        ll.addWidget(heading("Notes", 2))
        ll.addWidget(self.notes)
        ll.addStretch(1)
        keys = QLabel("Keys: ← → step through the line, Home/End, A autoplay, F flip, P pause, Space next")
        keys.setWordWrap(True)
        keys.setStyleSheet("color:#666;")
        ll.addWidget(keys)
        ll.addWidget(self.next_btn)
        self.side.addWidget(test_panel)
        self.side.addWidget(learn_panel)

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
        self.side.setMinimumWidth(280)
        self.runner_error = Banner("error", "")
        lay = QVBoxLayout(page)
        lay.addLayout(top)
        lay.addWidget(self.prompt)
        lay.addWidget(self.runner_error)
        lay.addWidget(split, 1)
        return page

    def _build_done(self) -> QWidget:
        page = QWidget()
        self.done_text = QLabel()
        self.done_text.setWordWrap(True)
        self.done_text.setStyleSheet("font-size: 12pt;")
        self.results_btn = QPushButton("See the results")
        self.results_btn.setDefault(True)
        self.results_btn.setMinimumHeight(36)
        self.results_btn.clicked.connect(self._to_results)
        self.again_btn = QPushButton("New session")
        self.again_btn.clicked.connect(lambda: self.new_session(self.default_player_id))
        lay = QVBoxLayout(page)
        lay.addWidget(heading("Session finished"))
        lay.addWidget(self.done_text)
        row = QHBoxLayout()
        row.addWidget(self.results_btn)
        row.addWidget(self.again_btn)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addStretch(1)
        return page

    def _shortcuts(self) -> None:
        def sc(keys: str | QKeySequence.StandardKey, fn: Any) -> None:
            s = QShortcut(QKeySequence(keys), self.runner_page)
            s.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            s.activated.connect(fn)

        sc("P", self.toggle_pause)
        sc("Space", self._space)
        sc("Left", lambda: self.goto_ply(max(0, self._ply - 1)))
        sc("Right", self.step_forward)
        sc("Home", lambda: self.goto_ply(0))
        sc("End", lambda: self.goto_ply(len(self._line)))
        sc("A", self.auto_btn.toggle)
        sc("F", lambda: self.board.view.flip())

    # ----- navigation in ----------------------------------------------------------------------

    def _san(self, san: str) -> str:
        return figurine(san) if self.notation == "figurine" else san

    def running(self) -> bool:
        return self.session_id is not None and self.pages.currentWidget() is self.runner_page

    def new_session(self, player_id: int | None = None) -> None:
        """Show the setup page (player preselected when given)."""
        self._pending_player = player_id
        self.session_id = None
        self.countdown.stop()
        self.autoplay.stop()
        self.pages.setCurrentWidget(self.setup_page)
        self.setup_error.set("info", "")
        self.start_btn.setEnabled(False)
        self._load_setup()

    def reload(self) -> None:
        """Players, groups, templates or the library changed elsewhere."""
        if self.pages.currentWidget() is self.setup_page:
            self._load_setup()

    def open_session(self, session_id: int) -> None:
        self.session_id = session_id
        self.paused = False
        self.board_stack.setCurrentIndex(0)
        self.pause_btn.setText("Pause (P)")
        self.pages.setCurrentWidget(self.runner_page)
        self.runner_error.set("error", "")
        self._fetch()

    def _fetch(self) -> None:
        sid = self.session_id
        if sid is None:
            return
        self._busy = True
        self.workers.db(lambda ctx: _item_view(ctx.db, sid), on_success=self._show_item,
                            on_failure=self._runner_failed, name="session item")

    def _runner_failed(self, message: str) -> None:
        self._busy = False
        self.runner_error.set("error", f"{message}. Your answers so far are saved; try again or leave the session.")

    # ----- showing items -----------------------------------------------------------------------

    def _show_item(self, view: ItemView) -> None:
        if view.state.session.id != self.session_id:
            return  # an answer that landed after the coach left or opened another session
        self._busy = False
        self.view = view
        st = view.state
        self.phase_bar.set_state(st.phase, st.index_in_phase, st.phase_size, st.done_items, st.total_items)
        self.autoplay.stop()
        self.auto_btn.setChecked(False)
        if st.current is None:
            self.countdown.stop()
            self.pages.setCurrentWidget(self.done_page)
            lines = [f"All {st.total_items} positions are done."]
            summ = view.summary or {}
            for phase in ("pre", "post"):
                if phase in summ:
                    c, n = summ[phase]
                    lines.append(f"{PHASE_NAMES[phase]}: {c} of {n} concept positions found ({c / n:.0%}).")
            lines.append("The results screen shows the gain per concept with its interval, measured against "
                         "the control positions.")
            self.done_text.setText("<br>".join(lines))
            self.sessionsChanged.emit()
            return
        item = st.current
        board = chess.Board(item.fen)
        self.board.view.set_flipped(board.turn == chess.BLACK)
        self.board.set_board(board, last_move=None)
        self.board.set_arrows([])
        self.board.set_heat(None)
        self._shown_at = time.perf_counter()
        self._paused_total = 0.0
        side = "White" if board.turn == chess.WHITE else "Black"
        if item.phase in ("pre", "post", "review"):
            self.side.setCurrentIndex(0)
            self.prompt.setText(f"{PHASE_NAMES[item.phase]} {st.index_in_phase + 1}/{st.phase_size}: "
                                f"{side} to play. Find the best move.")
            self.test_text.setText("Play the move on the board (drag the piece or click it and then its square) "
                                   "or type it below the board. There is no feedback during a test: answers are "
                                   "scored when the session ends.")
            self.board.set_interactive([board.turn])
            self.value_bar.set_value(None)  # blank: no hints of any kind during a test
            self._remaining = float(view.seconds or 0)
            self._update_clock()
            if view.seconds:
                self.countdown.start()
            else:
                self.countdown.stop()
        else:
            self.countdown.stop()
            self.clock.setText("")
            self.side.setCurrentIndex(1)
            self.board.set_interactive([board.turn])  # the student may try moves of their own
            self._show_lesson(view, side)
        self.board.view.setFocus()

    def _show_lesson(self, view: ItemView, side: str) -> None:
        les = view.lesson
        st = view.state
        self.prompt.setText(f"Learning {st.index_in_phase + 1}/{st.phase_size}: study the idea. {side} to play.")
        self.concept_label.setText(les.concept_name or "Control position")
        self.teacher_label.setText(f"The network plays <b>{self._san(les.move_san)}</b>"
                                   + (f" (value {les.value:+.2f} for {side})" if les.value is not None else "") + ".")
        item = st.current
        self._line = list(item.line) if item.line else ([les.move_uci] if les.move_uci else [])
        if self._line and les.move_uci and self._line[0] != les.move_uci:
            self._line = [les.move_uci]
        self._ply = 0
        moves = []
        for _uci, san, share, q in les.children[:5]:
            moves.append(f"{self._san(san)}: {share:.0%} of visits" + (f", value {q:+.2f}" if q is not None else ""))
        self.moves_label.setText("<br>".join(moves) or "No search figures for this position.")
        white_value = None if les.value is None else (les.value if side == "White" else -les.value)
        self.value_bar.set_value(white_value, self.board.view.flipped)
        self.notes.clear()
        self.heat_box.setEnabled(bool(view.heat))
        self._draw_root_overlays()
        self._update_line_label()
        self.try_label.setText("Try a move of your own on the board to see how the network rates it.")

    def _draw_root_overlays(self) -> None:
        view = self.view
        if view is None or view.lesson is None:
            return
        if self._ply != 0:
            self.board.set_heat(None)
            return
        les = view.lesson
        arrows = []
        top = les.children[:4]
        for uci, _san, share, _q in top:
            if uci == les.move_uci or share < 0.03:
                continue
            mv = chess.Move.from_uci(uci)
            arrows.append(Arrow(mv.from_square, mv.to_square, "visits", 0.05 + 0.3 * share, f"{share:.0%}"))
        if les.move_uci:
            mv = chess.Move.from_uci(les.move_uci)
            share = next((s for u, _n, s, _q in les.children if u == les.move_uci), 0.5)
            arrows.append(Arrow(mv.from_square, mv.to_square, "teacher", 0.08 + 0.3 * share, f"{share:.0%}"))
        self.board.set_arrows(arrows)
        self.board.set_heat(view.heat if self.heat_box.isChecked() else None)

    def _update_line_label(self) -> None:
        view = self.view
        if view is None or view.lesson is None:
            return
        board = chess.Board(view.lesson.fen)
        parts = []
        for k, uci in enumerate(self._line):
            mv = chess.Move.from_uci(uci)
            if mv not in board.legal_moves:
                break
            num = ""
            if board.turn == chess.WHITE:
                num = f"{board.fullmove_number}. "
            elif k == 0:
                num = f"{board.fullmove_number}… "
            san = self._san(board.san(mv))
            style = "background:#1f6fb2;color:white;" if k == self._ply - 1 else ""
            parts.append(f"{num}<span style='{style}'>{san}</span>")
            board.push(mv)
        self.line_label.setText(" ".join(parts) or "—")
        self.back_btn.setEnabled(self._ply > 0)
        self.first_btn.setEnabled(self._ply > 0)
        self.fwd_btn.setEnabled(self._ply < len(self._line))
        self.last_btn.setEnabled(self._ply < len(self._line))

    def goto_ply(self, ply: int) -> None:
        if self.view is None or self.view.lesson is None:
            return
        ply = max(0, min(ply, len(self._line)))
        board = chess.Board(self.view.lesson.fen)
        last = None
        for uci in self._line[:ply]:
            last = chess.Move.from_uci(uci)
            board.push(last)
        self._ply = ply
        self.board.set_board(board, last)
        self.try_label.setText("" if ply else "Try a move of your own on the board to see how the network rates it.")
        self.board.set_interactive([board.turn] if ply == 0 else None)
        if ply == 0:
            self._draw_root_overlays()
        else:
            self.board.set_arrows(self._next_arrow())
            self.board.set_heat(None)
        self._update_line_label()

    def _next_arrow(self) -> list[Arrow]:
        if self._ply < len(self._line):
            mv = chess.Move.from_uci(self._line[self._ply])
            return [Arrow(mv.from_square, mv.to_square, "teacher", 0.14)]
        return []

    def step_forward(self) -> None:
        if self.view is None or self.view.lesson is None or self._ply >= len(self._line):
            return
        if self._ply < 0:
            self.goto_ply(0)
            return
        if self.board.view.is_animating():
            return
        self.board.set_arrows([])
        self.board.set_heat(None)
        self.board.set_interactive(None)
        self.try_label.setText("")
        self.board.view.play(self._line[self._ply])
        self._ply += 1
        self._update_line_label()
        self.board.view.animationsFinished.connect(self._after_step, Qt.ConnectionType.SingleShotConnection)

    def _after_step(self) -> None:
        self.board.set_arrows(self._next_arrow())
        if self.auto_btn.isChecked():
            if self._ply < len(self._line):
                self.autoplay.start(self.autoplay_ms)
            else:
                self.auto_btn.setChecked(False)

    def _autoplay_toggled(self, on: bool) -> None:
        if on:
            if self._ply >= len(self._line):
                self.goto_ply(0)
            self.autoplay.start(300)
        else:
            self.autoplay.stop()

    def _autoplay_step(self) -> None:
        if self.auto_btn.isChecked() and not self.paused:
            self.step_forward()

    # ----- answering ---------------------------------------------------------------------------

    def _elapsed_ms(self) -> int:
        return int((time.perf_counter() - self._shown_at - self._paused_total) * 1000)

    def _answered(self, uci: str) -> None:
        view = self.view
        if view is not None and view.state.current is not None and view.state.current.phase == "learning":
            self._tried(uci)
            return
        self._submit(uci)

    def _tried(self, uci: str) -> None:
        """The student tried a move of their own in the learning position: say how the
        network's search rated it (nothing is recorded: learning is not a test)."""
        les = self.view.lesson if self.view is not None else None
        if les is None:
            return
        board = chess.Board(les.fen)
        san = self._san(board.san(chess.Move.from_uci(uci)))
        best = self._san(les.move_san)
        child = next((c for c in les.children if c[0] == uci), None)
        best_share = next((c[2] for c in les.children if c[0] == les.move_uci), None)
        if uci == les.move_uci:
            text = f"<b>{san}</b> is the network's move."
        elif child is not None:
            value = f", value {child[3]:+.2f}" if child[3] is not None else ""
            text = (f"You tried <b>{san}</b>: {child[2]:.0%} of the network's search{value}. "
                    f"It prefers <b>{best}</b>" + (f" ({best_share:.0%})." if best_share is not None else "."))
        else:
            text = f"You tried <b>{san}</b>: the network hardly looked at it. Its move is <b>{best}</b>."
        self.try_label.setText(text + " Press Home or ◀ to go back.")
        self.board.set_arrows([])
        self.board.set_heat(None)
        self.board.set_interactive(None)
        self._ply = -1  # off the line; goto_ply(0) returns to the position
        self.first_btn.setEnabled(True)
        self.back_btn.setEnabled(True)
        self.fwd_btn.setEnabled(False)
        self.last_btn.setEnabled(False)

    def _submit(self, uci: str | None) -> None:
        view, sid = self.view, self.session_id
        if view is None or sid is None or view.state.current is None or self._busy or self.paused:
            return
        item = view.state.current
        if item.phase == "learning":
            return
        self._busy = True
        self.countdown.stop()
        self.board.set_interactive(None)
        ms = self._elapsed_ms()

        def answer(ctx: Any) -> Any:
            from conceptcoach.study.runner import answer as core_answer

            core_answer(ctx.db, sid, item.id, uci, response_ms=ms)
            return _item_view(ctx.db, sid)

        self.workers.db(answer, on_success=self._show_item, on_failure=self._runner_failed, name="answer")

    def _space(self) -> None:
        if self.view is not None and self.view.state.current is not None and self.view.state.current.phase == "learning":
            self.next_learning()

    def next_learning(self) -> None:
        view, sid = self.view, self.session_id
        if view is None or sid is None or view.state.current is None or self._busy or self.paused:
            return
        item = view.state.current
        if item.phase != "learning":
            return
        self._busy = True
        ms = self._elapsed_ms()
        note = self.notes.toPlainText().strip()
        proto = view.prototype_id

        def studied(ctx: Any) -> Any:
            from conceptcoach.store.notes import add_note
            from conceptcoach.study.runner import mark_studied

            if note:
                add_note(ctx.db, note, session_id=sid, prototype_id=proto)
            mark_studied(ctx.db, sid, item.id, study_ms=ms)
            return _item_view(ctx.db, sid)

        self.workers.db(studied, on_success=self._show_item, on_failure=self._runner_failed, name="studied")

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
            self._submit(None)  # time is up: recorded as no answer

    def toggle_pause(self) -> None:
        if self.session_id is None or self.pages.currentWidget() is not self.runner_page:
            return
        self.paused = not self.paused
        if self.paused:
            self._paused_at = time.perf_counter()
            self.autoplay.stop()
            self.auto_btn.setChecked(False)
            self.board_stack.setCurrentIndex(1)
            self.pause_btn.setText("Resume (P)")
        else:
            self._paused_total += time.perf_counter() - self._paused_at
            self.board_stack.setCurrentIndex(0)
            self.pause_btn.setText("Pause (P)")
            self.board.view.setFocus()

    def _leave(self) -> None:
        self.countdown.stop()
        self.autoplay.stop()
        self.session_id = None
        self.sessionsChanged.emit()
        self.homeRequested.emit()

    def _to_results(self) -> None:
        sid = self.session_id
        pid = self.view.state.session.player_id if self.view is not None else None
        self.resultsRequested.emit(sid or 0, pid or 0)


__all__ = ["SessionScreen"]
