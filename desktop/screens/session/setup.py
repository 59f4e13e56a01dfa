"""The session setup: player (or group), concepts or a saved template, counts, timer and
mode; creating the sessions."""

from __future__ import annotations

from typing import Any

from conceptcoach.desktop.changes import Changes
from conceptcoach.desktop.screens.session.data import load_setup
from conceptcoach.desktop.screens.widgets import Banner, heading, natural_key, plural
from conceptcoach.desktop.workers import Workers
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)


class SetupPage(QWidget):
    """Plans a session. ``sessionCreated(session_id)`` with the first session made (one
    per player of a group); ``message(text)`` for the status bar."""

    sessionCreated = Signal(int)
    message = Signal(str)

    def __init__(self, workers: Workers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.pending_player: int | None = None
        self.data: dict[str, Any] = {}
        self.setup_error = Banner("error", "")
        self.player_box = QComboBox()
        self.player_box.setAccessibleName("Player")
        self.template_box = QComboBox()
        self.template_box.currentIndexChanged.connect(self._template_chosen)
        self.concept_list = QListWidget()
        self.concept_list.setAccessibleName("Concepts")
        # Each concept on two lines (its name, then what it holds), wrapped, never cut.
        self.concept_list.setWordWrap(True)
        self.concept_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.concept_list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.concept_list.setSpacing(1)
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
        self.select_all.clicked.connect(lambda: self.check_all(True))
        self.select_none = QPushButton("Clear")
        self.select_none.clicked.connect(lambda: self.check_all(False))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        for w in (self.per_phase, self.controls):
            w.valueChanged.connect(lambda _v: self._update_start())
        # Suffixes that agree with the number ("1 control position per phase").
        self.per_phase.valueChanged.connect(lambda v: self.per_phase.setSuffix(
            f" {'position' if v == 1 else 'positions'} per concept and phase"))
        self.controls.valueChanged.connect(lambda v: self.controls.setSuffix(
            f" control {'position' if v == 1 else 'positions'} per phase"))
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
        intro = QLabel("The player first answers a pre-test (no feedback), then studies the concept's positions "
                       "with the network's move, line and figures, then answers a post-test.")
        intro.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(heading("New session"))
        lay.addWidget(intro)
        lay.addWidget(self.setup_error)
        lay.addLayout(body, 1)

    # ----- reading ---------------------------------------------------------------------------

    def load(self, player_id: int | None = None) -> None:
        """(Re)read players, concepts and templates; ``player_id`` is preselected."""
        if player_id is not None:
            self.pending_player = player_id
        self.workers.db(load_setup, on_success=self._loaded, name="session setup",
                        on_failure=lambda m: self.setup_error.set("error", f"Could not read the library: {m}"))

    def _loaded(self, data: dict[str, Any]) -> None:
        self.data = data
        want = self.pending_player
        if want is None:
            current = self.player_box.currentData()
            want = current[0] if current and len(current) == 1 else None
        self.player_box.clear()
        for p in data["players"]:
            self.player_box.addItem(p.name, [p.id])
            if p.id == want:
                self.player_box.setCurrentIndex(self.player_box.count() - 1)
        for g in data["groups"]:
            if g.member_ids:
                self.player_box.addItem(f"Group: {g.name} ({plural(len(g.member_ids), 'player')})",
                                        list(g.member_ids))
        checked = set(self.checked_concepts())
        self.concept_list.blockSignals(True)
        self.concept_list.clear()
        tests = data.get("test_positions", {})
        for c in sorted(data["concepts"], key=lambda c: natural_key(c.name)):
            n_test = tests.get(c.id, c.prototype_count)
            item = QListWidgetItem(f"{c.name}\n{c.status} · {plural(c.prototype_count, 'position')} · "
                                   f"{n_test} for tests")
            item.setData(Qt.ItemDataRole.UserRole, c.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if c.id in checked else Qt.CheckState.Unchecked)
            item.setToolTip(f"{c.annotation or c.name}\nLayer {c.layer}. {n_test} of its positions can go into a "
                            "pre- or post-test (checked by an engine): enough for "
                            f"{n_test // 2} per test phase at most.")
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

    # ----- the plan ---------------------------------------------------------------------------

    def check_all(self, on: bool) -> None:
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
        minutes = max(1, round((2 * test) * 0.75 + (n * per + ctl) * 1.5))
        self.summary.setText(
            f"<b>This plan:</b> {plural(n, 'concept')}; pre-test {plural(test, 'position')}, learning "
            f"{n * per + ctl}, post-test {test} (including {plural(ctl, 'control position')} per phase). "
            f"About {plural(minutes, 'minute')}."
            if n else "Tick the concepts to teach on the right.")
        tests = self.data.get("test_positions", {}) if self.data else {}
        short = [self.concept_list.item(i).text().split("\n")[0] for i in range(self.concept_list.count())
                 if self.concept_list.item(i).checkState() == Qt.CheckState.Checked
                 and tests.get(int(self.concept_list.item(i).data(Qt.ItemDataRole.UserRole)), 10**6) < 2 * per]
        if short:
            self.summary.setText(self.summary.text() + "<br><span style='color:#8a5a00'>Too few positions for "
                                 f"tests at {per} per phase: {', '.join(short)}. Lower the count or choose "
                                 "other concepts.</span>")
        ok = self.player_box.count() > 0 and bool(self.checked_concepts())
        self.start_btn.setEnabled(ok)
        self.start_btn.setToolTip("" if ok else "Choose a player and at least one concept")

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

        self.workers.db(save, on_success=lambda t: self.message.emit(f"Saved template '{t.name}'"),
                        changes=Changes(templates=True), name="save template",
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
            if len(planned.session_ids) > 1:
                self.message.emit(f"Created {plural(len(planned.session_ids), 'session')} (one per player); the "
                                  "others can be resumed from Home")
            self.sessionCreated.emit(planned.session_ids[0])

        def failed(message: str) -> None:
            self.start_btn.setEnabled(True)
            self.setup_error.set("error", message)

        self.workers.db(create, on_success=created, on_failure=failed, name="create session",
                        changes=Changes(sessions=True))


__all__ = ["SetupPage"]
