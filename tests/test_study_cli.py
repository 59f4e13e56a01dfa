"""`conceptcoach player/session/positions/export` end to end on a real store file."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import chess
import chess.pgn
import pytest
from conceptcoach.bootstrap import store_path
from conceptcoach.cli import main
from conceptcoach.store.attempts import list_attempts
from conceptcoach.store.db import open_store
from conceptcoach.store.sessions import session_items


def _cli(capsys: pytest.CaptureFixture[str], data: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_session_by_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], study_library: SimpleNamespace) -> None:
    data = tmp_path / "data"
    db = open_store(store_path(str(data)))
    ids = study_library.build(db, concepts=2, per_concept=8, failed=1)
    db.close()

    code, out, _ = _cli(capsys, data, "player", "add", "Ada", "--rating", "1850")
    assert code == 0 and out.startswith("player 1: Ada")
    code, out, _ = _cli(capsys, data, "session", "create", "--player", "Ada", "--concept", str(ids[0]),
                        "--concept", str(ids[1]), "--per-phase", "2", "--control", "1", "--seed", "7",
                        "--save-template", "two ideas")
    assert code == 0 and "seed 7, 15 items per session" in out and "session 1 for player 1" in out

    code, _, err = _cli(capsys, data, "session", "create", "--player", "Nobody", "--concept", str(ids[0]))
    assert code == 2 and "Nobody" in err

    db = open_store(store_path(str(data)))
    items = {it.id: it for it in session_items(db, 1)}
    db.close()
    steps = 0
    while True:
        code, out, _ = _cli(capsys, data, "session", "next", "1", "--json")
        cur = json.loads(out)["current"]
        if cur is None:
            break
        it = items[cur["item"]]
        if cur["phase"] == "learning":
            assert "lesson" in cur and cur["lesson"]["move_uci"] == it.expected[0]
            code, out, _ = _cli(capsys, data, "session", "answer", "1", "--studied", "--ms", "2000")
        elif cur["phase"] == "pre" and not it.is_control:
            # A wrong answer in SAN for every concept pre-test position: gain = +2 of 2.
            board = chess.Board(it.fen)
            san = board.san(chess.Move.from_uci(study_library.wrong_move(it.fen, it.expected)))
            code, out, _ = _cli(capsys, data, "session", "answer", "1", san, "--ms", "5000")
            assert "not the teacher's move" in out and "partial credit" in out
        else:
            code, out, _ = _cli(capsys, data, "session", "answer", "1", it.expected[0])
            assert out.startswith(chess.Board(it.fen).san(chess.Move.from_uci(it.expected[0])) + ": correct")
        assert code == 0
        steps += 1
    assert steps == 15

    code, out, _ = _cli(capsys, data, "session", "show", "1", "--json")
    shown = json.loads(out)
    assert shown["state"]["phase"] == "done"
    res = shown["results"]
    assert res["overall"]["mean_gain_positions"] == 2.0 and res["control"]["mean_gain_positions"] == 0.0
    assert res["net_gain_positions"] == 2.0
    code, out, _ = _cli(capsys, data, "session", "list")
    assert "\tdone\t15/15\t" in out
    # Both concepts were reviewed (post-test 2/2: Easy) just now: scheduled, none due yet.
    code, out, _ = _cli(capsys, data, "review", "Ada")
    assert code == 0 and out.strip() == "nothing due"
    code, out, _ = _cli(capsys, data, "review", "Ada", "--all")
    assert code == 0 and len(out.splitlines()) == 2 and "Idea 0" in out and "1 review(s), last 100%" in out

    # Exports from the command line, read back.
    out_dir = tmp_path / "out"
    assert _cli(capsys, data, "export", "csv", str(out_dir / "a.csv"), "--player", "Ada")[0] == 0
    with open(out_dir / "a.csv", encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.DictReader(f))) == 10
    assert _cli(capsys, data, "export", "json", "1", str(out_dir / "s.json"))[0] == 0
    assert json.loads((out_dir / "s.json").read_text())["gains"]["overall"]["mean_gain_positions"] == 2.0
    assert _cli(capsys, data, "export", "pgn", str(ids[0]), str(out_dir / "c.pgn"))[0] == 0
    with open(out_dir / "c.pgn", encoding="utf-8") as f:
        assert chess.pgn.read_game(f) is not None
    code, out, _ = _cli(capsys, data, "export", "epd", str(out_dir / "q.epd"), "--concept", str(ids[0]))
    assert code == 0 and "8 positions" in out
    assert _cli(capsys, data, "export", "html", str(out_dir / "r.html"))[0] == 0
    assert "<svg" in (out_dir / "r.html").read_text()

    # A new session from the template never reuses a position the player met: 8 - 6 met
    # leaves 2 per concept, the template's plan needs 3 phases x 2.
    code, _, err = _cli(capsys, data, "session", "create", "--template", "two ideas")
    assert code == 2 and "needs 6" in err and "has 2 unused" in err


def test_answer_errors_store_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     study_library: SimpleNamespace, epd_text: str) -> None:
    data = tmp_path / "data"
    db = open_store(store_path(str(data)))
    ids = study_library.build(db, concepts=1, per_concept=6, failed=0)
    db.close()
    _cli(capsys, data, "player", "add", "Ben")
    _cli(capsys, data, "session", "create", "--player", "1", "--concept", str(ids[0]), "--per-phase", "2")
    for bad in ("e9e4", "Qxz9", "a1a1"):
        code, _, err = _cli(capsys, data, "session", "answer", "1", bad)
        assert code == 2 and err.startswith("error: ") and bad in err
    code, _, err = _cli(capsys, data, "session", "answer", "1", "--studied")
    assert code == 2 and "pre-test" in err
    db = open_store(store_path(str(data)))
    assert list_attempts(db) == []
    db.close()

    path = tmp_path / "quiz.epd"
    path.write_text(epd_text, encoding="utf-8")
    code, out, err = _cli(capsys, data, "positions", "import", str(path), "--set", "Quiz")
    assert code == 1 and "3 added" in out and f"{path}:4:" in err
