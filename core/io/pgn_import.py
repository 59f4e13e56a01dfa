"""Streamed import of human games from PGN files (plain or .gz, any size) into the store.

Real PGN files are messy. The importer is lenient in reading and strict in
reporting: every valid game is stored (source ``'human'``, with one ``positions``
row per ply), every bad one is reported with its file, game number, line and
reason (kept in ``import_errors`` and returned), and the import never stops on a
bad game. A game's digest (``store.games.game_digest``) makes re-importing a file,
or a game that appears in two files, a no-op for that game.

The file is read line by line through ``io.pgn_reader.PgnLineReader`` (python-chess's
``read_game`` only ever calls ``readline``), so a reported line is the line the
parser was reading when it met the problem. The reader also repairs the layout of
files as other programs write them (games not separated by a blank line, tag lines
broken or unterminated, text between games); each repair is listed in
``report.repairs`` and no valid game is lost to it.

An interrupted import (``should_stop`` or Ctrl-C) keeps every batch committed so
far; running it again resumes after the last committed game.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, cast

import chess
import chess.pgn
import sqlite_utils
from conceptcoach.io.pgn_reader import PgnLineReader, Repair, open_binary
from conceptcoach.progress import Cancelled, ProgressFn, StopFn, never_stop, no_progress
from conceptcoach.store.db import transaction
from conceptcoach.store.games import (
    GameRecord,
    add_game_with_positions,
    game_digest,
    human_game_ids,
)
from conceptcoach.store.imports import (
    ImportProblem,
    add_import_errors,
    clear_import_errors,
    forget_import_run,
    import_errors,
)
from conceptcoach.store.runs import finish_run, get_run, set_run_summary, start_run

__all__ = [
    "BATCH_GAMES", "ImportProblem", "ImportReport", "corpus_name", "human_game_ids", "import_errors",
    "import_pgn", "import_run_id",
]

BATCH_GAMES = 200


@dataclass
class ImportReport:
    """What an import did. ``game_ids`` holds the store id of every valid game of the
    file, whether it was added now or was already there."""

    file: str
    corpus: str
    run_id: str
    games_read: int = 0
    imported: int = 0
    duplicates: int = 0
    positions: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    game_ids: list[int] = field(default_factory=list)
    resumed_after: int = 0
    # What the reader changed in the file's layout to read its games (joined tag lines,
    # separated games, skipped text between games); none of them cost a game.
    repairs: list[ImportProblem] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "file": self.file, "corpus": self.corpus, "games_read": self.games_read,
            "imported": self.imported, "duplicates": self.duplicates, "positions": self.positions,
            "bad_games": len(self.problems), "repairs": len(self.repairs), "resumed_after": self.resumed_after,
        }


def corpus_name(path: str | os.PathLike[str]) -> str:
    """The default corpus of a file: its name without .gz and .pgn."""
    name = Path(path).name
    for suffix in (".gz", ".pgn", ".PGN"):
        name = name.removesuffix(suffix)
    return name


@dataclass
class _Parsed:
    first_line: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    start_fen: str = chess.STARTING_FEN
    fens: list[str] = field(default_factory=list)
    moves: list[str] = field(default_factory=list)
    final_fen: str = chess.STARTING_FEN
    result_token: str | None = None
    errors: list[tuple[int, str]] = field(default_factory=list)


class _Collector(chess.pgn.BaseVisitor[_Parsed]):
    """Collects the mainline (FEN before each move, UCI) without building a game tree."""

    def __init__(self, reader: PgnLineReader) -> None:
        self._reader = reader
        self._game = _Parsed()
        self._last: chess.Board | None = None

    def begin_game(self) -> None:
        self._game = _Parsed(first_line=self._reader.line_no)

    def visit_header(self, tagname: str, tagvalue: str) -> None:
        self._game.headers[tagname] = tagvalue

    def begin_variation(self) -> chess.pgn.SkipType:
        return chess.pgn.SKIP

    def visit_board(self, board: chess.Board) -> None:
        if self._last is None:
            self._game.start_fen = board.fen()
        self._last = board

    def visit_move(self, board: chess.Board, move: chess.Move) -> None:
        self._game.fens.append(board.fen())
        self._game.moves.append(move.uci())

    def visit_result(self, result: str) -> None:
        self._game.result_token = result

    def handle_error(self, error: Exception) -> None:
        self._game.errors.append((self._reader.line_no, str(error)))

    def result(self) -> _Parsed:
        for line, words in self._reader.unreadable:
            self._game.errors.append((line, f"unreadable movetext {words!r} (not a move in SAN)"))
        self._reader.unreadable.clear()
        self._game.errors.sort()
        if self._last is not None:
            self._game.final_fen = self._last.fen()
        return self._game


def _problem_of(game: _Parsed) -> str | None:
    """Why a parsed game cannot be imported, or None if it can."""
    variant = game.headers.get("Variant", "").strip().lower()
    if variant and variant not in ("standard", "chess", "normal", "from position"):
        return f"variant {game.headers['Variant']!r} is not standard chess; only standard games are imported"
    if game.errors:
        return "; ".join(msg for _, msg in game.errors)
    if not game.moves:
        return "the game has no moves; nothing to import"
    if game.result_token is None:
        return ("the movetext ends without a result token (1-0, 0-1, 1/2-1/2 or *): "
                "the file looks truncated here")
    return None


def _as_problems(file: Path, repairs: Sequence[Repair]) -> list[ImportProblem]:
    return [ImportProblem(str(file), r.game_number, r.line, r.what) for r in repairs]


def import_run_id(path: str | os.PathLike[str], corpus: str) -> str:
    key = hashlib.sha256(f"{Path(path).resolve()}|{corpus}".encode()).hexdigest()[:10]
    return f"import-{corpus}-{key}"


def import_pgn(
    db: sqlite_utils.Database,
    path: str | os.PathLike[str],
    corpus: str | None = None,
    *,
    max_games: int | None = None,
    progress: ProgressFn = no_progress,
    should_stop: StopFn = never_stop,
) -> ImportReport:
    """Import the games of one PGN file (``.pgn`` or ``.pgn.gz``) into ``db``.

    ``corpus`` names the set the games belong to (default: the file name without
    .pgn/.gz). ``max_games`` stops after that many games of the file (a slice).
    Returns an :class:`ImportReport`; bad games are in ``report.problems`` and in the
    ``import_errors`` table. Raises ``FileNotFoundError`` for a missing file and
    :class:`Cancelled` when ``should_stop()`` turned true (committed games are kept;
    importing again resumes).
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such PGN file")
    corpus = corpus or corpus_name(file)
    run_id = import_run_id(file, corpus)
    params = {"file": str(file.resolve()), "corpus": corpus, "max_games": max_games}
    previous = get_run(db, run_id)
    if previous is not None and previous["params"] != params:
        # Same file and corpus with another slice: the earlier record is replaced, games stay.
        forget_import_run(db, run_id)
        previous = None
    resume_after = 0
    if previous is not None and previous["status"] != "done" and previous["summary"]:
        resume_after = int(previous["summary"].get("games_done", 0))
    else:
        clear_import_errors(db, run_id)
    start_run(db, run_id, "import", params)
    report = ImportReport(file=str(file), corpus=corpus, run_id=run_id, resumed_after=resume_after)
    if resume_after:
        report.problems = import_errors(db, run_id)

    total_bytes = file.stat().st_size
    stream, position, close = open_binary(file)
    reader = PgnLineReader(stream, position)
    pending: list[tuple[int, _Parsed]] = []
    pending_problems: list[ImportProblem] = []
    number = 0
    try:
        while max_games is None or number < max_games:
            if number >= resume_after:
                parsed = chess.pgn.read_game(cast(TextIO, reader), Visitor=lambda: _Collector(reader))
            else:
                # Already committed by an earlier run: skip without replaying the moves.
                parsed = None
                found = chess.pgn.read_headers(cast(TextIO, reader))
                reader.repairs.clear()  # reported by the run that imported these games
                if found is None:
                    break
                number += 1
                continue
            report.repairs.extend(_as_problems(file, reader.repairs))
            reader.repairs.clear()
            if parsed is None:
                break
            number += 1
            reason = _problem_of(parsed)
            if reason is not None:
                line = next((ln for ln, _ in parsed.errors), parsed.first_line)
                pending_problems.append(ImportProblem(str(file), number, line, reason))
            else:
                pending.append((number, parsed))
            if len(pending) + len(pending_problems) >= BATCH_GAMES:
                _commit(db, report, pending, pending_problems, corpus, run_id, number)
                pending, pending_problems = [], []
                progress(reader.bytes_read(), total_bytes, f"import: {file.name}: {number} games")
                if should_stop():
                    raise Cancelled(f"import of {file} stopped after {number} games; run it again to resume")
        _commit(db, report, pending, pending_problems, corpus, run_id, number)
    finally:
        close()
    report.games_read = number
    progress(total_bytes, total_bytes, f"import: {file.name}: {number} games")
    finish_run(db, run_id, {**report.summary(), "games_done": number})
    return report


def _commit(
    db: sqlite_utils.Database,
    report: ImportReport,
    games: Sequence[tuple[int, _Parsed]],
    problems: Sequence[ImportProblem],
    corpus: str,
    run_id: str,
    games_done: int,
) -> None:
    """Store one batch of games and problems, and the resume point, in one transaction."""
    with transaction(db):
        for number, g in games:
            record = GameRecord(
                source="human", start_fen=g.start_fen, moves=g.moves,
                result=g.headers.get("Result", g.result_token or "*"), headers=g.headers,
                game_index=number, corpus=corpus, digest=game_digest(g.start_fen, g.moves, g.headers),
            )
            positions: list[tuple[str, str | None]] = [*zip(g.fens, g.moves, strict=True), (g.final_fen, None)]
            game_id, stored = add_game_with_positions(db, record, positions)
            if stored:
                report.imported += 1
                report.positions += stored
            else:
                report.duplicates += 1
            report.game_ids.append(game_id)
        add_import_errors(db, run_id, problems)
        report.problems.extend(problems)
        set_run_summary(db, run_id, {**report.summary(), "games_done": games_done})
