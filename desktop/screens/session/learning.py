"""The learning side panel: the concept, the teacher's move and value, the line (the
line viewer's controls), the search's top moves, how a move the player tried rates,
the concept's heat, and the coach's notes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conceptcoach.desktop.screens.widgets import heading
from PySide6.QtWidgets import QCheckBox, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

TRY_HINT = "Try a move of your own on the board to see how the network rates it."


def try_text(rating: Any, san: Callable[[str], str]) -> str:
    """What the player reads after trying a move (``rating``: study.scoring.TryRating;
    ``san`` shows SAN in the chosen notation)."""
    tried, best = san(rating.score.answer_san), san(rating.best_san)
    if rating.is_best:
        return f"<b>{tried}</b> is the network's move."
    if rating.searched:
        value = f", value {rating.value:+.2f}" if rating.value is not None else ""
        prefers = f" ({rating.best_share:.0%})" if rating.best_share is not None else ""
        return (f"You tried <b>{tried}</b>: {rating.score.visit_share:.0%} of the network's search{value}. "
                f"It prefers <b>{best}</b>{prefers}.")
    return f"You tried <b>{tried}</b>: the network hardly looked at it. Its move is <b>{best}</b>."


class LearningPanel(QWidget):
    """Beside the board in the learning phase. ``line_controls`` is the line viewer's
    line and buttons, placed here under "The line"."""

    def __init__(self, line_controls: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.concept_label = QLabel()
        self.concept_label.setWordWrap(True)
        cf = self.concept_label.font()
        cf.setBold(True)
        cf.setPointSizeF(cf.pointSizeF() * 1.15)
        self.concept_label.setFont(cf)
        self.teacher_label = QLabel()
        self.teacher_label.setWordWrap(True)
        self.moves_label = QLabel()
        self.moves_label.setWordWrap(True)
        self.try_label = QLabel()
        self.try_label.setWordWrap(True)
        self.try_label.setStyleSheet("color:#1f5f99;")
        self.heat_box = QCheckBox("Show the concept's heat on the squares")
        self.heat_box.setChecked(True)
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Coach's notes on this position, saved with the session. Arrows and "
                                      "circles drawn with the right button on the start position are kept too.")
        self.notes.setMaximumHeight(110)
        self.note_source = QLabel()
        self.note_source.setWordWrap(True)
        self.note_source.setStyleSheet("color:#666;")
        self.note_source.hide()
        self.next_btn = QPushButton("Next position (Space)")
        self.next_btn.setDefault(True)
        keys = QLabel("Keys: ← → step through the line, Home/End, A autoplay, F flip, P pause, Space next")
        keys.setWordWrap(True)
        keys.setStyleSheet("color:#666;")
        lay = QVBoxLayout(self)
        lay.addWidget(self.concept_label)
        lay.addWidget(self.teacher_label)
        lay.addWidget(heading("The line", 2))
        lay.addWidget(line_controls)
        lay.addWidget(heading("The network's top moves", 2))
        lay.addWidget(self.moves_label)
        lay.addWidget(self.try_label)
        lay.addWidget(self.heat_box)
        lay.addWidget(heading("Notes", 2))
        lay.addWidget(self.note_source)
        lay.addWidget(self.notes)
        lay.addStretch(1)
        lay.addWidget(keys)
        lay.addWidget(self.next_btn)

    def show_lesson(self, lesson: Any, side: str, has_heat: bool, san: Callable[[str], str]) -> None:
        self.concept_label.setText(lesson.concept_name or "Control position")
        value = f" (value {lesson.value:+.2f} for {side})" if lesson.value is not None else ""
        self.teacher_label.setText(f"The network plays <b>{san(lesson.move_san)}</b>{value}.")
        moves = [f"{san(s)}: {share:.0%} of visits" + (f", value {q:+.2f}" if q is not None else "")
                 for _uci, s, share, q in lesson.children[:5]]
        self.moves_label.setText("<br>".join(moves) or "No search figures for this position.")
        self.notes.clear()
        self.note_source.hide()
        self.heat_box.setEnabled(has_heat)
        self.try_label.setText(TRY_HINT)

    def set_note(self, text: str, source: str = "") -> None:
        """The coach's note read back (``source``: where it was written, when not this session)."""
        self.notes.setPlainText(text)
        self.note_source.setText(source)
        self.note_source.setVisible(bool(source))


__all__ = ["LearningPanel", "TRY_HINT", "try_text"]
