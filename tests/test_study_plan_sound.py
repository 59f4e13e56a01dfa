"""Session plans that teach only what an engine confirmed: verified quiz items in the
tests, every accepted move counted, phases apart by game and by line, no known idea
offered as a lesson."""

from __future__ import annotations

import chess
import numpy as np
import pytest
import sqlite_utils
from conceptcoach.store.attempts import position_key
from conceptcoach.store.concepts import (
    NewPrototype,
    add_concept,
    list_prototypes,
    set_prototype_verification,
)
from conceptcoach.store.players import add_player
from conceptcoach.study.plan import NotEnoughPositions, PlanError, PlanSpec, build_items


def _verdict(status: str, quiz: bool, accepted: dict[str, int], line: list[str]) -> dict[str, object]:
    return {"status": status, "quiz_item": quiz, "accepted": accepted, "line": line, "evals": accepted}


def test_tests_use_verified_quiz_items_and_accept_every_good_move(store: sqlite_utils.Database,
                                                                  study_library) -> None:  # type: ignore[no-untyped-def]
    ids = study_library.build(store, concepts=1, per_concept=20, failed=0)
    protos = list_prototypes(store, ids[0])
    other = {}
    for i, p in enumerate(protos):
        board = chess.Board(p.fen)
        second = next(m.uci() for m in board.legal_moves if m.uci() != p.best_move)
        other[p.id] = second
        if i < 8:  # quiz items with two accepted moves
            verdict = _verdict("verified", True, {p.best_move: 40, second: 25}, p.line)
        elif i < 14:  # verified, but decided: learning only
            verdict = _verdict("verified", False, {p.best_move: 900}, p.line)
        else:  # the teacher's move loses: never shown
            verdict = _verdict("rejected", False, {second: 60}, p.line)
        set_prototype_verification(store, p.id, verdict)
    player = add_player(store, "Ben", rating=1500)
    items = build_items(store, PlanSpec(player_ids=[player.id], concept_ids=ids, per_phase=4, seed=3), 3)
    by_id = {p.id: i for i, p in enumerate(protos)}
    for it in items:
        rank = by_id[it.source_id]
        if it.phase in ("pre", "post"):
            assert rank < 8, "a test item that is not a verified quiz item"
            assert set(it.expected) == {protos[rank].best_move, other[it.source_id]}
            assert it.expected[0] == protos[rank].best_move
        else:
            assert rank < 14, "a rejected item in the learning phase"
    # Too few verified quiz items: the plan says so.
    with pytest.raises(NotEnoughPositions, match="verified quiz items"):
        build_items(store, PlanSpec(player_ids=[player.id], concept_ids=ids, per_phase=5, seed=3), 3)


def test_phases_never_share_a_game_or_a_learning_line(store: sqlite_utils.Database,
                                                      study_library) -> None:  # type: ignore[no-untyped-def]
    # Three positions from each game, so a careless plan would mix games across phases.
    rows = study_library.real_positions(36, plies=lambda ply: ply in (14, 20, 26), next_moves=8)
    protos = [NewPrototype(fen=f, best_move=b, line=ln, value=0.2, visits=study_library.visits_for(f, b),
                           game_key=g)
              for f, b, ln, g in rows]
    cid = add_concept(store, uid="games", name="Games", layer="block3", kind="dynamic", status="novel",
                      vector=np.ones(8, np.float32), prototypes=protos)
    player = add_player(store, "Cleo")
    items = build_items(store, PlanSpec(player_ids=[player.id], concept_ids=[cid], per_phase=4, seed=1), 1)
    game_of = {p.fen: p.game_key for p in list_prototypes(store, cid)}
    phases_of_game: dict[str, set[str]] = {}
    for it in items:
        phases_of_game.setdefault(game_of[it.fen], set()).add(it.phase)
    assert all(len(ph) == 1 for ph in phases_of_game.values()), phases_of_game
    shown: set[str] = set()
    for it in items:
        if it.phase == "learning":
            board = chess.Board(it.fen)
            for uci in it.line:
                board.push_uci(uci)
                shown.add(position_key(board.fen()))
    assert not shown & {position_key(it.fen) for it in items if it.phase != "learning"}


def test_known_ideas_are_not_lessons(store: sqlite_utils.Database, study_library) -> None:  # type: ignore[no-untyped-def]
    rows = study_library.real_positions(12)
    cid = add_concept(store, uid="queen", name="Known idea: the side to move has its queen", layer="block3",
                      kind="static", status="static", vector=np.ones(8, np.float32),
                      prototypes=[NewPrototype(fen=f, best_move=b, game_key=g) for f, b, _, g in rows])
    player = add_player(store, "Dan")
    with pytest.raises(PlanError, match="checks the method"):
        build_items(store, PlanSpec(player_ids=[player.id], concept_ids=[cid], per_phase=4, seed=1), 1)


def test_scoring_accepts_every_accepted_move_and_credits_near_misses_by_the_engine(
        store: sqlite_utils.Database, study_library) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.study.scoring import cp_to_value, score_answer

    ids = study_library.build(store, concepts=1, per_concept=14, failed=0)
    protos = list_prototypes(store, ids[0])
    for p in protos:
        moves = [m.uci() for m in chess.Board(p.fen).legal_moves if m.uci() != p.best_move]
        evals = {p.best_move: 50, moves[0]: 35, moves[1]: -150}
        set_prototype_verification(store, p.id, {"status": "verified", "quiz_item": True, "evals": evals,
                                                 "accepted": {p.best_move: 50, moves[0]: 35}, "line": p.line})
    player = add_player(store, "Eve")
    items = build_items(store, PlanSpec(player_ids=[player.id], concept_ids=ids, per_phase=4, seed=2), 2)
    for it in (it for it in items if it.phase != "learning"):
        for move in it.expected:  # every accepted move scores as correct
            s = score_answer(it.fen, it.expected, it.visits, move)
            assert s.correct and s.partial_credit == 1.0
        near = next(m for m, v in it.visits.items() if v.get("cp") == -150)
        s = score_answer(it.fen, it.expected, it.visits, near)
        assert not s.correct and s.value_drop == pytest.approx(cp_to_value(50) - cp_to_value(-150))
        assert 0.0 < s.partial_credit < 1.0  # type: ignore[operator]


def test_plans_prefer_items_suited_to_the_players_rating_and_say_why(
        store: sqlite_utils.Database, study_library) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.store.concepts import set_prototype_human
    from conceptcoach.store.sessions import session_items
    from conceptcoach.study.plan import create_sessions

    ids = study_library.build(store, concepts=1, per_concept=24, failed=0)
    protos = list_prototypes(store, ids[0])
    for i, p in enumerate(protos):
        # A third found by almost everyone at 1500, a third by almost no one, a third in between.
        p1500 = (0.97, 0.02, 0.5)[i % 3]
        set_prototype_human(store, p.id, {"1100": p1500 - 0.01, "1500": p1500, "1900": p1500 + 0.01})
    player = add_player(store, "Fay", rating=1500)
    planned = create_sessions(store, PlanSpec(player_ids=[player.id], concept_ids=ids, per_phase=2,
                                              learning_per_concept=2, seed=4))
    items = session_items(store, planned.session_ids[0])
    assert len(items) == 6
    protos = list_prototypes(store, ids[0])
    for it in items:
        proto = next(p for p in protos if p.id == it.source_id)
        assert proto.find_probability_at(1500) == pytest.approx(0.5)
        assert "players rated 1500" in it.why and "suited" in it.why


def test_results_put_the_pre_test_score_beside_maias_prediction(
        store: sqlite_utils.Database, study_library) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.store.concepts import set_prototype_human
    from conceptcoach.study.plan import create_sessions
    from conceptcoach.study.prediction import pre_test_predictions

    ids = study_library.build(store, concepts=1, per_concept=14, failed=0)
    for p in list_prototypes(store, ids[0]):
        set_prototype_human(store, p.id, {"1100": 0.2, "1900": 0.6})
    player = add_player(store, "Gus", rating=1500)
    sid = create_sessions(store, PlanSpec(player_ids=[player.id], concept_ids=ids, per_phase=4, seed=5)).session_ids[0]
    study_library.play(store, sid, {("pre", ids[0]): 3, ("post", ids[0]): 4})
    [pred] = pre_test_predictions(store, sid)
    assert (pred.concept_id, pred.items, pred.answered, pred.found, pred.rating) == (ids[0], 4, 4, 3, 1500)
    assert pred.predicted == pytest.approx(4 * 0.4) and pred.predicted_share == pytest.approx(0.4)
