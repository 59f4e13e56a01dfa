"""A soak test: the whole app, as a coach uses it, for a few minutes.

A scripted walk through every screen, repeated until the time is up (about a minute and
a half of walking by default; ``CONCEPTCOACH_SOAK_SECONDS`` makes it longer): a player
added on Home; a session planned on the bundled library and played through, answered
by random legal moves (by mouse and by typed SAN) in one round and by the right moves in
the next, with a move tried, the line stepped with the keys and the coach's arrow drawn in
the learning phase; the review pages stepped through; Results with its progress plot,
a session's review and every export (CSV, JSON, PGN, EPD, HTML, PDF worksheet); the
concept list scrolled with the keys, prototypes flipped through and a concept's
worksheet printed; an import on Discovery (a small real PGN, then malformed ones);
the settings changed and saved; the window resized on every screen.

It fails on any exception in a Qt callback (pytest-qt), on any operation that failed
in the background, on any Qt warning about deleted or destroyed objects or threads,
and on a stall: the GUI thread itself busy (its own CPU time, ``time.thread_time``)
for more than a second; pauses in which it merely waited (for a descheduled worker
holding the interpreter lock, or for a CPU on a loaded machine) are not stalls.

It runs offscreen under ``make test`` and, unchanged, with a real window on an X display
(Xvfb here); tests/conftest.py makes every GUI test headless, so the window is asked for:
``xvfb-run -a env -u QT_QPA_PLATFORM CONCEPTCOACH_SOAK_DISPLAY=1 .venv/bin/python -m pytest -q -s
tests/test_gui_soak.py`` (the line it prints names the Qt platform used).
"""

from __future__ import annotations

import gzip
import os
import random
import time
from pathlib import Path
from typing import Any

import chess
import chess.pgn
import pytest
from PySide6.QtCore import Qt, QtMsgType, qInstallMessageHandler, qWarning
from PySide6.QtTest import QTest

pytestmark = [pytest.mark.gui, pytest.mark.slow]

if os.environ.get("CONCEPTCOACH_SOAK_DISPLAY") == "1" and os.environ.get("DISPLAY"):
    # A real window on the X display (conftest.py set "offscreen" for every GUI test);
    # this module is imported before the test session's QApplication exists.
    os.environ["QT_QPA_PLATFORM"] = "xcb"

SOAK_SECONDS = float(os.environ.get("CONCEPTCOACH_SOAK_SECONDS", "90"))
SIZES = ((1024, 700), (1366, 768), (1600, 1000), (900, 640), (1280, 800))
WARNING_WORDS = ("deleted", "destroyed", "QThread")
BUSY_MS = 1000.0
LONG = 60_000  # ms: a step on a loaded two-core machine


class Watch:
    """What the walk collects: Qt warnings about object lifetimes, failed operations."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.failures: list[str] = []
        self.steps: list[str] = []
        self._previous: Any = None

    def handler(self, kind: QtMsgType, context: Any, message: str) -> None:
        if kind != QtMsgType.QtDebugMsg and any(w in message for w in WARNING_WORDS):
            self.warnings.append(f"{kind.name}: {message} (during: {self.steps[-1] if self.steps else 'start'})")
        if self._previous is not None:
            self._previous(kind, context, message)

    def install(self) -> None:
        self._previous = qInstallMessageHandler(self.handler)

    def uninstall(self) -> None:
        qInstallMessageHandler(self._previous)

    def track(self, workers: Any) -> None:
        """Every operation from now on reports its failure here."""
        original = workers._track

        def track(op: Any) -> Any:
            op.failed.connect(lambda msg, _tb, name=op.name: self.failures.append(
                f"{name}: {msg} (during: {self.steps[-1] if self.steps else '?'})"))
            return original(op)

        workers._track = track


def _small_pgn(shared: Path, folder: Path) -> Path:
    """Twelve real games of the Lichess sample, as a file of their own."""
    out = folder / "twelve_games.pgn"
    with gzip.open(shared / "human" / "lichess_fgf_sample_3000.pgn.gz", "rt", encoding="utf-8",
                   errors="replace") as fh:
        games = [chess.pgn.read_game(fh) for _ in range(12)]
    out.write_text("\n\n".join(str(g) for g in games if g is not None) + "\n", encoding="utf-8")
    return out


class Walk:
    def __init__(self, qtbot: Any, win: Any, watch: Watch, rng: random.Random, tmp: Path, shared: Path,
                 mouse: Any) -> None:
        self.qtbot, self.win, self.watch, self.rng, self.tmp, self.shared = qtbot, win, watch, rng, tmp, shared
        self.mouse = mouse
        self.round = 0
        self.sizes = list(SIZES)

    def step(self, name: str) -> None:
        self.watch.steps.append(f"round {self.round}: {name}")

    def wait(self, condition: Any, timeout: int = LONG) -> None:
        try:
            self.qtbot.waitUntil(condition, timeout=timeout)
        except Exception:  # noqa: BLE001 - say where the walk stopped and why
            banner = self.win.session.setup.setup_error.text()
            pytest.fail(f"the walk stopped at {self.watch.steps[-1]!r}; failed operations: {self.watch.failures}; "
                        f"status: {self.win.statusBar().currentMessage()!r}; session setup: {banner!r}")

    def resize(self) -> None:
        w, h = self.sizes[(self.round + len(self.watch.steps)) % len(self.sizes)]
        self.win.resize(w, h)
        self.qtbot.wait(30)

    # ----- the screens ---------------------------------------------------------------------

    def home(self) -> str:
        self.step("home: add a player")
        home = self.win.home
        self.win.go("Home")
        self.resize()
        self.wait(lambda: home.data is not None)
        name = f"Soak Player {self.round + 1}"
        home.player_name.setText(name)
        self.qtbot.mouseClick(home.add_player, Qt.MouseButton.LeftButton)
        self.wait(lambda: home.data is not None and any(p.name == name for p in home.data.players)
                  and home.start.isEnabled() and len(home.selected_player_ids()) == 1)
        return name

    def session(self, player: str, right: bool) -> int:
        self.step("session: plan")
        win, screen = self.win, self.win.session
        self.qtbot.mouseClick(win.home.start, Qt.MouseButton.LeftButton)
        setup, runner = screen.setup, screen.runner
        self.wait(lambda: setup.concept_list.count() > 2 and setup.player_box.currentText() == player)
        self.resize()
        # Concepts with room for two test positions a phase (the setup says how many each has).
        tests = setup.data["test_positions"]
        able = [i for i in range(setup.concept_list.count())
                if tests[int(setup.concept_list.item(i).data(Qt.ItemDataRole.UserRole))] >= 8]
        picks = self.rng.sample(able, 2)
        setup.check_all(False)
        for i in picks:
            setup.concept_list.item(i).setCheckState(Qt.CheckState.Checked)
        setup.per_phase.setValue(2)
        setup.controls.setValue(1)
        self.qtbot.mouseClick(setup.start_btn, Qt.MouseButton.LeftButton)
        self.wait(lambda: runner.view is not None and screen.pages.currentWidget() is runner)
        sid = runner.view.state.session.id
        for _ in range(60):
            view = runner.view
            item = view.state.current
            if item is None:
                break
            self.step(f"session {sid}: {item.phase}")
            if len(self.watch.steps) % 4 == 0:
                self.resize()
            if item.phase == "learning":
                self.learning(runner, item)
                self.qtbot.mouseClick(runner.learning.next_btn, Qt.MouseButton.LeftButton)
            else:
                self.answer(runner, item, right)
            self.wait(lambda before=view: runner.view is not before)
            if screen.pages.currentWidget() is screen.review and runner.view.state.current is not None:
                self.review(screen.review)
                self.qtbot.mouseClick(screen.review.continue_btn, Qt.MouseButton.LeftButton)
        assert screen.pages.currentWidget() is screen.review, "the end of a session shows its review"
        self.review(screen.review)
        self.qtbot.mouseClick(screen.review.continue_btn, Qt.MouseButton.LeftButton)
        assert screen.pages.currentWidget() is screen.done
        return sid

    def answer(self, runner: Any, item: Any, right: bool) -> None:
        board = chess.Board(item.fen)
        move = chess.Move.from_uci(item.expected[0]) if right else self.rng.choice(list(board.legal_moves))
        how = self.rng.random()
        if how < 0.5:
            self.mouse.play(runner.board, move.uci())
        else:  # typed in SAN, as a coach at the keyboard does
            runner.board.entry.setText(board.san(move))
            QTest.keyClick(runner.board.entry, Qt.Key.Key_Return)

    def learning(self, runner: Any, item: Any) -> None:
        view = runner.board.view
        for key in (Qt.Key.Key_Right, Qt.Key.Key_Right, Qt.Key.Key_Left, Qt.Key.Key_End, Qt.Key.Key_Home):
            QTest.keyClick(view, key)
            self.wait(lambda: not view.is_animating(), timeout=10_000)
        if self.rng.random() < 0.5:  # the coach draws an arrow and circles a square
            empty = [s for s in chess.SQUARES if view.board.piece_at(s) is None]
            a, b = self.rng.sample(empty, 2)
            vp = view.viewport()
            QTest.mousePress(vp, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier,
                             view.square_center(a).toPoint())
            QTest.mouseRelease(vp, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier,
                               view.square_center(b).toPoint())
            runner.learning.notes.setPlainText(f"soak note {self.round}")
        if self.rng.random() < 0.5:  # the player tries a move of their own, rated by the core
            move = self.rng.choice(list(chess.Board(item.fen).legal_moves))
            self.mouse.play(runner.board, move.uci())
            self.wait(lambda: "Asking" not in runner.try_label.text())
            QTest.keyClick(view, Qt.Key.Key_Home)

    def review(self, review: Any) -> None:
        self.step("review")
        self.wait(lambda: not review.loading and review.current is not None)
        for _ in range(min(len(review.shown), 6)):
            QTest.keyClick(review.board.view, Qt.Key.Key_Right)
        QTest.keyClick(review.board.view, Qt.Key.Key_End)
        QTest.keyClick(review.board.view, Qt.Key.Key_Home)
        if review.phase.isVisible() and review.phase.count() > 1:
            k = self.rng.randrange(review.phase.count())
            review.phase.setCurrentIndex(k)
            review.phase.activated.emit(k)
        self.resize()

    def results(self, sid: int) -> None:
        self.step("results")
        win, r = self.win, self.win.results
        self.qtbot.mouseClick(win.session.done.results_btn, Qt.MouseButton.LeftButton)
        assert win.stack.currentWidget() is r
        self.wait(lambda: r.data is not None and r.data.session_id == sid and not r.loading)
        self.resize()
        if r.progress_concept.count() > 1:
            k = self.rng.randrange(r.progress_concept.count())
            r.progress_concept.setCurrentIndex(k)
            r.progress_concept.activated.emit(k)
        r.folder.setText(str(self.tmp / "exports"))
        if r.table.rowCount():
            r.table.selectRow(0)
        kinds = ["csv", "json", "pgn", "pdf"] if self.round % 2 == 0 else ["epd", "html", "pdf", "csv"]
        for kind in kinds:
            self.step(f"results: export {kind}")
            button = getattr(r, kind)
            if not button.isEnabled():
                continue
            r.export_message.clear()
            self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
            self.wait(lambda: "written to" in r.export_message.text() or "failed" in r.export_message.text())
            assert "written to" in r.export_message.text(), r.export_message.text()
            assert r.export_path(kind).stat().st_size > 0
        self.step("results: review a session")
        r.history.selectRow(0)
        self.qtbot.mouseClick(r.review_btn, Qt.MouseButton.LeftButton)
        assert win.stack.currentWidget() is win.session
        self.review(win.session.review)
        self.qtbot.mouseClick(win.session.review.continue_btn, Qt.MouseButton.LeftButton)
        assert win.stack.currentWidget() is r
        self.wait(lambda: r.data is not None and not r.loading)

    def concepts(self) -> None:
        self.step("concepts: scroll the list")
        ex = self.win.explorer
        self.win.go("Concepts")
        self.resize()
        self.wait(lambda: ex.loaded and ex.table.rowCount() > 0)
        ex.table.setFocus()
        for _ in range(self.rng.randint(3, 8)):
            QTest.keyClick(ex.table, Qt.Key.Key_Down)
            self.qtbot.wait(20)
        QTest.keyClick(ex.table, Qt.Key.Key_PageDown)
        QTest.keyClick(ex.table, Qt.Key.Key_Up)
        self.wait(lambda: ex.card.concept is not None and not ex.loading and ex.card.concept.id == ex.current_id())
        self.step("concepts: flip through prototypes")
        card = ex.card
        for _ in range(self.rng.randint(2, 6)):
            if card.next_proto.isEnabled():
                self.qtbot.mouseClick(card.next_proto, Qt.MouseButton.LeftButton)
            QTest.keyClick(card.viewer.board.view, Qt.Key.Key_Right)
        if card.prev_proto.isEnabled():
            self.qtbot.mouseClick(card.prev_proto, Qt.MouseButton.LeftButton)
        self.resize()
        if self.round % 2 == 0:
            self.step("concepts: print a worksheet")
            ex.export_dir = self.tmp / "sheets"
            card.status.clear()
            self.qtbot.mouseClick(card.worksheet, Qt.MouseButton.LeftButton)
            self.wait(lambda: "written to" in card.status.text() or "could not" in card.status.text())
            assert "written to" in card.status.text(), card.status.text()

    def discovery(self) -> None:
        self.step("discovery: import")
        d = self.win.discovery
        self.win.go("Discovery")
        self.resize()
        if self.round % 2 == 0:
            files = [_small_pgn(self.shared, self.tmp)]
        else:
            files = sorted((self.shared / "malformed").glob("*.pgn"))
        d.files.setText("; ".join(str(f) for f in files))
        self.qtbot.mouseClick(d.import_button, Qt.MouseButton.LeftButton)
        self.wait(lambda: d.import_op is None and d.import_button.isEnabled())
        assert len(d.last_import) == len(files) and all("error" not in s for s in d.last_import), d.last_import
        self.resize()

    def settings(self) -> None:
        self.step("settings")
        s = self.win.settings_screen
        self.win.go("Settings")
        self.resize()
        self.wait(lambda: s.network.count() > 0)
        s.theme.setCurrentIndex((s.theme.currentIndex() + 1) % s.theme.count())
        s.notation.setCurrentIndex((s.notation.currentIndex() + 1) % s.notation.count())
        self.qtbot.mouseClick(s.save, Qt.MouseButton.LeftButton)
        self.qtbot.wait(50)


def test_soak_every_screen(qtbot, tmp_path: Path, shared_data: Path, mouse, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.app import MainWindow
    from conceptcoach.desktop.settings import Settings, settings_path
    from conceptcoach.desktop.workers import StallMonitor

    monkeypatch.setenv("CONCEPTCOACH_CONFIG_DIR", str(tmp_path / "config"))
    watch = Watch()
    watch.install()
    qWarning("soak self-check: a wrapped C++ object was deleted")  # the handler hears Qt's warnings
    assert len(watch.warnings) == 1 and "self-check" in watch.warnings.pop()
    monitor = StallMonitor(limit_ms=BUSY_MS)
    try:
        # The app's normal first run on a fresh data folder: the bundled network and library.
        win = MainWindow(Settings(), data_dir=str(tmp_path / "data"), settings_file=settings_path())
        qtbot.addWidget(win)
        win.resize(1280, 800)
        win.show()
        qtbot.waitExposed(win)
        watch.track(win.workers)
        try:
            qtbot.waitUntil(lambda: win.is_ready and win.library_is_ready, timeout=180_000)
        except Exception:
            pytest.fail(f"the app did not get ready: {win.statusBar().currentMessage()!r}, {watch.failures}")
        monitor.start()
        walk = Walk(qtbot, win, watch, random.Random(20240611), tmp_path, shared_data, mouse)
        started = time.monotonic()
        while walk.round == 0 or time.monotonic() - started < SOAK_SECONDS:
            player = walk.home()
            sid = walk.session(player, right=walk.round % 2 == 1)
            walk.results(sid)
            walk.concepts()
            walk.discovery()
            walk.settings()
            walk.round += 1
        walk.step("close")
        monitor.stop()
        win.close()
    finally:
        monitor.stop()
        watch.uninstall()
    from PySide6.QtGui import QGuiApplication

    print(f"soak: platform {QGuiApplication.platformName()}, {walk.round} rounds, {len(watch.steps)} steps in {time.monotonic() - started:.0f} s; "
          f"longest gap {monitor.max_gap_ms:.0f} ms; gaps over {BUSY_MS:.0f} ms (raw, GUI CPU ms): "
          f"{[(round(g), round(c)) for g, c, _ in monitor.cpu_gaps]}")
    assert not watch.failures, watch.failures
    assert not watch.warnings, watch.warnings
    assert not monitor.busy(BUSY_MS), f"the GUI thread was busy over a second: {monitor.busy(BUSY_MS)}"
