"""The session pages (setup, pre-test, its review, learning view, line, pause, finished) on a
hand-made session whose learning item is a real position with the teacher's arrow,
visit-share arrows and the concept's heat. The pictures go to a temporary folder: the
screenshots in docs/ come from tests/test_gui_screenshots.py (the real bundled library)."""

from __future__ import annotations

from pathlib import Path

import chess
import numpy as np
import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """The pictures these tests take (of test fixtures) go to a temporary folder, even under
    `make screenshots`: docs/screenshots/ shows the real app on the bundled library
    (tests/test_gui_screenshots.py)."""
    return tmp_path
# A real Ruy Lopez middlegame (White to play) with a plausible search spread.
FEN = "r1bq1rk1/2p1bppp/p1np1n2/1p2p3/4P3/1BP2N1P/PP1P1PP1/RNBQR1K1 b - - 0 9"


def _library(db, study_library) -> tuple[list[int], int]:  # type: ignore[no-untyped-def]
    from conceptcoach.store.concepts import NewPrototype, add_concept
    from conceptcoach.store.players import add_player

    real_positions, visits_for = study_library.real_positions, study_library.visits_for

    heat = [0.0] * 64
    for sq, v in ((chess.A5, 1.0), (chess.C6, 0.7), (chess.B3, 0.8), (chess.C4, 0.5), (chess.B5, 0.35),
                  (chess.D5, 0.3), (chess.E4, -0.3)):
        heat[sq] = v
    board = chess.Board(FEN)
    line = ["c6a5", "b3c2", "c7c5", "d2d4", "d8c7"]
    main = NewPrototype(fen=FEN, best_move="c6a5", line=line, value=0.12, heat=heat, game_key="ruy#1",
                        visits={"c6a5": {"n": 412, "q": 0.12, "p": 0.3}, "c8b7": {"n": 188, "q": 0.08, "p": 0.2},
                                "h7h6": {"n": 96, "q": 0.03, "p": 0.1}, "c8e6": {"n": 61, "q": 0.0, "p": 0.1}})
    assert all(chess.Move.from_uci(m) in board.legal_moves for m in main.visits)
    ids = []
    positions = real_positions(30)
    for k in range(3):
        protos = [NewPrototype(fen=f, best_move=b, line=ln, value=0.3, visits=visits_for(f, b), game_key=g)
                  for f, b, ln, g in positions[k * 10:(k + 1) * 10]]
        if k == 0:
            protos = [main] * 0 + protos
        status = "novel" if k < 2 else "failed-teachability"
        name = ("Open files for the rooks", "Minority attack on the queenside", "Control")[k]
        ids.append(add_concept(db, uid=f"shot-{k}", name=name, layer="block5", kind="dynamic", status=status,
                               vector=np.linspace(-1, 1, 16, dtype=np.float32), prototypes=protos))
    # The heat prototype belongs to the first concept; add it as its own concept so the
    # learning screenshot can be taken on it deterministically.
    shot = add_concept(db, uid="shot-main", name="Knight to the rim against the bishop pair", layer="block5",
                       kind="dynamic", status="novel", vector=np.linspace(-1, 1, 16, dtype=np.float32),
                       prototypes=[main] + [NewPrototype(fen=f, best_move=b, line=ln, value=0.2,
                                                         visits=visits_for(f, b), game_key=g)
                                            for f, b, ln, g in real_positions(4, skip=30)])
    player = add_player(db, "Ada Lovelace", rating=1650)
    return [shot, *ids], player.id


def test_session_screenshots(qtbot, tmp_path: Path, study_library, screenshots: Path) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.jobs import preload_core
    from conceptcoach.desktop.screens.session import SessionScreen
    from conceptcoach.desktop.workers import Workers
    from conceptcoach.store.db import open_store
    from conceptcoach.store.sessions import NewItem, insert_sessions

    preload_core()
    path = tmp_path / "store.sqlite"
    db = open_store(path)
    ids, pid = _library(db, study_library)
    # A hand-made session whose learning item is the heat prototype (plans shuffle).
    proto_id = next(iter(db.query("SELECT id FROM prototypes WHERE fen = ?", [FEN])))["id"]
    main = next(iter(db.query("SELECT * FROM prototypes WHERE id = ?", [proto_id])))
    import json

    visits = json.loads(main["visits"])
    items = [
        NewItem(phase="pre", ord=0, concept_id=ids[1], is_control=False, source="prototype", source_id=None,
                fen=chess.Board().fen(), expected=("e2e4",), visits={"e2e4": {"n": 10, "q": 0.1}}),
        NewItem(phase="learning", ord=1, concept_id=ids[0], is_control=False, source="prototype",
                source_id=proto_id, fen=FEN, expected=("c6a5",), line=tuple(main["line"].split()),
                value=0.12, visits=visits),
        NewItem(phase="post", ord=2, concept_id=ids[1], is_control=False, source="prototype", source_id=None,
                fen=chess.Board().fen(), expected=("d2d4",), visits={"d2d4": {"n": 10, "q": 0.1}}),
    ]
    sid = insert_sessions(db, player_ids=[pid], items=items, spec={"per_phase": 1}, seed=1, mode="coach",
                          batch="shots", label="Tuesday lesson")[0]
    db.conn.close()

    workers = Workers(lambda: open_store(path))
    screen = SessionScreen(workers)
    qtbot.addWidget(screen)
    screen.resize(1366, 768)
    screen.show()
    qtbot.waitExposed(screen)
    try:
        setup, runner = screen.setup, screen.runner
        screen.new_session(pid)
        qtbot.waitUntil(lambda: setup.concept_list.count() == 3, timeout=10000)
        for i in range(2):
            setup.concept_list.item(i + 1).setCheckState(setup.concept_list.item(i + 1).checkState().Checked)
        screen.grab().save(str(screenshots / "session_setup.png"))

        screen.open_session(sid)
        qtbot.waitUntil(lambda: screen.view is not None and screen.view.state.phase == "pre", timeout=10000)
        screen.grab().save(str(screenshots / "session_pretest.png"))

        before = screen.view
        runner.board.view.try_move(chess.Move.from_uci("g1f3"))
        qtbot.waitUntil(lambda: screen.view is not before and screen.view.state.phase == "learning"
                        and screen.review.current is not None, timeout=10000)
        screen.grab().save(str(screenshots / "session_review_pre.png"))
        screen.review.continue_btn.click()
        runner.learning.notes.setPlainText("Na5 trades the b3 bishop: the pair is gone before White's kingside play starts.")
        qtbot.wait(100)
        assert runner.board.view._heat.values, "heat overlay shown"
        assert len(runner.board.view._arrows) >= 3
        assert runner.viewer.line == ["c6a5", "b3c2", "c7c5", "d2d4", "d8c7"]
        screen.grab().save(str(screenshots / "session_learning.png"))

        runner.viewer.step_forward()
        qtbot.waitUntil(lambda: not runner.board.view.is_animating(), timeout=3000)
        runner.viewer.step_forward()
        qtbot.waitUntil(lambda: not runner.board.view.is_animating(), timeout=3000)
        screen.grab().save(str(screenshots / "session_line.png"))

        runner.toggle_pause()
        screen.grab().save(str(screenshots / "session_paused.png"))
        runner.toggle_pause()
        before = screen.view
        runner.next_learning()
        qtbot.waitUntil(lambda: screen.view is not before, timeout=10000)
        before = screen.view
        runner.board.view.try_move(chess.Move.from_uci("d2d4"))
        qtbot.waitUntil(lambda: screen.view is not before and screen.view.state.phase == "done"
                        and screen.review.current is not None, timeout=10000)
        screen.review.continue_btn.click()
        screen.grab().save(str(screenshots / "session_done.png"))
    finally:
        workers.shutdown()
    for name in ("session_setup", "session_pretest", "session_learning", "session_line", "session_paused",
                 "session_done"):
        assert (screenshots / f"{name}.png").stat().st_size > 5000
