"""A whole session through the GUI: setup, pre-test answered by mouse drags on the board,
the learning view (the whole line, arrows, heat, tries rated and logged, notes),
post-test, pause/resume, a confirmed answer, and the attempt log in the store; the GUI
thread never stalls for more than 100 ms."""

from __future__ import annotations

from pathlib import Path

import chess
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """The pictures these tests take (of test fixtures) go to a temporary folder, even under
    `make screenshots`: docs/screenshots/ shows the real app on the bundled library
    (tests/test_gui_screenshots.py)."""
    return tmp_path


@pytest.fixture
def library_store(tmp_path: Path, study_library):  # type: ignore[no-untyped-def]
    from conceptcoach.store.db import open_store
    from conceptcoach.store.players import add_player

    path = tmp_path / "store.sqlite"
    db = open_store(path)
    ids = study_library.build(db, concepts=2, per_concept=8, failed=1)
    player = add_player(db, "Ada", rating=1500)
    db.conn.close()
    return path, ids, player.id


@pytest.fixture
def screen_for(qtbot):  # type: ignore[no-untyped-def]
    """``make(path, size)``: a shown SessionScreen on the store at ``path``."""
    from conceptcoach.desktop.jobs import preload_core

    # The app imports the study core on its DB thread at start-up (an extension module's
    # first import holds the interpreter lock); here it is imported before measuring.
    preload_core()
    made = []

    def make(path: Path, size: tuple[int, int] = (1280, 800)):  # type: ignore[no-untyped-def]
        from conceptcoach.desktop.screens.session import SessionScreen
        from conceptcoach.desktop.workers import Workers
        from conceptcoach.store.db import open_store

        workers = Workers(lambda: open_store(path))
        made.append(workers)
        screen = SessionScreen(workers)
        qtbot.addWidget(screen)
        screen.resize(*size)
        screen.show()
        qtbot.waitExposed(screen)
        return screen

    yield make
    for w in made:
        w.shutdown()


def _session(path: Path, player_id: int, concept_ids: list[int], **plan):  # type: ignore[no-untyped-def]
    from conceptcoach.store.db import open_store
    from conceptcoach.study.plan import PlanSpec, create_sessions

    db = open_store(path)
    try:
        return create_sessions(db, PlanSpec([player_id], concept_ids, **plan)).session_ids[0]
    finally:
        db.conn.close()


def _past_review(qtbot, screen) -> bool:  # type: ignore[no-untyped-def]
    """When a test phase ended and its review is shown, go on (the review's button)."""
    if screen.pages.currentWidget() is not screen.review:
        return False
    qtbot.waitUntil(lambda: not screen.review.loading, timeout=10_000)
    qtbot.mouseClick(screen.review.continue_btn, Qt.MouseButton.LeftButton)
    return True


def _to_phase(qtbot, screen, phase: str, study_library) -> None:  # type: ignore[no-untyped-def]
    """Answer (correctly) or study items until the current one is in ``phase``."""
    runner = screen.runner
    while runner.view.state.current is not None and runner.view.state.current.phase != phase:
        before = runner.view
        item = before.state.current
        if item.phase == "learning":
            runner.next_learning()
        else:
            runner.board.view.try_move(chess.Move.from_uci(item.expected[0]))
        qtbot.waitUntil(lambda before=before: runner.view is not before, timeout=10_000)
        _past_review(qtbot, screen)


def test_whole_session_by_mouse(qtbot, library_store, tmp_path: Path, study_library, mouse, screen_for) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.workers import StallMonitor
    from conceptcoach.store.db import open_store

    path, concept_ids, player_id = library_store
    screen = screen_for(path)
    setup, runner = screen.setup, screen.runner
    workers = screen.workers
    monitor = StallMonitor()
    monitor.start()
    try:
        screen.new_session(player_id)
        qtbot.waitUntil(lambda: setup.concept_list.count() == 2, timeout=10000)
        assert setup.player_box.currentText() == "Ada"
        setup.check_all(True)
        setup.per_phase.setValue(2)
        setup.controls.setValue(1)
        assert setup.start_btn.isEnabled()
        qtbot.mouseClick(setup.start_btn, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: runner.view is not None and screen.pages.currentWidget() is runner, timeout=10000)

        played: dict[int, tuple[str, bool]] = {}
        tried: list[tuple[int, str]] = []
        studied = 0
        paused_once = False
        reviewed = False
        for _ in range(40):
            view = runner.view
            assert view is not None
            item = view.state.current
            if item is None:
                break
            if item.phase == "learning":
                # The learning view: teacher arrow and visit-share arrows at the root, the whole line.
                assert any(a.colour == "teacher" for a in runner.board.view._arrows)
                assert runner.viewer.line == list(item.line) and view.lesson.line_uci == list(item.line)
                # The student may try a move of their own: rated by the core, logged, undone by Home.
                fen = runner.board.board.fen()
                wrong = study_library.wrong_move(item.fen, item.expected)
                mouse.play(runner.board, wrong)
                assert runner.off_line and runner.board.board.fen() != fen
                qtbot.waitUntil(lambda: "You tried" in runner.try_label.text(), timeout=10_000)
                assert "20% of the network's search" in runner.try_label.text()
                tried.append((item.id, wrong))
                QTest.keyClick(runner.board.view, Qt.Key.Key_Home)
                assert runner.board.board.fen() == fen and runner.viewer.ply == 0
                if runner.viewer.line:
                    QTest.keyClick(runner.board.view, Qt.Key.Key_Right)
                    qtbot.waitUntil(lambda: not runner.board.view.is_animating(), timeout=3000)
                    assert runner.viewer.ply == 1
                    QTest.keyClick(runner.board.view, Qt.Key.Key_Left)
                    assert runner.viewer.ply == 0
                if studied == 0:
                    runner.learning.notes.setPlainText("Watch the knight manoeuvre")
                studied += 1
                before = view
                qtbot.mouseClick(runner.learning.next_btn, Qt.MouseButton.LeftButton)
            else:
                if not paused_once:
                    QTest.keyClick(runner.board.view, Qt.Key.Key_P)
                    assert runner.paused and runner.board_stack.currentIndex() == 1
                    QTest.keyClick(runner, Qt.Key.Key_P)
                    assert not runner.paused
                    paused_once = True
                # Correct in the post-test, wrong for every other pre-test item.
                correct = item.phase == "post" or item.id % 2 == 0
                uci = item.expected[0] if correct else study_library.wrong_move(item.fen, item.expected)
                before = view
                mouse.play(runner.board, uci)
                played[item.id] = (uci, correct)
            qtbot.waitUntil(lambda before=before: runner.view is not before, timeout=10000)
            if screen.pages.currentWidget() is screen.review and runner.view.state.phase != "done":
                # The pre-test is over: its review, position by position, before the learning phase.
                review = screen.review
                assert runner.view.state.phase == "learning" and not reviewed
                qtbot.waitUntil(lambda: not screen.review.loading and screen.review.current is not None, timeout=10_000)
                assert review.continue_btn.text() == "Continue to the learning phase"
                assert [r.phase for r in review.shown] == ["pre"] * 5 and not review.phase.isVisible()
                for k, pos in enumerate(review.shown):
                    uci, correct = played[pos.item_id]
                    assert review.current is pos and pos.answer_uci == uci and pos.correct == correct
                    colours = {(a.start, a.end): a.colour for a in review.board.view._arrows}
                    teacher = chess.Move.from_uci(pos.teacher_uci)
                    assert colours[(teacher.from_square, teacher.to_square)] == "teacher"
                    if not correct:
                        mine = chess.Move.from_uci(uci)
                        assert colours[(mine.from_square, mine.to_square)] == "red"
                        assert "✗" in review.verdict.text()
                    assert review.table.rowCount() >= 2 and review.count.text() == f"{k + 1} / 5"
                    QTest.keyClick(review.board.view, Qt.Key.Key_Right)
                assert review.index == 4 and not review.next_btn.isEnabled()
                QTest.keyClick(review.board.view, Qt.Key.Key_Home)
                assert review.index == 0
                reviewed = True
                qtbot.mouseClick(review.continue_btn, Qt.MouseButton.LeftButton)
                assert screen.pages.currentWidget() is runner
        # The end: the whole session reviewed (the post-test first), then its page.
        assert reviewed and screen.pages.currentWidget() is screen.review
        review = screen.review
        qtbot.waitUntil(lambda: not review.loading and review.current is not None, timeout=10_000)
        assert review.phase.isVisible() and review.phase.currentData() == "post"
        assert [r.phase for r in review.shown] == ["post"] * 5 and all(r.correct for r in review.shown)
        assert "<b>Post-test</b>: 5 of 5 positions found" in review.summary.text()
        review.phase.setCurrentIndex(review.phase.findData("all"))
        review.phase.activated.emit(review.phase.currentIndex())
        assert len(review.shown) == 10
        qtbot.mouseClick(review.continue_btn, Qt.MouseButton.LeftButton)
        assert screen.pages.currentWidget() is screen.done
        sid = runner.view.state.session.id
        # The done page counts concept positions found per test phase (the core's tally).
        text = screen.done.text.text()
        assert "Pre-test:" in text and "Post-test: 4 of 4 concept positions found (100%)" in text, text

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

    from conceptcoach.io.exports import read_attempts_csv
    from conceptcoach.store.attempts import list_attempts, list_studied, list_tries
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
    # Every try is in the learning-tries log, scored, and none in the attempt log.
    tries = list_tries(db, session_ids=[sid])
    assert [(t.item_id, t.answer_uci) for t in tries] == tried
    assert all(not t.correct and t.visit_share == pytest.approx(0.2) and t.response_ms >= 0 for t in tries)
    assert [n.text for n in list_notes(db, session_id=sid)] == ["Watch the knight manoeuvre"]
    rows = read_attempts_csv(csv_path)
    assert [(r.id, r.answer_uci, r.correct) for r in rows] == [(a.id, a.answer_uci, a.correct) for a in attempts]
    db.conn.close()
    assert monitor.stalls == [], f"GUI thread blocked: {monitor.stalls}"


def test_timer_expiry_and_resume(qtbot, library_store, screen_for) -> None:  # type: ignore[no-untyped-def]
    """A test position left unanswered is recorded as no answer when the time runs out;
    a session left half-way resumes at the first open item with its phase shown."""
    from conceptcoach.store.attempts import list_attempts
    from conceptcoach.store.db import open_store

    path, concept_ids, player_id = library_store
    sid = _session(path, player_id, concept_ids[:1], per_phase=2, seconds_per_position=1.0, seed=3)
    screen = screen_for(path, (1100, 700))
    runner = screen.runner
    screen.open_session(sid)
    qtbot.waitUntil(lambda: runner.view is not None, timeout=10000)
    first = runner.view
    assert first.state.phase == "pre" and runner.clock.text().startswith("⏱")
    assert runner.phase_bar.steps[first.state.phase].text().startswith("Pre-test  1/")
    qtbot.waitUntil(lambda: runner.view is not first, timeout=5000)  # 1 s limit, nothing played
    second = runner.view
    assert second.state.index_in_phase == 1
    runner.toggle_pause()  # the clock stops while paused
    qtbot.wait(1300)
    assert runner.view is second
    left = []
    screen.homeRequested.connect(lambda: left.append(True))
    runner.quit_btn.click()  # the coach leaves; the session is resumable
    assert left and screen.session_id is None
    screen.open_session(sid)
    qtbot.waitUntil(lambda: runner.view is not None and runner.view is not second, timeout=10000)
    assert runner.view.state.current.id == second.state.current.id and not runner.paused
    db = open_store(path)
    (a,) = list_attempts(db, session_ids=[sid])
    assert a.item_id == first.state.current.id and a.answer_uci == "" and not a.correct
    assert a.response_ms is not None and a.response_ms >= 1000
    db.conn.close()


def test_autoplay_after_a_move_of_ones_own(qtbot, library_store, study_library, mouse, screen_for) -> None:  # type: ignore[no-untyped-def]
    """Try a move in a learning position, then press Autoplay: the line plays from its
    start to its end and the button lets go (it used to reset the board and stay down)."""
    path, concept_ids, player_id = library_store
    sid = _session(path, player_id, concept_ids[:1], per_phase=1, seed=4)
    screen = screen_for(path)
    runner = screen.runner
    runner.viewer.pause_ms = 30
    screen.open_session(sid)
    qtbot.waitUntil(lambda: runner.view is not None, timeout=10000)
    _to_phase(qtbot, screen, "learning", study_library)
    item = runner.view.state.current
    line = runner.viewer.line
    assert len(line) >= 2
    mouse.play(runner.board, study_library.wrong_move(item.fen, item.expected))
    assert runner.off_line
    qtbot.mouseClick(runner.viewer.auto_btn, Qt.MouseButton.LeftButton)
    assert runner.viewer.auto_btn.isChecked()
    end = chess.Board(item.fen)
    for uci in line:
        end.push_uci(uci)
    qtbot.waitUntil(lambda: runner.viewer.ply == len(line) and not runner.board.view.is_animating(),
                    timeout=15_000)
    assert runner.board.board.fen() == end.fen()
    qtbot.waitUntil(lambda: not runner.viewer.auto_btn.isChecked(), timeout=3000)


def test_the_learning_line_is_the_whole_stored_line(qtbot, library_store, study_library, screen_for) -> None:  # type: ignore[no-untyped-def]
    """When the search's line does not start with the teacher's move (the most visited
    one), the line shown is still the whole stored line, not the teacher's move alone."""
    from conceptcoach.store.db import open_store
    from conceptcoach.store.sessions import NewItem, insert_sessions

    path, _ids, player_id = library_store
    fen, best, _line, _key = study_library.real_positions(1, skip=200)[0]
    board = chess.Board(fen)
    other = sorted(m.uci() for m in board.legal_moves if m.uci() != best)[0]
    pv = [other]
    for _ in range(3):
        board.push_uci(pv[-1])
        pv.append(sorted(m.uci() for m in board.legal_moves)[0])
    db = open_store(path)
    sid = insert_sessions(db, player_ids=[player_id], spec={}, seed=1, mode="coach", batch="pv", items=[
        NewItem(phase="learning", ord=0, concept_id=None, is_control=True, source="set", source_id=None, fen=fen,
                expected=(best,), line=tuple(pv), visits=study_library.visits_for(fen, best))])[0]
    db.conn.close()
    screen = screen_for(path)
    runner = screen.runner
    screen.open_session(sid)
    qtbot.waitUntil(lambda: runner.view is not None, timeout=10000)
    assert runner.viewer.line == pv
    assert runner.viewer.line_label.text().count("<a href") == len(pv)
    teacher = [a for a in runner.board.view._arrows if a.colour == "teacher"]
    assert [(a.start, a.end) for a in teacher] == [(chess.Move.from_uci(best).from_square,
                                                    chess.Move.from_uci(best).to_square)]
    runner.viewer.goto(len(pv))
    end = chess.Board(fen)
    for uci in pv:
        end.push_uci(uci)
    assert runner.board.board.fen() == end.fen()


def test_confirm_moves_takes_back_and_commits(qtbot, library_store, study_library, mouse, screen_for) -> None:  # type: ignore[no-untyped-def]
    """With the confirm-moves setting a test move waits: taken back it leaves no answer,
    confirmed it is committed at once."""
    from conceptcoach.store.attempts import list_attempts
    from conceptcoach.store.db import open_store

    path, concept_ids, player_id = library_store
    sid = _session(path, player_id, concept_ids[:1], per_phase=1, seed=5)
    screen = screen_for(path, (1024, 700))
    screen.confirm_moves = True
    runner = screen.runner
    screen.open_session(sid)
    qtbot.waitUntil(lambda: runner.view is not None, timeout=10000)
    first = runner.view
    item = first.state.current
    assert item.phase == "pre"
    wrong = study_library.wrong_move(item.fen, item.expected)
    mouse.play(runner.board, wrong)
    assert runner.confirm_bar.isVisible() and runner.pending == wrong
    assert not runner.board.view.interactive  # nothing more until it is confirmed or taken back
    QTest.keyClick(runner.board.view, Qt.Key.Key_Escape)
    assert not runner.confirm_bar.isVisible() and runner.board.board.fen() == chess.Board(item.fen).fen()
    qtbot.wait(200)
    assert runner.view is first
    mouse.play(runner.board, item.expected[0])
    assert runner.confirm_bar.isVisible()
    QTest.keyClick(runner.board.view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: runner.view is not first, timeout=10000)
    db = open_store(path)
    (a,) = list_attempts(db, session_ids=[sid])
    db.conn.close()
    assert a.item_id == item.id and a.answer_uci == item.expected[0] and a.correct


def test_test_panel_text_fits_a_small_window(qtbot, library_store, screen_for, screenshots) -> None:  # type: ignore[no-untyped-def]
    path, concept_ids, player_id = library_store
    sid = _session(path, player_id, concept_ids[:1], per_phase=1, seed=6)
    screen = screen_for(path, (1024 - 150, 700 - 30))
    runner = screen.runner
    screen.open_session(sid)
    qtbot.waitUntil(lambda: runner.view is not None, timeout=10000)
    qtbot.wait(100)
    keys = runner.test_keys
    assert keys.wordWrap() and keys.height() >= keys.heightForWidth(keys.width())
    assert "P pause (hides the position)" in keys.text()
    assert screen.grab().save(str(screenshots / "session_pretest_1024x700.png"))


def test_coach_marks_and_note_come_back_with_the_position(qtbot, library_store, study_library, screen_for) -> None:  # type: ignore[no-untyped-def]
    """The coach draws an arrow and circles a square on a learning position and writes a
    note; leaving the session keeps them with the note (store: notes.marks), reopening
    the session shows them again on the board and in the notes, and the next position
    starts clean. The explorer's card of the concept shows the note and the marks."""
    from types import SimpleNamespace

    from conceptcoach.desktop.screens.concept_card import load_card
    from conceptcoach.store.db import open_store
    from conceptcoach.store.notes import list_notes

    path, concept_ids, player_id = library_store
    sid = _session(path, player_id, concept_ids[:1], per_phase=2, seed=6)
    screen = screen_for(path)
    runner = screen.runner
    screen.open_session(sid)
    qtbot.waitUntil(lambda: runner.view is not None, timeout=10000)
    _to_phase(qtbot, screen, "learning", study_library)
    item = runner.view.state.current
    view = runner.board.view
    vp = view.viewport()
    empty = [s for s in chess.SQUARES if view.board.piece_at(s) is None]
    a, b, c = empty[0], empty[1], empty[-1]
    QTest.mousePress(vp, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, view.square_center(a).toPoint())
    QTest.mouseRelease(vp, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, view.square_center(b).toPoint())
    QTest.mouseClick(vp, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, view.square_center(c).toPoint())
    runner.learning.notes.setPlainText("The weak square")
    arrow, square = chess.square_name(a) + chess.square_name(b), chess.square_name(c)
    assert runner.note_state() == ("The weak square", (arrow,), (square,))
    left: list[bool] = []
    screen.homeRequested.connect(lambda: left.append(True))
    runner.quit_btn.click()  # leaving saves the note with its marks
    assert left

    def saved() -> list:  # type: ignore[type-arg]
        db = open_store(path)
        try:
            return list_notes(db, session_id=sid)
        finally:
            db.conn.close()

    qtbot.waitUntil(lambda: len(saved()) == 1, timeout=10_000)
    (note,) = saved()
    assert (note.prototype_id, note.text, note.arrows, note.squares) == (item.source_id, "The weak square",
                                                                         (arrow,), (square,))
    # Reopened: the same position with the coach's arrow, circle and note.
    screen.open_session(sid)
    qtbot.waitUntil(lambda: runner.view is not None and runner.view.state.current.id == item.id
                    and runner.view.note is not None, timeout=10000)
    assert view.annotations() == ([(a, b)], [c])
    assert runner.learning.notes.toPlainText() == "The weak square" and not runner.learning.note_source.isVisible()
    runner.viewer.step_forward()
    assert view.annotations() == ([], [])  # along the line they are hidden, back at the start shown
    qtbot.waitUntil(lambda: not view.is_animating(), timeout=3000)
    runner.viewer.goto(0)
    assert view.annotations() == ([(a, b)], [c])
    # Erase the circle, go on: the note keeps the arrow only; the next position is clean.
    QTest.mouseClick(vp, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, view.square_center(c).toPoint())
    before = runner.view
    runner.next_learning()
    qtbot.waitUntil(lambda: runner.view is not before, timeout=10000)
    assert view.annotations() == ([], []) and runner.learning.notes.toPlainText() == ""
    (note,) = saved()
    assert (note.arrows, note.squares) == ((arrow,), ())
    db = open_store(path)
    try:
        card = load_card(SimpleNamespace(db=db), concept_ids[0])
    finally:
        db.conn.close()
    assert card.notes[item.source_id].arrows == (arrow,)


def test_setup_lists_lessons_with_their_test_positions(qtbot, tmp_path: Path, study_library, screen_for) -> None:  # type: ignore[no-untyped-def]
    """The setup offers only concepts a session can teach (no known idea: the core refuses
    them as lessons), says how many positions of each an engine passed for tests, and
    warns before a plan asks for more than that."""
    import numpy as np
    from conceptcoach.store.concepts import (
        NewPrototype,
        add_concept,
        list_prototypes,
        set_prototype_verification,
    )
    from conceptcoach.store.db import open_store
    from conceptcoach.store.players import add_player

    path = tmp_path / "store.sqlite"
    db = open_store(path)
    ids = study_library.build(db, concepts=2, per_concept=8, failed=1)
    fen, best, line, key = study_library.real_positions(1, skip=300)[0]
    add_concept(db, uid="known", name="Known idea: castled king", layer="block3", kind="static", status="static",
                vector=np.ones(16, dtype=np.float32), prototypes=[NewPrototype(fen=fen, best_move=best, game_key=key)])
    for i, p in enumerate(list_prototypes(db, ids[0])):
        set_prototype_verification(db, p.id, {"status": "verified", "quiz_item": i < 3, "accepted": {p.best_move: 0}})
    add_player(db, "Ada")
    db.conn.close()
    screen = screen_for(path)
    setup = screen.setup
    screen.new_session()
    qtbot.waitUntil(lambda: setup.concept_list.count() > 0, timeout=10_000)
    texts = [setup.concept_list.item(i).text() for i in range(setup.concept_list.count())]
    assert len(texts) == 2 and not any("Known idea" in t for t in texts)
    assert texts[0].startswith("Idea 0\n") and texts[0].endswith("3 for tests") and texts[1].endswith("8 for tests")
    setup.concept_list.item(0).setCheckState(Qt.CheckState.Checked)
    setup.per_phase.setValue(2)
    assert "Too few positions for tests at 2 per phase: Idea 0" in setup.summary.text()
    setup.per_phase.setValue(1)
    assert "Too few" not in setup.summary.text()
    setup.controls.setValue(1)
    assert (setup.per_phase.text(), setup.controls.text()) == ("1 position per concept and phase",
                                                               "1 control position per phase")
