"""Results: a player's learning gains per concept with their intervals, the control items,
the player's progress over time (pre- and post-test score per session, for all concepts
or one) with the concepts due for review, the session history (each session's answers
can be reviewed), and every export of the study core (CSV, JSON, PGN study, EPD quiz,
HTML report, printable worksheet).

Gains are recomputed from the attempt log by ``conceptcoach.study.stats.gain_report`` on
the DB worker, progress by ``stats.player_progress`` and the review queue by
``study.review.review_cards``; exports are written by ``conceptcoach.io.exports`` (and
``io.worksheet``) into a folder the user picks, and the screen says what was written where.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from conceptcoach.desktop.changes import Changes
from conceptcoach.desktop.screens.plots import GainPlot, GainRow, ProgressPlot
from conceptcoach.desktop.screens.results_data import (
    ALL_CONCEPTS,
    ALL_SESSIONS,
    ResultsData,
    _ci,
    _interval,
    due_text,
    load_results,
    prediction_text,
    progress_points,
)
from conceptcoach.desktop.screens.widgets import (
    NaturalItem,
    Redraw,
    fit_table_height,
    natural_key,
    plural,
)
from conceptcoach.desktop.workers import Context, Workers
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


class ResultsScreen(QWidget):
    exported = Signal(str)  # what was written where
    exportDirChanged = Signal(str)  # the export folder the user chose (remembered in the settings)
    reviewRequested = Signal(int, int)  # session id, player id: review that session's answers

    def __init__(self, workers: Workers, export_dir: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.data: ResultsData | None = None
        self._loading = False
        self._request = 0  # the newest load asked for; older ones are dropped when they land
        self.redraw = Redraw(self, self.refresh)
        workers.changed.connect(self.on_changes)

        self.player = QComboBox(self)
        self.player.setMinimumWidth(180)
        self.session = QComboBox(self)
        self.session.setMinimumWidth(260)
        self.player.activated.connect(lambda _i: self.show_for(self.player.currentData(), ALL_SESSIONS))
        self.session.activated.connect(lambda _i: self.show_for(self.player.currentData(), self.session.currentData()))
        top = QHBoxLayout()
        top.addWidget(QLabel("<h2>Results</h2>", self))
        top.addStretch(1)
        for label, w in (("Player", self.player), ("Sessions", self.session)):
            lab = QLabel(label, self)
            lab.setBuddy(w)
            top.addWidget(lab)
            top.addWidget(w)

        self.headline = QLabel(self)
        self.headline.setWordWrap(True)
        self.headline.setTextFormat(Qt.TextFormat.RichText)
        self.plot = GainPlot(parent=self)
        self.plot.unit = ""
        self.table = QTableWidget(0, 6, self)
        self.table.setHorizontalHeaderLabels(["Concept", "Pre-test", "Post-test", "Gain", "95% interval", "Units"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, 6):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.maia = QLabel(self)  # the chosen session's pre-test beside Maia's prediction
        self.maia.setWordWrap(True)
        self.maia.setTextFormat(Qt.TextFormat.RichText)
        self.controls = QLabel(self)
        self.controls.setWordWrap(True)

        self.history = QTableWidget(0, 4, self)
        self.history.setHorizontalHeaderLabels(["Session", "Started", "Phase", "Gain"])
        self.history.verticalHeader().setVisible(False)
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.history.itemDoubleClicked.connect(self._history_open)
        self.history.itemSelectionChanged.connect(self._update_buttons)
        self.review_btn = QPushButton("Review the answers", self)
        self.review_btn.setToolTip("Step through the selected session's test positions: the player's move, "
                                   "the teacher's and the figures behind them")
        self.review_btn.clicked.connect(self._review)

        # Progress over time and the review queue
        self.progress_concept = QComboBox(self)
        self.progress_concept.setAccessibleName("Concept shown in the progress plot")
        self.progress_concept.setMinimumWidth(220)
        self.progress_concept.activated.connect(lambda _i: self._show_progress())
        self.progress = ProgressPlot(self)
        self.due_label = QLabel(self)
        self.due_label.setWordWrap(True)
        self.due = QTableWidget(0, 5, self)
        self.due.setHorizontalHeaderLabels(["Concept", "Due", "Recall now", "Reviews", "Last score"])
        self.due.horizontalHeaderItem(2).setToolTip("The scheduler's estimate of the chance to find the idea now")
        self.due.verticalHeader().setVisible(False)
        self.due.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.due.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        dh = self.due.horizontalHeader()
        dh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, 5):
            dh.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)

        # Exports
        self.folder = QLineEdit(str(export_dir or self.default_folder()), self)
        self.folder.setAccessibleName("Export folder")
        self._saved_folder = self.folder.text()
        self.folder.editingFinished.connect(self._folder_changed)
        choose = QPushButton("Choose…", self)
        choose.clicked.connect(self._choose_folder)
        self.csv = QPushButton("Attempts (CSV)", self)
        self.json = QPushButton("Session (JSON)", self)
        self.pgn = QPushButton("Concept study (PGN)", self)
        self.epd = QPushButton("Quiz set (EPD)", self)
        self.html = QPushButton("Report (HTML)", self)
        self.csv.setToolTip("One row per answer, for a spreadsheet")
        self.json.setToolTip("The selected session with its results")
        self.pgn.setToolTip("The selected concept as a study: one chapter per prototype, with arrows")
        self.epd.setToolTip("The concepts shown, as an EPD quiz set for other programs")
        self.html.setToolTip("Gains with plots, ready to print to PDF")
        self.csv.clicked.connect(lambda: self._export("csv"))
        self.json.clicked.connect(lambda: self._export("json"))
        self.pgn.clicked.connect(lambda: self._export("pgn"))
        self.epd.clicked.connect(lambda: self._export("epd"))
        self.html.clicked.connect(lambda: self._export("html"))
        self.pdf = QPushButton("Print worksheet (PDF)", self)
        self.pdf.setToolTip("The selected session's positions as board diagrams to print, answers on the last pages")
        self.pdf.clicked.connect(lambda: self._export("pdf"))
        self.per_page = QComboBox(self)
        self.per_page.setAccessibleName("Diagrams per page")
        for n in (6, 4):
            self.per_page.addItem(f"{n} per page", n)
        self.export_message = QLabel("Session (JSON) and the worksheet export the session chosen above; "
                                     "Concept study (PGN) the concept selected in the table.", self)
        self.export_message.setWordWrap(True)
        self.export_message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        exports = self.exports_box = QGroupBox("Export", self)
        el = QVBoxLayout(exports)
        frow = QHBoxLayout()
        frow.addWidget(QLabel("Folder", self))
        frow.addWidget(self.folder, 1)
        frow.addWidget(choose)
        el.addLayout(frow)
        brow = QHBoxLayout()
        for b in (self.csv, self.json, self.pgn, self.epd, self.html):
            brow.addWidget(b)
        el.addLayout(brow)
        prow = QHBoxLayout()
        prow.addWidget(self.pdf)
        prow.addWidget(self.per_page)
        prow.addStretch(1)
        el.addLayout(prow)
        el.addWidget(self.export_message)

        self.empty = QLabel(self)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)

        body = QWidget(self)
        bl = QVBoxLayout(body)
        bl.addWidget(self.headline)
        bl.addWidget(self.empty)
        bl.addWidget(self.plot)
        bl.addWidget(self.table)
        bl.addWidget(self.maia)
        bl.addWidget(self.controls)
        progress_box = self.progress_box = QGroupBox("Progress over time", self)
        pl = QVBoxLayout(progress_box)
        crow = QHBoxLayout()
        concept_label = QLabel("Concepts", self)
        concept_label.setBuddy(self.progress_concept)
        crow.addWidget(concept_label)
        crow.addWidget(self.progress_concept)
        crow.addStretch(1)
        pl.addLayout(crow)
        pl.addWidget(self.progress)
        pl.addWidget(self.due_label)
        pl.addWidget(self.due)
        bl.addWidget(progress_box)
        history_box = self.history_box = QGroupBox("History", self)
        hl = QVBoxLayout(history_box)
        hl.addWidget(self.history)
        hrow = QHBoxLayout()
        hrow.addWidget(self.review_btn)
        hint = QLabel("Double-click a session to see its gains above.", self)
        hint.setStyleSheet("color:#666;")
        hrow.addWidget(hint, 1)
        hl.addLayout(hrow)
        bl.addWidget(history_box)
        bl.addWidget(exports)
        bl.addStretch(1)
        scroll = self.scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        self._update_buttons()

    @staticmethod
    def default_folder() -> Path:
        """Where exports go until the user picks a folder."""
        return Path.home() / "ConceptCoach exports"

    # ------------------------------------------------------------------ loading
    def on_changes(self, changes: Changes) -> None:
        # Before a player's results were asked for there is nothing to redraw.
        if self.data is not None and (changes.sessions or changes.players or changes.concepts):
            self.redraw.needed()

    def show_for(self, player_id: int | None, session_id: int = ALL_SESSIONS) -> None:
        self._loading = True
        # What is asked now supersedes a redraw still pending from a change made while the
        # screen was hidden, and any load still in flight: only the newest is shown (a
        # redraw of the previous player's results landed after "See the results").
        self.redraw.pending = False
        self._request += 1
        request = self._request

        def loaded(data: ResultsData) -> None:
            if request == self._request:
                self._loaded(data)

        def failed(msg: str) -> None:
            if request == self._request:
                self._loading = False
                self.headline.setText(f"<b>Could not compute the results:</b> {msg}")

        self.workers.db(lambda ctx: load_results(ctx, player_id, session_id), name="results",
                        on_success=loaded, on_failure=failed)

    def refresh(self) -> None:
        d = self.data
        self.show_for(d.player_id if d else None, d.session_id if d else ALL_SESSIONS)

    @property
    def loading(self) -> bool:
        return self._loading

    def _loaded(self, data: ResultsData) -> None:
        self._loading = False
        self.data = data
        self.player.clear()
        for pid, name in data.players:
            self.player.addItem(name, pid)
        if data.player_id is not None:
            self.player.setCurrentIndex(self.player.findData(data.player_id))
        self.session.clear()
        self.session.addItem("All sessions", ALL_SESSIONS)
        for sid, when, phase, _gain in data.sessions:
            self.session.addItem(f"Session {sid} · {when} · {phase}", sid)
        self.session.setCurrentIndex(max(0, self.session.findData(data.session_id)))
        self.history.setRowCount(len(data.sessions))
        for i, (sid, when, phase, gain) in enumerate(data.sessions):
            for c, text in enumerate((str(sid), when, phase, "–" if gain is None else f"{gain:+.2f}")):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, sid)
                self.history.setItem(i, c, item)

        if not data.players:
            self._empty("No players yet: add one on Home, run a session, and its results appear here.")
        elif data.overall is None:
            self._empty("No gains yet: a gain needs a concept answered in both the pre-test and the post-test. "
                        "Finish a session's post-test, then come back." +
                        (f" ({plural(data.attempts, 'answer')} recorded so far.)" if data.attempts else ""))
        else:
            self.empty.hide()
            o = data.overall
            text = (f"<p style='font-size:large'>Mean gain <b>{o.mean_gain_positions:+.2f}</b> positions out of "
                    f"{o.per_phase:g} per concept{_interval(o.ci_low, o.ci_high)} "
                    f"({100 * o.pre_rate:.0f}% → {100 * o.post_rate:.0f}% of the teacher's moves found; "
                    f"{plural(o.n_units, 'concept unit')}, {plural(data.attempts, 'answer')}).</p>")
            if o.wilcoxon_p is not None:
                text += f"<p>Paired tests: Wilcoxon p = {o.wilcoxon_p:.3f}"
                if o.permutation_p is not None:
                    text += f", sign-flip permutation p = {o.permutation_p:.3f}"
                text += ".</p>"
            self.headline.setText(text)
        self.plot.setVisible(data.overall is not None or data.control is not None)
        self.table.setVisible(bool(data.concepts))
        rows = [GainRow(c.name + (" (control)" if c.control else ""), c.gain,
                        c.low if c.low is not None else c.gain, c.high if c.high is not None else c.gain, c.control)
                for c in data.concepts]
        self.plot.set_rows(rows)
        self.table.setRowCount(len(data.concepts))
        for i, cg in enumerate(data.concepts):
            cells = [cg.name + (" (control)" if cg.control else ""), f"{100 * cg.pre_rate:.0f}%",
                     f"{100 * cg.post_rate:.0f}%", f"{cg.gain:+.2f}", _ci(cg.low, cg.high), str(cg.n_units)]
            for col, t in enumerate(cells):
                item = NaturalItem(t) if col == 0 else QTableWidgetItem(t)
                item.setData(Qt.ItemDataRole.UserRole, cg.concept_id)
                self.table.setItem(i, col, item)
        # Only what has content is shown: an empty state is one sentence, not empty boxes.
        self.controls.setVisible(data.overall is not None)
        maia = prediction_text(data.predictions, data.concept_names)
        self.maia.setText(maia)
        self.maia.setVisible(bool(maia))
        self.history_box.setVisible(bool(data.sessions))
        self.progress_box.setVisible(data.player_id is not None and bool(data.sessions))
        self._fill_progress(data)
        self.exports_box.setVisible(data.player_id is not None and data.attempts > 0)
        fit_table_height(self.table, max_rows=12)
        fit_table_height(self.history, max_rows=8)
        if data.control is not None:
            net, lo, hi = data.net
            c = data.control
            text = (f"<b>Control items</b> (positions from concepts that failed a filter, run through the same "
                    f"phases): {c.mean_gain_positions:+.2f} positions{_interval(c.ci_low, c.ci_high)}.")
            if net is not None:
                text += f" Gain net of practice: <b>{net:+.2f}</b>{_interval(lo, hi)}."
            self.controls.setText(text)
        else:
            self.controls.setText("No control items in these sessions: the gain cannot be separated from "
                                  "practice. Add control items when planning a session.")
        self._update_buttons()

    def _fill_progress(self, data: ResultsData) -> None:
        wanted = self.progress_concept.currentData()
        self.progress_concept.clear()
        self.progress_concept.addItem("All concepts, per session", ALL_CONCEPTS)
        ids = sorted({r.concept_id for r in data.progress if r.concept_id is not None},
                     key=lambda c: natural_key(data.concept_names.get(c, f"concept {c}")))
        for cid in ids:
            self.progress_concept.addItem(data.concept_names.get(cid, f"concept {cid}"), cid)
        self.progress_concept.setCurrentIndex(max(0, self.progress_concept.findData(wanted)))
        self._show_progress()
        now = datetime.fromisoformat(data.now) if data.now else datetime.now(UTC)
        due_now = [c for c in data.reviews if c.due <= now]
        if not data.reviews:
            self.due_label.setText("No concept is scheduled for review yet: a concept enters the review queue "
                                   "once the player has answered its post-test.")
        else:
            self.due_label.setText(
                f"<b>Due for review: {plural(len(due_now), 'concept')}</b> now, "
                f"{len(data.reviews) - len(due_now)} later (spaced repetition from the post-test scores).")
        self.due.setVisible(bool(data.reviews))
        self.due.setRowCount(len(data.reviews))
        for i, c in enumerate(data.reviews):
            cells = (c.concept_name, due_text(c.due, now), f"{c.retrievability:.0%}", str(c.reviews),
                     f"{c.last_score:.0%}")
            for col, text in enumerate(cells):
                item = NaturalItem(text) if col == 0 else QTableWidgetItem(text)
                if col == 1 and c.due <= now:
                    f = item.font()
                    f.setBold(True)
                    item.setFont(f)
                item.setData(Qt.ItemDataRole.UserRole, c.concept_id)
                self.due.setItem(i, col, item)
        fit_table_height(self.due, max_rows=8)

    def _show_progress(self) -> None:
        d = self.data
        if d is None:
            return
        cid = self.progress_concept.currentData()
        self.progress.set_points(progress_points(d.progress, None if not cid else int(cid)))

    def _empty(self, text: str) -> None:
        self.headline.clear()
        self.empty.setText(text)
        self.empty.show()

    def _history_open(self, item: QTableWidgetItem) -> None:
        self.show_for(self.player.currentData(), int(item.data(Qt.ItemDataRole.UserRole)))

    def selected_history_session(self) -> int | None:
        """The session picked in the history, else the one chosen above."""
        items = self.history.selectedItems()
        if items:
            return int(items[0].data(Qt.ItemDataRole.UserRole))
        return self.data.session_id or None if self.data is not None else None

    def _review(self) -> None:
        sid = self.selected_history_session()
        if sid and self.data is not None and self.data.player_id is not None:
            self.reviewRequested.emit(sid, self.data.player_id)

    def _selected_concept(self) -> int | None:
        items = self.table.selectedItems()
        return int(items[0].data(Qt.ItemDataRole.UserRole)) if items else None

    def _update_buttons(self) -> None:
        d = self.data
        has_player = d is not None and d.player_id is not None
        self.csv.setEnabled(has_player)
        self.html.setEnabled(has_player)
        self.json.setEnabled(d is not None and bool(d.session_id))
        self.pgn.setEnabled(self._selected_concept() is not None)
        self.epd.setEnabled(d is not None and bool(d.concepts))
        self.pdf.setEnabled(d is not None and bool(d.session_id))
        self.per_page.setEnabled(self.pdf.isEnabled())
        self.review_btn.setEnabled(self.selected_history_session() is not None)
        if d is not None and not d.session_id:
            self.json.setToolTip("Pick one session above to export it as JSON")
            self.pdf.setToolTip("Pick one session above to print its worksheet")
        else:
            self.json.setToolTip("The selected session with its results")
            self.pdf.setToolTip("The selected session's positions as board diagrams to print, answers on the "
                                "last pages")

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export folder", self.folder.text())
        if folder:
            self.folder.setText(folder)
            self._folder_changed()

    def _folder_changed(self) -> None:
        folder = self.folder.text().strip()
        if folder and folder != self._saved_folder:
            self._saved_folder = folder
            self.exportDirChanged.emit(folder)

    # ------------------------------------------------------------------ exports
    def export_path(self, kind: str) -> Path:
        # The core's one naming pattern ({player}-{scope}-{what}.{kind}); the DB thread has
        # imported conceptcoach.io.exports at start-up (jobs.preload_core), so this is cheap.
        from conceptcoach.io.exports import export_file_name

        d = self.data
        assert d is not None
        who = next((n for i, n in d.players if i == d.player_id), "player")
        name = export_file_name(kind, player=who, session_id=d.session_id or None,
                                concept_id=self._selected_concept() if kind == "pgn" else None)
        return Path(self.folder.text()).expanduser() / name

    def _export(self, kind: str) -> None:
        d = self.data
        if d is None or d.player_id is None:
            return
        self._folder_changed()
        path = self.export_path(kind)
        session_ids = [d.session_id] if d.session_id else None
        player_ids = [d.player_id]
        concept = self._selected_concept()
        concept_ids = [c.concept_id for c in d.concepts if not c.control]
        per_page = int(self.per_page.currentData() or 6)

        def work(ctx: Context) -> str:
            from conceptcoach.io import exports

            path.parent.mkdir(parents=True, exist_ok=True)
            if kind == "csv":
                n = exports.write_attempts_csv(ctx.db, path, session_ids=session_ids, player_ids=player_ids)
                return f"{n} answers written to {path}"
            if kind == "json":
                exports.write_session_json(ctx.db, d.session_id, path)
                return f"session {d.session_id} written to {path}"
            if kind == "pgn":
                assert concept is not None
                n = exports.write_concept_pgn(ctx.db, concept, path)
                return f"{n} chapters written to {path}"
            if kind == "epd":
                n = exports.write_epd_quiz(ctx.db, concept_ids, path)
                return f"{n} positions written to {path}"
            if kind == "pdf":
                from conceptcoach.io.worksheet import write_worksheet

                sheet = write_worksheet(ctx.db, path, session_id=d.session_id, per_page=per_page)
                return f"worksheet of {plural(sheet.positions, 'position')} written to {path}"
            exports.write_html_report(ctx.db, path, session_ids=session_ids, player_ids=player_ids)
            return f"report written to {path}"

        self.export_message.setText(f"Writing {path.name}…")
        self.workers.db(work, name=f"export {kind}", on_success=self._exported,
                        on_failure=lambda msg: self.export_message.setText(
                            f"<span style='color:#b3261e'>Export failed: {msg}</span>"))

    def _exported(self, message: str) -> None:
        self.export_message.setText(message)
        self.exported.emit(message)
