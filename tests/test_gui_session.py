"""A whole session through the GUI: setup, pre-test answered by mouse drags on the board,
the learning view (line, arrows, heat, notes), post-test, pause/resume, and the attempt
log in the store; the GUI thread never stalls for more than 100 ms."""

from __future__ import annotations

from pathlib import Path

import chess
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def drag(board, a: int, b: int) -> None:  # type: ignore[no-untyped-def]
    vp = board.view.viewport()
    pa, pb = board.view.square_center(a).toPoint(), board.view.square_center(b).toPoint()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pa)
    QTest.mouseMove(vp, (pa + pb) / 2)
    QTest.mouseMove(vp, pb)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pb)


def play_by_mouse(board, uci: str) -> None:  # type: ignore[no-untyped-def]
    move = chess.Move.from_uci(uci)
    drag(board, move.from_square, move.to_square)
    if move.promotion:
        order = [chess.QUEEN, chess.ROOK, chess.BISHOP, chess.KNIGHT]
        step = -8 if chess.square_rank(move.to_square) == 7 else 8
        target = move.to_square + step * order.index(move.promotion)
        QTest.mouseClick(board.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         board.view.square_center(target).toPoint())


@pytest.fixture
def library_store(tmp_path: Path, shared_data: Path):  # type: ignore[no-untyped-def]
    from conceptcoach.store.db import open_store
    from conceptcoach.store.players import add_player
    from test_study_library import build_library

    path = tmp_path / "store.sqlite"
    db = open_store(path)
    ids = build_library(db, concepts=2, per_concept=8, failed=1)
    player = add_player(db, "Ada", rating=1500)
    db.conn.close()
    return path, ids, player.id


def test_whole_session_by_mouse(qtbot, library_store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.screens.session import SessionScreen
    from conceptcoach.desktop.workers import StallMonitor, Workers
    from conceptcoach.store.db import open_store
    from test_study_library import wrong_move

    path, concept_ids, player_id = library_store
    # The app imports the study core on its DB thread at start-up (an extension module's
    # first import holds the interpreter lock); here it is imported before measuring.
    from conceptcoach.desktop.jobs import preload_core

    preload_core()
    workers = Workers(lambda: open_store(path))
    screen = SessionScreen(workers)
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    qtbot.waitExposed(screen)
    monitor = StallMonitor()
    monitor.start()
    try:
        screen.new_session(player_id)
        qtbot.waitUntil(lambda: screen.concept_list.count() == 2, timeout=10000)
        assert screen.player_box.currentText() == "Ada"
        screen._check_all(True)
        screen.per_phase.setValue(2)
        screen.controls.setValue(1)
        assert screen.start_btn.isEnabled()
        qtbot.mouseClick(screen.start_btn, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: screen.view is not None and screen.pages.currentWidget() is screen.runner_page,
                        timeout=10000)

        played: dict[int, tuple[str, bool]] = {}
        studied = 0
        paused_once = False
        for _ in range(40):
            view = screen.view
            assert view is not None
            item = view.state.current
            if item is None:
                break
            if item.phase == "learning":
                # The learning view: teacher arrow and visit-share arrows at the root, the line stepped.
                assert screen.board.view._arrows, "teacher's arrow shown"
                assert any(a.colour == "teacher" for a in screen.board.view._arrows)
                # The student may try a move of their own: rated, not recorded, and undone by Home.
                fen = screen.board.board.fen()
                play_by_mouse(screen.board, wrong_move(item.fen, item.expected))
                assert "You tried" in screen.try_label.text() and screen.board.board.fen() != fen
                QTest.keyClick(screen.runner_page, Qt.Key.Key_Home)
                assert screen.board.board.fen() == fen and screen._ply == 0
                if screen._line:
                    QTest.keyClick(screen.runner_page, Qt.Key.Key_Right)
                    qtbot.waitUntil(lambda: not screen.board.view.is_animating(), timeout=3000)
                    assert screen._ply == 1
                    QTest.keyClick(screen.runner_page, Qt.Key.Key_Left)
                    assert screen._ply == 0
                if studied == 0:
                    screen.notes.setPlainText("Watch the knight manoeuvre")
                studied += 1
                before = view
                qtbot.mouseClick(screen.next_btn, Qt.MouseButton.LeftButton)
            else:
                if not paused_once:
                    QTest.keyClick(screen.runner_page, Qt.Key.Key_P)
                    assert screen.paused and screen.board_stack.currentIndex() == 1
                    QTest.keyClick(screen.runner_page, Qt.Key.Key_P)
                    assert not screen.paused
                    paused_once = True
                # Correct in the post-test, wrong for every other pre-test item.
                correct = item.phase == "post" or item.id % 2 == 0
                uci = item.expected[0] if correct else wrong_move(item.fen, item.expected)
                before = view
                play_by_mouse(screen.board, uci)
                played[item.id] = (uci, correct)
            qtbot.waitUntil(lambda before=before: screen.view is not before, timeout=10000)
        assert screen.pages.currentWidget() is screen.done_page
        sid = screen.view.state.session.id

        # Export the attempt log the way the Results screen does and read it back.
        csv_path = tmp_path / "attempts.csv"

        def export(ctx):  # type: ignore[no-untyped-def]
            from conceptcoach.io.exports import write_attempts_csv

            return write_attempts_csv(ctx.db, csv_path, session_ids=[sid])

        op = workers.db(export)
        qtbot.waitUntil(lambda: op.done, timeout=10000)
        assert op.error is None
    finally:
        monitor.stop()
        workers.shutdown()

    from conceptcoach.io.exports import read_attempts_csv
    from conceptcoach.store.attempts import list_attempts, list_studied
    from conceptcoach.store.notes import list_notes

    db = open_store(path)
    attempts = list_attempts(db, session_ids=[sid])
    assert len(attempts) == len(played) == 2 * (2 * 2 + 1)  # pre+post x (2 concepts x 2 + 1 control)
    for a in attempts:
        uci, correct = played[a.item_id]
        assert a.answer_uci == uci and a.correct == correct and a.player_id == player_id
        assert a.response_ms is not None and a.response_ms >= 0
    assert {a.phase for a in attempts} == {"pre", "post"}
    assert sum(a.is_control for a in attempts) == 2
    assert len(list_studied(db, session_ids=[sid])) == studied == 2 * 2 + 1
    assert [n.text for n in list_notes(db, session_id=sid)] == ["Watch the knight manoeuvre"]
    rows = read_attempts_csv(csv_path)
    assert [(r.id, r.answer_uci, r.correct) for r in rows] == [(a.id, a.answer_uci, a.correct) for a in attempts]
    db.conn.close()
    assert monitor.stalls == [], f"GUI thread blocked: {monitor.stalls}"


def test_timer_expiry_and_resume(qtbot, library_store) -> None:  # type: ignore[no-untyped-def]
    """A test position left unanswered is recorded as no answer when the time runs out;
    a session left half-way resumes at the first open item with its phase shown."""
    from conceptcoach.desktop.jobs import preload_core
    from conceptcoach.desktop.screens.session import SessionScreen
    from conceptcoach.desktop.workers import Workers
    from conceptcoach.store.attempts import list_attempts
    from conceptcoach.store.db import open_store
    from conceptcoach.study.plan import PlanSpec, create_sessions

    preload_core()
    path, concept_ids, player_id = library_store
    db = open_store(path)
    sid = create_sessions(db, PlanSpec([player_id], concept_ids[:1], per_phase=2, seconds_per_position=1.0,
                                       seed=3)).session_ids[0]
    db.conn.close()
    workers = Workers(lambda: open_store(path))
    screen = SessionScreen(workers)
    qtbot.addWidget(screen)
    screen.resize(1100, 700)
    screen.show()
    try:
        screen.open_session(sid)
        qtbot.waitUntil(lambda: screen.view is not None, timeout=10000)
        first = screen.view
        assert first.state.phase == "pre" and screen.clock.text().startswith("⏱")
        qtbot.waitUntil(lambda: screen.view is not first, timeout=5000)  # 1 s limit, nothing played
        second = screen.view
        assert second.state.index_in_phase == 1
        screen.toggle_pause()  # the clock stops while paused
        qtbot.wait(1300)
        assert screen.view is second
        screen.homeRequested.connect(lambda: None)
        screen._leave()  # the coach leaves; the session is resumable
        assert screen.session_id is None
        screen.open_session(sid)
        qtbot.waitUntil(lambda: screen.view is not None and screen.view is not second, timeout=10000)
        assert screen.view.state.current.id == second.state.current.id and not screen.paused
    finally:
        workers.shutdown()
    db = open_store(path)
    (a,) = list_attempts(db, session_ids=[sid])
    assert a.item_id == first.state.current.id and a.answer_uci == "" and not a.correct
    assert a.response_ms is not None and a.response_ms >= 1000
    db.conn.close()
