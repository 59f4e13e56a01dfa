"""The Session screen: the setup, a phase running, or the finished session's page.

Every answer and every studied position is written by the study core on the DB thread
before the next position is shown, so a session can be closed at any moment and
resumed from Home where it stopped.
"""

from __future__ import annotations

from typing import Any

from conceptcoach.desktop.board.theme import PieceSet
from conceptcoach.desktop.changes import Changes
from conceptcoach.desktop.screens.session.data import ItemView
from conceptcoach.desktop.screens.session.done import DonePage
from conceptcoach.desktop.screens.session.running import RunnerPage
from conceptcoach.desktop.screens.session.setup import SetupPage
from conceptcoach.desktop.screens.widgets import Redraw
from conceptcoach.desktop.workers import Workers
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget


class SessionScreen(QWidget):
    """Setup, runner and done page of a session. Outward navigation goes through
    signals so the main window decides where to go: ``resultsRequested(player_id,
    session_id)`` (as Home's), ``homeRequested()``; ``message(text)`` for the status bar."""

    name = "session"
    title = "Session"
    resultsRequested = Signal(int, int)
    homeRequested = Signal()
    message = Signal(str)

    def __init__(self, workers: Workers, pieces: PieceSet | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.setup = SetupPage(workers)
        self.runner = RunnerPage(workers, pieces or PieceSet())
        self.done = DonePage()
        self.pages = QStackedWidget()
        for page in (self.setup, self.runner, self.done):
            self.pages.addWidget(page)
        lay = QVBoxLayout(self)
        lay.addWidget(self.pages)
        self.default_player_id: int | None = None
        self.redraw = Redraw(self.setup, self._reload_setup)

        self.setup.sessionCreated.connect(self.open_session)
        self.setup.message.connect(self.message)
        self.runner.finished.connect(self._finished)
        self.runner.leaveRequested.connect(self.homeRequested)
        self.done.resultsRequested.connect(self.resultsRequested)
        self.done.newSessionRequested.connect(lambda pid: self.new_session(pid or self.default_player_id))
        workers.changed.connect(self.on_changes)

    # ----- settings the main window passes down ---------------------------------------------

    @property
    def notation(self) -> str:
        return self.runner.notation

    @notation.setter
    def notation(self, value: str) -> None:
        self.runner.notation = value

    @property
    def confirm_moves(self) -> bool:
        return self.runner.confirm_moves

    @confirm_moves.setter
    def confirm_moves(self, value: bool) -> None:
        self.runner.confirm_moves = value

    # ----- navigation in -----------------------------------------------------------------------

    def new_session(self, player_id: int | None = None) -> None:
        """Show the setup page (player preselected when given)."""
        self.runner.stop()
        self.redraw.pending = False  # loaded below
        self.pages.setCurrentWidget(self.setup)
        self.setup.setup_error.set("info", "")
        self.setup.start_btn.setEnabled(False)
        self.setup.load(player_id)

    def open_session(self, session_id: int) -> None:
        self.pages.setCurrentWidget(self.runner)
        self.runner.open(session_id)

    def running(self) -> bool:
        return self.runner.session_id is not None and self.pages.currentWidget() is self.runner

    def on_changes(self, changes: Changes) -> None:
        # Only the setup shows what others change (players, groups, the library, templates).
        if changes.players or changes.concepts or changes.templates:
            self.redraw.needed()

    def _reload_setup(self) -> None:
        self.setup.load()

    def _finished(self, view: ItemView) -> None:
        self.done.show_view(view)
        self.pages.setCurrentWidget(self.done)

    # ----- what tests and the main window look at ---------------------------------------------

    @property
    def session_id(self) -> int | None:
        return self.runner.session_id

    @property
    def view(self) -> Any:
        return self.runner.view


__all__ = ["SessionScreen"]
