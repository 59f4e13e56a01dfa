"""The concept explorer: browse and filter the library, read a concept's card, step
through its prototypes on a board with the teacher's line, curate (rename, annotate,
hide a concept, drop a prototype, with a confirmation and undo) and print a concept's
worksheet (PDF, into the export folder chosen on Results).

Every read and write is a core call run on the DB worker (``Workers.db``); the screen
only shows results. Writes announce ``Changes(concepts=True)``, on which this screen
(and the session setup, and Home) redraw.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conceptcoach.desktop.board.theme import PieceSet
from conceptcoach.desktop.changes import Changes
from conceptcoach.desktop.screens.concept_card import (
    STATUS_LABELS,
    CardData,
    ConceptCard,
    load_card,
)
from conceptcoach.desktop.screens.widgets import NaturalItem, Redraw
from conceptcoach.desktop.workers import Context, Workers
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

ANY = "Any"
NARROW_LIST = 430  # px: below it the list shows name, status and positions only

SHORT_STATUS = {
    "novel": "novel",
    "teachable": "teachable",
    "failed-teachability": "control",
    "failed-novelty": "control",
    "static": "static",
    "candidate": "candidate",
}


@dataclass(frozen=True)
class ConceptRow:
    """What the list shows of a concept (plain data: safe to hand across threads)."""

    id: int
    name: str
    layer: str
    kind: str
    players: str
    polarity: str
    status: str
    hidden: bool
    teach_gain: float | None
    teachable: bool | None
    novel: bool | None
    novelty_margin: float | None
    prototypes: int


def _row_of(concept: Any) -> ConceptRow:
    figs = concept.figures or {}
    teach = figs.get("teachability") or {}
    nov = figs.get("novelty") or {}
    return ConceptRow(
        id=concept.id, name=concept.name, layer=concept.layer, kind=concept.kind, players=concept.players,
        polarity=concept.polarity, status=concept.status, hidden=concept.hidden,
        teach_gain=float(teach["gain"]) if "gain" in teach else None,
        teachable=bool(teach["teachable"]) if "teachable" in teach else None,
        novel=bool(nov["novel"]) if "novel" in nov else None,
        novelty_margin=float(nov["min_difference"]) if "min_difference" in nov else None,
        prototypes=concept.prototype_count,
    )


def _load_rows(ctx: Context) -> list[ConceptRow]:
    from conceptcoach.store.concepts import list_concepts

    return [_row_of(c) for c in list_concepts(ctx.db, include_hidden=True)]


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:+.2f}"


class _NumItem(QTableWidgetItem):
    """Sorts by the number it carries, not by its text."""

    def __init__(self, text: str, value: float | None) -> None:
        super().__init__(text)
        self.value = float("-inf") if value is None else value
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        if isinstance(other, _NumItem):
            return self.value < other.value
        return super().__lt__(other)


class ConceptExplorer(QWidget):
    """Library browser with filters on the left and the concept card on the right.
    ``exported(text)`` says what a worksheet export wrote where."""

    exported = Signal(str)

    COLUMNS = ("Name", "Status", "Gain", "Novel", "Pos.")

    def __init__(self, workers: Workers, pieces: PieceSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.rows: list[ConceptRow] = []
        self.loaded = False
        self._want_id: int | None = None
        self._loading_id: int | None = None
        self.redraw = Redraw(self, self.refresh)
        workers.changed.connect(self.on_changes)

        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search names")
        self.search.setClearButtonEnabled(True)
        self.layer = QComboBox(self)
        self.kind = QComboBox(self)
        self.status_filter = QComboBox(self)
        self.teachable = QComboBox(self)
        self.novel = QComboBox(self)
        self.kind.addItems([ANY, "dynamic", "static"])
        self.status_filter.addItems([ANY, "novel", "teachable", "controls", "static theme", "candidate"])
        self.teachable.addItems([ANY, "teachable", "not teachable", "not tested"])
        self.novel.addItems([ANY, "novel", "not novel", "not tested"])
        self.show_hidden = QCheckBox("Show hidden", self)
        for w in (self.layer, self.kind, self.status_filter, self.teachable, self.novel):
            w.currentIndexChanged.connect(self._apply_filters)
        self.search.textChanged.connect(self._apply_filters)
        self.show_hidden.toggled.connect(self._apply_filters)

        filters = QGridLayout()
        filters.addWidget(self.search, 0, 0, 1, 4)
        for i, (label, w) in enumerate((("Layer", self.layer), ("Kind", self.kind), ("Status", self.status_filter),
                                        ("Teachability", self.teachable), ("Novelty", self.novel))):
            r, c = 1 + i // 2, (i % 2) * 2
            lab = QLabel(label, self)
            lab.setBuddy(w)
            filters.addWidget(lab, r, c)
            filters.addWidget(w, r, c + 1)
        filters.addWidget(self.show_hidden, 3, 2, 1, 2)

        self.table = QTableWidget(0, len(self.COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        # Names that differ at their end ("... by the knight (2)") stay apart when narrow.
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(self.COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(lambda: self._selected())
        self.table.installEventFilter(self)
        self.count = QLabel(self)
        self.list_message = QLabel(self)
        self.list_message.setWordWrap(True)
        self.list_message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.list_stack = QStackedWidget(self)
        self.list_stack.addWidget(self.table)
        self.list_stack.addWidget(self.list_message)

        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("<h2>Concept library</h2>", left)
        left_layout.addWidget(title)
        left_layout.addLayout(filters)
        left_layout.addWidget(self.list_stack, 1)
        left_layout.addWidget(self.count)

        self.card = ConceptCard(pieces, self)
        self.card.saveRequested.connect(self._save)
        self.card.hideRequested.connect(self._hide)
        self.card.dropRequested.connect(lambda pid: self._set_dropped(pid, True))
        self.card.undropRequested.connect(lambda pid: self._set_dropped(pid, False))
        self.card.worksheetRequested.connect(self.print_worksheet)
        self.export_dir = Path.home() / "ConceptCoach exports"  # the main window passes the chosen one
        self.card_message = QLabel(self)
        self.card_message.setWordWrap(True)
        self.card_message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.card_message.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.card_stack = QStackedWidget(self)
        self.card_stack.addWidget(self.card)
        self.card_stack.addWidget(self.card_message)

        splitter = self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.card_stack)
        splitter.setStretchFactor(0, 0)  # a wider window widens the card
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        # Room for a working name such as "Prevention 24...Nxc4 (block5)" at 1366 wide; at
        # 1024 the card needs the width more (long names elide, the tooltip has them whole).
        left.setMinimumWidth(320)
        self._sized = False
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._show_card_message("Loading the concept library…")
        self._show_list_message("Loading the concept library…")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # A narrow list keeps the names readable: the teachability gain and novelty columns
        # (also on the card) give way below NARROW_LIST pixels.
        if watched is self.table and event.type() == QEvent.Type.Resize:
            narrow = self.table.width() < NARROW_LIST
            for c in (2, 3):
                self.table.setColumnHidden(c, narrow)
        return False

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._sized:
            # The list takes about a third, within what its names and filters need.
            self._sized = True
            left = max(320, min(460, int(self.width() * 0.34)))
            self.splitter.setSizes([left, max(1, self.splitter.width() - left)])

    # ------------------------------------------------------------------ loading
    def on_changes(self, changes: Changes) -> None:
        if changes.concepts:
            self.redraw.needed()
        if changes.settings and self.card.concept is not None:
            self.card.viewer.set_figurines(self.card.viewer.figurines)

    def refresh(self, select_id: int | None = None) -> None:
        """Reload the list from the store (in the DB worker)."""
        if select_id is not None:
            self._want_id = select_id
        elif self.card.concept is not None:
            self._want_id = self.card.concept.id
        self.workers.db(_load_rows, name="list concepts", on_success=self._rows_loaded,
                        on_failure=lambda msg: self._show_list_message(f"Could not read the library: {msg}"))

    def _rows_loaded(self, rows: list[ConceptRow]) -> None:
        self.rows = rows
        self.loaded = True
        layers = sorted({r.layer for r in rows}, key=lambda s: (len(s), s))
        current = self.layer.currentText()
        self.layer.blockSignals(True)
        self.layer.clear()
        self.layer.addItems([ANY, *layers])
        if current in layers:
            self.layer.setCurrentText(current)
        self.layer.blockSignals(False)
        self._apply_filters()

    def _matches(self, r: ConceptRow) -> bool:
        if r.hidden and not self.show_hidden.isChecked():
            return False
        text = self.search.text().strip().lower()
        if text and text not in r.name.lower():
            return False
        if self.layer.currentText() not in (ANY, "", r.layer):
            return False
        if self.kind.currentText() not in (ANY, r.kind):
            return False
        status = self.status_filter.currentText()
        wanted = {"novel": ("novel",), "teachable": ("teachable",),
                  "controls": ("failed-teachability", "failed-novelty"), "static theme": ("static",),
                  "candidate": ("candidate",)}.get(status)
        if wanted is not None and r.status not in wanted:
            return False
        tri = {"teachable": True, "not teachable": False, "not tested": None,
               "novel": True, "not novel": False}
        if self.teachable.currentText() != ANY and r.teachable is not tri[self.teachable.currentText()]:
            return False
        return not (self.novel.currentText() != ANY and r.novel is not tri[self.novel.currentText()])

    def _apply_filters(self) -> None:
        if not self.loaded:
            return
        shown = [r for r in self.rows if self._matches(r)]
        # Repopulating fires selection signals row by row; the card is loaded once, below.
        self.table.blockSignals(True)
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(shown))
        for i, r in enumerate(shown):
            name = NaturalItem(r.name + ("  (hidden)" if r.hidden else ""))
            name.setData(Qt.ItemDataRole.UserRole, r.id)
            status = QTableWidgetItem(SHORT_STATUS.get(r.status, r.status))
            status.setToolTip(STATUS_LABELS.get(r.status, r.status))
            gain = _NumItem(_pct(r.teach_gain), r.teach_gain)
            gain.setToolTip("Teachability: the student's gain in agreement with the teacher over a student "
                            "taught random positions")
            novel = _NumItem("yes" if r.novel else ("no" if r.novel is False else "–"), r.novelty_margin)
            novel.setToolTip("Novel: better explained by the network's own games than by human games")
            name.setToolTip(f"{r.name}\nlayer {r.layer} · {r.kind} · {r.players}-player · {r.polarity}")
            cells = [name, status, gain, novel, _NumItem(str(r.prototypes), r.prototypes)]
            for c, item in enumerate(cells):
                self.table.setItem(i, c, item)
        self.table.setSortingEnabled(True)
        self.table.blockSignals(False)
        self.count.setText(f"{len(shown)} of {len(self.rows)} concepts shown")
        if not self.rows:
            self._show_list_message(
                "The concept library is empty.\n\nThe default library ships with Concept Coach; if it is "
                "missing, reinstall, or find concepts in the network yourself on the Discovery screen.")
            self._show_card_message("No concept to show yet.")
            return
        if not shown:
            self._show_list_message("No concept matches these filters.\nSet a filter back to “Any” to see more.")
            self._show_card_message("No concept matches these filters.")
            return
        self.list_stack.setCurrentWidget(self.table)
        target = self._want_id if self._want_id is not None else None
        row = 0
        if target is not None:
            for i in range(self.table.rowCount()):
                cell = self.table.item(i, 0)
                if cell is not None and cell.data(Qt.ItemDataRole.UserRole) == target:
                    row = i
                    break
        self.table.blockSignals(True)
        self.table.selectRow(row)
        self.table.blockSignals(False)
        self._selected(force=True)

    def _show_list_message(self, text: str) -> None:
        self.list_message.setText(text)
        self.list_stack.setCurrentWidget(self.list_message)

    def _show_card_message(self, text: str) -> None:
        self.card_message.setText(text)
        self.card_stack.setCurrentWidget(self.card_message)

    @property
    def loading(self) -> bool:
        """A concept card is being read from the store."""
        return self._loading_id is not None

    def current_id(self) -> int | None:
        items = self.table.selectedItems()
        if not items:
            return None
        item = self.table.item(items[0].row(), 0)
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def _selected(self, force: bool = False) -> None:
        concept_id = self.current_id()
        if concept_id is None:
            return
        keep = self.card.concept is not None and self.card.concept.id == concept_id
        if not force and (concept_id == self._loading_id or (keep and self._loading_id is None)):
            return
        self._want_id = concept_id
        self._loading_id = concept_id
        self.workers.db(lambda ctx: load_card(ctx, concept_id), name="concept card",
                        on_success=lambda res: self._card_loaded(res, keep),
                        on_failure=lambda msg: self._show_card_message(f"Could not read this concept: {msg}"))

    def _card_loaded(self, data: CardData, keep_index: bool) -> None:
        self._loading_id = None
        if self._want_id is not None and data.concept.id != self._want_id:
            return  # the user moved on while this was loading
        self.card.show_concept(data, keep_index=keep_index)
        self.card_stack.setCurrentIndex(0)

    # ------------------------------------------------------------------ curation
    def _after_write(self, message: str) -> None:
        # The list and the card reload on the Changes(concepts=True) that follows.
        self.card.status.setText(message)

    def _failed_write(self, message: str) -> None:
        self.card.status.setText(f"<span style='color:#b3261e'>Not saved: {message}</span>")

    def _save(self, concept_id: int, name: str, annotation: str) -> None:
        if not name.strip():
            self._failed_write("a concept needs a name")
            return

        def work(ctx: Context) -> None:
            from conceptcoach.store.concepts import annotate_concept, rename_concept

            rename_concept(ctx.db, concept_id, name)
            annotate_concept(ctx.db, concept_id, annotation)

        self.workers.db(work, name="save concept", on_success=lambda _: self._after_write("Saved."),
                        on_failure=self._failed_write, changes=Changes(concepts=True))

    def _hide(self, concept_id: int, hidden: bool) -> None:
        def work(ctx: Context) -> None:
            from conceptcoach.store.concepts import set_concept_hidden

            set_concept_hidden(ctx.db, concept_id, hidden)

        if hidden and not self.show_hidden.isChecked():
            self._want_id = None
        self.workers.db(work, name="hide concept",
                        on_success=lambda _: self._after_write("Hidden: left out of new sessions." if hidden
                                                               else "Shown again."),
                        on_failure=self._failed_write, changes=Changes(concepts=True))

    def _set_dropped(self, prototype_id: int, dropped: bool) -> None:
        def work(ctx: Context) -> None:
            from conceptcoach.store.concepts import set_prototype_dropped

            set_prototype_dropped(ctx.db, prototype_id, dropped)

        def done(_: Any) -> None:
            self._after_write("Prototype dropped: left out of new sessions." if dropped
                              else "Prototype taken back into sessions.")
            if dropped:
                self.card.dropped()

        self.workers.db(work, name="drop prototype" if dropped else "take back prototype", on_success=done,
                        on_failure=self._failed_write, changes=Changes(concepts=True))

    # ------------------------------------------------------------------ worksheet
    def worksheet_path(self, concept_id: int, name: str) -> Path:
        from conceptcoach.io.exports import export_file_name

        return self.export_dir.expanduser() / export_file_name("pdf", player=name, concept_id=concept_id)

    def print_worksheet(self, concept_id: int, per_page: int = 6) -> None:
        """Write the concept's worksheet (its prototypes as diagrams, answers after) to the
        export folder, on the DB worker where the other exports run."""
        name = self.card.concept.name if self.card.concept is not None else f"concept{concept_id}"
        path = self.worksheet_path(concept_id, name)

        def work(ctx: Context) -> str:
            from conceptcoach.io.worksheet import write_worksheet

            path.parent.mkdir(parents=True, exist_ok=True)
            sheet = write_worksheet(ctx.db, path, concept_id=concept_id, per_page=per_page)
            return f"Worksheet of {sheet.positions} positions written to {path}"

        def done(message: str) -> None:
            self.card.status.setText(message)
            self.exported.emit(message)

        self.card.status.setText(f"Writing {path.name}…")
        self.workers.db(work, name="concept worksheet", on_success=done,
                        on_failure=lambda m: self.card.status.setText(
                            f"<span style='color:#b3261e'>The worksheet could not be written: {m}</span>"))


__all__ = ["ConceptExplorer"]
