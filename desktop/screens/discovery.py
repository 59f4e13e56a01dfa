"""Discovery: import human games (PGN) and run concept discovery in the background, with
progress per stage and cancel; new concepts then appear in the explorer.

Both run in a child process (``Workers.process`` with the jobs in
``conceptcoach.desktop.jobs``): discovery loads torch and parsing thousands of games is
long pure-Python work, either of which would hold the GUI process's interpreter lock.
Cancelling keeps what was committed; running again resumes. An import announces
``Changes(games=True)``, a discovery run ``Changes(concepts=True)``.

The page scrolls vertically only: long texts wrap, the funnel (aligned columns) scrolls
sideways in its own box, so nothing is cut at 1024 pixels wide.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conceptcoach.desktop.changes import Changes
from conceptcoach.desktop.screens.widgets import plural
from conceptcoach.desktop.workers import Operation, Workers
from conceptcoach.parallel import ray_installed
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

#: The pipeline's stages in order (conceptcoach.concepts.run.STAGES; not imported here
#: because that module loads torch).
STAGES = ("import", "selfplay", "candidates", "discovery", "prototypes", "teachability", "novelty", "static",
          "write", "verify")
STAGE_TEXT = {
    "import": "Import human games",
    "selfplay": "Teacher self-play",
    "candidates": "Candidate positions",
    "discovery": "Concept vectors (convex programs)",
    "prototypes": "Prototypes",
    "teachability": "Teachability (students taught)",
    "novelty": "Novelty against human games",
    "static": "Known themes (static concepts)",
    "write": "Write to the library",
    "verify": "Verify items with Stockfish",
}
ERROR = "color:#b3261e"


def split_files(text: str) -> list[str]:
    """File names typed or chosen, separated by ';' (names may contain spaces)."""
    return [f.strip() for f in text.split(";") if f.strip()]


class StageList(QWidget):
    """One row per stage: its name, a progress bar and what it is doing."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.bars: dict[str, QProgressBar] = {}
        self.notes: dict[str, QLabel] = {}
        for row, stage in enumerate(STAGES):
            name = QLabel(STAGE_TEXT[stage], self)
            name.setWordWrap(True)
            grid.addWidget(name, row, 0)
            bar = QProgressBar(self)
            bar.setRange(0, 1)
            bar.setValue(0)
            bar.setTextVisible(False)
            bar.setMaximumHeight(14)
            bar.setMinimumWidth(40)
            note = QLabel("waiting", self)
            note.setWordWrap(True)  # a long note wraps instead of widening the page
            grid.addWidget(bar, row, 1)
            grid.addWidget(note, row, 2)
            self.bars[stage], self.notes[stage] = bar, note
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 2)
        self.current: str | None = None

    def reset(self) -> None:
        self.current = None
        for stage in STAGES:
            self.bars[stage].setRange(0, 1)
            self.bars[stage].setValue(0)
            self.notes[stage].setText("waiting")

    def update_stage(self, done: int, total: int, message: str) -> None:
        stage, _, detail = message.partition(":")
        # Progress messages say "self-play: ..." where the stage list says "selfplay".
        stage = stage.strip().replace("-", "")
        if stage not in self.bars:
            return
        if self.current is not None and self.current != stage and self.current in self.bars:
            previous = self.bars[self.current]
            previous.setRange(0, 1)
            previous.setValue(1)
            self.notes[self.current].setText("done")
        # Stages before this one that never reported (nothing to do on a resumed run) are done too.
        for s in STAGES[: STAGES.index(stage)]:
            if self.notes[s].text() == "waiting":
                self.bars[s].setValue(1)
                self.notes[s].setText("done (nothing to do)")
        self.current = stage
        bar = self.bars[stage]
        bar.setRange(0, max(1, total))
        bar.setValue(min(done, max(1, total)))
        self.notes[stage].setText(detail.strip() or f"{done}/{total}")

    def finish(self) -> None:
        for stage in STAGES:
            self.bars[stage].setRange(0, 1)
            self.bars[stage].setValue(1)
            if self.notes[stage].text() in ("waiting", ""):
                self.notes[stage].setText("done (nothing to do)")
            elif stage == self.current or not self.notes[stage].text().startswith("done"):
                self.notes[stage].setText("done")


class DiscoveryScreen(QWidget):
    def __init__(self, workers: Workers, db_path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.db_path = db_path
        self.teacher = "teacher"  # the network chosen under Settings
        self.import_op: Operation | None = None
        self.discover_op: Operation | None = None
        self.last_import: list[dict[str, Any]] = []
        self.last_repairs: list[tuple[str, int, int, str]] = []
        self.last_discovery: dict[str, Any] | None = None

        # --- import
        self.files = QLineEdit(self)
        self.files.setPlaceholderText("PGN files (.pgn or .pgn.gz), separated by ;")
        self.files.setAccessibleName("PGN files")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        self.import_button = QPushButton("Import games", self)
        self.import_button.clicked.connect(self.start_import)
        self.import_cancel = QPushButton("Cancel", self)
        self.import_cancel.setEnabled(False)
        self.import_cancel.clicked.connect(lambda: self.import_op and self.import_op.cancel())
        self.import_bar = QProgressBar(self)
        self.import_bar.setRange(0, 1)
        self.import_bar.setValue(0)
        self.import_bar.setTextVisible(False)
        self.import_status = QLabel("Import a player's own games to find what the network knows that they "
                                    "never show, or master games for the default comparison.", self)
        self.import_status.setWordWrap(True)
        self.problems = QTableWidget(0, 4, self)
        self.problems.setHorizontalHeaderLabels(["File", "Game", "Line", "What happened"])
        self.problems.verticalHeader().setVisible(False)
        self.problems.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        h = self.problems.horizontalHeader()
        for c in range(3):
            h.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.problems.setVisible(False)

        import_box = QGroupBox("1. Import human games", self)
        il = QVBoxLayout(import_box)
        row = QHBoxLayout()
        row.addWidget(self.files, 1)
        row.addWidget(browse)
        row.addWidget(self.import_button)
        row.addWidget(self.import_cancel)
        il.addLayout(row)
        il.addWidget(self.import_bar)
        il.addWidget(self.import_status)
        il.addWidget(self.problems)

        # --- discovery
        self.games = QSpinBox(self)
        self.games.setRange(2, 5000)
        self.games.setValue(40)
        self.games.setToolTip("Self-play games of the teacher; more games, more candidate positions")
        self.sims = QSpinBox(self)
        self.sims.setRange(16, 4000)
        self.sims.setValue(100)
        self.sims.setToolTip("Search simulations per self-play move")
        self.candidates = QSpinBox(self)
        self.candidates.setRange(10, 20000)
        self.candidates.setValue(200)
        self.candidates.setToolTip("Positions searched by the weaker network to find where it disagrees")
        self.procs = QSpinBox(self)
        self.procs.setRange(1, 64)
        self.procs.setValue(2)
        self.procs.setToolTip("Parallel worker processes (one CPU core each)")
        # Where the independent pieces of work run: this computer's process pool, or a
        # Ray cluster (the same seed finds the same concepts on either; docs/SCALE.md).
        self.backend = QComboBox(self)
        self.backend.addItem("This computer (worker processes)", "local")
        self.backend.addItem("Ray cluster", "ray")
        self.ray_address = QLineEdit(self)
        self.ray_address.setPlaceholderText("HOST:PORT (empty: Ray on this computer)")
        self.ray_address.setToolTip("The head node of a running Ray cluster (ray start --head); empty: Ray "
                                    "is started on this computer with as many CPUs as worker processes")
        if ray_installed():
            self.backend.setToolTip("Self-play games, candidate searches, programs, students and novelty "
                                    "bases run as independent tasks here or on a Ray cluster; results come "
                                    "back to this computer's store")
        else:
            ray_item = self.backend.model().item(1)  # type: ignore[attr-defined]
            ray_item.setEnabled(False)
            ray_item.setToolTip("Ray is not installed: pip install 'conceptcoach[ray]'")
            self.backend.setToolTip("A Ray cluster needs Ray: pip install 'conceptcoach[ray]'")
        self.backend.currentIndexChanged.connect(self._backend_changed)
        self._backend_changed()
        self.seed = QSpinBox(self)
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Seed of every random choice; recorded with the concepts found")
        form = QFormLayout()
        form.addRow("Self-play games", self.games)
        form.addRow("Simulations per move", self.sims)
        form.addRow("Candidate positions", self.candidates)
        form.addRow("Worker processes", self.procs)
        form.addRow("Where the work runs", self.backend)
        form.addRow("Ray cluster address", self.ray_address)
        form.addRow("Seed", self.seed)
        self.against_imported = QCheckBox("Novelty against the imported games only", self)
        self.against_imported.setToolTip("e.g. one student's own games: what does the network know that "
                                         "this player's games never show? Otherwise: every human game in the store")
        self.against_imported.setEnabled(False)
        self.against_note = QLabel(self)
        self.against_note.setWordWrap(True)
        self.against_note.setStyleSheet("color:#666;")
        self.against_note.hide()
        form.addRow("", self.against_imported)
        form.addRow("", self.against_note)
        self.run_button = QPushButton("Run discovery", self)
        self.run_button.clicked.connect(self.start_discovery)
        self.run_cancel = QPushButton("Cancel", self)
        self.run_cancel.setEnabled(False)
        self.run_cancel.clicked.connect(self._cancel_discovery)
        self.stages = StageList(self)
        self.run_status = QLabel("Discovery searches the teacher's own games for positions where it plays "
                                 "differently from a weaker version of itself, finds concept vectors there, "
                                 "and keeps those a student network can learn and human games do not "
                                 "explain. It takes minutes to hours; you can cancel and resume later.", self)
        self.run_status.setWordWrap(True)
        # The funnel's lines are aligned columns: kept whole in a box of their own that
        # scrolls sideways when narrow, rather than widening the whole page.
        self.funnel = QPlainTextEdit(self)
        self.funnel.setReadOnly(True)
        self.funnel.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.funnel.setFont(mono)
        self.funnel.hide()

        run_box = QGroupBox("2. Discover concepts", self)
        rl = QHBoxLayout(run_box)
        left = QVBoxLayout()
        left.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.run_cancel)
        left.addLayout(buttons)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.run_status)
        right.addWidget(self.stages)
        right.addWidget(self.funnel)
        right.addStretch(1)
        rl.addLayout(left)
        rl.addLayout(right, 1)

        body = QWidget(self)
        bl = QVBoxLayout(body)
        bl.addWidget(QLabel("<h2>Discovery</h2>", body))
        bl.addWidget(import_box)
        bl.addWidget(run_box)
        bl.addStretch(1)
        scroll = self.scroller = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

    # ------------------------------------------------------------------ import
    def _browse(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "PGN files", str(Path.home()),
                                                "PGN files (*.pgn *.pgn.gz);;All files (*)")
        if files:
            self.files.setText("; ".join(files))

    @property
    def busy(self) -> bool:
        return self.import_op is not None or self.discover_op is not None

    def start_import(self) -> None:
        files = split_files(self.files.text())
        if not files:
            self.import_status.setText(f"<span style='{ERROR}'>Choose one or more PGN files first.</span>")
            return
        missing = [f for f in files if not Path(f).expanduser().is_file()]
        if missing:
            self.import_status.setText(f"<span style='{ERROR}'>Not found: {'; '.join(missing)}. "
                                       "Check the names or use Browse….</span>")
            return
        self._importing(True)
        self.import_status.setText("Reading games…")
        self.problems.setRowCount(0)
        self.problems.hide()
        self.import_op = self.workers.process(
            "conceptcoach.desktop.jobs:import_games",
            {"db_path": self.db_path, "files": [str(Path(f).expanduser()) for f in files]},
            name="import games", on_success=self._imported, on_failure=self._import_failed, changes=Changes(games=True),
            on_progress=self._import_progress, on_finished=self._import_finished)

    def _importing(self, running: bool) -> None:
        self.import_button.setEnabled(not running)
        self.import_cancel.setEnabled(running)
        self.run_button.setEnabled(not running and self.discover_op is None)

    def _import_progress(self, done: int, total: int, message: str) -> None:
        self.import_bar.setTextVisible(True)
        self.import_bar.setRange(0, max(1, total))
        self.import_bar.setValue(min(done, max(1, total)))
        self.import_status.setText(message)

    def _imported(self, summaries: list[dict[str, Any]]) -> None:
        self.last_import = summaries
        lines = []
        problems: list[tuple[str, int, int, str]] = []
        repairs: list[tuple[str, int, int, str]] = []
        for s in summaries:
            if "error" in s:
                lines.append(f"<span style='{ERROR}'>{s['error']}</span>")
                continue
            fixed = len(s.get("repairs", []))
            lines.append(f"<b>{Path(s['file']).name}</b>: {plural(s['games_read'], 'game')} read, "
                         f"{s['imported']} imported, {s['duplicates']} already in the store, {s['bad_games']} "
                         f"skipped" + (f", {plural(fixed, 'repair')} to the file's layout" if fixed else "")
                         + f" (corpus “{s['corpus']}”).")
            problems.extend((str(f), int(g), int(ln), str(why)) for f, g, ln, why in s.get("problems", []))
            repairs.extend((str(f), int(g), int(ln), str(what)) for f, g, ln, what in s.get("repairs", []))
        if problems:
            were = "game was" if len(problems) == 1 else "games were"
            lines.append(f"{len(problems)} {were} skipped; each is listed below with the reason. "
                         "Fix them in the file and import it again: games already imported are not duplicated.")
        if repairs:
            lines.append(f"The reader repaired the file's layout in {plural(len(repairs), 'place')} (listed below "
                         "after the skipped games): no game was lost to them, but check the games named there.")
        self.import_status.setText("<br>".join(lines))
        self.last_repairs = repairs
        rows = [(f, g, ln, f"Skipped: {why}") for f, g, ln, why in problems]
        rows += [(f, g, ln, f"Repaired: {what}") for f, g, ln, what in repairs]
        self.problems.setRowCount(len(rows))
        for i, (file, game, line, reason) in enumerate(rows):
            for c, text in enumerate((Path(file).name, str(game), str(line), reason)):
                item = QTableWidgetItem(text)
                if c == 0:
                    item.setToolTip(file)
                elif c == 3:
                    item.setToolTip(reason)
                    if reason.startswith("Repaired"):
                        item.setForeground(QColor("#1f5f99"))
                self.problems.setItem(i, c, item)
        self.problems.setVisible(bool(rows))
        problems = rows  # the table's height below counts every row
        self.problems.resizeRowsToContents()  # a long reason wraps onto a second line
        # As tall as its rows (up to ten), so a short list leaves no empty box.
        rows = min(len(problems), 10)
        height = self.problems.horizontalHeader().height() + 4
        height += sum(self.problems.rowHeight(i) for i in range(rows))
        self.problems.setFixedHeight(max(height, 60))
        self.import_bar.setRange(0, 1)
        self.import_bar.setValue(1)
        corpora = sorted({s["corpus"] for s in summaries if "corpus" in s})
        self.against_imported.setEnabled(len(corpora) == 1)
        self.against_note.setVisible(len(corpora) == 1)
        if len(corpora) == 1:
            self.against_note.setText(f"The games imported above: corpus “{corpora[0]}”.")

    def _import_failed(self, message: str) -> None:
        self.import_status.setText(f"<span style='{ERROR}'>The import stopped: {message}</span>")

    def _import_finished(self) -> None:
        op = self.import_op
        self.import_op = None
        self._importing(False)
        if op is not None and op.cancelled:
            self.import_status.setText("Import cancelled. Games committed so far are kept; importing the "
                                       "same file again resumes after them.")

    # ------------------------------------------------------------------ discovery
    def overrides(self) -> dict[str, Any]:
        out: dict[str, Any] = {"teacher": self.teacher, "selfplay_games": self.games.value(),
                               "selfplay_sims": self.sims.value(), "max_candidate_positions": self.candidates.value(),
                               "workers": self.procs.value(), "seed": self.seed.value(),
                               "backend": self.backend.currentData()}
        if out["backend"] == "ray" and self.ray_address.text().strip():
            out["ray_address"] = self.ray_address.text().strip()
        corpora = sorted({s["corpus"] for s in self.last_import if "corpus" in s})
        if self.against_imported.isEnabled() and self.against_imported.isChecked() and len(corpora) == 1:
            out["human_corpus"] = corpora[0]
        return out

    def _backend_changed(self) -> None:
        self.ray_address.setEnabled(self.backend.currentData() == "ray")

    def show_funnel(self, lines: list[str]) -> None:
        self.funnel.setPlainText("\n".join(lines))
        self.funnel.setVisible(bool(lines))
        fm = self.funnel.fontMetrics()
        bar = self.funnel.horizontalScrollBar().sizeHint().height()
        self.funnel.setFixedHeight(min(len(lines), 14) * fm.lineSpacing() + 2 * self.funnel.frameWidth() + bar + 10)

    def start_discovery(self) -> None:
        self.stages.reset()
        self.show_funnel([])
        self.run_button.setEnabled(False)
        self.run_cancel.setEnabled(True)
        self.import_button.setEnabled(False)
        self.run_status.setText(f"Starting (loading the network '{self.teacher}')…")
        self.discover_op = self.workers.process(
            "conceptcoach.desktop.jobs:discover",
            {"db_path": self.db_path, "files": [], "overrides": self.overrides()},
            name="discover", on_success=self._discovered, on_failure=self._discovery_failed,
            changes=Changes(concepts=True),
            on_progress=self._discovery_progress, on_finished=self._discovery_finished)

    def _cancel_discovery(self) -> None:
        if self.discover_op is not None:
            self.discover_op.cancel()
            self.run_cancel.setEnabled(False)
            self.run_status.setText("Stopping after the current step…")

    def _discovery_progress(self, done: int, total: int, message: str) -> None:
        self.stages.update_stage(done, total, message)
        self.run_status.setText(message)

    def _discovered(self, result: dict[str, Any]) -> None:
        self.last_discovery = result
        self.stages.finish()
        written = int(result.get("written", 0))
        if written:
            self.run_status.setText(f"Finished run {result.get('run_id', '')}: {written} concepts written to the "
                                    "library. Open Concepts to see them.")
        else:
            self.run_status.setText(f"Finished run {result.get('run_id', '')}: no concept passed the filters with "
                                    "these settings (the funnel below shows where they stopped). Try more self-play "
                                    "games and candidate positions; finished steps are reused.")
        self.show_funnel(result.get("funnel", []))

    def _discovery_failed(self, message: str) -> None:
        self.run_status.setText(f"<span style='{ERROR}'>Discovery stopped: {message}</span>")

    def _discovery_finished(self) -> None:
        op = self.discover_op
        self.discover_op = None
        self.run_button.setEnabled(True)
        self.run_cancel.setEnabled(False)
        self.import_button.setEnabled(True)
        if op is not None and op.cancelled:
            self.run_status.setText("Discovery cancelled. Every finished step is kept in the store; "
                                    "Run discovery again with the same settings to resume.")
