"""The page a finished session ends on: what was found in each test phase, and the way
to the results or to a new session."""

from __future__ import annotations

from conceptcoach.desktop.screens.session.data import ItemView
from conceptcoach.desktop.screens.widgets import heading, plural
from conceptcoach.study.phases import Phase
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class DonePage(QWidget):
    """``resultsRequested(player_id, session_id)``; ``newSessionRequested(player_id)``."""

    resultsRequested = Signal(int, int)
    newSessionRequested = Signal(int)
    reviewRequested = Signal(int)  # session id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view: ItemView | None = None
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setStyleSheet("font-size: 12pt;")
        self.results_btn = QPushButton("See the results")
        self.results_btn.setDefault(True)
        self.results_btn.setMinimumHeight(36)
        self.results_btn.clicked.connect(self._results)
        self.again_btn = QPushButton("New session")
        self.again_btn.clicked.connect(self._again)
        self.review_btn = QPushButton("Review the answers")
        self.review_btn.setToolTip("Each test position with the player's move and the teacher's")
        self.review_btn.clicked.connect(self._review)
        for b in (self.again_btn, self.review_btn):
            b.setMinimumHeight(36)  # as tall as the default button beside them
        lay = QVBoxLayout(self)
        lay.addWidget(heading("Session finished"))
        lay.addWidget(self.text)
        row = QHBoxLayout()
        row.addWidget(self.results_btn)
        row.addWidget(self.review_btn)
        row.addWidget(self.again_btn)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addStretch(1)

    def show_view(self, view: ItemView) -> None:
        self.view = view
        st = view.state
        lines = [f"All {plural(st.total_items, 'position')} are done."]
        summary = view.summary or {}
        for phase in (Phase.PRE, Phase.POST, Phase.REVIEW):
            tally = summary.get(phase)
            if tally is not None and tally.answered:
                lines.append(f"{phase.display}: {tally.correct} of {plural(tally.answered, 'concept position')} "
                             f"found ({tally.rate:.0%}).")
        lines.append("The results screen shows the gain per concept with its interval, measured against "
                     "the control positions.")
        self.text.setText("<br>".join(lines))

    def _results(self) -> None:
        if self.view is not None:
            session = self.view.state.session
            self.resultsRequested.emit(session.player_id, session.id)

    def _review(self) -> None:
        if self.view is not None:
            self.reviewRequested.emit(self.view.state.session.id)

    def _again(self) -> None:
        self.newSessionRequested.emit(self.view.state.session.player_id if self.view is not None else 0)


__all__ = ["DonePage"]
