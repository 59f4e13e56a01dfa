"""What the session screens read, run on the DB thread (plain data back to the GUI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conceptcoach.desktop.workers import Context
from conceptcoach.study.phases import Phase


def load_setup(ctx: Context) -> dict[str, Any]:
    """Players, groups, the concepts a session can teach, how many positions of each can
    go into a test (``test_positions``: the engine-verified quiz items where the library
    carries verdicts, else every position) and the saved templates."""
    from conceptcoach.store.concepts import list_concepts, list_prototypes
    from conceptcoach.store.players import list_groups, list_players
    from conceptcoach.store.sessions import list_templates

    db = ctx.db
    # Known ideas (static concepts) check the method; the core refuses them as lessons.
    concepts = [c for c in list_concepts(db) if not c.is_control and c.status != "candidate" and c.kind != "static"]
    tests: dict[int, int] = {}
    for c in concepts:
        protos = list_prototypes(db, c.id)
        verified = any(p.verification for p in protos)
        tests[c.id] = sum(p.verified_quiz_item for p in protos) if verified else len(protos)
    return {"players": list_players(db), "groups": list_groups(db), "concepts": concepts,
            "templates": list_templates(db), "test_positions": tests}


@dataclass(frozen=True)
class ItemView:
    """What the runner needs to show the current item (built on the DB thread)."""

    state: Any  # study.runner.SessionState
    lesson: Any = None  # study.runner.Lesson for learning items
    heat: list[float] | None = None
    prototype_id: int | None = None
    seconds: float | None = None
    summary: dict[Phase, Any] | None = None  # when finished: phase -> scoring.PhaseTally, concepts only
    note: Any = None  # store.notes.Note: the coach's note and marks on this learning position (newest)


def item_view(db: Any, session_id: int, state: Any = None) -> ItemView:
    """The view of the session's current item; ``state`` when the caller has it already
    (an answer or a study record returns the state after it: no second read)."""
    from conceptcoach.store.concepts import get_prototype
    from conceptcoach.store.notes import position_note
    from conceptcoach.study.runner import lesson, phase_tally, session_state

    if state is None:
        state = session_state(db, session_id)
    seconds = state.session.spec.get("seconds_per_position")
    item = state.current
    if item is None:
        return ItemView(state, seconds=seconds, summary=phase_tally(db, session_id))
    proto_id = item.source_id if item.source == "prototype" else None
    if item.phase != Phase.LEARNING:
        return ItemView(state, prototype_id=proto_id, seconds=seconds)
    heat = note = None
    if proto_id is not None:
        try:
            heat = get_prototype(db, proto_id).heat
        except KeyError:
            heat = None
        # This session's note on the position, else the newest the coach wrote on it in
        # another session (a position taught again to another player).
        note = position_note(db, proto_id, session_id=session_id) or position_note(db, proto_id)
    return ItemView(state, lesson(db, item), heat, proto_id, seconds, note=note)


__all__ = ["ItemView", "item_view", "load_setup"]
