"""The Discovery screen: a PGN import in a child process with progress, the skipped games
listed with their reasons, cancel, and a discovery run whose failure is explained in
the window. The GUI thread is watched for stalls throughout."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """The pictures these tests take (of test fixtures) go to a temporary folder, even under
    `make screenshots`: docs/screenshots/ shows the real app on the bundled library
    (tests/test_gui_screenshots.py)."""
    return tmp_path

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def screen(qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.screens.discovery import DiscoveryScreen
    from conceptcoach.desktop.workers import Workers
    from conceptcoach.store.db import open_store

    path = tmp_path / "store.sqlite"
    open_store(path).conn.close()
    workers = Workers(lambda: open_store(path))
    s = DiscoveryScreen(workers, str(path))
    qtbot.addWidget(s)
    s.resize(1366, 768)
    s.show()
    qtbot.waitExposed(s)
    s.grab()
    yield s
    workers.shutdown(timeout_ms=30_000)


@pytest.fixture
def stall(qtbot):  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.workers import StallMonitor

    m = StallMonitor()
    m.start()
    yield m
    m.stop()
    assert not m.stalls, f"the GUI thread was blocked: {m.stalls}"


def test_broken_pgn_import_lists_skipped_games(qtbot, screen, shared_data: Path, stall, screenshots: Path) -> None:  # type: ignore[no-untyped-def]
    bad = shared_data / "malformed" / "chessalyzer_bad-san-mid-file.pgn"
    corrupt = shared_data / "malformed" / "chessalyzer_corrupt.pgn"
    screen.files.setText(f"{bad}; {corrupt}")
    qtbot.mouseClick(screen.import_button, _left())
    assert not screen.import_button.isEnabled() and screen.import_cancel.isEnabled()
    qtbot.waitUntil(lambda: screen.import_op is None, timeout=60_000)
    assert screen.import_button.isEnabled()
    summaries = screen.last_import
    assert [Path(s["file"]).name for s in summaries] == [bad.name, corrupt.name]
    skipped = sum(s["bad_games"] for s in summaries)
    assert skipped >= 1
    assert screen.problems.isVisible() and screen.problems.rowCount() == skipped
    # Every skipped game says where (file, game number, line) and why.
    for row in range(screen.problems.rowCount()):
        file, game, line, reason = (screen.problems.item(row, c).text() for c in range(4))
        assert file in (bad.name, corrupt.name) and int(game) >= 1 and int(line) >= 1 and reason
    assert "skipped" in screen.import_status.text()
    # Two files, two corpora: novelty cannot be restricted to "the games just imported".
    assert not screen.against_imported.isEnabled() and "human_corpus" not in screen.overrides()
    assert screen.grab().save(str(screenshots / "discovery_import_errors.png"))
    # At 1024x700 (the screen's share of it) the page scrolls vertically only and nothing is cut.
    screen.resize(1024 - 150, 700 - 30)
    qtbot.wait(100)
    assert screen.scroller.horizontalScrollBar().maximum() == 0
    assert screen.scroller.widget().width() <= screen.scroller.viewport().width()
    for b in (screen.import_cancel, screen.import_button, screen.run_button, screen.run_cancel):
        assert b.width() >= b.sizeHint().width(), b.text()
    for label in (screen.import_status, screen.run_status):
        assert label.height() >= label.heightForWidth(label.width())
    assert screen.grab().save(str(screenshots / "discovery_import_errors_1024x700.png"))


def test_import_progress_names_each_file_once(tmp_path: Path, shared_data: Path) -> None:
    """The status line during an import said the file's name twice ("import: a.pgn (1/2)
    import: a.pgn: 3 games")."""
    from conceptcoach.desktop.jobs import import_games
    from conceptcoach.store.db import open_store

    path = tmp_path / "store.sqlite"
    open_store(path).conn.close()
    files = [shared_data / "malformed" / "chessalyzer_bad-san-mid-file.pgn",
             shared_data / "malformed" / "chessalyzer_corrupt.pgn"]
    seen: list[str] = []
    import_games(str(path), [str(f) for f in files], progress=lambda d, t, m: seen.append(m),
                 should_stop=lambda: False)
    assert seen
    for message in seen:
        assert sum(message.count(f.name) for f in files) == 1, message
        assert message.startswith("Importing ") and "import:" not in message
    assert any(m.endswith("(2 of 2): 2 games") for m in seen), seen


def test_long_corpus_and_funnel_keep_the_page_narrow(qtbot, screen) -> None:  # type: ignore[no-untyped-def]
    """One imported corpus with a long name, and a funnel of long aligned lines: the page
    still fits 1024 pixels (the funnel scrolls sideways in its own box)."""
    screen.resize(1024 - 150, 700 - 30)
    corpus = "lichess_elite_2023-01_to_2023-12_rated_classical_over_2400_both_colours"
    screen._imported([{"file": f"/data/{corpus}.pgn.gz", "corpus": corpus, "games_read": 1, "imported": 1,
                       "duplicates": 0, "bad_games": 0, "problems": []}])
    assert "1 game read" in screen.import_status.text()
    screen.show_funnel(["positions searched: 160 (80 self-play games, 200 simulations per move, seed 0) " * 2,
                        "candidate concepts: 239 -> teachable 24 -> novel 8 (window: 1% informative)"])
    qtbot.wait(100)
    assert screen.against_imported.isEnabled() and corpus in screen.against_note.text()
    assert screen.scroller.horizontalScrollBar().maximum() == 0
    assert screen.scroller.widget().width() <= screen.scroller.viewport().width()
    assert screen.funnel.isVisible() and "novel 8" in screen.funnel.toPlainText()


def test_missing_file_and_cancel(qtbot, screen, shared_data: Path, stall) -> None:  # type: ignore[no-untyped-def]
    screen.files.setText("/nowhere/games.pgn")
    qtbot.mouseClick(screen.import_button, _left())
    assert "Not found: /nowhere/games.pgn" in screen.import_status.text()
    assert screen.import_op is None

    big = shared_data / "human" / "masters_wch_candidates_1886-2022.pgn.gz"
    screen.files.setText(str(big))
    qtbot.mouseClick(screen.import_button, _left())
    qtbot.waitUntil(lambda: screen.import_bar.maximum() > 1, timeout=60_000)  # progress arrived
    qtbot.mouseClick(screen.import_cancel, _left())
    qtbot.waitUntil(lambda: screen.import_op is None, timeout=60_000)
    assert "cancelled" in screen.import_status.text()
    assert screen.import_button.isEnabled()


def test_discovery_failure_is_explained(qtbot, screen, stall) -> None:  # type: ignore[no-untyped-def]
    """An empty store has no teacher registered: the run stops and says so in the window."""
    screen.games.setValue(2)
    qtbot.mouseClick(screen.run_button, _left())
    assert screen.run_cancel.isEnabled() and not screen.run_button.isEnabled()
    qtbot.waitUntil(lambda: screen.discover_op is None, timeout=120_000)
    assert "Discovery stopped" in screen.run_status.text()
    assert "teacher" in screen.run_status.text()
    assert screen.run_button.isEnabled() and not screen.run_cancel.isEnabled()


def test_stage_list_follows_progress(qtbot) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.screens.discovery import StageList

    stages = StageList()
    qtbot.addWidget(stages)
    stages.update_stage(3, 10, "self-play: game 3 stored")  # the message core/engine/selfplay.py sends
    assert stages.bars["selfplay"].value() == 3 and stages.bars["selfplay"].maximum() == 10
    assert stages.notes["import"].text() == "done (nothing to do)"
    stages.update_stage(1, 4, "teachability: 1/4")
    assert stages.notes["selfplay"].text() == "done"
    assert stages.notes["candidates"].text() == "done (nothing to do)"
    assert stages.notes["novelty"].text() == "waiting"
    stages.update_stage(0, 0, "not a stage: ignored")
    assert stages.current == "teachability"


def _left():  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_small_discovery_run_from_the_screen(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A real (tiny) discovery run with the bundled networks, started and followed from the
    screen: every stage ends done, the funnel is shown, and the GUI never stalls."""
    from conceptcoach.bootstrap import open_user_store
    from conceptcoach.desktop.screens.discovery import STAGES, DiscoveryScreen
    from conceptcoach.desktop.workers import StallMonitor, Workers
    from conceptcoach.paths import models_dir
    from conceptcoach.store.db import open_store

    if not (models_dir() / "weaker.safetensors").exists():
        pytest.skip("the bundled weaker network is not in assets/models yet")
    db, path = open_user_store(str(tmp_path / "data"))
    db.conn.close()
    workers = Workers(lambda: open_store(path))
    screen = DiscoveryScreen(workers, str(path))
    qtbot.addWidget(screen)
    screen.show()
    screen.grab()
    monitor = StallMonitor()
    monitor.start()
    try:
        screen.games.setValue(2)
        screen.sims.setValue(16)
        screen.candidates.setValue(10)
        screen.procs.setValue(1)
        qtbot.mouseClick(screen.run_button, _left())
        qtbot.waitUntil(lambda: screen.discover_op is None, timeout=300_000)
        assert screen.last_discovery is not None, screen.run_status.text()
        assert "Finished run" in screen.run_status.text()
        assert "positions searched" in screen.funnel.toPlainText()
        assert all(screen.stages.notes[s].text().startswith("done") for s in STAGES)
    finally:
        monitor.stop()
        workers.shutdown(timeout_ms=30_000)
    assert not monitor.stalls, f"the GUI thread was blocked: {monitor.stalls}"


def test_import_lists_the_repairs_beside_the_skipped_games(qtbot, screen, shared_data: Path, tmp_path: Path,
                                                           stall) -> None:  # type: ignore[no-untyped-def]
    """A damaged file (two games run together, text between games, an unterminated tag)
    and a game with an illegal move: every game that can be read is imported, the skipped
    one is listed with its reason and each repair of the layout with what was done."""
    import gzip

    import chess.pgn

    with gzip.open(shared_data / "human" / "masters_wch_candidates_1886-2022.pgn.gz", "rt",
                   encoding="utf-8", errors="replace") as fh:
        games = [str(chess.pgn.read_game(fh)) for _ in range(3)]
    third = games[2]
    site = third.index('[Site "')
    end = third.index("\n", site)
    third = third[:site] + third[site:end].removesuffix('"]') + third[end:]  # unterminated tag
    bad = (shared_data / "malformed" / "chessalyzer_bad-san-mid-file.pgn").read_text(encoding="utf-8")
    text = (games[0] + "\n" + games[1] + "\n\nDownloaded from example.org, visit us again!\n\n" + third
            + "\n\n" + bad)
    damaged = tmp_path / "damaged.pgn"
    damaged.write_text(text, encoding="utf-8")
    screen.files.setText(str(damaged))
    qtbot.mouseClick(screen.import_button, _left())
    qtbot.waitUntil(lambda: screen.import_op is None, timeout=60_000)
    (summary,) = screen.last_import
    assert summary["bad_games"] >= 1 and len(summary["repairs"]) == 3, summary
    rows = [[screen.problems.item(r, c).text() for c in range(4)] for r in range(screen.problems.rowCount())]
    skipped = [r for r in rows if r[3].startswith("Skipped: ")]
    repaired = [r for r in rows if r[3].startswith("Repaired: ")]
    assert len(skipped) == summary["bad_games"] and len(repaired) == 3 and rows == skipped + repaired
    whats = " | ".join(r[3] for r in repaired)
    assert "no blank line" in whats and "text between games" in whats and "unterminated tag" in whats, whats
    assert all(r[0] == "damaged.pgn" and int(r[1]) >= 1 and int(r[2]) >= 1 for r in rows)
    status = screen.import_status.text()
    assert "3 repairs to the file's layout" in status and "no game was lost" in status
    assert summary["imported"] == summary["games_read"] - summary["bad_games"]


def test_where_the_work_runs_reaches_the_discovery_config(screen) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.concepts.run import DiscoveryConfig
    from conceptcoach.parallel import ray_installed

    assert screen.overrides()["backend"] == "local" and "ray_address" not in screen.overrides()
    assert not screen.ray_address.isEnabled()  # an address means nothing for the local pool
    ray_item = screen.backend.model().item(1)
    assert ray_item.isEnabled() == ray_installed()
    screen.backend.setCurrentIndex(1)
    screen.ray_address.setText(" 10.0.0.5:6379 ")
    assert screen.ray_address.isEnabled()
    chosen = screen.overrides()
    assert chosen["backend"] == "ray" and chosen["ray_address"] == "10.0.0.5:6379"
    config = DiscoveryConfig(**chosen)  # what the discovery job builds from them
    assert config.backend == "ray" and config.ray_address == "10.0.0.5:6379"
