"""Quiz items verified by Stockfish: wrong answers rejected, every good answer accepted,
decided and history-dependent positions kept out of tests, lines cut where they fail."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import chess
import pytest
from conceptcoach.concepts.verify import Verifier, VerifyParams, find_stockfish

pytestmark = pytest.mark.stockfish

HANGING_QUEEN = "4k3/8/8/3q4/8/8/8/3RK3 w - - 0 1"  # Rxd5 wins the queen


@pytest.fixture(scope="module")
def verifier():  # type: ignore[no-untyped-def]
    if find_stockfish() is None:
        pytest.skip("Stockfish is not installed: install the Debian package 'stockfish' (make test does)")
    with Verifier(VerifyParams(depth=10, line_depth=8)) as v:
        yield v


def test_a_move_that_drops_the_queen_is_rejected(verifier) -> None:  # type: ignore[no-untyped-def]
    verdict = verifier.verify(HANGING_QUEEN, "e1e2")
    assert verdict.status == "rejected" and not verdict.quiz_item
    assert verdict.best_move == "d1d5" and verdict.loss_cp is not None and verdict.loss_cp >= 300
    assert "Rxd5" in verdict.reasons[0]


def test_the_winning_capture_is_accepted(verifier) -> None:  # type: ignore[no-untyped-def]
    verdict = verifier.verify(HANGING_QUEEN, "d1d5")
    assert verdict.status == "verified" and verdict.accepted == {"d1d5": verdict.best_cp}
    assert verdict.clear  # one move stands out
    assert verdict.decided  # and the position is decided after it: not a test item
    assert not verdict.quiz_item


def test_every_move_within_the_margin_is_accepted(verifier) -> None:  # type: ignore[no-untyped-def]
    verdict = verifier.verify(chess.STARTING_FEN, "e2e4")
    assert verdict.status == "verified" and verdict.quiz_item
    assert len(verdict.accepted) >= 2 and "e2e4" in verdict.accepted and not verdict.clear
    best = max(verdict.evals.values())
    assert all(best - cp <= verdict.params["margin_cp"] for cp in verdict.accepted.values())
    assert all(best - cp > verdict.params["margin_cp"] for m, cp in verdict.evals.items() if m not in verdict.accepted)


def test_answers_that_depend_on_the_games_history_are_not_quiz_items(verifier) -> None:  # type: ignore[no-untyped-def]
    fifty = verifier.verify("8/8/4k3/8/8/4K3/4P3/8 w - - 85 120", "e3d4")
    assert fifty.history_dependent and not fifty.quiz_item
    # The teacher saw a draw (a repetition in its game) where the position alone is winning.
    draw = verifier.verify(HANGING_QUEEN, "d1d5", teacher_value=0.0)
    assert draw.history_dependent and any("repetition" in r for r in draw.reasons)


def test_the_teachers_line_is_cut_where_it_drops_material(verifier) -> None:  # type: ignore[no-untyped-def]
    verdict = verifier.verify(HANGING_QUEEN, "d1d5", line=["d1d5", "e8e7", "d5d6", "e7d6"])
    assert verdict.line == ["d1d5", "e8e7"] and verdict.line_cut_at == 2


def test_library_check_reports_and_writes_the_verdicts(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    if find_stockfish() is None:
        pytest.skip("Stockfish is not installed")
    from conceptcoach.cli.main import main
    from conceptcoach.concepts.library import load_default_library
    from conceptcoach.store.concepts import list_concepts, list_prototypes
    from conceptcoach.store.db import open_store

    repo = Path(__file__).resolve().parents[1]
    lib = tmp_path / "lib"
    lib.mkdir()
    body = json.loads((repo / "assets" / "library" / "library.json").read_text())
    body["concepts"] = body["concepts"][:1]
    body["concepts"][0]["prototypes"] = body["concepts"][0]["prototypes"][:3]
    (lib / "library.json").write_text(json.dumps(body))
    shutil.copy(repo / "assets" / "library" / "vectors.npy", lib / "vectors.npy")
    code = main(["--data-dir", str(tmp_path / "data"), "library", "check", "--library", str(lib), "--depth", "8",
                 "--line-depth", "6", "--write"])
    out = capsys.readouterr().out
    assert code == 0
    assert "teacher's move within the margin" in out and "concepts with fewer than 12 verified quiz items: 1 of 1" in out
    db = open_store(tmp_path / "fresh.sqlite")
    assert load_default_library(db, lib) == 1
    protos = list_prototypes(db, list_concepts(db)[0].id)
    assert len(protos) == 3 and all(p.verification and p.verification["params"]["depth"] == 8 for p in protos)
    for p in protos:
        assert set(p.accepted_moves()) == set(p.verification["accepted"])
        assert p.verified_quiz_item == p.verification["quiz_item"]
    # --stored reports the verdicts just written without Stockfish: the same shares.
    assert main(["--data-dir", str(tmp_path / "data"), "library", "check", "--library", str(lib), "--stored"]) == 0
    stored = capsys.readouterr().out
    assert stored.splitlines()[1:] == out.splitlines()[1:len(stored.splitlines())]
    assert "Stockfish depth 8" in stored.splitlines()[0]
    assert main(["--data-dir", str(tmp_path / "data"), "library", "check", "--library", str(lib), "--stored",
                 "--write"]) == 2
    assert "nothing to --write" in capsys.readouterr().err
