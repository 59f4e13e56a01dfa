"""Control items from real self-play positions (the teacher's stored search) and the
store-level guarantees around players and templates."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import chess
import pytest
import sqlite_utils
from conceptcoach.engine.mcts import SearchConfig
from conceptcoach.engine.selfplay import SelfPlayConfig, run_selfplay
from conceptcoach.store.attempts import list_attempts
from conceptcoach.store.players import (
    add_group,
    add_player,
    add_to_group,
    delete_player,
    find_player,
    list_groups,
    update_player,
)
from conceptcoach.store.sessions import save_template, session_items
from conceptcoach.study.plan import (
    MACHINE_MIN_PLY,
    ControlSpec,
    NotEnoughPositions,
    PlanError,
    PlanSpec,
    create_sessions,
)
from conceptcoach.study.runner import answer, session_state
from conceptcoach.study.stats import gain_report


@pytest.mark.slow
def test_machine_positions_as_controls(tiny_store: sqlite_utils.Database, store_path: Path,
                                      study_library: SimpleNamespace) -> None:
    db, db_path = tiny_store, store_path
    run_selfplay(db, str(db_path), "tiny", SelfPlayConfig(
        games=1, simulations=12, seed=5, max_plies=16, search=SearchConfig(simulations=12, batch_size=4,
                                                                          root_noise=True)))
    ids = study_library.build(db, concepts=1, per_concept=6, failed=0)
    p = add_player(db, "Kim")
    spec = PlanSpec([p.id], ids, per_phase=2, control=ControlSpec(count=2, source="machine"), seed=4)
    sid = create_sessions(db, spec).session_ids[0]
    controls = [it for it in session_items(db, sid) if it.is_control]
    assert len(controls) == 6 and all(it.source == "machine" and it.concept_id is None for it in controls)
    plies = [next(iter(db.query("SELECT ply FROM positions WHERE id = ?", [it.source_id])))["ply"] for it in controls]
    assert min(plies) >= MACHINE_MIN_PLY and all(len(it.visits) >= 2 for it in controls)
    for it in controls:
        row = next(iter(db.query("SELECT s.summary FROM search_summaries s WHERE s.position_id = ?", [it.source_id])))
        summary = json.loads(row["summary"])
        assert it.expected == (summary["best_move"],) and chess.Move.from_uci(it.expected[0]) in chess.Board(it.fen).legal_moves
        assert sum(v["n"] for v in it.visits.values()) == sum(c["n"] for c in summary["children"])
    # A control answered with the teacher's move gets the visit share the search gave it.
    study_library.play(db, sid, {})
    first = next(a for a in list_attempts(db) if a.is_control)
    assert first.visit_share is not None and 0.0 <= first.visit_share <= 1.0
    rep = gain_report(db, session_ids=[sid])
    assert rep.control is not None and rep.control.n_units == 1
    # 16 plies give at most 8 searched positions from ply 8 on: asking for 3 x 6 = 18 controls says so.
    q = add_player(db, "Lou")
    with pytest.raises(NotEnoughPositions, match="self-play positions") as err:
        create_sessions(db, PlanSpec([q.id], ids, per_phase=1, control=ControlSpec(count=6, source="machine")))
    assert err.value.needed == 18 and err.value.available < 18
    db.conn.close()


def test_plan_errors_are_clear(store: sqlite_utils.Database, study_library: SimpleNamespace) -> None:
    ids = study_library.build(store, concepts=1, per_concept=6, failed=0)
    p = add_player(store, "Max")
    with pytest.raises(PlanError, match="no concept with id 999"):
        create_sessions(store, PlanSpec([p.id], [999]))
    with pytest.raises(PlanError, match="no player with id 77"):
        create_sessions(store, PlanSpec([77], ids))
    with pytest.raises(PlanError, match="at least one concept"):
        create_sessions(store, PlanSpec([p.id], []))
    with pytest.raises(PlanError, match="unknown mode"):
        create_sessions(store, PlanSpec([p.id], ids, mode="exam"))
    with pytest.raises(NotEnoughPositions, match="control pool \\(0 concept"):
        create_sessions(store, PlanSpec([p.id], ids, per_phase=1, control=ControlSpec(count=1)))
    with pytest.raises(PlanError, match="unknown plan field"):
        PlanSpec.from_dict({"player_ids": [1], "concept_ids": [1], "positions": 3})
    save_template(store, "t", PlanSpec([p.id], ids).to_dict())
    with pytest.raises(ValueError, match="exists already"):
        save_template(store, "t", PlanSpec([p.id], ids).to_dict())


def test_players_and_groups(store: sqlite_utils.Database, study_library: SimpleNamespace) -> None:
    ids = study_library.build(store, concepts=1, per_concept=3, failed=0)
    a, b = add_player(store, "Nia", rating=1500), add_player(store, "Nia")
    with pytest.raises(KeyError, match="several players are named 'Nia'"):
        find_player(store, "Nia")
    assert find_player(store, str(b.id)) == b
    a2 = update_player(store, a.id, name="Nia S.", notes="=1+1")
    assert (a2.name, a2.rating, a2.notes) == ("Nia S.", 1500, "=1+1")
    g = add_group(store, "Tuesday club", member_ids=(a.id,))
    g = add_to_group(store, g.id, b.id)
    assert list_groups(store)[0].member_ids == (a.id, b.id)
    sid = create_sessions(store, PlanSpec([a.id], ids, per_phase=1)).session_ids[0]
    st = session_state(store, sid)
    assert st.current is not None
    answer(store, sid, st.current.id, None)  # time ran out: logged, not correct
    with pytest.raises(ValueError, match="cannot be deleted"):
        delete_player(store, a.id)
    delete_player(store, b.id)
    assert list_groups(store)[0].member_ids == (a.id,)
