"""Exports read back with real parsers: csv, json, python-chess (PGN and EPD), html.parser."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import chess
import chess.pgn
import sqlite_utils
from conceptcoach.io.exports import (
    export_attempts_csv,
    export_concept_pgn,
    export_epd,
    export_html_report,
    export_session_json,
    read_attempts_csv,
    safe_cell,
)
from conceptcoach.store.attempts import list_attempts
from conceptcoach.store.concepts import get_concept, list_prototypes
from conceptcoach.store.players import add_player
from conceptcoach.store.sessions import session_items
from conceptcoach.study.plan import ControlSpec, PlanSpec, create_sessions
from conceptcoach.study.stats import compute_gains
from test_study_library import build_library
from test_study_session import run_session


def _played_sessions(db: sqlite_utils.Database) -> tuple[list[int], list[int], list[int]]:
    """Two players, three concepts plus controls; some pre-test answers wrong so gains differ."""
    ids = build_library(db, concepts=3, per_concept=12, failed=1)
    # Names a spreadsheet would take for formulas: they must come back as text.
    p1 = add_player(db, "=HYPERLINK(\"http://x\",\"click\")", rating=1900)
    p2 = add_player(db, "@Bea -2", notes="+note")
    sessions = []
    for k, p in enumerate((p1, p2)):
        spec = PlanSpec([p.id], ids[:3], per_phase=2, control=ControlSpec(count=1), seed=5 + k)
        sid = create_sessions(db, spec).session_ids[0]
        items = session_items(db, sid)
        wrong = {it.id: False for it in items if it.phase == "pre" and it.concept_id in (ids[k], ids[2])}
        run_session(db, sid, wrong)
        sessions.append(sid)
    return ids, sessions, [p1.id, p2.id]


def test_safe_cell_escapes_formulas() -> None:
    assert safe_cell("=1+2") == "'=1+2"
    assert safe_cell("+x") == "'+x" and safe_cell("-x") == "'-x" and safe_cell("@x") == "'@x"
    assert safe_cell("\tx") == "'\tx" and safe_cell("\rx") == "'\rx"
    assert safe_cell("Nf3") == "Nf3" and safe_cell(-0.25) == "-0.25" and safe_cell(None) == ""
    assert safe_cell(True) == "1"


def test_csv_round_trip_and_injection_safe(store: sqlite_utils.Database, tmp_path: Path) -> None:
    _, sessions, players = _played_sessions(store)
    res = export_attempts_csv(store, tmp_path / "out" / "attempts.csv")
    log = list_attempts(store)
    assert res.items == len(log) == 2 * (3 * 4 + 2)  # 3 concepts x (2 pre + 2 post) + 2 control answers
    with open(res.path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(log)
    # No cell a spreadsheet would evaluate.
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "@", "\t", "\r"))
            if cell.startswith("-"):
                float(cell)  # only numbers may start with '-'
    names = {r["player_name"] for r in rows}
    assert names == {"'=HYPERLINK(\"http://x\",\"click\")", "'@Bea -2"}
    assert [int(r["attempt_id"]) for r in rows] == [a.id for a in log]
    assert {r["fen"] for r in rows} == {a.fen for a in log}
    # The statistics from the file equal the statistics from the store.
    back = read_attempts_csv(res.path)
    assert {b.player_name for b in back} == {"=HYPERLINK(\"http://x\",\"click\")", "@Bea -2"}
    from_file = compute_gains(back, seed=3, n_boot=2000)
    from_store = compute_gains(log, seed=3, n_boot=2000)
    assert from_file.overall == from_store.overall and from_file.net_gain == from_store.net_gain
    assert from_store.overall is not None and from_store.overall.mean_gain_positions > 0


def test_session_json(store: sqlite_utils.Database, tmp_path: Path) -> None:
    ids, sessions, _ = _played_sessions(store)
    res = export_session_json(store, sessions[0], tmp_path / "s.json", n_boot=1000)
    data = json.loads(Path(res.path).read_text(encoding="utf-8"))
    assert data["session"]["id"] == sessions[0] and data["session"]["seed"] == 5
    assert len(data["items"]) == 3 * 6 + 3 and len(data["attempts"]) == 14
    by = data["results"]["by_concept"]
    # Player 1 missed both pre-test positions of concepts 0 and 2, got all the rest.
    assert by[str(ids[0])]["mean_gain_positions"] == 2.0 and by[str(ids[1])]["mean_gain_positions"] == 0.0
    assert by[str(ids[0])]["name"] == "Idea 0"
    assert abs(data["results"]["overall"]["mean_gain_positions"] - 4 / 3) < 1e-12


def test_pgn_study_reads_back(store: sqlite_utils.Database, tmp_path: Path) -> None:
    ids = build_library(store, concepts=1, per_concept=6, failed=0)
    res = export_concept_pgn(store, ids[0], tmp_path / "c.pgn")
    protos = list_prototypes(store, ids[0])
    assert res.items == 6
    with open(res.path, encoding="utf-8") as f:
        games = []
        while (g := chess.pgn.read_game(f)) is not None:
            games.append(g)
    assert len(games) == 6
    for g, p in zip(games, protos, strict=True):
        assert not g.errors, g.errors
        assert g.headers["SetUp"] == "1" and g.headers["FEN"] == p.fen
        assert g.headers["Event"].startswith("Idea 0")
        moves = [m.uci() for m in g.mainline_moves()]
        assert moves[0] == p.best_move and len(moves) >= 1
        best = chess.Move.from_uci(p.best_move)
        arrow = f"G{chess.square_name(best.from_square)}{chess.square_name(best.to_square)}"
        assert [(chess.square_name(a.tail) + chess.square_name(a.head)) for a in g.arrows()] == [arrow[1:]]
        assert "Visits:" in g.comment and "60%" in g.comment and "+0.300" in g.comment


def test_epd_reads_back(store: sqlite_utils.Database, tmp_path: Path) -> None:
    ids = build_library(store, concepts=2, per_concept=5, failed=0)
    res = export_epd(store, ids, tmp_path / "quiz.epd")
    lines = Path(res.path).read_text(encoding="utf-8").splitlines()
    assert res.items == len(lines) == 10
    expected = [(p.fen, p.best_move, get_concept(store, cid).name) for cid in ids for p in list_prototypes(store, cid)]
    for line, (fen, best, name) in zip(lines, expected, strict=True):
        board, ops = chess.Board.from_epd(line)
        assert board.epd() == chess.Board(fen).epd()
        assert ops["bm"] == [chess.Move.from_uci(best)] and ops["c0"] == name
        assert str(ops["id"]).startswith("cc-test-")


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_report_parses(store: sqlite_utils.Database, tmp_path: Path) -> None:
    _played_sessions(store)
    res = export_html_report(store, tmp_path / "r.html", n_boot=500)
    text = Path(res.path).read_text(encoding="utf-8")
    parser = _Collect()
    parser.feed(text)
    parser.close()
    assert parser.tags.count("svg") == 2 and "table" in parser.tags and "script" not in parser.tags
    body = " ".join(parser.text)
    assert "@media print" in body
    assert "Idea 0" in body and "@Bea -2" in body
    # The player name with markup characters is escaped, not injected.
    assert "=HYPERLINK(\"http://x\",\"click\")" in body
    assert re.search(r"\+1\.33 of 2", body)  # overall: (2 + 0 + 2)/3 and (0 + 2 + 2)/3 = 4/3 positions of 2
    assert res.items == 2


def test_csv_is_readable_by_excel_dialect(store: sqlite_utils.Database, tmp_path: Path) -> None:
    _played_sessions(store)
    res = export_attempts_csv(store, tmp_path / "a.csv", player_ids=[1])
    raw = Path(res.path).read_bytes()
    assert raw.count(b"\r\n") == res.items + 1
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    assert all(len(r) == len(rows[0]) for r in rows)
