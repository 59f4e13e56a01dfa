"""The application shell: start-up time without torch (in a fresh process), settings
saved and applied (and remembered: export folder, window size), screens told what
changed, navigation between them, and a screenshot of every screen written to
docs/screenshots/ (looked at by a person; the README shows one)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import chess
import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """The pictures these tests take (of test fixtures) go to a temporary folder, even under
    `make screenshots`: docs/screenshots/ shows the real app on the bundled library
    (tests/test_gui_screenshots.py)."""
    return tmp_path

REPO = Path(__file__).resolve().parents[1]


def test_settings_round_trip_and_broken_file(tmp_path: Path) -> None:
    from conceptcoach.desktop.settings import Settings, load_settings, save_settings

    path = tmp_path / "settings.json"
    assert load_settings(path) == (Settings(), None)
    s = Settings(board_theme="green", notation="figurine", piece_size="small", welcomed=True, confirm_moves=True,
                 export_dir="/tmp/out", window_width=1100, window_height=720)
    save_settings(s, path)
    assert load_settings(path) == (s, None)
    path.write_text("{not json", encoding="utf-8")
    loaded, problem = load_settings(path)
    assert loaded == Settings() and problem is not None and "could not be read" in problem
    assert (tmp_path / "settings.broken.json").exists()
    # Unknown keys and wrong types are ignored, not fatal.
    path.write_text('{"notation": "klingon", "piece_size": 3, "extra": 1, "board_theme": "blue", '
                    '"window_width": true, "window_height": 700}', encoding="utf-8")
    loaded, problem = load_settings(path)
    assert problem is None and (loaded.notation, loaded.piece_size, loaded.board_theme) == ("san", "large", "blue")
    assert (loaded.window_width, loaded.window_height) == (0, 700)  # true is not a width


@pytest.mark.slow
def test_startup_shows_the_window_fast_without_torch(tmp_path: Path) -> None:
    """`conceptcoach` in a fresh process: the window is shown within 2 s of the start of
    run_app and the app is ready (store open, Home loaded) without ever importing torch."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CONCEPTCOACH_STARTUP_PROBE="1",
               CONCEPTCOACH_CONFIG_DIR=str(tmp_path / "config"))
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "conceptcoach", "--data-dir", str(tmp_path / "data")],
                          env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
    wall = time.perf_counter() - started
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("startup:")]
    assert proc.returncode == 0, proc.stderr[-2000:]
    shown, ready = lines
    shown_s = float(shown.split("shown ")[1].split("s")[0])
    assert "torch=False" in shown and "torch=False" in ready, lines
    assert shown_s < 2.0, f"window shown after {shown_s:.2f}s"
    assert (tmp_path / "data" / "conceptcoach.sqlite").exists()
    assert wall < 120


def _finish_session(db_path: Path, player: str, correct_pre: int, correct_post: int, seed: int = 11,  # type: ignore[no-untyped-def]
                    per_phase: int = 2) -> int:
    """A real session through the study core (of the player of that name, added if new):
    answers chosen to give a known gain."""
    from conceptcoach.store.concepts import list_concepts
    from conceptcoach.store.db import open_store
    from conceptcoach.store.players import add_player, list_players
    from conceptcoach.study.plan import ControlSpec, PlanSpec, create_sessions
    from conceptcoach.study.runner import answer, mark_studied, session_state

    db = open_store(db_path)
    try:
        p = next((q for q in list_players(db) if q.name == player), None) or add_player(db, player, rating=1650)
        concepts = [c.id for c in list_concepts(db) if not c.is_control][:2]
        planned = create_sessions(db, PlanSpec(player_ids=[p.id], concept_ids=concepts, per_phase=per_phase,
                                               control=ControlSpec(count=1), seed=seed))
        sid = planned.session_ids[0]
        counts = {"pre": 0, "post": 0}
        while True:
            state = session_state(db, sid)
            item = state.current
            if item is None:
                break
            if item.phase == "learning":
                mark_studied(db, sid, item.id, study_ms=1200)
                continue
            good = counts[item.phase] < (correct_pre if item.phase == "pre" else correct_post)
            counts[item.phase] += 1
            move = item.expected[0] if good else next(
                m.uci() for m in chess.Board(item.fen).legal_moves if m.uci() not in item.expected)
            answer(db, sid, item.id, move, response_ms=4000)
        return sid
    finally:
        db.conn.close()


@pytest.fixture
def app_env(tmp_path: Path, curated_library, monkeypatch):  # type: ignore[no-untyped-def]
    from conceptcoach.store.db import open_store

    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("CONCEPTCOACH_CONFIG_DIR", str(tmp_path / "config"))
    db = open_store(data / "conceptcoach.sqlite")
    curated_library.build(db, per_concept=10)  # room for two sessions of one player
    db.conn.close()
    return data


def _window(qtbot, data: Path, size: tuple[int, int] | None = (1366, 768), **settings):  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.app import MainWindow
    from conceptcoach.desktop.settings import Settings, settings_path

    win = MainWindow(Settings(**settings), data_dir=str(data), settings_file=settings_path())
    qtbot.addWidget(win)
    if size is not None:
        win.resize(*size)
    win.show()
    qtbot.waitUntil(lambda: win.is_ready, timeout=20_000)
    return win


def test_settings_screen_saves_and_applies(qtbot, app_env) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.settings import load_settings

    win = _window(qtbot, app_env)
    win.go("Settings")
    screen = win.settings_screen
    qtbot.waitUntil(lambda: screen.network.count() > 0, timeout=5000)
    screen.theme.setCurrentIndex(screen.theme.findData("green"))
    screen.piece_size.setCurrentIndex(screen.piece_size.findData("small"))
    screen.notation.setCurrentIndex(screen.notation.findData("figurine"))
    screen.animation.setChecked(False)
    screen.confirm_moves.setChecked(True)
    screen.save.click()
    saved, problem = load_settings()
    assert problem is None
    assert (saved.board_theme, saved.piece_size, saved.notation) == ("green", "small", "figurine")
    assert saved.confirm_moves and win.session.confirm_moves
    assert win.pieces.scale == pytest.approx(0.82)
    assert win.explorer.card.viewer.figurines and win.session.notation == "figurine"
    assert win.explorer.card.viewer.board.view.theme.name == "green"
    assert win.explorer.card.viewer.board.view.animation_ms == 0 and not saved.animation
    # The network chosen here is the one discovery runs with.
    screen.network.addItem("my-net (teacher)", "my-net")
    screen.network.setCurrentIndex(screen.network.findData("my-net"))
    screen.save.click()
    assert load_settings()[0].network == "my-net"
    assert win.discovery.overrides()["teacher"] == "my-net"
    win.close()


@pytest.mark.slow
def test_screenshot_of_every_screen(qtbot, app_env, screenshots: Path) -> None:  # type: ignore[no-untyped-def]
    sid = _finish_session(app_env / "conceptcoach.sqlite", "Anna Kowalska", correct_pre=1, correct_post=4)
    _finish_session(app_env / "conceptcoach.sqlite", "Ben Okafor", correct_pre=2, correct_post=3)
    win = _window(qtbot, app_env)
    # The bundled network is registered by a child process at start-up; wait for it so
    # the screenshots show the app as a user sees it a few seconds after launch.
    qtbot.waitUntil(lambda: win.library_is_ready, timeout=120_000)
    qtbot.waitUntil(lambda: win.home.data is not None and len(win.home.data.sessions) == 2, timeout=10_000)
    qtbot.wait(300)
    assert win.grab().save(str(screenshots / "home.png"))

    win.explorer.refresh()
    win.go("Concepts")
    qtbot.waitUntil(lambda: win.explorer.card.concept is not None and not win.explorer.loading, timeout=10_000)
    qtbot.wait(200)
    assert win.grab().save(str(screenshots / "explorer.png"))

    player = win.home.data.sessions[-1].player_id
    win.show_results(player, 0)
    qtbot.waitUntil(lambda: win.results.data is not None and not win.results.loading, timeout=20_000)
    qtbot.wait(200)
    assert win.results.data.overall is not None
    # History: the player's one session with its gain (post 4 right of 4, pre 1 of 4 over 2 concepts).
    assert win.results.history.rowCount() == 1
    assert win.results.history.item(0, 3).text() != "–"
    assert win.grab().save(str(screenshots / "results.png"))

    win.go("Discovery")
    qtbot.wait(200)
    assert win.grab().save(str(screenshots / "discovery.png"))

    win.go("Settings")
    qtbot.waitUntil(lambda: win.settings_screen.network.count() > 0, timeout=5000)
    qtbot.wait(200)
    assert win.grab().save(str(screenshots / "settings.png"))

    # The session screens are photographed by tests/test_gui_session.py; here, that the
    # window opens the setup for the chosen player.
    win.home.newSessionRequested.emit(player)
    assert win.stack.currentWidget() is win.session
    qtbot.waitUntil(lambda: win.session.setup.player_box.count() > 0, timeout=10_000)
    assert sid
    win.close()


@pytest.mark.slow
def test_whole_coach_session_through_the_app(qtbot, tmp_path: Path, study_library, mouse, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """From creating a player on Home to exporting a CSV on Results, with every answer
    given by a mouse drag on the board; the rows are checked in the store and the file,
    and the GUI thread is never blocked for more than 100 ms once the app is ready."""
    from conceptcoach.desktop.workers import StallMonitor
    from conceptcoach.io.exports import read_attempts_csv
    from conceptcoach.store.attempts import list_attempts
    from conceptcoach.store.db import open_store
    from conceptcoach.store.players import list_players

    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("CONCEPTCOACH_CONFIG_DIR", str(tmp_path / "config"))
    db = open_store(data / "conceptcoach.sqlite")
    study_library.build(db, concepts=2, per_concept=8, failed=1)
    db.conn.close()

    win = _window(qtbot, data)
    qtbot.waitUntil(lambda: win.home.data is not None, timeout=10_000)
    preloaded = win.workers.db(lambda ctx: None)  # queued after the start-up preload
    qtbot.waitUntil(lambda: preloaded.done, timeout=30_000)
    assert win.home.welcome.isVisible()
    monitor = StallMonitor()
    monitor.start()

    # Home: a new player, typed in and added.
    # QTest types ASCII only (it aborts on other characters): the accent is inserted.
    qtbot.keyClicks(win.home.player_name, "Chlo")
    win.home.player_name.insert("é")
    qtbot.keyClicks(win.home.player_name, " Martin")
    qtbot.mouseClick(win.home.add_player, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.home.selected_player_ids() != [] and win.home.start.isEnabled(), timeout=10_000)
    qtbot.mouseClick(win.home.start, Qt.MouseButton.LeftButton)
    screen = win.session
    setup, runner = screen.setup, screen.runner
    assert win.stack.currentWidget() is screen
    qtbot.waitUntil(lambda: setup.concept_list.count() == 2, timeout=10_000)
    assert setup.player_box.currentText() == "Chloé Martin"
    setup.check_all(True)
    setup.per_phase.setValue(2)
    setup.controls.setValue(1)
    qtbot.mouseClick(setup.start_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.view is not None and screen.pages.currentWidget() is runner, timeout=10_000)

    played: dict[int, str] = {}
    for _ in range(40):
        view = screen.view
        item = view.state.current
        if item is None:
            break
        if item.phase == "learning":
            qtbot.mouseClick(runner.learning.next_btn, Qt.MouseButton.LeftButton)
        else:
            uci = item.expected[0] if item.phase == "post" else study_library.wrong_move(item.fen, item.expected)
            mouse.play(runner.board, uci)
            played[item.id] = uci
        qtbot.waitUntil(lambda before=view: screen.view is not before, timeout=10_000)
        if screen.pages.currentWidget() is screen.review:  # a test phase is over: reviewed, then on
            qtbot.waitUntil(lambda: screen.review.current is not None, timeout=10_000)
            qtbot.mouseClick(screen.review.continue_btn, Qt.MouseButton.LeftButton)
    assert screen.pages.currentWidget() is screen.done
    sid = screen.view.state.session.id

    # "See the results": that player's results for that session, then the CSV export button.
    player_id = next(p.id for p in list_players_of(data) if p.name == "Chloé Martin")
    qtbot.mouseClick(screen.done.results_btn, Qt.MouseButton.LeftButton)
    assert win.stack.currentWidget() is win.results
    qtbot.waitUntil(lambda: win.results.data is not None and win.results.data.session_id == sid
                    and not win.results.loading, timeout=20_000)
    assert win.results.data.player_id == player_id and win.results.player.currentText() == "Chloé Martin"
    assert win.results.data.overall is not None and win.results.data.overall.mean_gain_positions == 2.0
    win.results.folder.setText(str(tmp_path / "exports"))
    qtbot.mouseClick(win.results.csv, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "written to" in win.results.export_message.text(), timeout=10_000)
    monitor.stop()
    csv_path = win.results.export_path("csv")
    win.close()

    db = open_store(data / "conceptcoach.sqlite")
    try:
        attempts = list_attempts(db, session_ids=[sid])
        assert {a.item_id: a.answer_uci for a in attempts} == played
        assert len(attempts) == 2 * (2 * 2 + 1)
        assert all(a.correct == (a.phase == "post") for a in attempts)
        assert [p.name for p in list_players(db)] == ["Chloé Martin"]
    finally:
        db.conn.close()
    rows = read_attempts_csv(csv_path)
    assert [(r.id, r.answer_uci) for r in rows] == [(a.id, a.answer_uci) for a in attempts]
    assert monitor.stalls == [], f"the GUI thread was blocked: {monitor.stalls}"


def list_players_of(data: Path):  # type: ignore[no-untyped-def]
    from conceptcoach.store.db import open_store
    from conceptcoach.store.players import list_players

    db = open_store(data / "conceptcoach.sqlite")
    try:
        return list_players(db)
    finally:
        db.conn.close()


def test_shortcuts_and_empty_states(qtbot, tmp_path: Path, monkeypatch, screenshots: Path) -> None:  # type: ignore[no-untyped-def]
    """A first run on an empty store: every screen explains what is missing and what to do."""
    from PySide6.QtTest import QTest

    monkeypatch.setenv("CONCEPTCOACH_CONFIG_DIR", str(tmp_path / "config"))
    win = _window(qtbot, tmp_path / "data")
    assert win.minimumSizeHint().width() <= 1366 and win.minimumSizeHint().height() <= 768
    qtbot.waitUntil(lambda: win.home.data is not None, timeout=10_000)
    assert win.home.welcome.isVisible()
    assert win.home.players_stack.currentWidget() is win.home.players_empty
    assert win.home.sessions_stack.currentWidget() is win.home.sessions_empty
    assert not win.home.start.isEnabled()
    assert win.grab().save(str(screenshots / "home_first_run.png"))
    for i, name in enumerate(("Home", "Session", "Results", "Concepts", "Discovery", "Settings")):
        QTest.keyClick(win, Qt.Key(Qt.Key.Key_1 + i), Qt.KeyboardModifier.ControlModifier)
        assert win.stack.currentIndex() == i, name
    win.show_results(0, 0)
    qtbot.waitUntil(lambda: win.results.data is not None and not win.results.loading, timeout=10_000)
    assert win.results.empty.isVisible() and "No players yet" in win.results.empty.text()
    assert not win.results.csv.isEnabled() and not win.results.exports_box.isVisible()
    assert win.grab().save(str(screenshots / "results_empty.png"))
    # Dismissing the welcome is remembered.
    qtbot.mouseClick(win.home.got_it, Qt.MouseButton.LeftButton)
    assert not win.home.welcome.isVisible()
    from conceptcoach.desktop.settings import load_settings

    assert load_settings()[0].welcomed
    win.close()


@pytest.mark.slow
def test_settings_registers_a_network_file(qtbot, app_env, tmp_path: Path, tiny_net) -> None:  # type: ignore[no-untyped-def]
    """A checkpoint chosen on Settings is registered by a child process (torch stays out
    of the GUI); a file that is not a checkpoint is refused with one line saying why."""
    from conceptcoach.engine.checkpoint import CheckpointInfo, save_checkpoint

    weights = tmp_path / "nets" / "weaker-step50.safetensors"
    save_checkpoint(tiny_net, weights, CheckpointInfo(name="weaker-step50", config=tiny_net.config, step=50))
    win = _window(qtbot, app_env)
    qtbot.waitUntil(lambda: win.library_is_ready, timeout=120_000)
    screen = win.settings_screen
    win.go("Settings")
    screen.register_network(str(weights), "weaker")
    qtbot.waitUntil(lambda: screen.add_network.isEnabled(), timeout=120_000)
    assert "Registered network “weaker-step50” (role weaker)" in screen.status.text()
    qtbot.waitUntil(lambda: screen.network.findData("weaker-step50") >= 0, timeout=10_000)

    junk = tmp_path / "nets" / "junk.safetensors"
    junk.write_bytes(b"not a checkpoint")
    screen.register_network(str(junk))
    qtbot.waitUntil(lambda: screen.add_network.isEnabled(), timeout=120_000)
    assert "junk.safetensors" in screen.status.text() and "not a usable" in screen.status.text()
    assert "<br>" not in screen.status.text()
    win.close()


def test_desktop_imports_no_store_or_torch(tmp_path: Path) -> None:
    """The GUI process loads neither torch nor SQLite by importing the app: the store is
    reached through core calls on the DB worker, torch only in child processes."""
    code = ("import sys; import conceptcoach.desktop.app; "
            "print(sorted(m for m in ('torch', 'sqlite3', 'sqlite_utils', 'scipy', 'matplotlib') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    # And no module of the desktop package imports them itself, even lazily.
    for source in (REPO / "desktop").rglob("*.py"):
        for line in source.read_text(encoding="utf-8").splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] in ("import", "from"):
                assert words[1].split(".")[0] not in ("torch", "sqlite3", "sqlite_utils"), f"{source}: {line}"


@pytest.mark.slow
def test_results_exports_every_format(qtbot, app_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Each export button writes its file where the folder field says, and the file reads
    back with a real parser (csv, json, python-chess for PGN and EPD, html.parser)."""
    import csv
    import json
    from html.parser import HTMLParser

    import chess.pgn

    sid = _finish_session(app_env / "conceptcoach.sqlite", "Dana Ek", correct_pre=1, correct_post=3)
    win = _window(qtbot, app_env)
    player = next(p.id for p in list_players_of(app_env) if p.name == "Dana Ek")
    win.show_results(player, sid)
    r = win.results
    qtbot.waitUntil(lambda: r.data is not None and r.data.session_id == sid and not r.loading, timeout=20_000)
    r.folder.setText(str(tmp_path / "out"))
    r.table.selectRow(0)
    written = {}
    r.per_page.setCurrentIndex(r.per_page.findData(4))
    for kind, button in (("csv", r.csv), ("json", r.json), ("pgn", r.pgn), ("epd", r.epd), ("html", r.html),
                         ("pdf", r.pdf)):
        assert button.isEnabled(), kind
        r.export_message.clear()
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "written to" in r.export_message.text() or "failed" in r.export_message.text(),
                        timeout=60_000)
        assert "written to" in r.export_message.text(), r.export_message.text()
        written[kind] = r.export_path(kind)
        assert written[kind].exists()
    # Every export is named alike: <player>-<scope>-<what>.<format>.
    concept = r._selected_concept()
    assert sorted(p.name for p in written.values()) == sorted(
        f"Dana_Ek-session{sid}-{what}" for what in ("attempts.csv", "results.json", f"concept{concept}-study.pgn",
                                                    "quiz.epd", "report.html", "worksheet.pdf"))
    # The worksheet: a PDF of the session's ten test and five learning positions, four a page.
    assert written["pdf"].read_bytes().startswith(b"%PDF") and "15 positions" in r.export_message.text()
    rows = list(csv.reader(written["csv"].open(encoding="utf-8-sig")))
    assert len(rows) == 1 + 2 * (2 * 2 + 1)
    assert json.loads(written["json"].read_text(encoding="utf-8"))
    with written["pgn"].open(encoding="utf-8") as fh:
        game = chess.pgn.read_game(fh)
    assert game is not None and not game.errors
    epd_lines = [ln for ln in written["epd"].read_text(encoding="utf-8").splitlines() if ln.strip()]
    assert epd_lines and all(chess.Board.from_epd(ln)[1].get("bm") for ln in epd_lines)
    HTMLParser().feed(written["html"].read_text(encoding="utf-8"))
    win.close()


def test_progress_due_reviews_answer_review_and_concept_worksheet(qtbot, app_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Results over time: the pre/post score of each session (all concepts, or one), the
    concepts due for review, and the review of a session's answers opened from the
    history (and back); the concept card prints the concept's worksheet."""
    first = _finish_session(app_env / "conceptcoach.sqlite", "Anna Kowalska", correct_pre=1, correct_post=4)
    second = _finish_session(app_env / "conceptcoach.sqlite", "Anna Kowalska", correct_pre=1, correct_post=3, seed=12,
                             per_phase=1)
    win = _window(qtbot, app_env)
    player = next(p.id for p in list_players_of(app_env) if p.name == "Anna Kowalska")
    win.show_results(player, 0)
    r = win.results
    qtbot.waitUntil(lambda: r.data is not None and not r.loading, timeout=20_000)
    assert r.progress_box.isVisible()
    # Per session: 4 + 1 control positions per phase, control answered first or not: the
    # concept scores are read back from the core, the plot shows them in session order.
    rows = [x for x in r.data.progress if x.concept_id is None]
    assert [x.session_id for x in rows] == [first, second]
    points = r.progress.points
    assert [(p.pre, p.post) for p in points] == [(x.pre_score, x.post_score) for x in rows]
    assert all(p.post is not None and p.pre is not None and p.post >= p.pre for p in points)
    assert points[1].label.endswith("(2)")  # the same day: told apart
    assert r.progress_concept.count() == 1 + 2  # all concepts, then each of the two studied
    r.progress_concept.setCurrentIndex(1)
    r.progress_concept.activated.emit(1)
    cid = r.progress_concept.currentData()
    assert len(r.progress.points) == 2 and r.progress.points != points
    assert r.progress.points[0].post == next(x.post_score for x in r.data.progress
                                             if x.session_id == first and x.concept_id == cid)
    # The review queue: both concepts, each with its due date and chance of recall.
    assert r.due.rowCount() == 2 and "Due for review" in r.due_label.text()
    assert {r.due.item(i, 0).text() for i in range(2)} == {r.data.concept_names[c] for c in (cid,)} | {
        r.progress_concept.itemText(2)}
    assert all(r.due.item(i, 2).text().endswith("%") for i in range(2))
    # The answers of a session, from the history, and back.
    assert not r.review_btn.isEnabled() or r.data.session_id
    row = next(i for i in range(r.history.rowCount()) if r.history.item(i, 0).text() == str(first))
    r.history.selectRow(row)
    assert r.review_btn.isEnabled()
    qtbot.mouseClick(r.review_btn, Qt.MouseButton.LeftButton)
    assert win.stack.currentWidget() is win.session and win.session.pages.currentWidget() is win.session.review
    review = win.session.review
    qtbot.waitUntil(lambda: review.current is not None, timeout=10_000)
    assert len(review.shown) == 10 and review.phase.isVisible() and review.session_id == first
    assert review.phase.currentData() == "all" and {p.phase for p in review.shown} == {"pre", "post"}
    assert review.continue_btn.text() == "Back to the results"
    qtbot.mouseClick(review.continue_btn, Qt.MouseButton.LeftButton)
    assert win.stack.currentWidget() is win.results
    qtbot.waitUntil(lambda: r.data is not None and r.data.session_id == first and not r.loading, timeout=20_000)
    # The concept card prints its worksheet into the export folder.
    win.explorer.export_dir = tmp_path / "sheets"
    win.go("Concepts")
    win.explorer.refresh()
    card = win.explorer.card
    qtbot.waitUntil(lambda: card.concept is not None and not win.explorer.loading, timeout=10_000)
    qtbot.mouseClick(card.worksheet, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "written to" in card.status.text() or "could not" in card.status.text(), timeout=60_000)
    path = win.explorer.worksheet_path(card.concept.id, card.concept.name)
    assert "written to" in card.status.text() and path.parent == tmp_path / "sheets"
    assert path.name.endswith(f"-all-concept{card.concept.id}-worksheet.pdf")
    assert path.read_bytes().startswith(b"%PDF")
    win.close()


def test_resume_from_home(qtbot, app_env) -> None:  # type: ignore[no-untyped-def]
    """A session left after two answers is listed on Home with its progress and resumes
    at the next position."""
    from conceptcoach.store.concepts import list_concepts
    from conceptcoach.store.db import open_store
    from conceptcoach.store.players import add_player
    from conceptcoach.study.plan import PlanSpec, create_sessions
    from conceptcoach.study.runner import answer, session_state

    db = open_store(app_env / "conceptcoach.sqlite")
    p = add_player(db, "Eli Moreau")
    concepts = [c.id for c in list_concepts(db) if not c.is_control][:2]
    sid = create_sessions(db, PlanSpec(player_ids=[p.id], concept_ids=concepts, per_phase=2, seed=3)).session_ids[0]
    for _ in range(2):
        item = session_state(db, sid).current
        answer(db, sid, item.id, item.expected[0])
    state = session_state(db, sid)
    db.conn.close()

    win = _window(qtbot, app_env)
    home = win.home
    qtbot.waitUntil(lambda: home.data is not None and len(home.data.sessions) == 1, timeout=10_000)
    assert home.sessions.item(0, 3).text() == f"Pre-test ({state.done_items}/{state.total_items})"
    home.sessions.selectRow(0)
    assert home.resume.isEnabled()
    qtbot.mouseClick(home.resume, Qt.MouseButton.LeftButton)
    assert win.stack.currentWidget() is win.session
    qtbot.waitUntil(lambda: win.session.view is not None, timeout=10_000)
    assert win.session.view.state.current.id == state.current.id
    win.close()


def test_command_line_opens_the_app_only_without_a_sub_command() -> None:
    from conceptcoach.cli.main import _gui_only

    assert _gui_only([]) == ""
    assert _gui_only(["--data-dir", "/tmp/x"]) == "/tmp/x"
    assert _gui_only(["-h"]) is None
    assert _gui_only(["player", "list"]) is None
    assert _gui_only(["--data-dir", "/tmp/x", "session", "list"]) is None
    assert _gui_only(["--data-dir"]) is None


def _part_session(db_path: Path, player: str, answered_post: int | None = None) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A session answered through the core up to its last item (``answered_post`` None), or
    up to that many post-test answers; returns (session id, player id)."""
    from conceptcoach.store.concepts import list_concepts
    from conceptcoach.store.db import open_store
    from conceptcoach.store.players import add_player, list_players
    from conceptcoach.study.plan import PlanSpec, create_sessions
    from conceptcoach.study.runner import answer, mark_studied, session_state

    db = open_store(db_path)
    try:
        p = next((q for q in list_players(db) if q.name == player), None) or add_player(db, player)
        concepts = [c.id for c in list_concepts(db) if not c.is_control][:2]
        sid = create_sessions(db, PlanSpec(player_ids=[p.id], concept_ids=concepts, per_phase=1,
                                           seed=21)).session_ids[0]
        posts = 0
        while True:
            state = session_state(db, sid)
            item = state.current
            if state.done_items == state.total_items - 1 and answered_post is None:
                break
            if item.phase == "post":
                if answered_post is not None and posts == answered_post:
                    break
                posts += 1
            if item.phase == "learning":
                mark_studied(db, sid, item.id)
            else:
                answer(db, sid, item.id, item.expected[0] if item.phase == "post" else
                       next(m.uci() for m in chess.Board(item.fen).legal_moves if m.uci() not in item.expected))
        return sid, p.id
    finally:
        db.conn.close()


def test_results_after_a_resumed_session(qtbot, app_env) -> None:  # type: ignore[no-untyped-def]
    """'See the results' after finishing a resumed session opens Results with that player
    and session chosen (the player and session ids were swapped on the way)."""
    _finish_session(app_env / "conceptcoach.sqlite", "Anna Kowalska", correct_pre=1, correct_post=3)
    sid, pid = _part_session(app_env / "conceptcoach.sqlite", "Anna Kowalska")
    _finish_session(app_env / "conceptcoach.sqlite", "Ben Okafor", correct_pre=0, correct_post=2)
    win = _window(qtbot, app_env)
    qtbot.waitUntil(lambda: win.home.data is not None and len(win.home.data.sessions) == 3, timeout=10_000)
    row = next(i for i, s in enumerate(win.home.data.sessions) if s.id == sid)
    win.home.sessions.selectRow(row)
    qtbot.mouseClick(win.home.resume, Qt.MouseButton.LeftButton)
    runner = win.session.runner
    qtbot.waitUntil(lambda: runner.view is not None and runner.view.state.session.id == sid, timeout=10_000)
    item = runner.view.state.current
    before = runner.view
    runner.board.view.try_move(chess.Move.from_uci(item.expected[0]))
    # The end of the session: its review (the last answer in it), then its page.
    qtbot.waitUntil(lambda: runner.view is not before and win.session.pages.currentWidget() is win.session.review
                    and win.session.review.current is not None, timeout=10_000)
    last = next(r for r in win.session.review.shown if r.item_id == item.id)
    assert last.answer_uci == item.expected[0] and last.correct
    qtbot.mouseClick(win.session.review.continue_btn, Qt.MouseButton.LeftButton)
    assert win.session.pages.currentWidget() is win.session.done
    qtbot.mouseClick(win.session.done.results_btn, Qt.MouseButton.LeftButton)
    assert win.stack.currentWidget() is win.results
    r = win.results
    qtbot.waitUntil(lambda: r.data is not None and not r.loading, timeout=20_000)
    assert r.data.player_id == pid and r.player.currentText() == "Anna Kowalska"
    assert r.data.session_id == sid and r.session.currentData() == sid
    assert r.data.overall is not None and not r.empty.isVisible()
    # Home, shown again, has the session finished (it redraws on the sessions change).
    win.go("Home")
    qtbot.waitUntil(lambda: next(s for s in win.home.data.sessions if s.id == sid).phase == "done", timeout=10_000)
    win.close()


def test_home_gain_only_for_finished_sessions_and_enter_adds_a_player(qtbot, app_env) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtTest import QTest

    done = _finish_session(app_env / "conceptcoach.sqlite", "Cleo Park", correct_pre=0, correct_post=4)
    in_post, _pid = _part_session(app_env / "conceptcoach.sqlite", "Dev Rao", answered_post=1)
    win = _window(qtbot, app_env)
    home = win.home
    qtbot.waitUntil(lambda: home.data is not None and len(home.data.sessions) == 2, timeout=10_000)
    rows = {s.id: i for i, s in enumerate(home.data.sessions)}
    qtbot.waitUntil(lambda: home.sessions.item(rows[done], 4).text() != "–", timeout=20_000)
    assert home.sessions.item(rows[in_post], 3).text().startswith("Post-test (")
    qtbot.wait(300)
    assert home.sessions.item(rows[in_post], 4).text() == "–"  # no gain before the post-test is over
    # Enter in the rating field adds the player, like Enter in the name field.
    home.player_name.setText("Eva Lind")
    home.player_rating.setValue(1720)
    QTest.keyClick(home.player_rating, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(p.name == "Eva Lind" and p.rating == 1720 for p in home.data.players)
                    and home.selected_player_ids() == [next(p.id for p in home.data.players if p.name == "Eva Lind")],
                    timeout=10_000)
    assert home.player_name.text() == "" and "Added Eva Lind" in home.player_message.text()
    win.close()


def test_one_change_notification_reaches_the_screens(qtbot, app_env) -> None:  # type: ignore[no-untyped-def]
    """A write announces what it changed once; a hidden screen it concerns redraws when shown."""
    win = _window(qtbot, app_env)
    seen = []
    win.workers.changed.connect(seen.append)
    home, setup = win.home, win.session.setup
    qtbot.waitUntil(lambda: home.data is not None, timeout=10_000)
    home.player_name.setText("Fay Hill")
    home.add_player.click()
    qtbot.waitUntil(lambda: any(c.players for c in seen), timeout=10_000)
    assert len(seen) == 1 and str(seen[0]) == "players"
    assert win.session.redraw.pending  # the session setup is hidden: it redraws when shown
    win.go("Session")
    qtbot.waitUntil(lambda: setup.player_box.findText("Fay Hill") >= 0, timeout=10_000)
    assert not win.session.redraw.pending
    # Renaming a concept in the explorer reaches the setup's list too.
    win.go("Concepts")
    ex = win.explorer
    qtbot.waitUntil(lambda: ex.card.concept is not None and not ex.loading, timeout=10_000)
    names = [ex.table.item(i, 0).text() for i in range(ex.table.rowCount())]
    ex.table.selectRow(names.index("Queenside space before castling"))  # a concept sessions teach
    qtbot.waitUntil(lambda: not ex.loading and ex.card.concept.name == "Queenside space before castling",
                    timeout=10_000)
    ex.card.name.setText("Zwischenzug 7")
    ex.card.save.click()
    qtbot.waitUntil(lambda: any(c.concepts for c in seen), timeout=10_000)
    win.go("Session")
    qtbot.waitUntil(lambda: any(setup.concept_list.item(i).text().startswith("Zwischenzug 7")
                                for i in range(setup.concept_list.count())), timeout=10_000)
    win.close()


def test_settings_preview_and_the_data_folder_in_use(qtbot, app_env) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.screens.settings import PREVIEW_FEN

    board = chess.Board(PREVIEW_FEN)
    assert board.is_valid()
    for colour in (chess.WHITE, chess.BLACK):
        shades = sorted((chess.square_file(sq) + chess.square_rank(sq)) % 2 for sq in board.pieces(chess.BISHOP, colour))
        assert shades == [0, 1], f"{'White' if colour else 'Black'} has a bishop on each colour"
    assert board.piece_at(chess.C1) == chess.Piece(chess.BISHOP, chess.WHITE)
    win = _window(qtbot, app_env)
    s = win.settings_screen
    assert s.data_dir.text() == ""  # the default is in use
    assert str(app_env) in s.data_dir.placeholderText() and "default:" not in s.data_dir.placeholderText()
    assert f"In use now: {app_env}" in s.data_dir_note.text()
    win.close()


def test_export_folder_and_window_size_are_remembered(qtbot, app_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.settings import load_settings

    _finish_session(app_env / "conceptcoach.sqlite", "Gil Moss", correct_pre=1, correct_post=2)
    win = _window(qtbot, app_env, size=(1100, 720))
    win.show_results(0, 0)
    r = win.results
    qtbot.waitUntil(lambda: r.data is not None and not r.loading, timeout=20_000)
    out = tmp_path / "my exports"
    r.folder.setText(str(out))
    r.folder.editingFinished.emit()
    assert load_settings()[0].export_dir == str(out)
    r.csv.click()
    qtbot.waitUntil(lambda: "written to" in r.export_message.text(), timeout=10_000)
    assert r.export_path("csv").parent == out and r.export_path("csv").name == "Gil_Moss-all-attempts.csv"
    assert r.export_path("html").name == "Gil_Moss-all-report.html"
    win.close()
    saved = load_settings()[0]
    assert (saved.window_width, saved.window_height) == (1100, 720) and saved.export_dir == str(out)
    again = _window(qtbot, app_env, size=None, **{"export_dir": saved.export_dir,
                                                  "window_width": saved.window_width,
                                                  "window_height": saved.window_height})
    assert (again.width(), again.height()) == (1100, 720)
    assert again.results.folder.text() == str(out)
    again.close()


def test_results_show_the_player_asked_for_after_a_change_while_hidden(qtbot, app_env) -> None:  # type: ignore[no-untyped-def]
    """A change made while Results was hidden (a session answered) used to redraw the
    previous player's results after "See the results" had asked for another player's,
    and that late redraw won."""
    from conceptcoach.desktop.changes import Changes

    first = _finish_session(app_env / "conceptcoach.sqlite", "Anna Kowalska", correct_pre=1, correct_post=3)
    second = _finish_session(app_env / "conceptcoach.sqlite", "Ben Okafor", correct_pre=0, correct_post=2)
    win = _window(qtbot, app_env)
    players = {p.name: p.id for p in list_players_of(app_env)}
    win.show_results(players["Anna Kowalska"], first)
    r = win.results
    qtbot.waitUntil(lambda: r.data is not None and r.data.session_id == first and not r.loading, timeout=20_000)
    win.go("Home")
    win.workers.notify(Changes(sessions=True))  # Results is hidden: it will redraw when shown
    win.show_results(players["Ben Okafor"], second)
    qtbot.waitUntil(lambda: not r.loading, timeout=20_000)
    qtbot.wait(300)  # any late load would have landed
    assert r.data.player_id == players["Ben Okafor"] and r.data.session_id == second
    assert r.player.currentText() == "Ben Okafor"
    win.close()
