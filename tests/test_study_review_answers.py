"""What the review and progress pages read from the core: a session's answers reviewed
position by position (the player's move, the teacher's, the accepted moves, the search's
and the engine's evaluations), scores over time per session and concept, and the
coach's marks kept with a note (schema v7)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import chess
import pytest
import sqlite_utils
from conceptcoach.store.concepts import list_prototypes, set_prototype_verification
from conceptcoach.store.notes import add_note, list_notes, position_note, save_position_note
from conceptcoach.store.players import add_player
from conceptcoach.study.plan import ControlSpec, PlanSpec, create_sessions
from conceptcoach.study.review import answer_review
from conceptcoach.study.runner import answer, mark_studied, session_state
from conceptcoach.study.stats import player_progress, scores_over_time


def _verify_all(db: sqlite_utils.Database, concept_ids: list[int]) -> dict[int, dict[str, int]]:
    """An engine verdict on every prototype: the teacher's move +40 cp, a second move +25
    (accepted, within 30 cp), a third -120; returns the evals by prototype."""
    out = {}
    for cid in concept_ids:
        for p in list_prototypes(db, cid):
            others = sorted(m.uci() for m in chess.Board(p.fen).legal_moves if m.uci() != p.best_move)
            evals = {p.best_move: 40, others[0]: 25, others[1]: -120}
            set_prototype_verification(db, p.id, {
                "status": "verified", "quiz_item": True, "evals": evals, "best_move": p.best_move, "best_cp": 40,
                "teacher_cp": 40, "loss_cp": 0, "accepted": {p.best_move: 40, others[0]: 25}, "line": p.line,
                "params": {"depth": 16}})
            out[p.id] = evals
    return out


def test_answer_review_shows_both_moves_and_every_evaluation(store: sqlite_utils.Database, study_library) -> None:  # type: ignore[no-untyped-def]
    ids = study_library.build(store, concepts=2, per_concept=8, failed=1)
    evals = _verify_all(store, ids)
    player = add_player(store, "Ada")
    sid = create_sessions(store, PlanSpec([player.id], ids[:2], per_phase=2, control=ControlSpec(count=1),
                                          seed=5)).session_ids[0]
    # Before any answer: every test position listed, none answered.
    before = answer_review(store, sid)
    assert [r.phase for r in before] == ["pre"] * 5 + ["post"] * 5
    assert not any(r.answered for r in before)
    played: dict[int, str] = {}
    while (st := session_state(store, sid)).current is not None:
        it = st.current
        if it.phase == "learning":
            mark_studied(store, sid, it.id)
            continue
        if it.phase == "pre":  # wrong: the move the engine finds 160 cp worse
            move = next(m for m, cp in evals[it.source_id].items() if cp == -120)
        else:  # the accepted second move, not the teacher's
            move = it.expected[1]
        answer(store, sid, it.id, move)
        played[it.id] = move

    pre = answer_review(store, sid, phases=("pre",))
    assert [(r.number, r.phase_size) for r in pre] == [(i, 5) for i in range(1, 6)]
    for r in pre + answer_review(store, sid, phases=("post",)):
        board = chess.Board(r.fen)
        assert r.answered and r.answer_uci == played[r.item_id]
        assert r.answer_san == board.san(chess.Move.from_uci(r.answer_uci))
        assert r.correct == (r.phase == "post")
        assert r.teacher_uci == r.accepted[0] and len(r.accepted) == 2
        assert r.teacher_san == board.san(chess.Move.from_uci(r.teacher_uci))
        by_uci = {m.uci: m for m in r.moves}
        # The teacher's move: most of the search, its value, and the engine's +40.
        t = by_uci[r.teacher_uci]
        assert t.teacher and t.accepted and t.visit_share == pytest.approx(0.6) and t.value == pytest.approx(0.3)
        assert t.engine_cp == 40
        mine = by_uci[r.answer_uci]
        assert mine.played and mine.engine_cp == (-120 if r.phase == "pre" else 25)
        assert mine.accepted == (r.phase == "post")
        assert sum(m.played for m in r.moves) == 1 and sum(m.teacher for m in r.moves) == 1
        assert r.engine is not None and r.engine.status == "verified" and r.engine.depth == 16
        assert r.engine.best_san == r.teacher_san and r.engine.loss_cp == 0
        assert r.line_san and r.concept_name.startswith("Idea") != r.is_control


def test_unverified_items_review_from_the_search_alone(store: sqlite_utils.Database, study_library) -> None:  # type: ignore[no-untyped-def]
    ids = study_library.build(store, concepts=1, per_concept=8, failed=0)
    player = add_player(store, "Ben")
    sid = create_sessions(store, PlanSpec([player.id], ids, per_phase=2, seed=1)).session_ids[0]
    it = session_state(store, sid).current
    answer(store, sid, it.id, None)  # no answer (the time ran out)
    r = answer_review(store, sid, phases=("pre",))[0]
    assert r.answered and r.answer_uci == "" and not r.correct
    assert r.engine is None and all(m.engine_cp is None for m in r.moves)
    assert r.accepted == (r.teacher_uci,)
    assert [m.visit_share for m in r.moves] == pytest.approx([0.6, 0.2, 0.1, 0.1])
    assert not any(m.played for m in r.moves)


def test_scores_over_time_per_session_and_concept(store: sqlite_utils.Database, study_library) -> None:  # type: ignore[no-untyped-def]
    ids = study_library.build(store, concepts=2, per_concept=14, failed=1)
    player = add_player(store, "Cleo")
    first = create_sessions(store, PlanSpec([player.id], ids[:2], per_phase=2, control=ControlSpec(count=1),
                                            seed=1)).session_ids[0]
    study_library.play(store, first, {("pre", ids[0]): 0, ("pre", ids[1]): 1, ("post", ids[0]): 2,
                                      ("post", ids[1]): 1, ("pre", -1): 1, ("post", -1): 1})
    second = create_sessions(store, PlanSpec([player.id], ids[:1], per_phase=2, seed=2)).session_ids[0]
    # The second session is still in its pre-test: one answer, right.
    it = session_state(store, second).current
    answer(store, second, it.id, it.expected[0])

    rows = player_progress(store, player.id)
    assert [(r.session_id, r.concept_id) for r in rows] == [(first, None), (first, ids[0]), (first, ids[1]),
                                                            (second, None), (second, ids[0])]
    overall, a, b, later, later_a = rows
    assert (overall.pre_score, overall.post_score) == (0.25, 0.75)  # control positions left out
    assert (a.pre_score, a.post_score, b.pre_score, b.post_score) == (0.0, 1.0, 0.5, 0.5)
    assert (later.pre_score, later.post_score, later.n_pre) == (1.0, None, 1)
    assert later_a == later.__class__(second, later.when, ids[0], 1, 1, 0, 0)
    assert overall.when <= later.when
    assert scores_over_time([]) == []


def test_marks_are_kept_with_the_note_of_a_position(store_path: Path, study_library) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.store.db import migrate, open_store, schema_version
    from conceptcoach.store.schema import MIGRATIONS

    # A v6 store with a note migrates: the note is kept, without marks.
    db = sqlite_utils.Database(sqlite3.connect(store_path, isolation_level=None))
    migrate(db, MIGRATIONS[:6])
    db.execute("INSERT INTO notes (session_id, prototype_id, text) VALUES (NULL, 3, 'old note')")
    db.conn.close()
    db = open_store(store_path)
    assert schema_version(db) == len(MIGRATIONS)
    (old,) = list_notes(db)
    assert (old.text, old.arrows, old.squares, old.has_marks) == ("old note", (), (), False)

    ids = study_library.build(db, concepts=1, per_concept=8, failed=0)
    player = add_player(db, "Dan")
    sid = create_sessions(db, PlanSpec([player.id], ids, per_phase=2, seed=1)).session_ids[0]
    proto = list_prototypes(db, ids[0])[0].id
    note = save_position_note(db, session_id=sid, prototype_id=proto, text=" Knight to d5 ",
                              arrows=["F3D4", "f3d4", "c3d5"], squares=["e6", "d5"])
    assert note is not None and (note.text, note.arrows, note.squares) == ("Knight to d5", ("f3d4", "c3d5"),
                                                                           ("d5", "e6"))
    # Reopened: the same note; saved again, replaced (one note per session and position).
    again = save_position_note(db, session_id=sid, prototype_id=proto, text="", arrows=["c3d5"])
    assert again is not None and again.id == note.id and (again.text, again.arrows, again.squares) == (
        "", ("c3d5",), ())
    assert position_note(db, proto, session_id=sid) == again
    assert position_note(db, proto) == again and position_note(db, proto, session_id=sid + 1) is None
    # Marks alone make a note; nothing at all removes it.
    assert add_note(db, "", session_id=sid, prototype_id=proto + 1, squares=["a1"]).squares == ("a1",)
    assert save_position_note(db, session_id=sid, prototype_id=proto, text="  ") is None
    assert position_note(db, proto) is None
    with pytest.raises(ValueError, match="some text or some marks"):
        add_note(db, " ", session_id=sid)
    with pytest.raises(ValueError, match="not an arrow"):
        add_note(db, "x", arrows=["e2e2"])
    with pytest.raises(ValueError, match="not a square"):
        add_note(db, "x", squares=["z9"])
    db.conn.close()
