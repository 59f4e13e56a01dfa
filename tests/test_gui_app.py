"""The application shell: start-up time without torch (in a fresh process), settings
saved and applied, the screens wired together, and a screenshot of every screen
written to docs/screenshots/ (looked at by a person; the README shows one)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import chess
import pytest

pytestmark = pytest.mark.gui

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "docs" / "screenshots"


def test_settings_round_trip_and_broken_file(tmp_path: Path) -> None:
    from conceptcoach.desktop.settings import Settings, load_settings, save_settings

    path = tmp_path / "settings.json"
    assert load_settings(path) == (Settings(), None)
    s = Settings(board_theme="green", notation="figurine", piece_size="small", welcomed=True)
    save_settings(s, path)
    assert load_settings(path) == (s, None)
    path.write_text("{not json", encoding="utf-8")
    loaded, problem = load_settings(path)
    assert loaded == Settings() and problem is not None and "could not be read" in problem
    assert (tmp_path / "settings.broken.json").exists()
    # Unknown keys and wrong types are ignored, not fatal.
    path.write_text('{"notation": "klingon", "piece_size": 3, "extra": 1, "board_theme": "blue"}', encoding="utf-8")
    loaded, problem = load_settings(path)
    assert problem is None and (loaded.notation, loaded.piece_size, loaded.board_theme) == ("san", "large", "blue")


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


def _finish_session(db_path: Path, player: str, correct_pre: int, correct_post: int) -> int:  # type: ignore[no-untyped-def]
    """A real session through the study core: answers chosen to give a known gain."""
    from conceptcoach.store.concepts import list_concepts
    from conceptcoach.store.db import open_store
    from conceptcoach.store.players import add_player
    from conceptcoach.study.plan import ControlSpec, PlanSpec, create_sessions
    from conceptcoach.study.runner import answer, mark_studied, session_state

    db = open_store(db_path)
    try:
        p = add_player(db, player, rating=1650)
        concepts = [c.id for c in list_concepts(db) if not c.is_control][:2]
        planned = create_sessions(db, PlanSpec(player_ids=[p.id], concept_ids=concepts, per_phase=2,
                                               control=ControlSpec(count=1), seed=11))
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
def app_env(tmp_path: Path, shared_data: Path, monkeypatch):  # type: ignore[no-untyped-def]
    from conceptcoach.store.db import open_store
    from test_gui_explorer import build_library

    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("CONCEPTCOACH_CONFIG_DIR", str(tmp_path / "config"))
    db = open_store(data / "conceptcoach.sqlite")
    build_library(db)
    db.conn.close()
    return data


def _window(qtbot, data: Path, **settings):  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.app import MainWindow
    from conceptcoach.desktop.settings import Settings, settings_path

    win = MainWindow(Settings(**settings), data_dir=str(data), settings_file=settings_path())
    qtbot.addWidget(win)
    win.resize(1366, 768)
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
    screen.save.click()
    saved, problem = load_settings()
    assert problem is None
    assert (saved.board_theme, saved.piece_size, saved.notation) == ("green", "small", "figurine")
    assert win.pieces.scale == pytest.approx(0.82)
    assert win.explorer.card.viewer.figurines and win.session.notation == "figurine"
    assert win.explorer.card.viewer.board.view.theme.name == "green"
    win.close()


@pytest.mark.slow
def test_screenshot_of_every_screen(qtbot, app_env) -> None:  # type: ignore[no-untyped-def]
    sid = _finish_session(app_env / "conceptcoach.sqlite", "Anna Kowalska", correct_pre=1, correct_post=4)
    _finish_session(app_env / "conceptcoach.sqlite", "Ben Okafor", correct_pre=2, correct_post=3)
    win = _window(qtbot, app_env)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    qtbot.waitUntil(lambda: win.home.data is not None and len(win.home.data.sessions) == 2, timeout=10_000)
    qtbot.wait(300)
    assert win.grab().save(str(SCREENSHOTS / "home.png"))

    win.explorer.refresh()
    win.go("Concepts")
    qtbot.waitUntil(lambda: win.explorer.card.concept is not None and not win.explorer.loading, timeout=10_000)
    qtbot.wait(200)
    assert win.grab().save(str(SCREENSHOTS / "explorer.png"))

    player = win.home.data.sessions[-1].player_id
    win.show_results(player, 0)
    qtbot.waitUntil(lambda: win.results.data is not None and not win.results.loading, timeout=20_000)
    qtbot.wait(200)
    assert win.results.data.overall is not None
    assert win.grab().save(str(SCREENSHOTS / "results.png"))

    win.go("Discovery")
    qtbot.wait(200)
    assert win.grab().save(str(SCREENSHOTS / "discovery.png"))

    win.go("Settings")
    qtbot.waitUntil(lambda: win.settings_screen.network.count() > 0, timeout=5000)
    qtbot.wait(200)
    assert win.grab().save(str(SCREENSHOTS / "settings.png"))

    win.session.new_session(player)
    win.go("Session")
    qtbot.wait(1500)
    assert win.grab().save(str(SCREENSHOTS / "session_setup.png"))
    assert sid
    win.close()
