"""Moves tried in learning positions: rated against the teacher's search, logged in their
own append-only table (schema v5), never counted as test answers; the phase enum and
the per-phase tally the session's done page shows; the lesson's whole stored line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import chess
import pytest


def _to_learning(db, study_library):  # type: ignore[no-untyped-def]
    """A one-concept session answered up to its first learning item; returns (session id, item)."""
    from conceptcoach.store.players import add_player
    from conceptcoach.study.plan import PlanSpec, create_sessions
    from conceptcoach.study.runner import answer, session_state

    ids = study_library.build(db, concepts=1, per_concept=12, failed=0)
    p = add_player(db, "Finn")
    sid = create_sessions(db, PlanSpec([p.id], ids, per_phase=1, learning_per_concept=2, seed=2)).session_ids[0]
    st = session_state(db, sid)
    answer(db, sid, st.current.id, st.current.expected[0])
    st = session_state(db, sid)
    assert st.phase == "learning"
    return sid, st.current


def test_phase_is_a_str_enum_with_one_name_each() -> None:
    from conceptcoach.study.phases import SESSION_ORDER, Phase

    assert [p.value for p in Phase] == ["pre", "learning", "post", "review", "done"]
    assert Phase("post") is Phase.POST and Phase.POST == "post" and f"{Phase.PRE}" == "pre"
    assert [p.display for p in SESSION_ORDER] == ["Pre-test", "Learning", "Post-test"]
    assert Phase.DONE.display == "Finished" and Phase.REVIEW.display == "Review"
    assert Phase.PRE.is_test and Phase.REVIEW.is_test and not Phase.LEARNING.is_test
    assert {"pre": 1}[Phase.PRE] == 1  # looks up stored strings


def test_tries_are_rated_logged_and_do_not_advance(store, study_library) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.store.attempts import list_attempts, list_tries
    from conceptcoach.study.phases import Phase
    from conceptcoach.study.runner import OutOfTurn, mark_studied, session_state, try_move
    from conceptcoach.study.scoring import IllegalAnswer

    sid, item = _to_learning(store, study_library)
    wrong = study_library.wrong_move(item.fen, item.expected)
    first = try_move(store, sid, item.id, wrong, response_ms=2300)
    r = first.rating
    # The fixed spread: the teacher's move 60 of 100 visits at q +0.30, the wrong one 20 at +0.10.
    assert not r.is_best and r.searched and r.score.visit_share == pytest.approx(0.2)
    assert r.value == pytest.approx(0.10) and r.score.value_drop == pytest.approx(0.20)
    assert r.best_uci == item.expected[0] and r.best_share == pytest.approx(0.6)
    assert r.best_san == chess.Board(item.fen).san(chess.Move.from_uci(item.expected[0]))
    # SAN is accepted too, and a second try is kept beside the first.
    best_san = r.best_san
    second = try_move(store, sid, item.id, best_san)
    assert second.rating.is_best and second.rating.score.partial_credit == 1.0
    with pytest.raises(IllegalAnswer):
        try_move(store, sid, item.id, "Ke8xh1")
    tries = list_tries(store, session_ids=[sid])
    assert [(t.answer_uci, t.correct, t.response_ms) for t in tries] == [
        (wrong, False, 2300), (item.expected[0], True, None)]
    assert tries[0].player_id == first.logged.player_id and tries[0].item_id == item.id
    assert tries[0].id == first.logged.id and tries[0].tried_at
    # Tries are not test answers: the session stays where it was and the attempt log holds the pre-test only.
    assert session_state(store, sid).current == item
    assert {a.phase for a in list_attempts(store, session_ids=[sid])} == {Phase.PRE}
    # The log is append-only.
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.execute("UPDATE learning_tries SET correct = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.execute("DELETE FROM learning_tries")
    # Only the current learning item can be tried.
    after = mark_studied(store, sid, item.id)
    with pytest.raises(OutOfTurn):
        try_move(store, sid, item.id, wrong)
    if after.current is not None and after.current.phase != "learning":
        with pytest.raises(OutOfTurn, match="learning positions"):
            try_move(store, sid, after.current.id, after.current.expected[0])


def test_state_phase_and_tally(store, study_library) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.store.players import add_player
    from conceptcoach.study.phases import Phase
    from conceptcoach.study.plan import ControlSpec, PlanSpec, create_sessions
    from conceptcoach.study.runner import answer, mark_studied, phase_tally, session_state

    ids = study_library.build(store, concepts=1, per_concept=12, failed=1)
    p = add_player(store, "Gia")
    sid = create_sessions(store, PlanSpec([p.id], ids[:1], per_phase=2, control=ControlSpec(count=1),
                                          seed=5)).session_ids[0]
    seen = []
    concept_pre = 0
    while (st := session_state(store, sid)).current is not None:
        item = st.current
        assert isinstance(st.phase, Phase) and st.phase == item.phase
        seen.append(st.phase)
        if item.phase == "learning":
            mark_studied(store, sid, item.id)
            continue
        # Pre-test: only the first concept position right; post-test: all right (controls too).
        if item.phase == "pre" and not item.is_control:
            concept_pre += 1
        right = item.phase == "post" or (item.phase == "pre" and not item.is_control and concept_pre == 1)
        move = item.expected[0] if right else study_library.wrong_move(item.fen, item.expected)
        res = answer(store, sid, item.id, move)
        assert res.state == session_state(store, sid)  # the state an answer returns is the stored one
    assert session_state(store, sid).phase is Phase.DONE and session_state(store, sid).finished
    assert list(dict.fromkeys(seen)) == [Phase.PRE, Phase.LEARNING, Phase.POST]
    tally = phase_tally(store, sid)
    assert list(tally) == [Phase.PRE, Phase.POST]
    assert (tally[Phase.PRE].correct, tally[Phase.PRE].answered) == (1, 2)  # the control left out
    assert (tally[Phase.POST].correct, tally[Phase.POST].answered) == (2, 2) and tally[Phase.POST].rate == 1.0


def test_lesson_keeps_the_whole_stored_line(store, study_library) -> None:  # type: ignore[no-untyped-def]
    """The stored line is the search's principal variation; when it does not start with
    the teacher's move (the most visited child) the lesson still gives all of it."""
    from conceptcoach.store.players import add_player
    from conceptcoach.store.sessions import NewItem, insert_sessions, session_items
    from conceptcoach.study.runner import lesson, line_san

    fen, best, line, _key = study_library.real_positions(1)[0]
    board = chess.Board(fen)
    other = next(m.uci() for m in board.legal_moves if m.uci() != best)
    pv = [other, *[m.uci() for m in _replies(fen, other, 3)]]
    p = add_player(store, "Hal")
    visits = study_library.visits_for(fen, best)
    sid = insert_sessions(store, player_ids=[p.id], items=[
        NewItem(phase="learning", ord=0, concept_id=None, is_control=True, source="set", source_id=None, fen=fen,
                expected=(best,), line=(*pv, "a1a1"), visits=visits)],
        spec={}, seed=1, mode="coach", batch="b")[0]
    item = session_items(store, sid)[0]
    les = lesson(store, item)
    assert les.move_uci == best and les.line_uci == pv and len(les.line_san) == len(pv)
    assert les.line_san == line_san(fen, pv)
    assert line_san(fen, ["zz"]) == [] and line_san(fen, [best, "e1e1"]) == line_san(fen, [best])


def _replies(fen: str, first: str, n: int) -> list[chess.Move]:
    board = chess.Board(fen)
    board.push_uci(first)
    out = []
    for _ in range(n):
        move = next(iter(sorted(board.legal_moves, key=lambda m: m.uci())), None)
        if move is None:
            break
        out.append(move)
        board.push(move)
    return out


def test_a_v4_store_gains_the_tries_table(tmp_path: Path) -> None:
    """The migration in the existing style: a store written before v5 is upgraded in place."""
    import sqlite_utils
    from conceptcoach.store.db import migrate, open_store, schema_version
    from conceptcoach.store.schema import MIGRATIONS

    path = tmp_path / "old.sqlite"
    old = sqlite_utils.Database(sqlite3.connect(str(path), isolation_level=None))
    assert migrate(old, MIGRATIONS[:4]) == 4 and "learning_tries" not in old.table_names()
    old.conn.close()
    db = open_store(path)
    assert schema_version(db) == len(MIGRATIONS) >= 5 and "learning_tries" in db.table_names()
    db.conn.close()
