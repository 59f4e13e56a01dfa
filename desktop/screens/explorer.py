"""The concept explorer: browse and filter the library, read a concept's card, step
through its prototypes on a board with the teacher's line, and curate (rename,
annotate, hide a concept, drop a prototype).

Every read and write is a core call run on the DB worker (``Workers.db``); the screen
only shows results. After a write it reloads what changed and emits
``library_changed`` so other screens (session setup) can refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import chess
from conceptcoach.desktop.board.theme import PieceSet
from conceptcoach.desktop.board.widget import Arrow, BoardWidget, figurine
from conceptcoach.desktop.screens.plots import NoveltyPlot, TeachabilityBars
from conceptcoach.desktop.workers import Context, Workers
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

ANY = "Any"
AUTOPLAY_PAUSE_MS = 650

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


def _load_card(ctx: Context, concept_id: int) -> tuple[Any, list[Any]]:
    from conceptcoach.store.concepts import get_concept, list_prototypes

    return get_concept(ctx.db, concept_id), list_prototypes(ctx.db, concept_id)


def line_san(fen: str, line: list[str], figurines: bool = False) -> list[str]:
    """The teacher's line in SAN, numbered like '12. Nf3 Nc6' ('12... Nc6' when Black
    starts); stops at the first move that is not legal (a damaged record)."""
    board = chess.Board(fen)
    out: list[str] = []
    for i, uci in enumerate(line):
        try:
            move = chess.Move.from_uci(uci)
        except ValueError:
            break
        if not board.is_legal(move):
            break
        san = board.san(move)
        if figurines:
            san = figurine(san)
        if board.turn == chess.WHITE:
            san = f"{board.fullmove_number}. {san}"
        elif i == 0:
            san = f"{board.fullmove_number}... {san}"
        out.append(san)
        board.push(move)
    return out


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


class PrototypeViewer(QWidget):
    """A prototype on a read-only board: the teacher's move as an arrow, the next most
    visited moves as thinner arrows, the concept's heat, and the line to step through."""

    def __init__(self, pieces: PieceSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.figurines = False
        self.board = BoardWidget(pieces, self, san_entry=False)
        self.board.set_interactive(None)
        self.board.setMinimumSize(240, 240)
        self.title = QLabel(self)
        self.title.setWordWrap(True)
        self.value = QLabel(self)
        self.line = QLabel(self)
        self.line.setWordWrap(True)
        self.line.setTextFormat(Qt.TextFormat.RichText)
        self.back = QPushButton("◀ Back", self)
        self.forward = QPushButton("Forward ▶", self)
        self.play = QPushButton("Play line", self)
        self.back.setToolTip("Step back in the teacher's line (Left)")
        self.forward.setToolTip("Step forward in the teacher's line (Right)")
        self.play.setToolTip("Play the teacher's line out (Space)")
        self.back.clicked.connect(self.step_back)
        self.forward.clicked.connect(self.step_forward)
        self.play.clicked.connect(self.toggle_autoplay)
        buttons = QHBoxLayout()
        for b in (self.back, self.forward, self.play):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.value)
        layout.addWidget(self.line)
        layout.addWidget(self.board, 1)
        layout.addLayout(buttons)
        self._proto: Any = None
        self._ply = 0
        self._autoplay = False
        self.pause_ms = AUTOPLAY_PAUSE_MS  # pause between moves when the line plays itself
        self.board.view.animationsFinished.connect(self._after_animation)
        for key, slot in ((Qt.Key.Key_Left, self.step_back), (Qt.Key.Key_Right, self.step_forward),
                          (Qt.Key.Key_Space, self.toggle_autoplay)):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)

    @property
    def ply(self) -> int:
        return self._ply

    @property
    def prototype(self) -> Any:
        return self._proto

    def show_prototype(self, proto: Any, heat: list[float] | None = None, caption: str = "") -> None:
        self._autoplay = False
        self.play.setText("Play line")
        self._proto = proto
        self._ply = 0
        self._heat = heat if heat is not None else proto.heat
        self.title.setText(caption)
        board = chess.Board(proto.fen)
        self.board.set_board(board)
        self.board.view.set_flipped(board.turn == chess.BLACK)
        side = "White" if board.turn == chess.WHITE else "Black"
        if proto.value is not None:
            self.value.setText(f"Teacher's value for {side} to move: {proto.value:+.2f} (−1 lost … +1 won)")
        else:
            self.value.setText(f"{side} to move")
        self._show_ply()

    def clear(self, message: str) -> None:
        self._proto = None
        self.title.setText(message)
        self.board.set_board(chess.Board(None))
        self.board.set_arrows([])
        self.board.set_heat(None)
        self.value.clear()
        self.line.clear()
        for b in (self.back, self.forward, self.play):
            b.setEnabled(False)

    def _line(self) -> list[str]:
        if self._proto is None:
            return []
        line = list(self._proto.line)
        if not line or line[0] != self._proto.best_move:
            line = [self._proto.best_move, *line]
        return line

    def _show_ply(self) -> None:
        proto = self._proto
        line = self._line()
        sans = line_san(proto.fen, line, self.figurines)
        parts = []
        for i, san in enumerate(sans):
            parts.append(f"<b><u>{san}</u></b>" if i == self._ply - 1 else san)
        self.line.setText("Teacher's line: " + " ".join(parts) if parts else "No line recorded.")
        arrows: list[Arrow] = []
        if self._ply == 0:
            shares = self._shares()
            for uci, share in shares[:4]:
                if uci == proto.best_move:
                    continue
                m = chess.Move.from_uci(uci)
                arrows.append(Arrow(m.from_square, m.to_square, "visits", 0.06 + 0.22 * share,
                                    f"{share:.0%}"))
            best = chess.Move.from_uci(proto.best_move)
            arrows.append(Arrow(best.from_square, best.to_square, "teacher", 0.2))
            self.board.set_heat(self._heat)
        else:
            self.board.set_heat(None)
        self.board.set_arrows(arrows)
        self.back.setEnabled(self._ply > 0)
        self.forward.setEnabled(self._ply < len(sans))
        self.play.setEnabled(len(sans) > 0)

    def _shares(self) -> list[tuple[str, float]]:
        visits = self._proto.visits or {}
        total = sum(float(v.get("n", 0)) for v in visits.values())
        if total <= 0:
            return []
        return sorted(((u, float(v.get("n", 0)) / total) for u, v in visits.items()), key=lambda e: -e[1])

    def step_forward(self) -> None:
        line = self._line()
        if self._proto is None or self._ply >= len(line_san(self._proto.fen, line)):
            self._autoplay = False
            self.play.setText("Play line")
            return
        if self.board.view.is_animating():
            return
        move = line[self._ply]
        self._ply += 1
        self.board.view.play(move)
        self._show_ply()

    def step_back(self) -> None:
        if self._proto is None or self._ply == 0:
            return
        self._autoplay = False
        self.play.setText("Play line")
        self._ply -= 1
        board = chess.Board(self._proto.fen)
        for uci in self._line()[: self._ply]:
            board.push(chess.Move.from_uci(uci))
        self.board.set_board(board)
        self._show_ply()

    def toggle_autoplay(self) -> None:
        if self._proto is None:
            return
        self._autoplay = not self._autoplay
        self.play.setText("Pause" if self._autoplay else "Play line")
        if self._autoplay:
            if self._ply >= len(line_san(self._proto.fen, self._line())):
                self.board.set_board(chess.Board(self._proto.fen))
                self._ply = 0
                self._show_ply()
            self.step_forward()

    def _after_animation(self) -> None:
        # Autoplay is chained by the board's animationsFinished signal plus a pause,
        # never by waiting in a loop.
        if self._autoplay:
            QTimer.singleShot(self.pause_ms, self._autoplay_next)

    def _autoplay_next(self) -> None:
        if self._autoplay:
            self.step_forward()


class ConceptCard(QWidget):
    """The right-hand side of the explorer: one concept in full."""

    save_requested = Signal(int, str, str)  # concept id, name, annotation
    hide_requested = Signal(int, bool)
    drop_requested = Signal(int)  # prototype id

    def __init__(self, pieces: PieceSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.concept: Any = None
        self.prototypes: list[Any] = []
        self.index = 0
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
        self.annotation.setMaximumHeight(80)
        self.save = QPushButton("Save name and notes", self)
        self.save.setShortcut(QKeySequence.StandardKey.Save)
        self.hide_button = QPushButton("Hide concept", self)
        self.hide_button.setToolTip("Hidden concepts stay in the store but are left out of new sessions")
        self.status = QLabel(self)
        self.status.setObjectName("cardStatus")
        self.teach = TeachabilityBars(self)
        self.novelty = NoveltyPlot(self)
        for plot in (self.teach, self.novelty):
            plot.setMaximumHeight(230)
        self.viewer = PrototypeViewer(pieces, self)
        self.prev_proto = QPushButton("◀ Previous", self)
        self.next_proto = QPushButton("Next ▶", self)
        self.proto_label = QLabel(self)
        self.proto_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop = QPushButton("Drop this prototype", self)
        self.drop.setToolTip("Leave this position out of sessions (e.g. a trivial tactic); it stays in the store")

        self.save.clicked.connect(self._save)
        self.hide_button.clicked.connect(self._toggle_hidden)
        self.prev_proto.clicked.connect(lambda: self._show_proto(self.index - 1))
        self.next_proto.clicked.connect(lambda: self._show_proto(self.index + 1))
        self.drop.clicked.connect(self._drop)

        head = QHBoxLayout()
        head.addWidget(self.name, 1)
        head.addWidget(self.hide_button)
        save_row = QHBoxLayout()
        save_row.addWidget(self.save)
        save_row.addWidget(self.status, 1)
        proto_nav = QHBoxLayout()
        proto_nav.addWidget(self.prev_proto)
        proto_nav.addWidget(self.proto_label, 1)
        proto_nav.addWidget(self.next_proto)

        # Two columns so that the board is whole at 1366x768: the concept's text and
        # figures on the left, its prototypes on the right.
        left = QVBoxLayout()
        left.addWidget(self.facts)
        left.addWidget(self.annotation)
        left.addLayout(save_row)
        left.addWidget(self.teach, 1)
        left.addWidget(self.novelty, 1)
        left.addStretch(0)
        right = QVBoxLayout()
        right.addLayout(proto_nav)
        right.addWidget(self.viewer, 1)
        right.addWidget(self.drop, 0, Qt.AlignmentFlag.AlignRight)
        columns = QHBoxLayout()
        columns.addLayout(left, 2)
        columns.addLayout(right, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 0, 0)
        layout.addLayout(head)
        layout.addLayout(columns, 1)

    def show_concept(self, concept: Any, prototypes: list[Any], keep_index: bool = False) -> None:
        same = self.concept is not None and self.concept.id == concept.id
        self.concept = concept
        self.prototypes = prototypes
        self.name.setText(concept.name)
        self.annotation.setPlainText(concept.annotation)
        self.hide_button.setText("Show concept again" if concept.hidden else "Hide concept")
        figs = concept.figures or {}
        teach = figs.get("teachability")
        self.teach.set_figures(teach, figs.get("random_vector_baseline"))
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
        moves = []
        for key, who in (("teacher_move", "teacher played"), ("weaker_move", "weaker network")):
            if figs.get(key):
                san = line_san(concept.source_fen, [figs[key]], self.viewer.figurines) if concept.source_fen else []
                moves.append(f"{who} {san[0] if san else figs[key]}")
        text = " · ".join(bits)
        if moves:
            text += "<br>Source position: " + ", ".join(moves)
        self.facts.setText(text)
        self._show_proto(self.index if (keep_index and same) else 0, keep_board=keep_index and same)

    def _show_proto(self, index: int, keep_board: bool = False) -> None:
        n = len(self.prototypes)
        if n == 0:
            self.index = 0
            self.proto_label.setText("No prototypes left")
            self.viewer.clear("This concept has no prototypes (all dropped, or none found): "
                              "it cannot be used in sessions.")
            for b in (self.prev_proto, self.next_proto, self.drop):
                b.setEnabled(False)
            return
        self.index = max(0, min(index, n - 1))
        proto = self.prototypes[self.index]
        shown = self.viewer.prototype
        if keep_board and shown is not None and shown.id == proto.id:
            return  # a reload after an edit: leave the board where the user took it
        self.proto_label.setText(f"Prototype {self.index + 1} of {n} ({proto.split} set)")
        self.prev_proto.setEnabled(self.index > 0)
        self.next_proto.setEnabled(self.index < n - 1)
        self.drop.setEnabled(True)
        score = f" · concept score {proto.score:.2f}" if proto.score is not None else ""
        self.viewer.show_prototype(proto, caption=f"Arrow: the teacher's move; thinner arrows: other moves "
                                   f"by share of the search{score}")

    def _save(self) -> None:
        if self.concept is not None:
            self.save_requested.emit(self.concept.id, self.name.text(), self.annotation.toPlainText())

    def _toggle_hidden(self) -> None:
        if self.concept is not None:
            self.hide_requested.emit(self.concept.id, not self.concept.hidden)

    def _drop(self) -> None:
        if self.prototypes:
            self.drop_requested.emit(self.prototypes[self.index].id)


class ConceptExplorer(QWidget):
    """Library browser with filters on the left and the concept card on the right."""

    library_changed = Signal()

    COLUMNS = ("Name", "Status", "Gain", "Novel", "Pos.")

    def __init__(self, workers: Workers, pieces: PieceSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.rows: list[ConceptRow] = []
        self.loaded = False
        self._want_id: int | None = None
        self._loading_id: int | None = None

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
        self.card.save_requested.connect(self._save)
        self.card.hide_requested.connect(self._hide)
        self.card.drop_requested.connect(self._drop)
        self.card_message = QLabel(self)
        self.card_message.setWordWrap(True)
        self.card_message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.card_message.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.card_stack = QStackedWidget(self)
        # No scroll area: the card is laid out to fit 1366x768, and the board shrinks first.
        self.card_stack.addWidget(self.card)
        self.card_stack.addWidget(self.card_message)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.card_stack)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        left.setMinimumWidth(420)  # room for a working name such as "Prevention 24...Nxc4 (block5)"
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._show_card_message("Loading the concept library…")
        self._show_list_message("Loading the concept library…")

    # ------------------------------------------------------------------ loading
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
            name = QTableWidgetItem(r.name + ("  (hidden)" if r.hidden else ""))
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

    def _card_loaded(self, result: tuple[Any, list[Any]], keep_index: bool) -> None:
        concept, protos = result
        self._loading_id = None
        if self._want_id is not None and concept.id != self._want_id:
            return  # the user moved on while this was loading
        self.card.show_concept(concept, protos, keep_index=keep_index)
        self.card_stack.setCurrentIndex(0)

    # ------------------------------------------------------------------ curation
    def _after_write(self, message: str) -> None:
        self.card.status.setText(message)
        self.refresh()
        self.library_changed.emit()

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
                        on_failure=self._failed_write)

    def _hide(self, concept_id: int, hidden: bool) -> None:
        def work(ctx: Context) -> None:
            from conceptcoach.store.concepts import set_concept_hidden

            set_concept_hidden(ctx.db, concept_id, hidden)

        if hidden and not self.show_hidden.isChecked():
            self._want_id = None
        self.workers.db(work, name="hide concept",
                        on_success=lambda _: self._after_write("Hidden: left out of new sessions." if hidden
                                                               else "Shown again."),
                        on_failure=self._failed_write)

    def _drop(self, prototype_id: int) -> None:
        def work(ctx: Context) -> None:
            from conceptcoach.store.concepts import set_prototype_dropped

            set_prototype_dropped(ctx.db, prototype_id, True)

        self.workers.db(work, name="drop prototype",
                        on_success=lambda _: self._after_write("Prototype dropped."),
                        on_failure=self._failed_write)


__all__ = ["ConceptCard", "ConceptExplorer", "PrototypeViewer", "line_san"]
