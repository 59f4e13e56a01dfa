"""The concept explorer: browse and filter the library, read a concept's card, step
through its prototypes on a board with the teacher's line, and curate (rename,
annotate, hide a concept, drop a prototype, with a confirmation and undo).

Every read and write is a core call run on the DB worker (``Workers.db``); the screen
only shows results. Writes announce ``Changes(concepts=True)``, on which this screen
(and the session setup, and Home) redraw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import chess
from conceptcoach.desktop.board.lineviewer import LineViewer, search_arrows
from conceptcoach.desktop.board.theme import PieceSet
from conceptcoach.desktop.board.widget import figurine
from conceptcoach.desktop.changes import Changes
from conceptcoach.desktop.screens.plots import NoveltyPlot, TeachabilityBars
from conceptcoach.desktop.screens.widgets import NaturalItem, Redraw
from conceptcoach.desktop.workers import Context, Workers
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

ANY = "Any"

STATUS_LABELS = {
    "novel": "novel",
    "teachable": "teachable",
    "failed-teachability": "control (not teachable)",
    "failed-novelty": "control (not novel)",
    "static": "static theme",
    "candidate": "candidate",
}


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


@dataclass(frozen=True)
class CardData:
    """One concept as its card shows it, read on the DB thread: its prototypes with their
    lines in SAN (the study core's ``line_san``) and the source position's moves in SAN."""

    concept: Any
    prototypes: list[Any]
    line_sans: dict[int, list[str]]  # prototype id -> its line in SAN (legal prefix)
    source_moves: list[str]  # 'teacher played Nf3', 'weaker network Bd3'


def _load_card(ctx: Context, concept_id: int) -> CardData:
    from conceptcoach.store.concepts import get_concept, list_prototypes
    from conceptcoach.study.runner import line_san

    concept = get_concept(ctx.db, concept_id)
    protos = list_prototypes(ctx.db, concept_id)
    figs = concept.figures or {}
    moves = []
    for key, who in (("teacher_move", "teacher played"), ("weaker_move", "weaker network")):
        if figs.get(key):
            san = line_san(concept.source_fen, [figs[key]]) if concept.source_fen else []
            moves.append(f"{who} {san[0] if san else figs[key]}")
    return CardData(concept, protos, {p.id: line_san(p.fen, _proto_line(p)) for p in protos}, moves)


def _proto_line(proto: Any) -> list[str]:
    """The prototype's whole stored line, or its best move alone when none was stored."""
    return list(proto.line) or ([proto.best_move] if proto.best_move else [])


def _shares(visits: dict[str, dict[str, float]] | None) -> list[tuple[str, float]]:
    visits = visits or {}
    total = sum(float(v.get("n", 0)) for v in visits.values())
    return [(u, float(v.get("n", 0)) / total) for u, v in visits.items()] if total > 0 else []


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


#: Below this card width the card is one column (text, prototypes, plots) that scrolls.
TWO_COLUMNS_MIN = 760


class ConceptCard(QWidget):
    """The right-hand side of the explorer: one concept in full. Two columns when there
    is room (text and figures | prototypes), else one column that scrolls vertically."""

    saveRequested = Signal(int, str, str)  # concept id, name, annotation
    hideRequested = Signal(int, bool)
    dropRequested = Signal(int)  # prototype id
    undropRequested = Signal(int)  # prototype id

    def __init__(self, pieces: PieceSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.concept: Any = None
        self.prototypes: list[Any] = []
        self.line_sans: dict[int, list[str]] = {}
        self.index = 0
        self.last_dropped: int | None = None
        self.shown_id: int | None = None  # the prototype on the board
        self.name = QLineEdit(self)
        self.name.setAccessibleName("Concept name")
        font = self.name.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.name.setFont(font)
        self.facts = QLabel(self)
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.annotation = QPlainTextEdit(self)
        self.annotation.setPlaceholderText("Coach's notes on this concept: what it means in chess terms, "
                                           "when it applies, how to explain it.")
        self.annotation.setMinimumHeight(60)
        self.annotation.setMaximumHeight(80)
        self.save = QPushButton("Save name and notes", self)
        self.save.setShortcut(QKeySequence.StandardKey.Save)
        self.hide_button = QPushButton("Hide concept", self)
        self.hide_button.setToolTip("Hidden concepts stay in the store but are left out of new sessions")
        self.status = QLabel(self)
        self.status.setObjectName("cardStatus")
        self.status.setWordWrap(True)
        self.undo = QPushButton("Undo", self)
        self.undo.setToolTip("Take the dropped prototype back into sessions")
        self.undo.hide()
        self.teach = TeachabilityBars(self)
        self.novelty = NoveltyPlot(self)
        for plot in (self.teach, self.novelty):
            plot.setMinimumHeight(180)
            plot.setMaximumHeight(240)
        self.viewer = LineViewer(pieces, self)
        self.viewer.board.setMinimumSize(240, 240)
        self.prev_proto = QPushButton("◀ Previous", self)
        self.next_proto = QPushButton("Next ▶", self)
        self.proto_label = QLabel(self)
        self.proto_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.proto_label.setWordWrap(True)
        self.caption = QLabel(self)
        self.caption.setWordWrap(True)
        self.value = QLabel(self)
        self.value.setWordWrap(True)
        self.drop = QPushButton("Drop this prototype…", self)
        self.drop.setToolTip("Leave this position out of sessions (e.g. a trivial tactic); it stays in the store "
                             "and can be taken back")

        self.save.clicked.connect(self._save)
        self.hide_button.clicked.connect(self._toggle_hidden)
        self.prev_proto.clicked.connect(lambda: self._show_proto(self.index - 1))
        self.next_proto.clicked.connect(lambda: self._show_proto(self.index + 1))
        self.drop.clicked.connect(self._drop)
        self.undo.clicked.connect(self._undo_drop)

        head = QHBoxLayout()
        head.addWidget(self.name, 1)
        head.addWidget(self.hide_button)

        self.text_panel = QWidget(self)
        tl = QVBoxLayout(self.text_panel)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.facts)
        tl.addWidget(self.annotation)
        save_row = QHBoxLayout()
        save_row.addWidget(self.save)
        save_row.addWidget(self.status, 1)
        save_row.addWidget(self.undo)
        tl.addLayout(save_row)
        self.plots_panel = QWidget(self)
        pl = QVBoxLayout(self.plots_panel)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.addWidget(self.teach, 1)
        pl.addWidget(self.novelty, 1)
        self.proto_panel = QWidget(self)
        rl = QVBoxLayout(self.proto_panel)
        rl.setContentsMargins(0, 0, 0, 0)
        proto_nav = QHBoxLayout()
        proto_nav.addWidget(self.prev_proto)
        proto_nav.addWidget(self.proto_label, 1)
        proto_nav.addWidget(self.next_proto)
        rl.addLayout(proto_nav)
        rl.addWidget(self.caption)
        rl.addWidget(self.value)
        rl.addWidget(self.viewer, 1)
        rl.addWidget(self.drop, 0, Qt.AlignmentFlag.AlignRight)

        self.body = QWidget()
        self.grid = QGridLayout(self.body)
        self.grid.setContentsMargins(0, 0, 6, 0)
        self.scroller = QScrollArea(self)
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroller.setWidget(self.body)
        self.scroller.viewport().installEventFilter(self)
        self.two_columns: bool | None = None
        self._arrange(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.scroller, 1)

    # ----- layout ----------------------------------------------------------------------------

    def _arrange(self, two: bool) -> None:
        if two == self.two_columns:
            return
        self.two_columns = two
        for w in (self.text_panel, self.plots_panel, self.proto_panel):
            self.grid.removeWidget(w)
        for i in range(3):
            self.grid.setRowStretch(i, 0)
            self.grid.setColumnStretch(i, 0)
        if two:
            self.grid.addWidget(self.text_panel, 0, 0)
            self.grid.addWidget(self.plots_panel, 1, 0)
            self.grid.addWidget(self.proto_panel, 0, 1, 2, 1)
            self.grid.setColumnStretch(0, 2)
            self.grid.setColumnStretch(1, 3)
            self.grid.setRowStretch(1, 1)
        else:
            self.grid.addWidget(self.text_panel, 0, 0)
            self.grid.addWidget(self.proto_panel, 1, 0)
            self.grid.addWidget(self.plots_panel, 2, 0)
            self.grid.setColumnStretch(0, 1)
        self._fit_board()

    def _fit_board(self) -> None:
        # The scroll area lays the card out at its preferred height, so the viewer is given
        # a fixed one: in two columns, what the window leaves under the prototype's text;
        # in one column (which scrolls), a square that keeps the text and the prototype
        # (board, line, buttons) in view together where the window allows, plots below.
        vp = self.scroller.viewport()
        controls = self.viewer.controls.sizeHint().height()
        v = self.viewer
        held = min(max(v.sizeHint().height(), v.minimumHeight()), v.maximumHeight())  # what the layout gives it
        proto_text = self.proto_panel.sizeHint().height() - held
        if self.two_columns:
            self.viewer.setFixedHeight(max(300, vp.height() - proto_text - 12))
            return
        around = self.text_panel.sizeHint().height() + proto_text + controls + 24
        side = max(260, min(vp.width() - 16, vp.height() - around, 560))
        self.viewer.setFixedHeight(side + controls)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange(self.width() >= TWO_COLUMNS_MIN)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The scroll area's viewport gets its size after the card's resize event: fit then.
        if watched is self.scroller.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_board()
        return False

    # ----- content ---------------------------------------------------------------------------

    def show_concept(self, data: CardData, keep_index: bool = False) -> None:
        concept = data.concept
        same = self.concept is not None and self.concept.id == concept.id
        if not same:
            self.last_dropped = None
            self.undo.hide()
        self.concept = concept
        self.prototypes = data.prototypes
        self.line_sans = data.line_sans
        self.name.setText(concept.name)
        self.annotation.setPlainText(concept.annotation)
        self.hide_button.setText("Show concept again" if concept.hidden else "Hide concept")
        figs = concept.figures or {}
        self.teach.set_figures(figs.get("teachability"), figs.get("random_vector_baseline"))
        self.novelty.set_curve(figs.get("novelty"))
        bits = [
            f"<b>{STATUS_LABELS.get(concept.status, concept.status)}</b>",
            f"layer {concept.layer}",
            f"{concept.kind}",
            f"{concept.players}-player",
            concept.polarity,
            f"sparsity {concept.sparsity:.1%} of {concept.dim}",
        ]
        if concept.hidden:
            bits.insert(0, "<span style='color:#b3261e'><b>hidden</b></span>")
        text = " · ".join(bits)
        if data.source_moves:
            moves = data.source_moves
            if self.viewer.figurines:
                moves = [" ".join(figurine(w) for w in m.split(" ")) for m in moves]
            text += "<br>Source position: " + ", ".join(moves)
        self.facts.setText(text)
        self._show_proto(self.index if (keep_index and same) else 0, keep_board=keep_index and same)
        self._fit_board()  # the text above the board may have changed height

    def _show_proto(self, index: int, keep_board: bool = False) -> None:
        n = len(self.prototypes)
        if n == 0:
            self.index = 0
            self.proto_label.setText("No prototypes left")
            self.caption.clear()
            self.value.clear()
            self.viewer.clear("This concept has no prototypes (all dropped, or none found): "
                              "it cannot be used in sessions.")
            for b in (self.prev_proto, self.next_proto, self.drop):
                b.setEnabled(False)
            return
        self.index = max(0, min(index, n - 1))
        proto = self.prototypes[self.index]
        self.proto_label.setText(f"Prototype {self.index + 1} of {n} ({proto.split} set)")
        self.prev_proto.setEnabled(self.index > 0)
        self.next_proto.setEnabled(self.index < n - 1)
        self.drop.setEnabled(True)
        if keep_board and self.shown_id == proto.id:
            return  # a reload after an edit: leave the board where the user took it
        score = f" · concept score {proto.score:.2f}" if proto.score is not None else ""
        self.caption.setText(f"Arrow: the teacher's move; thinner arrows: other moves by share of the "
                             f"search{score}")
        side = "White" if chess.Board(proto.fen).turn == chess.WHITE else "Black"
        self.value.setText(f"Teacher's value for {side} to move: {proto.value:+.2f} (−1 lost … +1 won)"
                           if proto.value is not None else f"{side} to move")
        self.shown_id = proto.id
        self.viewer.set_line(proto.fen, _proto_line(proto), self.line_sans.get(proto.id, []),
                             arrows=search_arrows(proto.best_move, _shares(proto.visits)), heat=proto.heat)

    def _save(self) -> None:
        if self.concept is not None:
            self.saveRequested.emit(self.concept.id, self.name.text(), self.annotation.toPlainText())

    def _toggle_hidden(self) -> None:
        if self.concept is not None:
            self.hideRequested.emit(self.concept.id, not self.concept.hidden)

    def _drop(self) -> None:
        if not self.prototypes:
            return
        proto = self.prototypes[self.index]
        asked = QMessageBox.question(
            self, "Drop this prototype?",
            f"Leave prototype {self.index + 1} of {len(self.prototypes)} out of new sessions?\n\n"
            "It stays in the store; Undo takes it back.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        if asked != QMessageBox.StandardButton.Yes:
            return
        self.last_dropped = proto.id
        self.dropRequested.emit(proto.id)

    def dropped(self) -> None:
        """The drop is in the store: offer to take it back."""
        self.undo.setVisible(self.last_dropped is not None)

    def _undo_drop(self) -> None:
        if self.last_dropped is not None:
            self.undropRequested.emit(self.last_dropped)
            self.last_dropped = None
            self.undo.hide()


class ConceptExplorer(QWidget):
    """Library browser with filters on the left and the concept card on the right."""

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
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(self.COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(lambda: self._selected())
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
        self.workers.db(lambda ctx: _load_card(ctx, concept_id), name="concept card",
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


__all__ = ["CardData", "ConceptCard", "ConceptExplorer"]
