"""The concept card: one concept in full (its facts, the coach's name and notes, the
teachability and novelty figures) and its prototypes on the line viewer, with curation
(hide the concept, drop a prototype after a confirmation, undo). Laid out in two columns
when there is room, else in one column that scrolls vertically."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import chess
from conceptcoach.desktop.board.lineviewer import LineViewer, marks_of, search_arrows
from conceptcoach.desktop.board.theme import PieceSet
from conceptcoach.desktop.board.widget import figurine
from conceptcoach.desktop.screens.plots import NoveltyPlot, TeachabilityBars
from conceptcoach.desktop.workers import Context
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

STATUS_LABELS = {
    "novel": "novel",
    "teachable": "teachable",
    "failed-teachability": "control (not teachable)",
    "failed-novelty": "control (not novel)",
    "static": "static theme",
    "candidate": "candidate",
}


@dataclass(frozen=True)
class CardData:
    """One concept as its card shows it, read on the DB thread: its prototypes with their
    lines in SAN (the study core's ``line_san``) and the source position's moves in SAN."""

    concept: Any
    prototypes: list[Any]
    line_sans: dict[int, list[str]]  # prototype id -> its line in SAN (legal prefix)
    source_moves: list[str]  # 'teacher played Nf3', 'weaker network Bd3'
    notes: dict[int, Any] = field(default_factory=dict)  # prototype id -> the coach's newest note on it


def load_card(ctx: Context, concept_id: int) -> CardData:
    from conceptcoach.store.concepts import get_concept, list_prototypes
    from conceptcoach.store.notes import list_notes
    from conceptcoach.study.runner import line_san

    concept = get_concept(ctx.db, concept_id)
    protos = list_prototypes(ctx.db, concept_id)
    figs = concept.figures or {}
    moves = []
    for key, who in (("teacher_move", "teacher played"), ("weaker_move", "weaker network")):
        if figs.get(key):
            san = line_san(concept.source_fen, [figs[key]]) if concept.source_fen else []
            moves.append(f"{who} {san[0] if san else figs[key]}")
    ids = {p.id for p in protos}
    notes = {n.prototype_id: n for n in list_notes(ctx.db) if n.prototype_id in ids}  # the newest wins
    return CardData(concept, protos, {p.id: line_san(p.fen, _proto_line(p)) for p in protos}, moves, notes)


def _proto_line(proto: Any) -> list[str]:
    """The prototype's whole stored line, or its best move alone when none was stored."""
    return list(proto.line) or ([proto.best_move] if proto.best_move else [])


def _shares(visits: dict[str, dict[str, float]] | None) -> list[tuple[str, float]]:
    visits = visits or {}
    total = sum(float(v.get("n", 0)) for v in visits.values())
    return [(u, float(v.get("n", 0)) / total) for u, v in visits.items()] if total > 0 else []


def behavioural_text(figures: dict[str, Any] | None) -> str:
    """The behavioural novelty verdict (how often human players find the answers, from Maia),
    to sit beside the latent one; empty when the library has no such figures."""
    b = (figures or {}).get("behavioural_novelty")
    if not b or b.get("mean_find") is None or b.get("rating") is None:
        return ""
    verdict = "novel" if b.get("novel") else "not novel"
    rare = b.get("rare")
    below = f" (novel below {100 * rare:.0f}%)" if rare is not None else ""
    return (f"Behavioural novelty: players rated {b['rating']} find its answers "
            f"{100 * b['mean_find']:.0f}% of the time{below}: <b>{verdict}</b>")


def verified_text(prototypes: list[Any]) -> str:
    """How many prototypes are verified quiz items, or 'unverified' when none has a verdict."""
    judged = [p for p in prototypes if getattr(p, "verification", None)]
    if not judged:
        return "Quiz items: unverified"
    good = sum(1 for p in judged if p.verification.get("quiz_item"))
    return f"Quiz items: {good} of {len(prototypes)} prototypes verified"


#: Below this card width the card is one column (text, prototypes, plots) that scrolls.
TWO_COLUMNS_MIN = 760


class ConceptCard(QWidget):
    """The right-hand side of the explorer: one concept in full. Two columns when there
    is room (text and figures | prototypes), else one column that scrolls vertically."""

    saveRequested = Signal(int, str, str)  # concept id, name, annotation
    hideRequested = Signal(int, bool)
    dropRequested = Signal(int)  # prototype id
    undropRequested = Signal(int)  # prototype id
    worksheetRequested = Signal(int, int)  # concept id, diagrams per page

    def __init__(self, pieces: PieceSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.concept: Any = None
        self.prototypes: list[Any] = []
        self.line_sans: dict[int, list[str]] = {}
        self.notes: dict[int, Any] = {}
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
        self.worksheet = QPushButton("Print worksheet (PDF)", self)
        self.worksheet.setToolTip("The concept's positions as board diagrams to print (six per page), the "
                                  "answers on the last pages; written to the export folder")
        self.worksheet.clicked.connect(
            lambda: self.concept is not None and self.worksheetRequested.emit(self.concept.id, 6))
        self.status = QLabel(self)
        self.status.setObjectName("cardStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
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
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setStyleSheet("color:#1f5f99;")
        self.note.hide()
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
        save_row.addWidget(self.worksheet)
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
        rl.addWidget(self.note)
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
        self.notes = data.notes
        self.name.setText(concept.name)
        self.name.setCursorPosition(0)  # a long name shows its start, not its end
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
        extra = [t for t in (behavioural_text(figs), verified_text(data.prototypes)) if t]
        text += "<br>" + " · ".join(extra)
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
            self.note.hide()
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
        note = self.notes.get(proto.id)
        marks = None
        if note is not None:
            marks = marks_of(tuple(note.arrows), tuple(note.squares))
            drawn = " (and the arrows and circles on the board)" if note.has_marks else ""
            where = f"session {note.session_id}" if note.session_id else "the library"
            self.note.setText(f"Coach's note from {where}, {note.written_at[:10]}{drawn}: {note.text}".rstrip(": "))
        self.note.setVisible(note is not None)
        self.viewer.set_line(proto.fen, _proto_line(proto), self.line_sans.get(proto.id, []),
                             arrows=search_arrows(proto.best_move, _shares(proto.visits)), heat=proto.heat,
                             marks=marks)

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


__all__ = ["CardData", "ConceptCard", "STATUS_LABELS", "load_card"]
