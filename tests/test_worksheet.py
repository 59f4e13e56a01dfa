"""Printable worksheets: diagram pages then the answer key, rendered by poppler (pdftoppm,
pdftotext) as a coach's printer would see them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import chess
import pytest
import sqlite_utils
from conceptcoach.io.worksheet import (
    WorksheetItem,
    concept_worksheet_items,
    line_san,
    session_worksheet_items,
    worksheet_pdf,
    write_worksheet,
)
from conceptcoach.store.players import add_player
from conceptcoach.study.plan import PlanSpec, create_sessions


def _poppler(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.skip(f"{tool} is missing: `make system-deps` installs the Debian package poppler-utils")
    return found


def _pages_png(pdf: Path, out: Path, dpi: int = 40) -> list[Path]:
    subprocess.run([_poppler("pdftoppm"), "-r", str(dpi), "-png", str(pdf), str(out / "page")],
                   check=True, capture_output=True, timeout=120)
    return sorted(out.glob("page-*.png"))


def _page_text(pdf: Path, page: int) -> str:
    done = subprocess.run([_poppler("pdftotext"), "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          check=True, capture_output=True, text=True, timeout=60)
    return done.stdout


def _ink(png: Path) -> float:
    """Share of the page's pixels that are not white."""
    from PIL import Image

    with Image.open(png) as im:
        histogram = im.convert("L").histogram()
    return sum(histogram[:235]) / sum(histogram)


@pytest.fixture
def session_store(store: sqlite_utils.Database, study_library: SimpleNamespace) -> tuple[sqlite_utils.Database, int]:
    ids = study_library.build(store, concepts=2, per_concept=14, failed=0)
    player = add_player(store, "Zoë Ærø-Łukasiewicz")
    sid = create_sessions(store, PlanSpec([player.id], ids, per_phase=2, seed=5, label="Tuesday")).session_ids[0]
    return store, sid


def test_session_worksheet_diagrams_then_answers(session_store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, sid = session_store
    items = session_worksheet_items(db, sid)
    assert [it.label for it in items[:3]] == ["Pre-test 1", "Pre-test 2", "Pre-test 3"]
    assert len(items) == 12 and {it.label.split()[0] for it in items} == {"Pre-test", "Learning", "Post-test"}
    path = tmp_path / "sheet.pdf"
    sheet = write_worksheet(db, path, session_id=sid)
    assert (sheet.positions, sheet.diagram_pages, sheet.answer_pages) == (12, 2, 1)

    pngs = _pages_png(path, tmp_path)
    assert len(pngs) == 3
    ink = [_ink(p) for p in pngs]
    assert min(ink[:2]) > 0.08, ink  # six boards a page
    assert 0.003 < ink[2] < min(ink[:2]), ink  # text only, not blank

    diagrams = _page_text(path, 1) + _page_text(path, 2)
    assert "Answer key" not in diagrams
    assert diagrams.count("to move") == 12 and "Move" in diagrams and "Line" in diagrams
    assert "Zoë Ærø-Łukasiewicz: session" in diagrams and "Tuesday" in diagrams
    answers = _page_text(path, 3)
    assert "Answer key" in answers
    for number, it in enumerate(items, 1):
        board = chess.Board(it.fen)
        assert f"{number}." in answers
        assert board.san(chess.Move.from_uci(it.move)) in answers
    # The whole line in SAN, numbered from the position.
    longest = max(items, key=lambda it: len(it.line))
    assert len(longest.line) > 1
    assert line_san(longest.fen, longest.line) in " ".join(answers.split())


def test_concept_worksheet_by_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  study_library: SimpleNamespace) -> None:
    from conceptcoach.bootstrap import store_path
    from conceptcoach.cli import main
    from conceptcoach.store.db import open_store

    data = tmp_path / "data"
    db = open_store(store_path(str(data)))
    ids = study_library.build(db, concepts=1, per_concept=9, failed=0)
    items = concept_worksheet_items(db, ids[0])
    db.close()
    out = tmp_path / "out" / "concept.pdf"
    assert main(["--data-dir", str(data), "export", "pdf", "--concept", str(ids[0]), str(out), "--per-page", "4"]) == 0
    printed = capsys.readouterr().out
    assert "9 positions on 3 diagram page(s), answer key on 1" in printed
    pngs = _pages_png(out, tmp_path)
    assert len(pngs) == 4 and all(_ink(p) > 0.003 for p in pngs)
    assert "Answer key" in _page_text(out, 4) and "Answer key" not in _page_text(out, 3)
    first = chess.Board(items[0].fen)
    assert f"{'White' if first.turn else 'Black'} to move" in _page_text(out, 1)

    assert main(["--data-dir", str(data), "export", "pdf", "--session", "99", str(out)]) == 2
    assert "99" in capsys.readouterr().err


def test_worksheet_refuses_bad_requests(store: sqlite_utils.Database, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        write_worksheet(store, tmp_path / "x.pdf")
    with pytest.raises(ValueError, match="no positions"):
        worksheet_pdf("t", "s", [])
    item = WorksheetItem("", chess.STARTING_FEN, "e2e4")
    with pytest.raises(ValueError, match="4 or 6"):
        worksheet_pdf("t", "s", [item], per_page=5)
    path = tmp_path / "seven.pdf"
    path.write_bytes(worksheet_pdf("Title with ünïcode – and a dash", "s", [item] * 7, per_page=6))
    assert len(_pages_png(path, tmp_path)) == 3  # six diagrams, one, the answer key
    assert "Title with ünïcode – and a dash" in _page_text(path, 1)
