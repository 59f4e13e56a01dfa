"""Strength matches: network (+MCTS) against limited Stockfish or another checkpoint.

Games start from a set of balanced opening positions made by machine play (never a
human game), each opening played twice with colours swapped. A game ends by the rules,
by adjudication (a Stockfish judge at fixed nodes sees |eval| >= ``adjudicate_cp`` for
``adjudicate_plies`` consecutive checks), or as a draw at ``max_plies``. Games run in
parallel worker processes; every game is appended to a PGN file as it finishes, and a
rerun with the same PGN skips the games already there (resume). The score is reported
from player A's side with its Elo difference and a 95% interval.
"""

from __future__ import annotations

import io
import json
import math
import multiprocessing as mp
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from queue import Empty
from typing import Any, Protocol

import chess
import chess.engine
import chess.pgn
import numpy as np
from conceptcoach.engine.stockfish import DEFAULT_STOCKFISH
from conceptcoach.parallel import orphaned
from conceptcoach.training.generate import UciEngine, parse_info

# -- Elo -------------------------------------------------------------------------------

def elo_from_score(score: float) -> float:
    """Elo difference of a player who scores ``score`` (0..1) per game; +-inf at the ends."""
    if score <= 0.0:
        return -math.inf
    if score >= 1.0:
        return math.inf
    return -400.0 * math.log10(1.0 / score - 1.0)


@dataclass(frozen=True)
class EloEstimate:
    games: int
    wins: int
    draws: int
    losses: int
    score: float
    elo: float
    elo_low: float
    elo_high: float

    def describe(self) -> str:
        return (f"{self.games} games +{self.wins} ={self.draws} -{self.losses}: score {self.score:.3f}, "
                f"Elo {self.elo:+.0f} [{self.elo_low:+.0f}, {self.elo_high:+.0f}] (95%)")


def elo_estimate(wins: int, draws: int, losses: int) -> EloEstimate:
    """Score, Elo difference and a 95% interval (normal approximation on the per-game
    score, whose variance is estimated from the observed win/draw/loss frequencies)."""
    n = wins + draws + losses
    if n == 0:
        return EloEstimate(0, 0, 0, 0, 0.5, 0.0, -math.inf, math.inf)
    s = (wins + 0.5 * draws) / n
    var = (wins * (1 - s) ** 2 + draws * (0.5 - s) ** 2 + losses * s**2) / n
    half = 1.96 * math.sqrt(var / n)
    return EloEstimate(n, wins, draws, losses, s, elo_from_score(s),
                       elo_from_score(max(0.0, s - half)), elo_from_score(min(1.0, s + half)))


# -- players -----------------------------------------------------------------------------

class Player(Protocol):
    name: str

    def move(self, board: chess.Board) -> chess.Move: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class PlayerSpec:
    """``net:PATH[:SIMS]`` (one of our checkpoints; SIMS <= 1: the raw policy's top move),
    ``lc0:PATH[:SIMS]`` (an lc0 ``.pb.gz`` network such as Maia, likewise) or
    ``sf:ELO[:SECONDS]``."""

    kind: str
    path: str = ""
    sims: int = 1
    elo: int = 0
    seconds: float = 0.1

    @classmethod
    def parse(cls, text: str) -> PlayerSpec:
        parts = text.split(":")
        if parts[0] == "lc0" and (len(parts) < 2 or not parts[1].lower().endswith((".pb.gz", ".pb"))):
            raise ValueError(f"{text!r}: expected lc0:PATH[:SIMS] with PATH an lc0 network file (.pb.gz)")
        if parts[0] in ("net", "lc0") and len(parts) in (2, 3):
            return cls(parts[0], path=parts[1], sims=int(parts[2]) if len(parts) == 3 else 1)
        if parts[0] == "sf" and len(parts) in (2, 3):
            elo = int(parts[1])
            if not 1350 <= elo <= 2850:
                raise ValueError(f"{text}: Stockfish 15.1 accepts UCI_Elo 1350..2850")
            return cls("sf", elo=elo, seconds=float(parts[2]) if len(parts) == 3 else 0.1)
        raise ValueError(f"{text!r}: expected net:PATH[:SIMS], lc0:PATH[:SIMS] or sf:ELO[:SECONDS]")

    def label(self) -> str:
        if self.kind in ("net", "lc0"):
            stem = Path(self.path).name.removesuffix(".pb.gz") if self.kind == "lc0" else Path(self.path).stem
            return f"{stem}@{'policy' if self.sims <= 1 else f'{self.sims}sims'}"
        return f"stockfish-elo{self.elo}@{self.seconds}s"


class NetPlayer:
    """A network of either family alone (raw policy) or with MCTS; one torch thread per
    process. lc0 networks read the game's moves from the board they are given."""

    def __init__(self, spec: PlayerSpec) -> None:
        import torch
        from conceptcoach.engine.mcts import SearchConfig
        from conceptcoach.engine.network import Evaluator

        torch.set_num_threads(1)
        self.evaluator: Evaluator
        if spec.kind == "lc0":
            from conceptcoach.engine.lc0 import lc0_evaluator

            self.evaluator = lc0_evaluator(spec.path)
        else:
            from conceptcoach.engine.checkpoint import load_checkpoint

            net, _ = load_checkpoint(spec.path)
            self.evaluator = Evaluator(net)
        self.sims = spec.sims
        self.search = SearchConfig(simulations=max(1, spec.sims))
        self.name = spec.label()

    def move(self, board: chess.Board) -> chess.Move:
        moves, idx = self.evaluator.legal(board)
        if len(moves) == 1:
            # A forced move needs no search; and MCTS.run loops forever on a root with a
            # single legal move (the re-selected pending leaf is never counted as a collision).
            return moves[0]
        if self.sims <= 1:
            logits, _ = self.evaluator(self.evaluator.encode(board)[None])
            return moves[int(np.argmax(logits[0][idx]))]
        from conceptcoach.engine.mcts import MCTS

        search = MCTS(self.evaluator, board, self.search)
        search.run()
        return search.best_move()

    def close(self) -> None:
        pass


class StockfishPlayer:
    """Stockfish with UCI_LimitStrength at ``elo``, a fixed time per move, one thread."""

    def __init__(self, spec: PlayerSpec, engine_path: str) -> None:
        self.engine = chess.engine.SimpleEngine.popen_uci(engine_path)
        self.engine.configure({"Threads": 1, "Hash": 16, "UCI_LimitStrength": True, "UCI_Elo": spec.elo})
        self.limit = chess.engine.Limit(time=spec.seconds)
        self.name = spec.label()

    def move(self, board: chess.Board) -> chess.Move:
        result = self.engine.play(board, self.limit)
        assert result.move is not None
        return result.move

    def close(self) -> None:
        self.engine.quit()


def make_player(spec: PlayerSpec, engine_path: str) -> Player:
    return NetPlayer(spec) if spec.kind in ("net", "lc0") else StockfishPlayer(spec, engine_path)


# -- openings ----------------------------------------------------------------------------

def make_openings(
    count: int, seed: int = 1, engine_path: str = DEFAULT_STOCKFISH, plies: tuple[int, int] = (6, 10),
    nodes: int = 20000, window_cp: int = 40, balanced_cp: int = 60,
) -> list[str]:
    """``count`` distinct balanced opening FENs from machine play: at each ply a move is
    drawn uniformly among Stockfish's multi-PV moves within ``window_cp`` of the best;
    a line is kept when its final evaluation is within ``balanced_cp`` of equality."""
    rng = np.random.default_rng(seed)
    engine = UciEngine(engine_path, 16, 8)
    fens: list[str] = []
    seen: set[str] = set()
    try:
        attempts = 0
        while len(fens) < count and attempts < count * 20:
            attempts += 1
            board = chess.Board()
            engine.new_game()
            target = int(rng.integers(plies[0], plies[1] + 1))
            ok = True
            while board.ply() < target:
                ranks = engine.search(board.fen(), [], nodes)
                cands = [parse_info(ranks[r], 3000, 2500) for r in sorted(ranks)]
                if not cands:
                    ok = False
                    break
                best = max(c[1] for c in cands)
                near = [c[0] for c in cands if c[1] >= best - window_cp]
                board.push_uci(near[int(rng.integers(len(near)))])
            if not ok or board.is_game_over():
                continue
            ranks = engine.search(board.fen(), [], nodes)
            if not ranks or abs(parse_info(ranks[min(ranks)], 3000, 2500)[1]) > balanced_cp:
                continue
            key = board.epd()
            if key not in seen:
                seen.add(key)
                fens.append(board.fen())
    finally:
        engine.quit()
    return fens


# -- games -------------------------------------------------------------------------------

@dataclass(frozen=True)
class MatchConfig:
    """Every parameter of a match; written into the PGN headers and the summary."""

    a: str
    b: str
    games: int = 100
    workers: int = 2
    max_plies: int = 300
    adjudicate_cp: int = 1000
    adjudicate_plies: int = 4
    judge_nodes: int = 3000
    opening_seed: int = 1
    engine: str = DEFAULT_STOCKFISH

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def play_game(
    white: Player, black: Player, start_fen: str, cfg: MatchConfig, judge: UciEngine | None
) -> tuple[str, str, list[chess.Move]]:
    """(result "1-0"/"0-1"/"1/2-1/2", termination, moves) of one game from ``start_fen``."""
    board = chess.Board(start_fen)
    moves: list[chess.Move] = []
    streak = 0
    lead = 0
    while True:
        if board.is_checkmate():
            return ("0-1" if board.turn == chess.WHITE else "1-0"), "checkmate", moves
        if board.is_stalemate() or board.is_insufficient_material():
            return "1/2-1/2", "stalemate or insufficient material", moves
        if board.is_repetition(3) or board.halfmove_clock >= 100:
            return "1/2-1/2", "repetition or fifty moves", moves
        if len(moves) >= cfg.max_plies:
            return "1/2-1/2", f"adjudicated: {cfg.max_plies} plies", moves
        if judge is not None and len(moves) % 2 == 0 and len(moves) >= 10:
            ranks = judge.search(start_fen, [m.uci() for m in moves], cfg.judge_nodes)
            if ranks:
                cp = parse_info(ranks[min(ranks)], 3000, 2500)[1]
                white_cp = cp if board.turn == chess.WHITE else -cp
                side = 1 if white_cp >= cfg.adjudicate_cp else -1 if white_cp <= -cfg.adjudicate_cp else 0
                streak = streak + 1 if side != 0 and side == lead else (1 if side != 0 else 0)
                lead = side
                if streak >= cfg.adjudicate_plies:
                    return ("1-0" if side > 0 else "0-1"), f"adjudicated: eval {white_cp:+d} cp", moves
        player = white if board.turn == chess.WHITE else black
        move = player.move(board)
        if not board.is_legal(move):
            raise RuntimeError(f"{player.name} played an illegal move {move.uci()} in {board.fen()}")
        board.push(move)
        moves.append(move)


def game_pgn(index: int, white: str, black: str, start_fen: str, result: str, termination: str,
             moves: Sequence[chess.Move], event: str) -> str:
    game = chess.pgn.Game()
    game.headers.update({"Event": event, "Site": "Concept Coach match", "Round": str(index + 1),
                         "White": white, "Black": black, "Result": result, "Termination": termination})
    game.setup(chess.Board(start_fen))
    node: chess.pgn.GameNode = game
    for move in moves:
        node = node.add_variation(move)
    return str(game) + "\n\n"


def _worker(cfg: MatchConfig, jobs: list[tuple[int, str]], queue: Any) -> None:
    """Play ``jobs`` (game index, opening FEN); game 2k has A as White, 2k+1 as Black."""
    a = make_player(PlayerSpec.parse(cfg.a), cfg.engine)
    b = make_player(PlayerSpec.parse(cfg.b), cfg.engine)
    # judge_nodes 0 turns adjudication off (and lets net-vs-net matches run without Stockfish).
    judge = UciEngine(cfg.engine, 16, 1) if cfg.judge_nodes > 0 else None
    try:
        for index, fen in jobs:
            if orphaned():
                return  # the match was killed: its PGN keeps the finished games
            white, black = (a, b) if index % 2 == 0 else (b, a)
            if judge is not None:
                judge.new_game()
            result, termination, moves = play_game(white, black, fen, cfg, judge)
            queue.put((index, white.name, black.name, fen, result, termination, [m.uci() for m in moves]))
    finally:
        a.close()
        b.close()
        if judge is not None:
            judge.quit()
        queue.put(None)


def finished_games(pgn_path: Path) -> dict[int, tuple[str, str]]:
    """Round index -> (White, result) of games already in ``pgn_path`` (for resume)."""
    done: dict[int, tuple[str, str]] = {}
    if not pgn_path.exists():
        return done
    with pgn_path.open() as handle:
        while (game := chess.pgn.read_game(handle)) is not None:
            done[int(game.headers["Round"]) - 1] = (game.headers["White"], game.headers["Result"])
    return done


def a_points(white: str, result: str, a_name: str) -> float:
    white_points = {"1-0": 1.0, "0-1": 0.0}.get(result, 0.5)
    return white_points if white == a_name else 1.0 - white_points


def write_summary(cfg: MatchConfig, path: Path, done: dict[int, tuple[str, str]], openings: int,
                  seconds: float) -> dict[str, Any]:
    """Score of player A over the games in ``done``; also written to ``<pgn>.json``."""
    a_name = PlayerSpec.parse(cfg.a).label()
    b_name = PlayerSpec.parse(cfg.b).label()
    wins = sum(1 for w, r in done.values() if a_points(w, r, a_name) == 1.0)
    losses = sum(1 for w, r in done.values() if a_points(w, r, a_name) == 0.0)
    draws = len(done) - wins - losses
    est = elo_estimate(wins, draws, losses)
    summary = {"a": a_name, "b": b_name, "config": cfg.to_json(), "openings": openings,
               "planned_games": cfg.games, "result": asdict(est), "text": est.describe(),
               "seconds": round(seconds, 1)}
    Path(str(path) + ".json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary


class _DeadlineReached(Exception):
    """The in-process match ran past its time limit (after writing its last game)."""


class _Sink:
    """The in-process stand-in for the workers' queue: hands each finished game to
    ``record`` at once and stops the match once the deadline has passed."""

    def __init__(self, record: Any, deadline: float) -> None:
        self.record = record
        self.deadline = deadline

    def put(self, item: tuple[Any, ...] | None) -> None:
        if item is None:
            return
        self.record(item)
        if time.time() > self.deadline:
            raise _DeadlineReached


def run_match(cfg: MatchConfig, pgn_path: str | os.PathLike[str], openings: Sequence[str],
              log: Any = None, minutes: float = 0.0) -> dict[str, Any]:
    """Play (or finish) the match into ``pgn_path``; returns the summary (also written as
    ``<pgn>.json``). ``openings`` is cycled, each opening used for a pair of games.

    ``minutes`` > 0 stops the match after that long (unfinished games are dropped; a rerun
    with the same PGN plays the rest)."""
    deadline = time.time() + minutes * 60 if minutes > 0 else math.inf
    path = Path(pgn_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    a_name = PlayerSpec.parse(cfg.a).label()
    b_name = PlayerSpec.parse(cfg.b).label()
    done = finished_games(path)
    todo = [(i, openings[(i // 2) % len(openings)]) for i in range(cfg.games) if i not in done]
    start = time.time()
    event = f"{a_name} vs {b_name}"

    def record(item: tuple[Any, ...]) -> None:
        """Append one finished game to the PGN and keep the summary current, so a match
        stopped early (or killed) still has every game it finished."""
        index, white, black, fen, result, termination, ucis = item
        moves = [chess.Move.from_uci(u) for u in ucis]
        with path.open("a") as handle:
            handle.write(game_pgn(index, white, black, fen, result, termination, moves, event))
        done[index] = (white, result)
        write_summary(cfg, path, done, len(openings), time.time() - start)
        if log is not None:
            points = [a_points(w, r, a_name) for w, r in done.values()]
            print(f"[{time.strftime('%H:%M:%S')}] game {index + 1}: {white} - {black} {result} "
                  f"({termination}, {len(moves)} plies); A {sum(points)}/{len(points)}", file=log, flush=True)

    def stopped() -> dict[str, Any]:
        if log is not None:
            print(f"stopped after {minutes} min: {len(done)} of {cfg.games} games played", file=log)
        return write_summary(cfg, path, done, len(openings), time.time() - start)

    if todo:
        workers = max(1, min(cfg.workers, len(todo)))
        if workers == 1:
            # In-process (no interpreter start-up): every game is written the moment it ends.
            try:
                _worker(cfg, todo, _Sink(record, deadline))
            except _DeadlineReached:
                return stopped()
            return write_summary(cfg, path, done, len(openings), time.time() - start)
        ctx = mp.get_context("spawn")
        queue: Any = ctx.Queue()
        procs = [ctx.Process(target=_worker, args=(cfg, todo[w::workers], queue)) for w in range(workers)]
        for p in procs:
            p.start()
        running = workers
        while running:
            if time.time() > deadline:
                for p in procs:
                    p.terminate()
                    p.join()
                return stopped()
            try:
                item = queue.get(timeout=2.0)
            except Empty:
                continue
            if item is None:
                running -= 1
                continue
            record(item)
        for p in procs:
            p.join()
        bad = [p.exitcode for p in procs if p.exitcode != 0]
        if bad:
            raise RuntimeError(f"match workers failed (exit codes {bad}); games so far are in {path}; "
                               "run the same command again to finish")
    return write_summary(cfg, path, done, len(openings), time.time() - start)


def read_pgn_games(text: str) -> list[chess.pgn.Game]:
    handle = io.StringIO(text)
    games = []
    while (game := chess.pgn.read_game(handle)) is not None:
        games.append(game)
    return games
