"""Custom positions from EPD and PGN files: good ones stored, bad ones reported with
file, line and game number, and the import never stops on bad input."""

from __future__ import annotations

from pathlib import Path

import chess
import pytest
import sqlite_utils
from conceptcoach.io.exports import write_concept_pgn, write_epd_quiz
from conceptcoach.io.positions_import import (
    import_positions,
    list_position_sets,
    list_set_positions,
)
from conceptcoach.store.concepts import list_prototypes
from conceptcoach.store.imports import import_errors
from conceptcoach.store.players import add_player
from conceptcoach.store.sessions import session_items
from conceptcoach.study.plan import ControlSpec, PlanSpec, create_sessions

EPD = """\
# a coach's quiz set
rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - bm e5; id "q1"; c0 "=cmd|' /C calc'!A0";
r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - bm Bb5 Bc4; pv Bb5 a6 Ba4; id "q2";
this is not an epd line at all
rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - bm Ke2; id "illegal";

8/8/8/8/8/8/8/8 w - - id "empty board";
rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - bm d5; id "dup";
4k3/8/8/8/8/8/8/4K2R w K - id "no move";
"""

PGN = """\
[Event "Lucena"]
[SetUp "1"]
[FEN "1K1k4/1P6/8/8/8/8/r7/2R5 w - - 0 1"]

{ White to play and win } 1. Rd1+ Ke7 2. Kc7 *

[Event "From the start"]

1. e4 e5 *

[Event "Illegal"]
[SetUp "1"]
[FEN "4k3/8/8/8/8/8/8/4K2R w K - 0 1"]

1. Rh9 Kd7 *

[Event "Bad FEN"]
[SetUp "1"]
[FEN "4k3/8/8/8/8/8/8/4K2R x K - 0 1"]

1. Rh8+ *

[Event "Two kings missing"]
[SetUp "1"]
[FEN "8/8/8/8/8/8/8/8 w - - 0 1"]

*

[Event "Vancura"]
[SetUp "1"]
[FEN "6k1/8/8/8/8/5K2/P1r5/1R6 w - - 0 1"]

1. Rb8+ Kg7 2. a4 *
"""


def test_epd_import(store: sqlite_utils.Database, tmp_path: Path) -> None:
    path = tmp_path / "quiz.epd"
    path.write_text(EPD, encoding="utf-8")
    rep = import_positions(store, path)
    assert rep.set_name == "quiz" and rep.read == 7
    assert rep.added == 3 and rep.duplicates == 1 and rep.without_move == 1
    where = [(p.file, p.line) for p in rep.problems]
    assert where == [(str(path), 4), (str(path), 5), (str(path), 7)]
    assert "unreadable EPD" in rep.problems[0].reason
    assert "illegal" in rep.problems[1].reason.lower() or "Ke2" in rep.problems[1].reason
    assert "not a legal chess position" in rep.problems[2].reason and "no white king" in rep.problems[2].reason
    got = list_set_positions(store, rep.set_id)
    assert [p.label for p in got] == ["q1", "q2", "no move"]
    assert got[0].best_moves == ("e7e5",) and got[0].comment == "=cmd|' /C calc'!A0"
    assert got[1].best_moves == ("f1b5", "f1c4") and got[1].line == ("f1b5", "a7a6", "b5a4")
    assert got[2].best_moves == ()
    stored = import_errors(store, without_run=True)
    assert [p.line for p in stored] == [4, 5, 7] and {p.file for p in stored} == {str(path)}
    # Importing again adds nothing.
    again = import_positions(store, path)
    assert again.set_id == rep.set_id and again.added == 0 and again.duplicates == 4
    assert [s.count for s in list_position_sets(store)] == [3]


def test_pgn_import(store: sqlite_utils.Database, tmp_path: Path) -> None:
    path = tmp_path / "endings.pgn"
    path.write_text(PGN, encoding="utf-8")
    rep = import_positions(store, path, set_name="Endings")
    assert rep.read == 6 and rep.added == 2
    problems = {p.game_number: p for p in rep.problems}
    assert sorted(problems) == [2, 3, 4, 5]
    assert "no FEN header" in problems[2].reason and problems[2].line == 7
    assert "Rh9" in problems[3].reason and problems[3].line == 15
    assert problems[4].line >= 18 and "fen" in problems[4].reason.lower()
    assert "no white king" in problems[5].reason
    got = list_set_positions(store, rep.set_id)
    assert [p.label for p in got] == ["Lucena", "Vancura"]
    assert got[0].best_moves == ("c1d1",) and got[0].line == ("c1d1", "d8e7", "b8c7")
    assert got[0].comment == "White to play and win" and got[0].source_line == 1
    assert got[1].source_line == 6


def test_missing_file(store: sqlite_utils.Database, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.epd"):
        import_positions(store, tmp_path / "nope.epd")


def test_exports_import_back_and_serve_as_controls(store: sqlite_utils.Database, tmp_path: Path,
                                                   study_library) -> None:  # type: ignore[no-untyped-def]
    ids = study_library.build(store, concepts=2, per_concept=10, failed=0)
    protos = list_prototypes(store, ids[1])
    write_epd_quiz(store, [ids[1]], tmp_path / "c1.epd")
    write_concept_pgn(store, ids[1], tmp_path / "c1.pgn")
    from_epd = import_positions(store, tmp_path / "c1.epd", "from epd")
    from_pgn = import_positions(store, tmp_path / "c1.pgn", "from pgn")
    assert from_epd.added == from_pgn.added == 10 and not from_epd.problems and not from_pgn.problems
    for pos in (list_set_positions(store, from_epd.set_id), list_set_positions(store, from_pgn.set_id)):
        assert [chess.Board(p.fen).epd() for p in pos] == [chess.Board(p.fen).epd() for p in protos]
        assert [p.best_moves[0] for p in pos] == [p.best_move for p in protos]
    # A set is a control source for a plan: the controls come from its positions.
    player = add_player(store, "Cora")
    spec = PlanSpec([player.id], [ids[0]], per_phase=2,
                    control=ControlSpec(count=1, source="set", set_id=from_pgn.set_id), seed=3)
    items = session_items(store, create_sessions(store, spec).session_ids[0])
    controls = [it for it in items if it.is_control]
    assert len(controls) == 3 and all(it.source == "set" for it in controls)
