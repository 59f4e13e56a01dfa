"""Import of custom positions (a coach's own quiz sets) into a named position set.

Two formats:

* EPD quiz sets, one position a line: ``bm`` (best moves), ``pv`` (a line), ``id``
  and ``c0`` (a comment) are kept; blank lines and ``#`` / ``%`` comment lines are
  skipped.
* PGN games with a FEN set-up: the start position is the custom position, the first
  mainline move is its best move and the mainline its line; ``Event`` is the label
  and the game's first comment the comment. A game without a FEN header starts from
  the initial position, which is not a custom position, and is reported.

Bad input never stops an import: every bad line or game is reported with its file,
line (and game number for PGN) and reason, in :attr:`PositionImportReport.problems`
and in the ``import_errors`` table like the PGN game importer's problems, and the
rest of the file is read. A position already in the set (same FEN) is counted as a
duplicate and left as it is. Positions are stored in ``position_sets`` /
``set_positions``; a study plan can use a set as control items.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO, cast

import chess
import chess.pgn
import sqlite_utils
from conceptcoach.io.pgn_reader import PgnLineReader, open_binary
from conceptcoach.store.db import transaction
from conceptcoach.store.imports import ImportProblem, add_import_errors
from conceptcoach.store.position_sets import (
    add_set_position,
    get_or_add_set,
    position_sets,
    set_positions,
)

__all__ = [
    "CustomPosition", "NewCustomPosition", "PositionImportReport", "PositionSet", "get_or_add_set",
    "import_positions", "list_position_sets", "list_set_positions",
]


@dataclass(frozen=True)
class NewCustomPosition:
    fen: str
    best_moves: tuple[str, ...]  # UCI; empty when the source gave none
    line: tuple[str, ...] = ()
    label: str = ""
    comment: str = ""
    source_line: int | None = None  # EPD line or PGN game number


@dataclass(frozen=True)
class CustomPosition(NewCustomPosition):
    id: int = 0
    set_id: int = 0


@dataclass(frozen=True)
class PositionSet:
    id: int
    name: str
    source_file: str
    created_at: str
    count: int


@dataclass
class PositionImportReport:
    file: str
    set_id: int
    set_name: str
    read: int = 0  # positions (EPD lines or PGN games) read, good or bad
    added: int = 0
    duplicates: int = 0
    without_move: int = 0  # stored, but with no best move (cannot be a test item)
    problems: list[ImportProblem] = field(default_factory=list)


def _position_problem(board: chess.Board) -> str | None:
    if board.is_valid():
        return None
    status = board.status()
    reasons = [flag.name.lower().replace("_", " ") for flag in chess.Status
               if flag and flag in status and flag.name is not None]
    return "not a legal chess position (" + ", ".join(reasons) + ")"


def _read_epd(path: Path, text: TextIO, report: PositionImportReport) -> list[NewCustomPosition]:
    out: list[NewCustomPosition] = []
    for line_no, raw in enumerate(text, start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith(("#", "%")):
            continue
        report.read += 1
        try:
            board, ops = chess.Board.from_epd(line)
        except ValueError as exc:
            report.problems.append(ImportProblem(str(path), 0, line_no, f"unreadable EPD: {exc}"))
            continue
        problem = _position_problem(board)
        if problem is not None:
            report.problems.append(ImportProblem(str(path), 0, line_no, problem))
            continue
        bm = ops.get("bm", [])
        best = tuple(m.uci() for m in bm) if isinstance(bm, list) else ()
        pv = ops.get("pv", [])
        pv_line = tuple(m.uci() for m in pv) if isinstance(pv, list) else ()
        if best and (not pv_line or pv_line[0] not in best):
            pv_line = (best[0],)
        out.append(NewCustomPosition(
            fen=board.fen(), best_moves=best, line=pv_line, label=str(ops.get("id", "") or ""),
            comment=str(ops.get("c0", "") or ""), source_line=line_no,
        ))
    return out


class _Builder(chess.pgn.GameBuilder):
    """A game builder that notes the line of every error (python-chess only keeps the
    exception) and the game's first line."""

    def __init__(self, reader: PgnLineReader) -> None:
        super().__init__()
        self._reader = reader
        self.first_line = 0
        self.located: list[tuple[int, str]] = []

    def begin_game(self) -> None:
        super().begin_game()
        self.first_line = self._reader.line_no
        self.located = []

    def handle_error(self, error: Exception) -> None:
        # No super(): it would log a traceback for every bad game of a user's file.
        self.located.append((self._reader.line_no, str(error)))

    def result(self) -> chess.pgn.Game:
        for line, words in self._reader.unreadable:
            self.located.append((line, f"unreadable movetext {words!r} (not a move in SAN)"))
        self._reader.unreadable.clear()
        self.located.sort()
        return super().result()


def _read_pgn(path: Path, report: PositionImportReport) -> list[NewCustomPosition]:
    out: list[NewCustomPosition] = []
    stream, position, close = open_binary(path)
    reader = PgnLineReader(stream, position)
    number = 0
    try:
        while True:
            builder = _Builder(reader)
            game = chess.pgn.read_game(cast(TextIO, reader), Visitor=lambda b=builder: b)  # type: ignore[misc]
            if game is None:
                break
            number += 1
            report.read += 1
            line = builder.located[0][0] if builder.located else builder.first_line

            def bad(reason: str, line: int = line, number: int = number) -> None:
                report.problems.append(ImportProblem(str(path), number, line, reason))

            if builder.located:
                bad("; ".join(msg for _, msg in builder.located))
                continue
            if "FEN" not in game.headers:
                bad("no FEN header: a game from the initial position is not a custom position "
                    "(add [SetUp \"1\"] and [FEN \"...\"] headers)")
                continue
            board = game.board()
            problem = _position_problem(board)
            if problem is not None:
                bad(problem)
                continue
            moves = tuple(m.uci() for m in game.mainline_moves())
            comment = game.comment.strip() or (game.next().comment.strip() if game.next() else "")
            out.append(NewCustomPosition(
                fen=board.fen(), best_moves=moves[:1], line=moves,
                label=game.headers.get("Event", "").strip().strip("?"), comment=comment, source_line=number,
            ))
    finally:
        close()
    return out


def _is_pgn(path: Path) -> bool:
    name = path.name.lower()
    if name.endswith((".pgn", ".pgn.gz")):
        return True
    if name.endswith(".epd"):
        return False
    stream, _, close = open_binary(path)
    try:
        for raw in stream:
            text = raw.decode("utf-8", errors="replace").strip().lstrip("\ufeff")
            if text:
                return text.startswith("[")
    finally:
        close()
    return False


def import_positions(
    db: sqlite_utils.Database, path: str | os.PathLike[str], set_name: str | None = None
) -> PositionImportReport:
    """Import an EPD or PGN file into the set ``set_name`` (default: the file's name
    without extension; an existing set is added to). Raises FileNotFoundError for a
    missing file; every other problem is reported, not raised."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such EPD or PGN file")
    name = set_name or file.name.removesuffix(".gz").rsplit(".", 1)[0]
    set_id = get_or_add_set(db, name, str(file))
    report = PositionImportReport(file=str(file), set_id=set_id, set_name=name)
    if _is_pgn(file):
        found = _read_pgn(file, report)
    else:
        stream, _, close = open_binary(file)
        try:
            text = (raw.decode("utf-8", errors="replace") for raw in stream)
            found = _read_epd(file, cast(TextIO, text), report)
        finally:
            close()
    with transaction(db):
        for p in found:
            if not add_set_position(db, set_id, p.fen, best_moves=p.best_moves, line=p.line, label=p.label,
                                    comment=p.comment, source_line=p.source_line):
                report.duplicates += 1
                continue
            report.added += 1
            report.without_move += int(not p.best_moves)
        add_import_errors(db, None, report.problems)
    return report


def list_position_sets(db: sqlite_utils.Database) -> list[PositionSet]:
    return [PositionSet(int(r["id"]), r["name"], r["source_file"], r["created_at"], int(r["n"]))
            for r in position_sets(db)]


def list_set_positions(db: sqlite_utils.Database, set_id: int) -> list[CustomPosition]:
    return [
        CustomPosition(
            id=int(r["id"]), set_id=int(r["set_id"]), fen=r["fen"], best_moves=tuple(r["best_moves"].split()),
            line=tuple(r["line"].split()), label=r["label"], comment=r["comment"], source_line=r["source_line"],
        )
        for r in set_positions(db, set_id)
    ]
