"""The application shell: the main window (a sidebar of screens), settings, start-up and
the navigation between screens.

Screens learn what changed from one notification: every operation that writes says
what it changed (``Changes``) and ``Workers.changed`` carries it to every screen, which
redraws what concerns it. The window only routes navigation (open a session, show a
player's results) and passes the settings down.

Start-up shows the window at once; the store is opened (and the bundled network and
concept library registered on first run) by the DB worker, and the screens fill in when
it is ready. Nothing here imports torch, sqlite3 or sqlite-utils: every store access is
a core call run by :mod:`conceptcoach.desktop.workers`.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from conceptcoach.desktop.board.theme import PieceSet
from conceptcoach.desktop.board.view import ANIM_MS
from conceptcoach.desktop.board.widget import BoardWidget
from conceptcoach.desktop.changes import Changes
from conceptcoach.desktop.screens.discovery import DiscoveryScreen
from conceptcoach.desktop.screens.explorer import ConceptExplorer
from conceptcoach.desktop.screens.home import HomeScreen
from conceptcoach.desktop.screens.results import ResultsScreen
from conceptcoach.desktop.screens.session import SessionScreen
from conceptcoach.desktop.screens.settings import SettingsScreen
from conceptcoach.desktop.settings import Settings, load_settings, save_settings, settings_path
from conceptcoach.desktop.workers import Context, Workers
from conceptcoach.paths import assets_dir
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QCloseEvent, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

#: Set to make the app print start-up timings and quit once the store is open (tests, CI).
ENV_STARTUP_PROBE = "CONCEPTCOACH_STARTUP_PROBE"

SCREENS = ("Home", "Session", "Results", "Concepts", "Discovery", "Settings")


class StoreOpener:
    """The DB worker's connection factory: opens (creating and migrating) the user's store.
    Registering the bundled network and library is done by a child process after it
    (``jobs.prepare_store``): reading checkpoints loads torch, which must stay out of the
    GUI process."""

    def __init__(self, data_dir: str | None) -> None:
        self.data_dir = data_dir
        self.path: str | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Any:
        from conceptcoach.store.db import DB_FILENAME, default_data_dir, open_store

        with self._lock:
            if self.path is None:
                folder = default_data_dir(self.data_dir)
                folder.mkdir(parents=True, exist_ok=True)
                self.path = str(folder / DB_FILENAME)
        return open_store(self.path)


def _preload(ctx: Context) -> list[str]:
    from conceptcoach.desktop.jobs import preload_core

    return preload_core()


class MainWindow(QMainWindow):
    ready = Signal()  # the store is open and the screens have their first data
    libraryReady = Signal()  # the bundled network and concept library are registered

    def __init__(self, settings: Settings, data_dir: str | None = None, settings_file: Path | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.settings_file = settings_file
        self.setWindowTitle("Concept Coach")
        icon = assets_dir() / "icons" / "conceptcoach.svg"
        if icon.exists():
            self.setWindowIcon(QIcon(str(icon)))
        self.data_dir = data_dir or settings.data_dir or None
        self.opener = StoreOpener(self.data_dir)
        self.workers = Workers(self.opener, self)
        self.pieces = PieceSet()
        self.is_ready = False
        self.prepare_op: Any = None
        self.library_is_ready = False

        self.home = HomeScreen(self.workers, show_welcome=not settings.welcomed)
        self.session = SessionScreen(self.workers, self.pieces)
        self.results = ResultsScreen(self.workers, export_dir=Path(settings.export_dir) if settings.export_dir else None)
        self.explorer = ConceptExplorer(self.workers, self.pieces)
        self.discovery = DiscoveryScreen(self.workers, db_path="")
        self.settings_screen = SettingsScreen(self.workers, settings, self.pieces, data_dir=self.data_dir or "")
        self.screens: list[QWidget] = [self.home, self.session, self.results, self.explorer, self.discovery,
                                       self.settings_screen]

        self.sidebar = QListWidget(self)
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setFixedWidth(150)
        self.sidebar.setStyleSheet(
            "#sidebar { border: none; background: palette(alternate-base); font-size: 11pt; }"
            "#sidebar::item { padding: 10px 12px; }"
            "#sidebar::item:selected { background: palette(highlight); color: palette(highlighted-text); }")
        self.stack = QStackedWidget(self)
        for i, (name, screen) in enumerate(zip(SCREENS, self.screens, strict=True)):
            item = QListWidgetItem(name)
            item.setToolTip(f"{name} (Ctrl+{i + 1})")
            self.sidebar.addItem(item)
            self.stack.addWidget(screen)
        self.sidebar.currentRowChanged.connect(self._show_screen)
        central = QWidget(self)
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.sidebar)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.store_label = QLabel("Opening the store…", self)
        self.statusBar().addPermanentWidget(self.store_label)

        self._wire()
        self._shortcuts()
        self.apply_settings(settings)
        self.sidebar.setCurrentRow(0)
        self.resize(settings.window_width or 1280, settings.window_height or 800)
        self._opened_handled = False
        self.workers.db_thread.opened.connect(self._store_opened)
        self.workers.db_thread.openFailed.connect(self._store_failed)
        # The DB thread starts with Workers and may have opened the store before the
        # connections above existed: a signal emitted then is lost, so look once more.
        if self.workers.db_thread.ready.is_set():
            QTimer.singleShot(0, self._store_opened)

    # ------------------------------------------------------------------ navigation
    def _wire(self) -> None:
        h, s = self.home, self.session
        h.newSessionRequested.connect(self.start_session)
        h.resumeRequested.connect(self.resume_session)
        h.resultsRequested.connect(self.show_results)
        h.welcomeDismissed.connect(lambda: self.save(self.settings.with_changes(welcomed=True)))
        s.resultsRequested.connect(self.show_results)
        s.homeRequested.connect(lambda: self.go("Home"))
        s.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.results.exported.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.results.exportDirChanged.connect(lambda folder: self.save(self.settings.with_changes(export_dir=folder)))
        self.results.reviewRequested.connect(self.review_session)
        self.explorer.exported.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.settings_screen.settingsChanged.connect(self.save)

    def _shortcuts(self) -> None:
        for i in range(len(SCREENS)):
            sc = QShortcut(QKeySequence(f"Ctrl+{i + 1}"), self)
            sc.activated.connect(lambda i=i: self.sidebar.setCurrentRow(i))
        QShortcut(QKeySequence("Ctrl+N"), self).activated.connect(self.home.new_session_shortcut)
        QShortcut(QKeySequence(QKeySequence.StandardKey.FullScreen), self).activated.connect(self._toggle_full)
        QShortcut(QKeySequence("F11"), self).activated.connect(self._toggle_full)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Quit), self).activated.connect(self.close)

    def _toggle_full(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def go(self, name: str) -> None:
        self.sidebar.setCurrentRow(SCREENS.index(name))

    def _show_screen(self, row: int) -> None:
        # A screen that missed a change while hidden redraws as it is shown (widgets.Redraw).
        if row >= 0:
            self.stack.setCurrentIndex(row)

    # ------------------------------------------------------------------ store
    def _store_opened(self) -> None:
        if self._opened_handled or self.opener.path is None:
            return
        self._opened_handled = True
        self.store_label.setText(f"Store: {self.opener.path}")
        self.discovery.db_path = self.opener.path or ""
        self.settings_screen.db_path = self.opener.path or ""
        self.settings_screen.set_data_dir_in_use(str(Path(self.opener.path or "").parent))
        self.home.library_pending = True
        self.workers.notify(Changes.everything())
        self.workers.db(lambda ctx: None, name="ready", on_finished=self._ready)
        # Then import the rest of the study core on the DB thread, before the user acts
        # (see jobs.preload_core), so no later operation pays for it mid-session.
        self.workers.db(_preload, name="preload")
        self.statusBar().showMessage("Checking the bundled network and concept library…")
        prep = self.workers.process("conceptcoach.desktop.jobs:prepare_store", {"data_dir": self.data_dir},
                                    name="prepare store", on_success=self._prepared,
                                    on_failure=self._prepare_failed)
        self.prepare_op = prep

    def _prepared(self, result: dict[str, Any]) -> None:
        counts = result.get("concepts", {})
        self.statusBar().showMessage(f"Library ready: {sum(counts.values())} concepts.", 8000)
        self.library_is_ready = True
        self.home.library_pending = False
        self.workers.notify(Changes(concepts=True, networks=True))
        self.libraryReady.emit()

    def _prepare_failed(self, message: str) -> None:
        self.home.library_pending = False
        self.workers.notify(Changes(concepts=True))
        first = (message.strip().splitlines() or ["unknown error"])[0]
        self.statusBar().showMessage(f"The bundled network or library could not be registered: {first}")

    def _ready(self) -> None:
        self.is_ready = True
        self.ready.emit()

    def _store_failed(self, message: str) -> None:
        self.store_label.setText("No store")
        self.home.summary.setText(
            f"<span style='color:#b3261e'><b>The store could not be opened.</b> {message}<br>"
            "Choose another data folder under Settings (used from the next start), or start with "
            "<code>conceptcoach --data-dir FOLDER</code>.</span>")

    # ------------------------------------------------------------------ actions
    def start_session(self, player_id: int) -> None:
        self.session.new_session(player_id)
        self.go("Session")

    def resume_session(self, session_id: int) -> None:
        self.session.open_session(session_id)
        self.go("Session")

    def review_session(self, session_id: int, player_id: int) -> None:
        """The review page of a finished (or running) session; its button leads back to Results."""
        self.session.show_review(session_id, back_to="results", player_id=player_id)
        self.go("Session")

    def show_results(self, player_id: int, session_id: int = 0) -> None:
        """Results of ``player_id`` (0: the first player), for ``session_id`` (0: all sessions)."""
        self.results.show_for(player_id or None, session_id)
        self.go("Results")

    # ------------------------------------------------------------------ settings
    def save(self, settings: Settings) -> None:
        self.apply_settings(settings)
        try:
            save_settings(settings, self.settings_file)
        except OSError as exc:
            self.statusBar().showMessage(f"Settings not saved: {exc}", 10000)
        self.workers.notify(Changes(settings=True))

    def apply_settings(self, settings: Settings) -> None:
        self.settings = settings
        # The settings screen edits on top of what is saved now (export folder, window size...).
        self.settings_screen.settings = settings
        self.pieces.scale = settings.piece_scale
        for board in self.findChildren(BoardWidget):
            if board.view.pieces is not self.pieces:
                continue  # the settings preview has its own
            board.view.set_theme(settings.board_theme)
            board.view.set_coordinates(settings.coordinates)
            board.view.animation_ms = ANIM_MS if settings.animation else 0
            for item in board.view.scene().items():
                item.update()
        self.session.notation = settings.notation
        self.session.confirm_moves = settings.confirm_moves
        self.discovery.teacher = settings.network
        self.explorer.card.viewer.set_figurines(settings.figurines)
        self.explorer.export_dir = Path(settings.export_dir) if settings.export_dir else self.results.default_folder()

    def closeEvent(self, event: QCloseEvent) -> None:
        # The size to open at next time (not a full-screen or maximised one).
        size = self.normalGeometry().size() if self.isMaximized() or self.isFullScreen() else self.size()
        if (size.width(), size.height()) != (self.settings.window_width, self.settings.window_height):
            self.save(self.settings.with_changes(window_width=size.width(), window_height=size.height()))
        # A note being written on a learning position is saved first (queued before the stop).
        self.session.runner.save_note()
        # Background work is cancelled; the DB thread finishes the operation it is in
        # (answers are committed one by one, so nothing half-written is left) and closes
        # the store. A first-time import on a busy machine can take seconds: wait for it
        # rather than leave a thread running while the interpreter exits.
        self.workers.shutdown(timeout_ms=60_000)
        super().closeEvent(event)


def run_app(data_dir: str | None = None) -> int:
    """Open the desktop app; returns the exit status. ``data_dir`` overrides the store's folder."""
    started = time.perf_counter()
    probe = bool(os.environ.get(ENV_STARTUP_PROBE))
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Concept Coach")
    app.setOrganizationName("ConceptCoach")
    app.setDesktopFileName("io.github.conceptcoach.ConceptCoach")
    settings, problem = load_settings()
    window = MainWindow(settings, data_dir=data_dir, settings_file=settings_path())
    window.show()
    if problem:
        window.statusBar().showMessage(problem, 15000)
    if probe:
        shown = time.perf_counter() - started
        print(f"startup: window shown {shown:.3f}s torch={'torch' in sys.modules}", flush=True)

        def report() -> None:
            print(f"startup: ready {time.perf_counter() - started:.3f}s store={window.opener.path} "
                  f"torch={'torch' in sys.modules}", flush=True)
            window.close()

        window.ready.connect(report)
        QTimer.singleShot(60_000, window.close)
    return int(app.exec())
