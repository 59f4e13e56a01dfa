"""Games and their positions (human imports, self-play, matches), and search summaries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import chess
import sqlite_utils
from conceptcoach.store.db import transaction


@dataclass
class GameRecord:
    source: str
    start_fen: str
    moves: list[str]
    result: str = "*"
    headers: dict[str, str] | None = None
    run_id: str | None = None
    game_index: int | None = None
    corpus: str | None = None
    digest: str | None = None


def game_digest(start_fen: str, moves: Sequence[str], headers: dict[str, str] | None = None) -> str:
    """A stable key for a game: re-importing the same game never duplicates it."""
    h = hashlib.sha256()
    h.update(start_fen.encode())
    h.update(b"|")
    h.update(" ".join(moves).encode())
    for key in ("White", "Black", "Date", "Round", "Event"):
        h.update(f"|{(headers or {}).get(key, '')}".encode())
    return h.hexdigest()


def insert_game(
    db: sqlite_utils.Database,
    game: GameRecord,
    summaries: Sequence[Mapping[str, Any] | None] | None = None,
    network_id: int | None = None,
    with_positions: bool = True,
) -> int | None:
    """Insert a game with its positions (and per-move search summaries, as
    ``TreeSummary.to_dict()`` mappings) in one transaction. Returns the game id, or
    None if a game with the same digest exists."""
    with transaction(db) as conn:
        cur = conn.execute(
            "INSERT OR IGNORE INTO games (source, run_id, corpus, game_index, digest, headers, start_fen, moves, result)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (game.source, game.run_id, game.corpus, game.game_index, game.digest,
             json.dumps(game.headers or {}), game.start_fen, " ".join(game.moves), game.result),
        )
        if cur.rowcount == 0:
            return None
        game_id = int(cur.lastrowid or 0)
        if with_positions:
            board = chess.Board(game.start_fen)
            for ply, uci in enumerate([*game.moves, None]):
                pcur = conn.execute(
                    "INSERT INTO positions (game_id, ply, fen, move) VALUES (?, ?, ?, ?)",
                    (game_id, ply, board.fen(), uci),
                )
                summary = summaries[ply] if summaries is not None and ply < len(summaries) else None
                if summary is not None and network_id is not None:
                    conn.execute(
                        "INSERT INTO search_summaries (position_id, network_id, simulations, root_value, best_move, summary)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (pcur.lastrowid, network_id, int(summary["visits"]), float(summary["value"]),
                         summary["best_move"], json.dumps(summary, separators=(",", ":"))),
                    )
                if uci is not None:
                    board.push_uci(uci)
        return game_id


def games_of_run(db: sqlite_utils.Database, run_id: str) -> set[int]:
    return {r["game_index"] for r in db.query("SELECT game_index FROM games WHERE run_id = ?", [run_id])}


def iter_summaries(
    db: sqlite_utils.Database, network_id: int | None = None, run_id: str | None = None
) -> Iterator[tuple[int, int, int, dict[str, Any]]]:
    """(position id, game id, ply, summary mapping) for stored self-play searches."""
    sql = ("SELECT p.id AS pid, p.game_id AS gid, p.ply AS ply, s.summary AS summary FROM search_summaries s"
           " JOIN positions p ON p.id = s.position_id JOIN games g ON g.id = p.game_id WHERE 1=1")
    args: list[Any] = []
    if network_id is not None:
        sql += " AND s.network_id = ?"
        args.append(network_id)
    if run_id is not None:
        sql += " AND g.run_id = ?"
        args.append(run_id)
    sql += " ORDER BY p.game_id, p.ply"
    for row in db.query(sql, args):
        yield row["pid"], row["gid"], row["ply"], json.loads(row["summary"])


def iter_positions(
    db: sqlite_utils.Database, source: str | None = None, corpus: str | None = None, limit: int | None = None
) -> Iterable[dict[str, Any]]:
    sql = "SELECT p.id, p.game_id, p.ply, p.fen, p.move FROM positions p JOIN games g ON g.id = p.game_id WHERE 1=1"
    args: list[Any] = []
    if source is not None:
        sql += " AND g.source = ?"
        args.append(source)
    if corpus is not None:
        sql += " AND g.corpus = ?"
        args.append(corpus)
    sql += " ORDER BY p.id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return db.query(sql, args)


def stored_summary(db: sqlite_utils.Database, position_id: int) -> dict[str, Any]:
    """The search summary stored for a position (a ``TreeSummary.to_dict()`` mapping)."""
    rows = list(db.query("SELECT summary FROM search_summaries WHERE position_id = ?", [position_id]))
    if not rows:
        raise KeyError(f"no search summary stored for position {position_id}")
    return dict(json.loads(rows[0]["summary"]))


def position_history(db: sqlite_utils.Database, position_id: int) -> tuple[str, list[str]]:
    """(start FEN of the position's game, the moves played before it): what a network
    that reads history (lc0) needs to see the position as it arose."""
    rows = list(db.query("SELECT g.start_fen AS start_fen, g.moves AS moves, p.ply AS ply FROM positions p "
                         "JOIN games g ON g.id = p.game_id WHERE p.id = ?", [position_id]))
    if not rows:
        raise KeyError(f"no position {position_id} in the store")
    row = rows[0]
    return str(row["start_fen"]), str(row["moves"] or "").split()[: int(row["ply"])]


def game_ids_of_run(db: sqlite_utils.Database, run_id: str) -> list[int]:
    """Ids of a run's games in the order they were played."""
    return [int(r["id"]) for r in db.query("SELECT id FROM games WHERE run_id = ? ORDER BY game_index", [run_id])]


def games_by_id(db: sqlite_utils.Database, game_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """id -> {id, start_fen, moves} for the given games."""
    if not game_ids:
        return {}
    marks = ",".join("?" * len(game_ids))
    return {int(r["id"]): dict(r) for r in db.query(
        f"SELECT id, start_fen, moves FROM games WHERE id IN ({marks})", list(game_ids))}


def searched_positions(db: sqlite_utils.Database, game_ids: Sequence[int], min_ply: int) -> list[dict[str, Any]]:
    """Positions of the games that have a stored search, from ``min_ply`` on:
    dicts with pid, gid, ply, fen and the search's root value, by position id."""
    if not game_ids:
        return []
    marks = ",".join("?" * len(game_ids))
    return [dict(r) for r in db.query(
        "SELECT p.id AS pid, p.game_id AS gid, p.ply AS ply, p.fen AS fen, s.root_value AS value"
        " FROM positions p JOIN search_summaries s ON s.position_id = p.id"
        f" WHERE p.game_id IN ({marks}) AND p.ply >= ? ORDER BY p.id", [*game_ids, min_ply])]


def position_fens(db: sqlite_utils.Database, *, source: str | None = None, corpus: str | None = None,
                  run_id: str | None = None, limit: int | None = None) -> list[str]:
    """FENs of stored positions, by position id, filtered by game source, corpus or run."""
    sql = "SELECT p.fen FROM positions p JOIN games g ON g.id = p.game_id WHERE 1=1"
    args: list[Any] = []
    for column, value in (("source", source), ("corpus", corpus), ("run_id", run_id)):
        if value is not None:
            sql += f" AND g.{column} = ?"
            args.append(value)
    sql += " ORDER BY p.id"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    return [r["fen"] for r in db.query(sql, args)]


def games_of_source(db: sqlite_utils.Database, source: str, corpus: str | None = None,
                    limit: int | None = None) -> list[dict[str, Any]]:
    """{id, start_fen, moves} of stored games of a source (and corpus), by id."""
    sql = "SELECT id, start_fen, moves FROM games WHERE source = ?"
    args: list[Any] = [source]
    if corpus is not None:
        sql += " AND corpus = ?"
        args.append(corpus)
    sql += " ORDER BY id"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    return [dict(r) for r in db.query(sql, args)]


def searched_positions_with_choices(db: sqlite_utils.Database, min_ply: int) -> list[dict[str, Any]]:
    """{id, fen, best_move, root_value} of stored searches past ``min_ply`` whose root had
    at least two moves searched (the study plan's machine positions), by position id."""
    return [dict(r) for r in db.query(
        "SELECT p.id, p.fen, s.best_move, s.root_value FROM search_summaries s"
        " JOIN positions p ON p.id = s.position_id"
        " WHERE p.ply >= ? AND json_array_length(s.summary, '$.children') >= 2 ORDER BY p.id", [min_ply])]


def add_game_with_positions(db: sqlite_utils.Database, game: GameRecord,
                            positions: Sequence[tuple[str, str | None]]) -> tuple[int, int]:
    """Store a game whose positions the caller already has: ``positions`` holds (FEN, UCI
    of the move played there) per ply, the final position with None. Runs on the
    caller's connection without a transaction of its own (an importer commits a batch
    at once). Returns (game id, positions stored); a game whose digest is already
    stored for its source is left as it is: (its id, 0)."""
    conn = db.conn
    cur = conn.execute(
        "INSERT OR IGNORE INTO games (source, run_id, corpus, game_index, digest, headers, start_fen, moves, result)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (game.source, game.run_id, game.corpus, game.game_index, game.digest,
         json.dumps(game.headers or {}), game.start_fen, " ".join(game.moves), game.result),
    )
    if cur.rowcount == 0:
        row = conn.execute("SELECT id FROM games WHERE source = ? AND digest = ?", (game.source, game.digest)).fetchone()
        return int(row[0]), 0
    game_id = int(cur.lastrowid or 0)
    conn.executemany("INSERT INTO positions (game_id, ply, fen, move) VALUES (?, ?, ?, ?)",
                     [(game_id, ply, fen, uci) for ply, (fen, uci) in enumerate(positions)])
    return game_id, len(positions)


def human_game_ids(db: sqlite_utils.Database, corpus: str | None = None) -> list[int]:
    """Ids of stored human games, of one corpus or all."""
    if corpus is None:
        return [int(r["id"]) for r in db.query("SELECT id FROM games WHERE source = 'human' ORDER BY id")]
    return [int(r["id"]) for r in db.query(
        "SELECT id FROM games WHERE source = 'human' AND corpus = ? ORDER BY id", [corpus])]
