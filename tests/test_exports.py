"""Every export read back by a real parser: csv, json, python-chess (PGN, EPD), html.parser."""

from __future__ import annotations

import csv
import json
from html.parser import HTMLParser
from pathlib import Path

import chess
import chess.pgn
import pytest
import sqlite_utils
from conceptcoach.io.exports import (
    CSV_COLUMNS,
    FORMULA_TRIGGERS,
    read_attempts_csv,
    spreadsheet_safe,
    write_attempts_csv,
    write_concept_pgn,
    write_epd_quiz,
    write_html_report,
    write_session_json,
)
from conceptcoach.store.concepts import get_concept, list_prototypes
from conceptcoach.store.notes import add_note
from conceptcoach.store.players import add_player
from conceptcoach.study.plan import ControlSpec, PlanSpec, create_sessions
from conceptcoach.study.stats import compute_gains, gain_report

EVIL_NAMES = ('=HYPERLINK("http://x.example","click")', "<script>alert(1)</script>")


@pytest.fixture
def played(store: sqlite_utils.Database, study_library) -> tuple[sqlite_utils.Database, list[int], list[int]]:  # type: ignore[no-untyped-def]
    ids = study_library.build(store, concepts=3, per_concept=12, failed=1)
    sessions = []
    for k, name in enumerate(EVIL_NAMES):
        p = add_player(store, name, notes="+notes")
        spec = PlanSpec([p.id], ids[:3], per_phase=4, control=ControlSpec(count=1), seed=20 + k)
        sid = create_sessions(store, spec).session_ids[0]
        study_library.play(store, sid, {("pre", ids[0]): 1, ("post", ids[0]): 3 + k, ("pre", ids[1]): 2, ("post", ids[1]): 2,
                          ("pre", ids[2]): 0, ("post", ids[2]): 2})
        sessions.append(sid)
    return store, ids, sessions


def test_spreadsheet_safe() -> None:
    for t in FORMULA_TRIGGERS:
        assert spreadsheet_safe(t + "1+1") == "'" + t + "1+1"
    assert spreadsheet_safe("Ada") == "Ada" and spreadsheet_safe("") == ""
    # Numbers stay numbers: a quote would make a spreadsheet read them as text.
    for number in ("-0.3057", "-1", "+2", "-.5", "-1e-05", "0.25"):
        assert spreadsheet_safe(number) == number
    for text in ("-", "-x", "- 3", "-1+2", "-inf", "+A1"):
        assert spreadsheet_safe(text) == "'" + text


NUMERIC_COLUMNS = ("attempt_id", "session_id", "player_id", "concept_id", "is_control", "correct",
                   "partial_credit", "value_drop", "visit_share", "response_ms", "hints", "network_id")


def _with_negative_drop(db: sqlite_utils.Database, session_id: int) -> int:
    """One more attempt whose answer the teacher's figures rate above its own move (a
    negative value drop, as real searches give): the number a spreadsheet must keep negative."""
    from conceptcoach.store.attempts import NewAttempt, append_attempt, list_attempts

    a = list_attempts(db, session_ids=[session_id])[0]
    extra = append_attempt(db, NewAttempt(
        session_id=a.session_id, item_id=None, player_id=a.player_id, phase="review", concept_id=a.concept_id,
        is_control=False, fen=a.fen, expected=a.expected, answer_uci=a.answer_uci, answer_san=a.answer_san,
        correct=False, value_drop=-0.3057, visit_share=0.1, partial_credit=1.0, response_ms=-5,
    ), once_per_item=False)
    return extra.id


def test_csv_reads_with_its_types_in_python(played, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, ids, sessions = played
    negative = _with_negative_drop(db, sessions[0])
    path = tmp_path / "attempts.csv"
    write_attempts_csv(db, path)
    assert not path.read_bytes().startswith(b"\xef\xbb\xbf"), "a byte-order mark renames the first column"
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    for row in rows:
        for col in NUMERIC_COLUMNS:
            if row[col] != "":
                float(row[col])  # raises for text such as "'-0.3057"
    row = next(r for r in rows if int(r["attempt_id"]) == negative)
    assert float(row["value_drop"]) == -0.3057 and row["value_drop"] == "-0.3057"
    assert int(row["response_ms"]) == -5
    assert {r["player"] for r in rows} == {"'" + EVIL_NAMES[0], EVIL_NAMES[1]}
    assert next(a for a in read_attempts_csv(path) if a.id == negative).value_drop == -0.3057


def _xlsx_cells(path: Path) -> list[dict[str, tuple[str, str]]]:
    """Rows of an .xlsx's first sheet as {column letter: (cell type, text)}; the type is
    "n" for a number, "s"/"str"/"inlineStr" for text, "f" when the cell holds a formula."""
    import re
    import zipfile
    from xml.etree import ElementTree

    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(path) as z:
        shared = [("".join(t.text or "" for t in si.iter(f"{{{ns['m']}}}t")))
                  for si in ElementTree.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", ns)]
        sheet = ElementTree.fromstring(z.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iter(f"{{{ns['m']}}}row"):
        cells: dict[str, tuple[str, str]] = {}
        for c in row.findall("m:c", ns):
            col = re.sub(r"\d", "", c.get("r", ""))
            kind = "f" if c.find("m:f", ns) is not None else c.get("t", "n")
            v = c.find("m:v", ns)
            text = "" if v is None else (v.text or "")
            cells[col] = (kind, shared[int(text)] if kind == "s" else text)
        rows.append(cells)
    return rows


@pytest.mark.slow
def test_csv_opens_with_numbers_in_libreoffice(played, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A real spreadsheet (LibreOffice Calc, headless) reads the CSV: numbers are numbers,
    negative values negative, and no cell is a formula."""
    import shutil
    import subprocess

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is missing: `make system-deps` installs libreoffice-calc-nogui")
    db, ids, sessions = played
    negative = _with_negative_drop(db, sessions[0])
    path = tmp_path / "attempts.csv"
    write_attempts_csv(db, path)
    # Comma-separated, '"' quotes, UTF-8 (76), from line 1, English (1033) decimal point:
    # how Calc's import dialog reads the file on an English system.
    done = subprocess.run(
        [soffice, f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}", "--headless",
         "--infilter=CSV:44,34,76,1,,1033", "--convert-to", "xlsx", "--outdir", str(tmp_path), str(path)],
        capture_output=True, text=True, timeout=300)
    xlsx = tmp_path / "attempts.xlsx"
    assert xlsx.exists(), done.stdout + done.stderr
    rows = _xlsx_cells(xlsx)
    header = {cell[1]: col for col, cell in rows[0].items()}
    assert set(header) == set(CSV_COLUMNS)
    assert len(rows) == 1 + len(list(csv.DictReader(path.open(encoding="utf-8", newline=""))))
    for row in rows[1:]:
        assert all(kind != "f" for kind, _ in row.values()), row
        for name in NUMERIC_COLUMNS:
            if header[name] in row:
                assert row[header[name]][0] == "n", (name, row[header[name]])
        assert row[header["player"]][0] != "n" and row[header["fen"]][0] != "n"
    by_id = {int(float(r[header["attempt_id"]][1])): r for r in rows[1:]}
    assert float(by_id[negative][header["value_drop"]][1]) == -0.3057
    names = {r[header["player"]][1] for r in rows[1:]}
    assert "'" + EVIL_NAMES[0] in names  # shown as text, never run


def test_csv_round_trip_and_no_formula(played, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, ids, sessions = played
    path = tmp_path / "attempts.csv"
    n = write_attempts_csv(db, path)
    assert n == 2 * (3 * 8 + 2)  # 3 concepts x (4 pre + 4 post) + 1 control pre + 1 post, per player
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == n + 1
    text_cols = [CSV_COLUMNS.index(c) for c in ("player", "phase", "concept", "fen", "expected", "answer_uci", "answer_san")]
    for row in rows[1:]:
        for i in text_cols:
            assert not row[i].startswith(FORMULA_TRIGGERS), row[i]
    names = {r[CSV_COLUMNS.index("player")] for r in rows[1:]}
    assert "'" + EVIL_NAMES[0] in names and EVIL_NAMES[1] in names
    # The statistics recomputed from the CSV alone equal those from the store.
    back = read_attempts_csv(path)
    assert compute_gains(back, seed=3).overall == gain_report(db, seed=3).overall
    assert compute_gains(back, seed=3).control == gain_report(db, seed=3).control


def test_session_json(played, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, ids, sessions = played
    add_note(db, "Saw the knight manoeuvre", session_id=sessions[0])
    path = tmp_path / "s.json"
    write_session_json(db, sessions[0], path, seed=1, n_boot=500)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "conceptcoach-session" and data["session"]["id"] == sessions[0]
    assert data["state"]["phase"] == "done" and len(data["items"]) == 3 * 12 + 3
    assert len(data["attempts"]) == 26 and len(data["studied"]) == 13
    assert [n["text"] for n in data["notes"]] == ["Saw the knight manoeuvre"]
    assert data["player"]["name"] == EVIL_NAMES[0] and data["session"]["spec"]["seed"] == 20
    units = {u["concept_id"]: u for u in data["gains"]["units"] if not u["is_control"]}
    assert (units[ids[0]]["pre_correct"], units[ids[0]]["post_correct"]) == (1, 3)
    assert data["gains"]["overall"]["mean_gain_positions"] == pytest.approx((2 + 0 + 2) / 3)


def test_pgn_study_reads_back(played, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, ids, _ = played
    path = tmp_path / "idea.pgn"
    n = write_concept_pgn(db, ids[0], path)
    protos = list_prototypes(db, ids[0])
    assert n == len(protos) == 12
    games = []
    with open(path, encoding="utf-8") as fh:
        while (g := chess.pgn.read_game(fh)) is not None:
            games.append(g)
    assert len(games) == 12
    for g, p in zip(games, protos, strict=True):
        assert not g.errors
        assert g.headers["SetUp"] == "1" and g.headers["FEN"] == p.fen and g.board().fen() == p.fen
        moves = [m.uci() for m in g.mainline_moves()]
        assert moves[0] == p.best_move and moves == p.line[:len(moves)]
        arrows = g.arrows()
        assert arrows[0].color == "green" and chess.Move(arrows[0].tail, arrows[0].head).uci() == p.best_move
        assert "Teacher's search" in g.comment and "60%" in g.comment
        assert g.headers["ChapterName"].startswith(get_concept(db, ids[0]).name)


def test_epd_quiz_reads_back(played, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, ids, _ = played
    path = tmp_path / "quiz.epd"
    assert write_epd_quiz(db, ids[:2], path) == 24
    lines = path.read_text(encoding="utf-8").splitlines()
    protos = list_prototypes(db, ids[0]) + list_prototypes(db, ids[1])
    for line, p in zip(lines, protos, strict=True):
        board, ops = chess.Board.from_epd(line)
        assert board.board_fen() == chess.Board(p.fen).board_fen()
        assert [m.uci() for m in ops["bm"]] == [p.best_move]  # type: ignore[union-attr]
        assert ops["c0"] == get_concept(db, p.concept_id).name and str(ops["id"]).endswith(f"/{p.id}")
        assert [m.uci() for m in ops["pv"]] == p.line  # type: ignore[union-attr]


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.text: list[str] = []
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.ids.extend(v for k, v in attrs if k == "id" and v)
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data
        self.text.append(data)


def test_html_report_parses_and_prints(played, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, ids, _ = played
    path = tmp_path / "report.html"
    write_html_report(db, path, seed=0, n_boot=500)
    p = _Collect()
    p.feed(path.read_text(encoding="utf-8"))
    assert p.tags.count("svg") == 2 and p.tags.count("table") == 4  # overall, concepts, players, sessions
    assert "script" not in p.tags, "a player's name was not escaped"
    assert len(p.ids) == len(set(p.ids)), "two inline plots share an element id"
    assert "text" in p.tags  # plot labels stay text: selectable and crisp in print
    assert "@media print" in p.style
    text = " ".join(p.text)
    assert EVIL_NAMES[1] in text and "Idea 0" in text and "Per session" in text
    # Overall: concept units gains (2, 0, 2) and (3, 0, 2) positions -> 9/6 = +1.50.
    assert "+1.50 positions of 4" in text and "Gain net of the control items" in text


def test_html_report_without_results(store: sqlite_utils.Database, tmp_path: Path) -> None:
    path = tmp_path / "empty.html"
    write_html_report(store, path)
    p = _Collect()
    p.feed(path.read_text(encoding="utf-8"))
    assert "svg" not in p.tags and "no gain to report" in " ".join(p.text)


def test_pgn_marks_the_concepts_hottest_squares(store: sqlite_utils.Database, tmp_path: Path) -> None:
    import numpy as np
    from conceptcoach.io.exports import concept_pgn_text
    from conceptcoach.store.concepts import NewPrototype, add_concept

    heat = [0.0] * 64
    heat[chess.E4], heat[chess.D5], heat[chess.F6], heat[chess.A1] = 0.9, 0.8, 0.7, 0.1
    cid = add_concept(store, uid="heat", name="Centre", layer="block3", kind="dynamic", status="novel",
                      vector=np.ones(4, dtype=np.float32),
                      prototypes=[NewPrototype(fen=chess.STARTING_FEN, best_move="e2e4", line=["e2e4", "e7e5"],
                                               visits={"e2e4": {"n": 3, "q": 0.1, "p": 0.5}}, heat=heat)])
    import io

    game = chess.pgn.read_game(io.StringIO(concept_pgn_text(store, cid)))
    assert game is not None and not game.errors
    marks = {a.tail for a in game.arrows() if a.tail == a.head}
    assert marks == {chess.E4, chess.D5, chess.F6}
    assert [m.uci() for m in game.mainline_moves()] == ["e2e4", "e7e5"]


# ---- PGN study: the whole line, accepted alternatives, read by python-chess and pgn-extract ---


def _first_legal_line(board: chess.Board, first: chess.Move, length: int) -> list[str]:
    """``first`` and then the first legal move (in UCI order) each ply: a legal line."""
    b = board.copy()
    line = []
    mv: chess.Move | None = first
    while mv is not None and len(line) < length:
        line.append(mv.uci())
        b.push(mv)
        mv = min(b.legal_moves, key=lambda m: m.uci(), default=None)
    return line


@pytest.fixture
def study_concept(store: sqlite_utils.Database, study_library) -> tuple[sqlite_utils.Database, int]:  # type: ignore[no-untyped-def]
    """A concept on six real positions whose prototypes carry every kind of line: the
    teacher's whole line (six moves), a line that follows another root move, the move
    alone, and engine verdicts with accepted alternatives."""
    import numpy as np
    from conceptcoach.store.concepts import NewPrototype, add_concept

    protos = []
    for k, (fen, best, line, game) in enumerate(study_library.real_positions(6, next_moves=6)):
        board = chess.Board(fen)
        others = sorted((m for m in board.legal_moves if m.uci() != best), key=lambda m: m.uci())
        verdict = None
        if k in (0, 3):  # verified: two more moves accepted
            verdict = {"status": "verified", "best_cp": 40, "accepted": {best: 30, others[0].uci(): 35,
                                                                          others[1].uci(): 20},
                       "quiz_item": True, "line": line, "line_cut_at": 4 if k == 3 else None}
        if k == 1:  # the stored line is the principal variation of another move
            line = _first_legal_line(board, others[0], 5)
        if k == 2:
            line = [best]
        protos.append(NewPrototype(fen=fen, best_move=best, line=line, value=0.2,
                                   visits=study_library.visits_for(fen, best), game_key=game, verification=verdict))
    cid = add_concept(store, uid="pgn-study", name="Knight {outposts} on the rim", layer="block4", kind="dynamic",
                      status="novel", vector=np.ones(8, dtype=np.float32), prototypes=protos)
    from conceptcoach.store.concepts import annotate_concept

    annotate_concept(store, cid, "Across 6 positions. Piece moved: knight 50%. A }brace{ in the text.")
    return store, cid


def _expected_chapters(db: sqlite_utils.Database, concept_id: int) -> list[tuple[list[str], list[list[str]]]]:
    """(mainline, variations) in UCI per prototype, from the store."""
    out = []
    for p in list_prototypes(db, concept_id):
        board = chess.Board(p.fen)
        legal = []
        for uci in p.line:
            mv = chess.Move.from_uci(uci)
            if mv not in board.legal_moves:
                break
            legal.append(uci)
            board.push(mv)
        if legal and legal[0] == p.best_move:
            main, variations = legal, []
        else:
            main, variations = [p.best_move], [legal] if legal else []
        for alt in p.accepted_moves():
            if alt != p.best_move and not any(v[0] == alt for v in variations):
                variations.append([alt])
        out.append((main, variations))
    return out


def test_pgn_study_chapters_carry_whole_lines(study_concept, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, cid = study_concept
    path = tmp_path / "study.pgn"
    assert write_concept_pgn(db, cid, path) == 6
    expected = _expected_chapters(db, cid)
    assert [len(main) for main, _ in expected] == [6, 1, 1, 6, 6, 6]
    assert [len(v) for _, v in expected] == [2, 1, 0, 2, 0, 0]
    games = []
    with open(path, encoding="utf-8") as fh:
        while (g := chess.pgn.read_game(fh)) is not None:
            games.append(g)
    assert len(games) == 6
    for g, p, (main, variations) in zip(games, list_prototypes(db, cid), expected, strict=True):
        assert not g.errors
        assert g.headers["Event"] == "Concept: Knight {outposts} on the rim"
        assert g.headers["SetUp"] == "1" and g.headers["FEN"] == p.fen
        assert [m.uci() for m in g.mainline_moves()] == main
        got_vars = []
        for v in g.variations[1:]:
            got_vars.append([v.move.uci(), *[m.uci() for m in v.mainline_moves()]])
        assert got_vars == variations
        assert "Across 6 positions. Piece moved: knight 50%." in g.comment
    assert "Also accepted" in games[0].variations[1].starting_comment
    assert "principal line follows" in games[1].variations[1].starting_comment
    assert "engine finds the line losing" in list(games[3].mainline())[4].comment


def _pgn_extract() -> str:
    import shutil

    found = shutil.which("pgn-extract") or ("/usr/games/pgn-extract" if Path("/usr/games/pgn-extract").exists()
                                            else None)
    if found is None:
        pytest.skip("pgn-extract is missing: `make system-deps` installs the Debian package pgn-extract")
    return found


def _pgn_extract_games(exe: str, path: Path, tmp_path: Path, *args: str) -> tuple[list[list[str]], str]:
    """Games as pgn-extract rewrites them in long algebraic notation (its UCI output drops
    variations): movetext tokens, lower-cased like UCI, with '(' and ')' kept and move
    numbers and results dropped; and pgn-extract's log."""
    import re
    import subprocess

    out, log = tmp_path / "out.pgn", tmp_path / "log.txt"
    subprocess.run([exe, "-Wlalg", "--nocomments", "-o", str(out), "-l", str(log), *args, str(path)],
                   check=True, capture_output=True, timeout=60)
    games: list[list[str]] = []
    for block in out.read_text(encoding="utf-8").split("\n\n"):
        block = block.strip()
        if block and not block.startswith("["):
            tokens = block.replace("(", " ( ").replace(")", " ) ").split()
            games.append([t.lower().rstrip("+#") for t in tokens
                          if not re.fullmatch(r"\d+\.+", t) and t not in ("*", "1-0", "0-1", "1/2-1/2")])
    return games, log.read_text(encoding="utf-8")


def test_pgn_study_reads_in_pgn_extract(study_concept, played, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A second, independent PGN parser reads every chapter with its whole line and its
    variations, and reports no error."""
    exe = _pgn_extract()
    db, cid = study_concept
    for concept_id in (cid, played[1][0]):
        path = tmp_path / f"study{concept_id}.pgn"
        n = write_concept_pgn(db, concept_id, path)
        expected = _expected_chapters(db, concept_id)
        mainlines, log = _pgn_extract_games(exe, path, tmp_path, "--novars")
        assert f"{n} games matched out of {n}" in log and "Failed" not in log and "Unknown" not in log, log
        assert mainlines == [main for main, _ in expected]
        with_vars, _ = _pgn_extract_games(exe, path, tmp_path)
        for tokens, (main, variations) in zip(with_vars, expected, strict=True):
            # The first move, then each variation in parentheses, then the rest of the line.
            want = [main[0]]
            for v in variations:
                want += ["(", *v, ")"]
            assert tokens == want + main[1:]


def test_export_file_names_follow_one_pattern() -> None:
    """Every export is named {player}-{scope}-{what}.{kind}; the PGN study and a concept's
    worksheet add the concept (the PGN study was 'concept7-study.pgn', unlike the others)."""
    from conceptcoach.io.exports import EXPORT_KINDS, export_file_name

    names = {kind: export_file_name(kind, player="Anna Kowalska", session_id=3, concept_id=7)
             for kind in EXPORT_KINDS}
    assert names == {
        "csv": "Anna_Kowalska-session3-attempts.csv", "json": "Anna_Kowalska-session3-results.json",
        "pgn": "Anna_Kowalska-session3-concept7-study.pgn", "epd": "Anna_Kowalska-session3-quiz.epd",
        "html": "Anna_Kowalska-session3-report.html", "pdf": "Anna_Kowalska-session3-concept7-worksheet.pdf",
    }
    assert all(name.startswith("Anna_Kowalska-session3") for name in names.values())
    assert export_file_name("pgn", player="Ada", concept_id=2) == "Ada-all-concept2-study.pgn"
    assert export_file_name("pdf", player="", session_id=4) == "player-session4-worksheet.pdf"
    with pytest.raises(ValueError, match="unknown export"):
        export_file_name("docx", player="Ada")
