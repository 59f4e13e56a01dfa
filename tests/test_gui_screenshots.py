"""The screenshots in docs/screenshots/, taken from the real app on the real bundled
library: a fresh data folder, the app's normal first run (the bundled network and concept
library registered), a player added on Home, two sessions played through the window (the
pre-test answered partly wrong, moves tried and the coach's arrow and note in the learning
phase, the reviews stepped through), then Results with the progress, the concept explorer,
an import on Discovery and the settings.

`make screenshots` (CONCEPTCOACH_SCREENSHOTS=1) writes them to docs/screenshots/ at
1024x700 (the smallest window the app is made for) and to docs/screenshots/large/ at
1440x900, as small palette PNGs; otherwise they go to a temporary folder at 1024x700
only, so that `make test` checks the walk and leaves the working tree clean. A person
looks at every one before they are committed.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import chess
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

pytestmark = [pytest.mark.gui, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
WRITE_DOCS = os.environ.get("CONCEPTCOACH_SCREENSHOTS") == "1"
SIZES = ((1024, 700, ""), (1440, 900, "large")) if WRITE_DOCS else ((1024, 700, ""),)
NAMES = ("home_first_run", "results_empty", "session_setup", "session_pretest", "session_paused",
         "session_learning", "session_line", "session_review", "session_done", "home", "results",
         "results_progress", "explorer", "discovery", "discovery_import", "settings")


def _save(win: Any, folder: Path, name: str) -> None:
    """The window as a PNG; with Pillow, reduced to a 256-colour palette (a quarter of
    the size, no visible difference on flat widgets)."""
    from PySide6.QtCore import QCoreApplication

    QCoreApplication.processEvents()
    path = folder / f"{name}.png"
    assert win.grab().save(str(path)), path
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return
    with Image.open(path) as img:
        small = img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def _damaged_pgn(shared: Path, folder: Path) -> Path:
    """Five real master games with the damage the reader repairs (two games run together,
    a web page's text between games) and a game with an illegal move."""
    import gzip

    import chess.pgn

    with gzip.open(shared / "human" / "masters_wch_candidates_1886-2022.pgn.gz", "rt", encoding="utf-8",
                   errors="replace") as fh:
        games = [str(chess.pgn.read_game(fh)) for _ in range(5)]
    bad = (shared / "malformed" / "chessalyzer_bad-san-mid-file.pgn").read_text(encoding="utf-8")
    text = (games[0] + "\n" + games[1] + "\n\nDownloaded from example.org, visit us again!\n\n"
            + "\n\n".join(games[2:]) + "\n\n" + bad)
    out = folder / "club_games_2024.pgn"
    out.write_text(text, encoding="utf-8")
    return out


class Coach:
    """Drives the window as a coach does (clicks, keys, drags), one screenshot at a time."""

    def __init__(self, qtbot: Any, win: Any, folder: Path, mouse: Any) -> None:
        self.qtbot, self.win, self.folder, self.mouse = qtbot, win, folder, mouse
        self.rng = random.Random(7)

    def shot(self, name: str) -> None:
        self.qtbot.wait(150)
        _save(self.win, self.folder, name)

    def wait(self, condition: Any, timeout: int = 60_000) -> None:
        self.qtbot.waitUntil(condition, timeout=timeout)

    def add_player(self, name: str, rating: int) -> None:
        home = self.win.home
        self.win.go("Home")
        home.player_name.setText(name)
        home.player_rating.setValue(rating)
        self.qtbot.mouseClick(home.add_player, Qt.MouseButton.LeftButton)
        self.wait(lambda: home.data is not None and any(p.name == name for p in home.data.players)
                  and home.selected_player_ids() != [])

    def plan(self, player: str, picks: int, label: str, first: bool) -> None:
        win, screen = self.win, self.win.session
        self.qtbot.mouseClick(win.home.start, Qt.MouseButton.LeftButton)
        setup = screen.setup
        self.wait(lambda: setup.concept_list.count() > 2 and setup.player_box.currentText() == player)
        tests = setup.data["test_positions"]
        ids = [int(setup.concept_list.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(setup.concept_list.count())]
        # The concepts with the most positions for tests, a different pair each session.
        order = sorted(range(len(ids)), key=lambda i: (-tests[ids[i]], i))
        chosen = order[:2] if first else order[2:4]
        setup.check_all(False)
        for i in chosen[:picks]:
            setup.concept_list.item(i).setCheckState(Qt.CheckState.Checked)
        setup.concept_list.scrollToItem(setup.concept_list.item(chosen[0]))
        setup.per_phase.setValue(2)
        setup.controls.setValue(1)
        setup.label.setText(label)
        if first:
            self.shot("session_setup")
        self.qtbot.mouseClick(setup.start_btn, Qt.MouseButton.LeftButton)
        self.wait(lambda: screen.view is not None and screen.pages.currentWidget() is screen.runner)

    def play(self, pre_right: int, post_right: int, shots: bool) -> int:
        screen = self.win.session
        runner = screen.runner
        counts = {"pre": 0, "post": 0}
        learned = 0
        shot_learning = False
        for _ in range(60):
            view = runner.view
            item = view.state.current
            if item is None:
                break
            if item.phase == "learning":
                # The picture: the first lesson that is still a game (not decided) with a
                # line to step through, else the last one.
                lesson = view.lesson
                open_game = lesson.value is not None and abs(lesson.value) <= 0.6 and len(lesson.line_uci) >= 4
                last = view.state.index_in_phase == view.state.phase_size - 1
                if shots and not shot_learning and (open_game or last):
                    self.learning(runner, item)
                    shot_learning = True
                learned += 1
                self.qtbot.mouseClick(runner.learning.next_btn, Qt.MouseButton.LeftButton)
            else:
                if shots and item.phase == "pre" and counts["pre"] == 1:
                    self.shot("session_pretest")
                    QTest.keyClick(runner.board.view, Qt.Key.Key_P)
                    self.shot("session_paused")
                    QTest.keyClick(runner.board.view, Qt.Key.Key_P)
                right = counts[item.phase] < (pre_right if item.phase == "pre" else post_right)
                counts[item.phase] += 1
                board = chess.Board(item.fen)
                wrong = [m for m in board.legal_moves if m.uci() not in item.expected]
                move = chess.Move.from_uci(item.expected[0]) if right else self.rng.choice(wrong)
                self.mouse.play(runner.board, move.uci())
            self.wait(lambda before=view: runner.view is not before)
            if screen.pages.currentWidget() is screen.review and runner.view.state.current is not None:
                self.wait(lambda: screen.review.current is not None)
                if shots:
                    self.review_shot(screen.review)
                self.qtbot.mouseClick(screen.review.continue_btn, Qt.MouseButton.LeftButton)
        assert screen.pages.currentWidget() is screen.review
        self.wait(lambda: screen.review.current is not None)
        self.qtbot.mouseClick(screen.review.continue_btn, Qt.MouseButton.LeftButton)
        if shots:
            self.shot("session_done")
        return int(runner.view.state.session.id)

    def learning(self, runner: Any, item: Any) -> None:
        """The first learning position: a move tried, the coach's arrow and circle and a
        note, the line stepped through."""
        view = runner.board.view
        wrong = [m for m in chess.Board(item.fen).legal_moves if m.uci() not in item.expected]
        self.mouse.play(runner.board, self.rng.choice(wrong).uci())
        self.wait(lambda: "You tried" in runner.try_label.text() or "hardly looked" in runner.try_label.text())
        QTest.keyClick(view, Qt.Key.Key_Home)
        # The coach's circle on the teacher's target square and an arrow from it.
        move = chess.Move.from_uci(item.expected[0])
        vp = view.viewport()
        QTest.mouseClick(vp, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier,
                         view.square_center(move.to_square).toPoint())
        runner.learning.notes.setPlainText("Ask first: which piece has no good square? Then show the teacher's move.")
        self.shot("session_learning")
        for _ in range(min(3, len(runner.viewer.line))):
            QTest.keyClick(view, Qt.Key.Key_Right)
            self.wait(lambda: not view.is_animating(), timeout=5000)
        self.shot("session_line")
        QTest.keyClick(view, Qt.Key.Key_Home)

    def review_shot(self, review: Any) -> None:
        """The pre-test review on a position answered wrong, engine figures shown where the
        position has them."""
        wrong = [i for i, r in enumerate(review.shown) if r.answer_uci and not r.correct]
        engine = [i for i in wrong if review.shown[i].engine is not None]
        target = (engine or wrong or [0])[0]
        for _ in range(target):
            QTest.keyClick(review.board.view, Qt.Key.Key_Right)
        assert review.index == target
        self.shot("session_review")


def test_screenshots_of_the_real_app(qtbot, tmp_path: Path, shared_data: Path, mouse, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.app import MainWindow
    from conceptcoach.desktop.settings import Settings, settings_path

    for width, height, sub in SIZES:
        folder = (REPO / "docs" / "screenshots" / sub) if WRITE_DOCS else tmp_path / "shots" / (sub or "small")
        folder.mkdir(parents=True, exist_ok=True)
        run = tmp_path / f"run-{width}"
        monkeypatch.setenv("CONCEPTCOACH_CONFIG_DIR", str(run / "config"))
        win = MainWindow(Settings(export_dir=str(run / "exports")), data_dir=str(run / "data"),
                         settings_file=settings_path())
        qtbot.addWidget(win)
        win.resize(width, height)
        win.show()
        qtbot.waitExposed(win)
        qtbot.waitUntil(lambda win=win: win.is_ready and win.library_is_ready and win.home.data is not None,
                        timeout=180_000)
        coach = Coach(qtbot, win, folder, mouse)
        assert win.home.welcome.isVisible()
        coach.shot("home_first_run")
        qtbot.mouseClick(win.home.got_it, Qt.MouseButton.LeftButton)  # read once, put away
        win.show_results(0, 0)
        coach.wait(lambda win=win: win.results.data is not None and not win.results.loading)
        coach.shot("results_empty")

        coach.add_player("Ben Okafor", 1480)
        coach.add_player("Anna Kowalska", 1650)
        coach.plan("Anna Kowalska", 2, "Tuesday lesson", first=True)
        first = coach.play(pre_right=1, post_right=3, shots=True)
        # A second session a week on (here: at once), other concepts, a better pre-test.
        win.go("Home")
        coach.wait(lambda win=win: win.home.start.isEnabled())
        coach.plan("Anna Kowalska", 2, "Homework check", first=False)
        second = coach.play(pre_right=2, post_right=4, shots=False)
        assert second > first

        r = win.results
        qtbot.mouseClick(win.session.done.results_btn, Qt.MouseButton.LeftButton)
        coach.wait(lambda r=r, second=second: r.data is not None and r.data.session_id == second and not r.loading)
        # All of Anna's sessions: the gains, then the progress plot and the review queue.
        r.session.setCurrentIndex(r.session.findData(0))
        r.session.activated.emit(r.session.currentIndex())
        coach.wait(lambda r=r: r.data is not None and r.data.session_id == 0 and not r.loading)
        assert len(r.progress.points) == 2 and r.due.rowCount() == 4
        coach.shot("results")
        r.scroll.ensureWidgetVisible(r.progress_box, 0, 0)
        coach.shot("results_progress")
        win.go("Home")
        coach.wait(lambda win=win: win.home.data is not None and len(win.home.data.sessions) == 2)
        coach.shot("home")

        ex = win.explorer
        win.go("Concepts")
        coach.wait(lambda ex=ex: ex.loaded and ex.card.concept is not None and not ex.loading)
        ex.table.setFocus()
        # Down the list to a novel concept with its teachability and novelty figures.
        for _ in range(ex.table.rowCount()):
            QTest.keyClick(ex.table, Qt.Key.Key_Down)
            coach.wait(lambda ex=ex: ex.card.concept is not None and ex.card.concept.id == ex.current_id()
                       and not ex.loading)
            if ex.card.concept.status == "novel" and (ex.card.concept.figures or {}).get("teachability"):
                break
        qtbot.mouseClick(ex.card.next_proto, Qt.MouseButton.LeftButton)
        coach.shot("explorer")

        d = win.discovery
        win.go("Discovery")
        coach.shot("discovery")
        d.files.setText(str(_damaged_pgn(shared_data, run)))
        qtbot.mouseClick(d.import_button, Qt.MouseButton.LeftButton)
        coach.wait(lambda d=d: d.import_op is None and d.import_button.isEnabled())
        assert d.last_repairs and d.problems.rowCount() > len(d.last_repairs)
        coach.shot("discovery_import")

        win.go("Settings")
        coach.wait(lambda win=win: win.settings_screen.network.count() > 0)
        coach.shot("settings")
        win.close()
        for name in NAMES:
            assert (folder / f"{name}.png").stat().st_size > 5000, name
