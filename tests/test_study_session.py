"""Sessions end to end on a real SQLite file: plans, answers, pause/resume, the log."""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import chess
import numpy as np
import pytest
import sqlite_utils
from conceptcoach.store.attempts import list_attempts, position_key
from conceptcoach.store.db import open_store
from conceptcoach.store.players import add_player
from conceptcoach.store.sessions import get_template, save_template, session_items
from conceptcoach.study.plan import (
    ControlSpec,
    NotEnoughPositions,
    PlanSpec,
    build_items,
    create_sessions,
)
from conceptcoach.study.runner import OutOfTurn, answer, lesson, mark_studied, session_state
from conceptcoach.study.scoring import IllegalAnswer, score_answer


def run_session(db: sqlite_utils.Database, session_id: int, lib: SimpleNamespace,
                correct_per_item: dict[int, bool] | None = None) -> None:
    """Walk a session to the end: correct answers unless told otherwise (wrong ones are
    ``lib.wrong_move``, ``lib`` being the ``study_library`` fixture)."""
    while True:
        st = session_state(db, session_id)
        if st.current is None:
            return
        it = st.current
        if it.phase == "learning":
            after = mark_studied(db, session_id, it.id, study_ms=1500)
        else:
            ok = True if correct_per_item is None else correct_per_item.get(it.id, True)
            after = answer(db, session_id, it.id, it.expected[0] if ok else lib.wrong_move(it.fen, it.expected),
                           response_ms=900).state
        # The state returned after a record equals the one derived afresh from the logs.
        assert after == session_state(db, session_id)


def test_plan_is_disjoint_shuffled_and_recorded(store: sqlite_utils.Database, study_library: SimpleNamespace) -> None:
    ids = study_library.build(store)
    p = add_player(store, "Ada", rating=1800)
    spec = PlanSpec(player_ids=[p.id], concept_ids=ids[:3], per_phase=4, control=ControlSpec(count=2), seed=11)
    planned = create_sessions(store, spec)
    items = session_items(store, planned.session_ids[0])
    assert planned.seed == 11 and planned.items_per_session == 3 * 12 + 3 * 2
    keys = [position_key(it.fen) for it in items]
    assert len(keys) == len(set(keys)), "a position appears twice in one session"
    for cid in ids[:3]:
        by_phase = {ph: [it for it in items if it.concept_id == cid and it.phase == ph] for ph in ("pre", "learning", "post")}
        assert all(len(v) == 4 for v in by_phase.values())
    controls = [it for it in items if it.is_control]
    assert len(controls) == 6 and {it.concept_id for it in controls} == {ids[4]}
    # Same seed, same plan (for a player with no sessions yet); another seed, another order.
    spec.player_ids = [add_player(store, "Ada's twin").id]
    again = build_items(store, PlanSpec.from_json(spec.to_json()), 11)
    assert [(i.phase, i.fen) for i in again] == [(i.phase, i.fen) for i in items]
    other = build_items(store, spec, 12)
    assert [(i.phase, i.fen) for i in other] != [(i.phase, i.fen) for i in items]
    # Test phases are interleaved across concepts, learning is grouped by concept.
    learning = [it.concept_id for it in items if it.phase == "learning"]
    assert sum(1 for a, b in zip(learning, learning[1:], strict=False) if a != b) == 3


def test_never_reuses_a_position_across_sessions(store: sqlite_utils.Database, study_library: SimpleNamespace) -> None:
    ids = study_library.build(store, concepts=1, per_concept=14, failed=0)
    p = add_player(store, "Ben")
    first = create_sessions(store, PlanSpec([p.id], ids, per_phase=2, seed=1)).session_ids[0]
    run_session(store, first, study_library)
    met = {position_key(a.fen) for a in list_attempts(store, player_ids=[p.id])}
    met |= {position_key(it.fen) for it in session_items(store, first) if it.phase == "learning"}
    assert len(met) == 6
    second = create_sessions(store, PlanSpec([p.id], ids, per_phase=2, seed=1)).session_ids[0]
    assert not met & {position_key(it.fen) for it in session_items(store, second)}
    # 14 - 6 met - 6 planned in the open second session = 2 left: a plan needing
    # 3 x 3 = 9 fails and says which concept and how many.
    with pytest.raises(NotEnoughPositions) as err:
        create_sessions(store, PlanSpec([p.id], ids, per_phase=3, seed=1))
    assert err.value.needed == 9 and err.value.available == 2 and err.value.concept_id == ids[0]
    assert "'Idea 0'" in str(err.value) and "needs 9" in str(err.value)
    # Another player has met nothing: the same plan works for them.
    q = add_player(store, "Cleo")
    assert create_sessions(store, PlanSpec([q.id], ids, per_phase=3, seed=1)).items_per_session == 9


def test_group_plan_excludes_what_any_member_met(store: sqlite_utils.Database, study_library: SimpleNamespace) -> None:
    ids = study_library.build(store, concepts=1, per_concept=12, failed=0)
    a, b = add_player(store, "A"), add_player(store, "B")
    run_session(store, create_sessions(store, PlanSpec([a.id], ids, per_phase=2, seed=3)).session_ids[0], study_library)
    both = create_sessions(store, PlanSpec([a.id, b.id], ids, per_phase=2, seed=3))
    s1, s2 = (session_items(store, s) for s in both.session_ids)
    assert [i.fen for i in s1] == [i.fen for i in s2]
    met_by_a = {position_key(x.fen) for x in list_attempts(store, player_ids=[a.id])}
    assert not met_by_a & {position_key(i.fen) for i in s1}


def test_answers_are_scored_from_the_teachers_search(store: sqlite_utils.Database,
                                                     study_library: SimpleNamespace) -> None:
    ids = study_library.build(store, concepts=1, per_concept=12, failed=0)
    p = add_player(store, "Dana")
    sid = create_sessions(store, PlanSpec([p.id], ids, per_phase=4, seed=5)).session_ids[0]
    st = session_state(store, sid)
    assert st.phase == "pre" and st.index_in_phase == 0 and st.phase_size == 4 and st.total_items == 12
    it = st.current
    assert it is not None
    res = answer(store, sid, it.id, chess.Board(it.fen).san(chess.Move.from_uci(it.expected[0])), response_ms=1234, hints=1)
    a = res.attempt
    assert a.correct and a.answer_uci == it.expected[0] and a.visit_share == pytest.approx(0.6)
    assert a.value_drop == 0.0 and a.partial_credit == 1.0 and a.hints == 1 and a.response_ms == 1234
    it2 = res.state.current
    assert it2 is not None and res.state.index_in_phase == 1
    wrong = study_library.wrong_move(it2.fen, it2.expected)
    a2 = answer(store, sid, it2.id, wrong).attempt
    # Second most visited: n=20 of 100, q=+0.10 against +0.30: drop 0.2, keeps 1 - 0.2/2 = 0.9.
    assert not a2.correct and a2.visit_share == pytest.approx(0.2)
    assert a2.value_drop == pytest.approx(0.2) and a2.partial_credit == pytest.approx(0.9)
    with pytest.raises(OutOfTurn):
        answer(store, sid, it2.id, wrong)
    it3 = session_state(store, sid).current
    assert it3 is not None
    with pytest.raises(IllegalAnswer):
        answer(store, sid, it3.id, "a1a1")
    assert len(list_attempts(store, session_ids=[sid])) == 2  # nothing written for the illegal move
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.execute("UPDATE attempts SET correct = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.execute("DELETE FROM attempts")


def test_unsearched_answer_uses_the_evaluate_callback() -> None:
    fen = chess.STARTING_FEN
    visits = {"e2e4": {"n": 70, "q": 0.1, "p": 0.3}, "d2d4": {"n": 30, "q": 0.05, "p": 0.3}}
    none = score_answer(fen, ("e2e4",), visits, "h2h4")
    assert none.visit_share == 0.0 and none.value_drop is None and none.partial_credit is None
    calls: list[tuple[str, str]] = []

    def evaluate(f: str, uci: str) -> float:
        calls.append((f, uci))
        return -0.3

    s = score_answer(fen, ("e2e4",), visits, "h4", evaluate)
    assert calls == [(fen, "h2h4")] and s.value_drop == pytest.approx(0.4) and s.partial_credit == pytest.approx(0.8)
    assert score_answer(fen, ("e2e4",), visits, None).answer_uci == ""


def test_pause_and_resume_from_the_store_alone(store_path, study_library: SimpleNamespace) -> None:  # type: ignore[no-untyped-def]
    db = open_store(store_path)
    ids = study_library.build(db, concepts=2, per_concept=12, failed=0)
    p = add_player(db, "Eve")
    sid = create_sessions(db, PlanSpec([p.id], ids, per_phase=3, learning_per_concept=2, seed=9)).session_ids[0]
    for _ in range(4):
        st = session_state(db, sid)
        assert st.current is not None
        answer(db, sid, st.current.id, st.current.expected[0])
    db.conn.close()
    db2 = open_store(store_path)  # another day, another process
    st = session_state(db2, sid)
    assert st.phase == "pre" and st.index_in_phase == 4 and st.done_items == 4 and st.last_activity
    run_session(db2, sid, study_library)
    final = session_state(db2, sid)
    assert final.finished and final.done_items == final.total_items == 6 + 4 + 6
    assert len(list_attempts(db2, session_ids=[sid])) == 12
    db2.conn.close()


def test_learning_lesson_and_optional_guess(store: sqlite_utils.Database, study_library: SimpleNamespace) -> None:
    ids = study_library.build(store, concepts=1, per_concept=12, failed=0)
    p = add_player(store, "Finn")
    sid = create_sessions(store, PlanSpec([p.id], ids, per_phase=1, learning_per_concept=2, seed=2)).session_ids[0]
    st = session_state(store, sid)
    assert st.current is not None
    answer(store, sid, st.current.id, st.current.expected[0])
    st = session_state(store, sid)
    assert st.phase == "learning" and st.current is not None
    item = st.current
    with pytest.raises(OutOfTurn):
        mark_studied(store, sid, item.id + 100)
    les = lesson(store, item)
    board = chess.Board(item.fen)
    assert les.move_san == board.san(chess.Move.from_uci(item.expected[0])) and les.concept_name == "Idea 0"
    assert les.children[0][0] == item.expected[0] and les.children[0][2] == pytest.approx(0.6)
    assert len(les.line_san) == len(item.line) >= 1
    guess = answer(store, sid, item.id, study_library.wrong_move(item.fen, item.expected))
    assert guess.attempt.phase == "learning" and guess.state.current == item  # a guess does not advance
    assert mark_studied(store, sid, item.id).index_in_phase == 1


def test_review_mode_and_templates(store: sqlite_utils.Database, study_library: SimpleNamespace) -> None:
    ids = study_library.build(store, concepts=2, per_concept=12, failed=0)
    p = add_player(store, "Gus")
    spec = PlanSpec([p.id], ids, per_phase=2, mode="self", seed=4)
    save_template(store, "two ideas", spec.to_dict())
    loaded = PlanSpec.from_dict(get_template(store, "two ideas").plan)
    assert loaded == spec
    run_session(store, create_sessions(store, loaded).session_ids[0], study_library)
    rev = create_sessions(store, PlanSpec([p.id], ids, per_phase=3, mode="review", seed=4)).session_ids[0]
    items = session_items(store, rev)
    assert {i.phase for i in items} == {"review"} and len(items) == 6
    tested = {position_key(a.fen) for a in list_attempts(store, player_ids=[p.id])}
    assert not tested & {position_key(i.fen) for i in items}


def test_visits_fixture_is_what_the_docstring_says(study_library: SimpleNamespace) -> None:
    v = study_library.visits_for(chess.STARTING_FEN, "e2e4")
    assert [x["n"] for x in v.values()] == [60, 20, 10, 10] and next(iter(v)) == "e2e4"


def test_deleting_an_unstarted_session_frees_its_positions(store: sqlite_utils.Database,
                                                           study_library: SimpleNamespace) -> None:
    from conceptcoach.store.sessions import delete_unstarted_session

    ids = study_library.build(store, concepts=1, per_concept=6, failed=0)
    p = add_player(store, "Ola")
    first = create_sessions(store, PlanSpec([p.id], ids, per_phase=2, seed=1)).session_ids[0]
    with pytest.raises(NotEnoughPositions):  # all 6 prototypes are planned in the open session
        create_sessions(store, PlanSpec([p.id], ids, per_phase=2, seed=1))
    delete_unstarted_session(store, first)
    second = create_sessions(store, PlanSpec([p.id], ids, per_phase=2, seed=1)).session_ids[0]
    st = session_state(store, second)
    assert st.current is not None
    answer(store, second, st.current.id, st.current.expected[0])
    with pytest.raises(ValueError, match="cannot be deleted"):
        delete_unstarted_session(store, second)
    with pytest.raises(KeyError):
        delete_unstarted_session(store, first)


def test_time_limit_is_applied_by_the_core(store: sqlite_utils.Database, study_library: SimpleNamespace) -> None:
    ids = study_library.build(store, concepts=1, per_concept=6, failed=0)
    p = add_player(store, "Pia")
    sid = create_sessions(store, PlanSpec([p.id], ids, per_phase=2, seconds_per_position=30, seed=1)).session_ids[0]
    it = session_state(store, sid).current
    assert it is not None
    ok = answer(store, sid, it.id, it.expected[0], response_ms=29_000).attempt
    assert ok.correct and ok.partial_credit == 1.0
    it = session_state(store, sid).current
    assert it is not None
    late = answer(store, sid, it.id, it.expected[0], response_ms=31_000).attempt
    assert not late.correct and late.partial_credit == 0.0 and late.visit_share == pytest.approx(0.6)


def test_position_key_is_canonical() -> None:
    after_e4 = "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq e3 0 1"
    assert position_key(after_e4) == position_key("rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 5 30")
    assert position_key(after_e4) != position_key("rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR w KQkq - 0 1")


def test_network_evaluate_scores_an_unsearched_answer(tiny_net) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.engine.encoding import encode_board
    from conceptcoach.engine.network import Evaluator
    from conceptcoach.study.scoring import network_evaluate

    ev = Evaluator(tiny_net)
    evaluate = network_evaluate(ev)
    board = chess.Board()
    board.push_uci("h2h4")
    expected = -float(ev(encode_board(board)[None])[1][0])
    visits = {"e2e4": {"n": 90, "q": 0.2, "p": 0.5}, "d2d4": {"n": 10, "q": 0.1, "p": 0.3}}
    s = score_answer(chess.STARTING_FEN, ("e2e4",), visits, "h2h4", evaluate)
    assert s.value_drop == pytest.approx(0.2 - expected, abs=1e-6)
    # Mate in one: the answer ends the game, worth +1 to the side that played it.
    mate = "6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1"
    assert evaluate(mate, "a1a8") == 1.0


def test_cli_learning_count_and_delete(tmp_path, capsys, study_library: SimpleNamespace) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.bootstrap import store_path
    from conceptcoach.cli import main

    data = tmp_path / "data"
    db = open_store(store_path(str(data)))
    ids = study_library.build(db, concepts=1, per_concept=6, failed=0)
    add_player(db, "Quin")
    db.conn.close()
    args = ["--data-dir", str(data), "session", "create", "--player", "Quin", "--concept", str(ids[0]),
            "--per-phase", "2", "--learning", "1", "--seed", "3"]
    assert main(args) == 0 and "5 items per session" in capsys.readouterr().out
    assert main(args) == 2 and "needs 5" in capsys.readouterr().err  # 6 - 5 planned = 1 left
    assert main(["--data-dir", str(data), "session", "delete", "1"]) == 0
    assert main(args) == 0 and "session 2 for player 1" in capsys.readouterr().out
    assert main(["--data-dir", str(data), "session", "answer", "2", "--studied"]) == 2  # pre-test item: answer it
    capsys.readouterr()


def test_concepts_that_share_prototypes_fit_when_the_positions_allow(store: sqlite_utils.Database,
                                                                      study_library: SimpleNamespace) -> None:
    # Two concepts from related positions: "Narrow" has exactly 12 prototypes, 6 of
    # which are also prototypes of "Broad" (30). 4+4+4 each fits only if Broad leaves
    # the shared six to Narrow, whatever order the coach lists them in.
    from conceptcoach.store.concepts import NewPrototype, add_concept

    pos = study_library.real_positions(36)

    def protos(rows):  # type: ignore[no-untyped-def]
        return [NewPrototype(fen=f, best_move=b, line=ln, value=0.3, visits=study_library.visits_for(f, b), game_key=g)
                for f, b, ln, g in rows]

    vec = np.linspace(-1, 1, 16, dtype=np.float32)
    narrow = add_concept(store, uid="narrow", name="Narrow", layer="block3", kind="dynamic", status="novel",
                         vector=vec, prototypes=protos(pos[:12]))
    broad = add_concept(store, uid="broad", name="Broad", layer="block5", kind="dynamic", status="novel",
                        vector=vec, prototypes=protos(pos[6:36]))
    p = add_player(store, "Dana")
    for seed in range(8):
        items = build_items(store, PlanSpec([p.id], [broad, narrow], per_phase=4, seed=seed), seed)
        assert len(items) == 24 and len({position_key(it.fen) for it in items}) == 24
    # Three concepts on the same 12 positions cannot all fit, and the error says why.
    third = add_concept(store, uid="third", name="Third", layer="block1", kind="dynamic", status="novel",
                        vector=vec, prototypes=protos(pos[:12]))
    with pytest.raises(NotEnoughPositions) as err:
        build_items(store, PlanSpec([p.id], [narrow, third], per_phase=4, seed=0), 0)
    assert err.value.taken_here == 12 and "other concepts of this session" in str(err.value)
