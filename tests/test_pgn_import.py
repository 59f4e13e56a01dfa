"""PGN import on real files: malformed ones from the wild and a slice of master games."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import chess
import pytest
from conceptcoach.io.pgn_import import corpus_name, import_errors, import_pgn
from conceptcoach.progress import Cancelled


def _count(db, sql: str, args=()) -> int:  # type: ignore[no-untyped-def]
    return int(next(iter(db.query(sql, list(args))))["n"])


def test_malformed_files_report_every_bad_game(store, shared_data: Path) -> None:
    folder = shared_data / "malformed"
    bad_san = import_pgn(store, folder / "chessalyzer_bad-san-mid-file.pgn")
    assert (bad_san.imported, len(bad_san.problems)) == (2, 1)
    problem = bad_san.problems[0]
    assert problem.game_number == 2 and problem.line == 15 and "Nf9" in problem.reason
    assert problem.file.endswith("chessalyzer_bad-san-mid-file.pgn")

    corrupt = import_pgn(store, folder / "chessalyzer_corrupt.pgn")
    assert corrupt.imported == 1
    assert [(p.game_number, p.line) for p in corrupt.problems] == [(2, 6)]
    assert "truncated" in corrupt.problems[0].reason

    bom = import_pgn(store, folder / "pythonchess_utf8-bom.pgn")
    assert bom.imported == 0
    assert [p.game_number for p in bom.problems] == [1, 2]
    assert all("no moves" in p.reason for p in bom.problems)

    stored = import_errors(store)
    assert len(stored) == 4
    assert {(Path(p.file).name, p.game_number) for p in stored} == {
        ("chessalyzer_bad-san-mid-file.pgn", 2), ("chessalyzer_corrupt.pgn", 2),
        ("pythonchess_utf8-bom.pgn", 1), ("pythonchess_utf8-bom.pgn", 2),
    }
    # The valid games are whole: positions replay to the stored moves.
    for game in store.query("SELECT id, start_fen, moves FROM games WHERE source = 'human'"):
        board = chess.Board(game["start_fen"])
        fens = [r["fen"] for r in store.query("SELECT fen FROM positions WHERE game_id = ? ORDER BY ply", [game["id"]])]
        for fen, uci in zip(fens, game["moves"].split(), strict=False):
            assert board.fen() == fen
            board.push_uci(uci)
        assert board.fen() == fens[-1]


def test_reimport_does_not_duplicate(store, shared_data: Path) -> None:
    path = shared_data / "human" / "masters_historical_1859-1946.pgn.gz"
    first = import_pgn(store, path, max_games=60)
    assert first.games_read == 60 and first.imported + first.duplicates == 60 and first.imported > 50
    games = _count(store, "SELECT COUNT(*) AS n FROM games")
    positions = _count(store, "SELECT COUNT(*) AS n FROM positions")
    again = import_pgn(store, path, max_games=60)
    assert again.imported == 0 and again.duplicates == 60
    assert _count(store, "SELECT COUNT(*) AS n FROM games") == games
    assert _count(store, "SELECT COUNT(*) AS n FROM positions") == positions
    assert sorted(set(again.game_ids)) == sorted(set(first.game_ids))
    assert _count(store, "SELECT COUNT(*) AS n FROM games WHERE corpus = ?", [corpus_name(path)]) == games
    assert corpus_name(path) == "masters_historical_1859-1946"


def test_interrupted_import_resumes(store, shared_data: Path, tmp_path: Path) -> None:
    # A plain copy of the first games, big enough for two batches.
    src = shared_data / "human" / "lichess_fgf_sample_3000.pgn.gz"
    plain = tmp_path / "slice.pgn"
    with gzip.open(src, "rb") as fin, open(plain, "wb") as fout:
        shutil.copyfileobj(fin, fout)
    def stop_after_first_batch() -> bool:
        return True

    with pytest.raises(Cancelled):
        import_pgn(store, plain, max_games=450, should_stop=stop_after_first_batch)
    partial = _count(store, "SELECT COUNT(*) AS n FROM games")
    assert 0 < partial < 450
    report = import_pgn(store, plain, max_games=450)
    assert report.resumed_after == partial
    assert report.games_read == 450
    assert _count(store, "SELECT COUNT(*) AS n FROM games") == partial + report.imported
    assert partial + report.imported + report.duplicates == 450
