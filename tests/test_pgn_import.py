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


# ---- PGN as other programs and sites write it: damaged layout, real games -------------------

REAL_GAMES = "masters_historical_1859-1946.pgn.gz"


def _real_game_lines(shared_data: Path, count: int = 4) -> list[list[str]]:
    """The first ``count`` games of a real file as their own lines (CRLF kept): each
    game's tags, a blank line and its movetext, without the blank line after it."""
    with gzip.open(shared_data / "human" / REAL_GAMES, "rb") as fh:
        lines = fh.read().decode("utf-8").splitlines(keepends=True)
    games: list[list[str]] = []
    for k, line in enumerate(lines):
        if line.startswith("[Event ") and (k == 0 or not lines[k - 1].strip()):
            if len(games) == count:
                break
            games.append([])
        if games:
            games[-1].append(line)
    for g in games:
        while not g[-1].strip():
            g.pop()
    return games


def _expected(games: list[list[str]]) -> list[tuple[dict[str, str], list[str]]]:
    """(tags, UCI moves) of each clean game, as python-chess reads it."""
    import io

    out = []
    for g in games:
        game = chess.pgn.read_game(io.StringIO("".join(g)))
        assert game is not None and not game.errors
        out.append((dict(game.headers), [m.uci() for m in game.mainline_moves()]))
    return out


def _write(tmp_path: Path, name: str, games: list[list[str]], *, joins: list[str] | None = None) -> Path:
    """The games in one file, each separated from the next by ``joins[k]`` (a blank line by default)."""
    parts = ["".join(games[0])]
    for k, g in enumerate(games[1:]):
        parts.append((joins or [])[k] if joins and k < len(joins) else "\r\n")
        parts.append("".join(g))
    path = tmp_path / name
    path.write_bytes("".join(parts).encode("utf-8"))
    return path


def _stored(db) -> list[tuple[dict[str, str], list[str]]]:  # type: ignore[no-untyped-def]
    import json

    return [(json.loads(r["headers"]), r["moves"].split())
            for r in db.query("SELECT headers, moves FROM games WHERE source = 'human' ORDER BY game_index")]


def _line_of(path: Path, needle: str) -> int:
    lines = path.read_bytes().decode("utf-8").splitlines()
    return next(k for k, text in enumerate(lines, 1) if needle in text)


@pytest.fixture
def real_games(shared_data: Path) -> tuple[list[list[str]], list[tuple[dict[str, str], list[str]]]]:
    games = _real_game_lines(shared_data)
    return games, _expected(games)


def test_games_without_a_blank_line_between_them(store, real_games, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    games, expected = real_games
    # The movetext of game 1 runs straight into the tags of game 2 (no blank line):
    # python-chess alone gives game 2's tags to game 1 and stores game 2 without tags.
    path = _write(tmp_path, "no-blank.pgn", games, joins=["", "\r\n", "\r\n"])
    report = import_pgn(store, path)
    assert (report.games_read, report.imported, report.problems) == (4, 4, [])
    assert _stored(store) == expected
    assert [(r.game_number, r.line) for r in report.repairs] == [(2, len(games[0]) + 1)]
    assert "no blank line" in report.repairs[0].reason


def test_tag_line_broken_in_the_middle(store, real_games, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    games, expected = real_games
    k = games[1].index('[Black "Steinitz, William"]\r\n')
    games[1][k:k + 1] = ['[Black "Steinitz,\r\n', 'William"]\r\n']
    path = _write(tmp_path, "broken-tag.pgn", games)
    report = import_pgn(store, path)
    assert (report.games_read, report.imported, report.problems) == (4, 4, [])
    assert _stored(store) == expected  # the tag is whole again: "Steinitz, William"
    assert [(r.game_number, r.line) for r in report.repairs] == [(2, _line_of(path, '[Black "Steinitz,'))]
    assert "joined" in report.repairs[0].reason


def test_unterminated_tag(store, real_games, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    games, expected = real_games
    k = games[2].index('[Site "Vienna"]\r\n')
    games[2][k] = '[Site "Vienna\r\n'
    path = _write(tmp_path, "unterminated.pgn", games)
    report = import_pgn(store, path)
    assert (report.games_read, report.imported, report.problems) == (4, 4, [])
    assert _stored(store) == expected
    assert [(r.game_number, "unterminated tag closed" in r.reason) for r in report.repairs] == [(3, True)]


def test_garbage_between_games(store, real_games, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    games, expected = real_games
    banner = "\r\nDownloaded from a chess site, visit us again!\r\n<p>More games at example.org</p>\r\n\r\n"
    path = _write(tmp_path, "garbage.pgn", games, joins=["\r\n", banner])
    report = import_pgn(store, path)
    # The text is not counted as a game: game numbers stay those of the games.
    assert (report.games_read, report.imported, report.problems) == (4, 4, [])
    assert _stored(store) == expected
    [repair] = report.repairs
    assert (repair.game_number, repair.line) == (3, _line_of(path, "Downloaded from"))
    assert "skipped" in repair.reason and "Downloaded from" in repair.reason


def test_game_without_tags(store, real_games, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    games, expected = real_games
    blank = games[1].index("\r\n")
    games[1] = games[1][blank + 1:]  # movetext only
    path = _write(tmp_path, "no-tags.pgn", games)
    report = import_pgn(store, path)
    assert (report.games_read, report.imported, report.problems, report.repairs) == (4, 4, [], [])
    stored = _stored(store)
    assert stored[1] == ({}, expected[1][1])
    assert stored[:1] + stored[2:] == expected[:1] + expected[2:]


def test_illegal_move_mid_game_is_reported_and_the_next_game_imported(store, real_games, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    games, expected = real_games
    k = next(i for i, text in enumerate(games[1]) if text.startswith("9.d4 e4"))
    games[1][k] = games[1][k].replace("9.d4 e4", "9.Ke4 e4")  # the white king is on g1
    path = _write(tmp_path, "illegal.pgn", games, joins=["\r\n", ""])  # and no blank line after it
    report = import_pgn(store, path)
    assert (report.games_read, report.imported) == (4, 3)
    [problem] = report.problems
    assert (problem.game_number, problem.line) == (2, _line_of(path, "9.Ke4"))
    assert "Ke4" in problem.reason and problem.file == str(path)
    assert _stored(store) == [expected[0], *expected[2:]]
    assert [r.game_number for r in report.repairs] == [3]


def test_blank_line_inside_the_movetext(store, real_games, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    games, expected = real_games
    k = next(i for i, text in enumerate(games[3]) if text.startswith(("9.", "10.", "11.")))
    games[3].insert(k, "\r\n")
    path = _write(tmp_path, "blank-in-moves.pgn", games)
    report = import_pgn(store, path)
    assert (report.games_read, report.imported, report.problems) == (4, 4, [])
    assert _stored(store) == expected
    assert [(r.game_number, "blank line inside the movetext" in r.reason) for r in report.repairs] == [(4, True)]


def test_every_damage_at_once_loses_no_valid_game(store, shared_data: Path, tmp_path: Path) -> None:
    """All the kinds of damage above in one file of 12 real games, plus the malformed
    files' own damage appended: every valid game is stored whole, every other reported."""
    games = _real_game_lines(shared_data, count=12)
    expected = _expected(games)
    games[1] = games[1][games[1].index("\r\n") + 1:]  # no tags
    k = games[3].index('[Site "Vienna"]\r\n')
    games[3][k] = '[Site "Vienna\r\n'  # unterminated
    k = next(i for i, t in enumerate(games[5]) if t.startswith('[White '))
    name = games[5][k][len('[White "'):-len('"]\r\n')]
    head, _, tail = name.partition(" ")
    games[5][k:k + 1] = [f'[White "{head}\r\n', f'{tail}"]\r\n'] if tail else [games[5][k]]
    k = next(i for i, t in enumerate(games[7]) if t[:1].isdigit())
    games[7][k] = "1.Ke4 " + games[7][k].split(" ", 1)[1]  # illegal first move
    joins = ["\r\n", "", "\r\nwww.example.org chess archive\r\n\r\n", "\r\n", "", "\r\n", "", "\r\n", "\r\n", "",
             "\r\n"]
    path = _write(tmp_path, "everything.pgn", games, joins=joins)
    malformed = (shared_data / "malformed" / "chessalyzer_bad-san-mid-file.pgn").read_bytes()
    with open(path, "ab") as fh:
        fh.write(b"\r\n" + malformed)
    report = import_pgn(store, path)
    assert report.games_read == 15
    assert [(p.game_number, p.line) for p in report.problems] == [
        (8, _line_of(path, "1.Ke4")), (14, _line_of(path, "1. Nf9"))]
    stored = _stored(store)
    assert len(stored) == report.imported == 13
    want = [e for k, e in enumerate(expected) if k != 7]
    want[1] = ({}, want[1][1])
    assert stored[:11] == want

