"""The Session screen: the setup, a phase running, the review of a test phase, or the
finished session's page.

Every answer and every studied position is written by the study core on the DB thread
before the next position is shown, so a session can be closed at any moment and
resumed from Home where it stopped. When a test phase ends the coach reviews it (the
review page) before the session goes on; at the end the whole session is reviewed,
then its page shows what was found.
"""

from __future__ import annotations

from typing import Any

from conceptcoach.desktop.board.theme import PieceSet
from conceptcoach.desktop.changes import Changes
from conceptcoach.desktop.screens.session.data import ItemView
from conceptcoach.desktop.screens.session.done import DonePage
from conceptcoach.desktop.screens.session.review import ReviewPage
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
        self.review = ReviewPage(workers, self.runner.viewer.board.view.pieces)
        self._after_review: Any = None  # what the review page's button leads to
        self._review_player = 0
        self.pages = QStackedWidget()
        for page in (self.setup, self.runner, self.review, self.done):
            self.pages.addWidget(page)
        lay = QVBoxLayout(self)
        lay.addWidget(self.pages)
        self.default_player_id: int | None = None
        self.redraw = Redraw(self.setup, self._reload_setup)

        self.setup.sessionCreated.connect(self.open_session)
        self.setup.message.connect(self.message)
        self.runner.finished.connect(self._finished)
        self.runner.testPhaseDone.connect(self._phase_done)
        self.runner.leaveRequested.connect(self.homeRequested)
        self.review.continued.connect(self._review_continued)
        self.done.resultsRequested.connect(self.resultsRequested)
        self.done.reviewRequested.connect(lambda sid: self.show_review(sid, back_to="done"))
        self.done.newSessionRequested.connect(lambda pid: self.new_session(pid or self.default_player_id))
        workers.changed.connect(self.on_changes)

    # ----- settings the main window passes down ---------------------------------------------

    @property
    def notation(self) -> str:
        return self.runner.notation

    @notation.setter
    def notation(self, value: str) -> None:
        self.runner.notation = value
        self.review.notation = value

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
        last = "review" if view.state.session.mode == "review" else "post"
        self._after_review = "done"
        self.review.open(view.state.session.id, phase=last, button="Finish the session",
                         title="The session is over: review the answers")
        self.pages.setCurrentWidget(self.review)

    def _phase_done(self, session_id: int, phase: str) -> None:
        if session_id != self.runner.session_id:
            return
        self._after_review = "runner"
        nxt = self.runner.view.state.phase if self.runner.view is not None else None
        label = {"learning": "Continue to the learning phase", "post": "Continue to the post-test"}.get(
            str(nxt), "Continue the session")
        self.review.open(session_id, phase=phase, only=True, button=label)
        self.pages.setCurrentWidget(self.review)

    def show_review(self, session_id: int, back_to: str = "results", player_id: int = 0) -> None:
        """The review of a whole session (every test phase); the page's button leads back
        to the done page (``back_to='done'``) or to the results of ``player_id``."""
        if self.pages.currentWidget() is self.runner:
            self.runner.save_note()
            self.runner.stop()
        self._after_review = back_to
        self._review_player = player_id
        self.review.open(session_id, button="Back to the results" if back_to == "results" else "Back")
        self.pages.setCurrentWidget(self.review)

    def _review_continued(self) -> None:
        where = self._after_review
        if where == "runner" and self.runner.session_id is not None:
            self.pages.setCurrentWidget(self.runner)
            self.runner.resume()
        elif where == "done":
            self.pages.setCurrentWidget(self.done)
        else:
            self.resultsRequested.emit(self._review_player, self.review.session_id or 0)

    # ----- what tests and the main window look at ---------------------------------------------

    @property
    def session_id(self) -> int | None:
        return self.runner.session_id

    @property
    def view(self) -> Any:
        return self.runner.view


__all__ = ["SessionScreen"]
