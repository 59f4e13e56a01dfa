"""Machine-only training positions labelled by Stockfish, in one pass.

No human game or opening book is ever read. Each worker process drives its own
Stockfish over UCI. Every game starts from the standard initial position and is
played by a machine:

- ``player="stockfish"``: for the first ``opening_plies`` plies the move is drawn
  among the multi-PV moves within ``opening_margin_cp`` of the best (so openings look
  like machine games, not the aftermath of random moves); after that among all
  multi-PV moves with probability ``softmax(score / sample_temperature_cp)``;
- ``player="net:PATH:SIMS"``: a network of ours plays itself with MCTS (root noise,
  moves sampled by visit count for ``opening_plies``), so that the positions its own
  play reaches get Stockfish's labels and its mistakes are corrected (play -> label
  -> fit).

Every position reached is searched by Stockfish with multi-PV; it is stored with the
multi-PV moves and their scores (the policy label is made from them at fit time,
with a recorded temperature) and the engine's win/draw/loss estimate (the value
label). Decided positions (|eval| >= ``decided_cp`` for ``decided_plies``) are not
cut off but kept with probability ``decided_keep``; the ones not kept are searched
with fewer nodes, only to choose the move, so conversions are seen at little cost.

Output is a folder of shards ``wWW-sSSSSS.npz``. Shard ``k`` of worker ``w`` is a
pure function of (seed, w, k, the worker's earlier shards): its random generator is
seeded with ``[seed, w, k]`` and every game starts with ``ucinewgame``, so an
interrupted run resumes by skipping the shards that exist.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import chess
import numpy as np
import numpy.typing as npt
from conceptcoach.engine.encoding import NUM_PLANES, encode_board, legal_move_indices, move_to_index
from conceptcoach.engine.stockfish import DEFAULT_STOCKFISH, find_stockfish
from conceptcoach.parallel import orphaned

PHASES = ("opening", "middlegame", "endgame")
#: Plane 19 (fifty-move counter / 100) is the only non-binary plane; it is stored apart.
HALFMOVE_PLANE = 19


@dataclass(frozen=True)
class GenerateConfig:
    """Every parameter of a generation run; written to ``generate.json`` in the output folder."""

    positions: int = 3_200_000
    workers: int = 2
    seed: int = 0
    nodes: int = 6000
    multipv: int = 8
    shard_positions: int = 2000
    #: Who plays the games: "stockfish", or "net:PATH:SIMS" (our network with MCTS).
    player: str = "stockfish"
    #: Opening plies in which the move is drawn among near-best moves only.
    opening_plies: int = 16
    opening_margin_cp: int = 35
    opening_temperature_cp: float = 25.0
    #: Softmax temperature (centipawns) for choosing the next move among the multi-PV moves.
    sample_temperature_cp: float = 40.0
    max_plies: int = 300
    #: A position is decided once |eval| >= decided_cp for decided_plies consecutive
    #: positions; decided positions are stored with probability decided_keep.
    decided_cp: int = 1000
    decided_plies: int = 6
    decided_keep: float = 0.25
    #: Nodes for a decided position that is not stored (the search only picks the move).
    decided_nodes: int = 500
    #: Mate in n is scored mate_cp - n (and clipped non-mate scores stay below it).
    mate_cp: int = 3000
    clip_cp: int = 2500
    hash_mb: int = 16
    engine: str = DEFAULT_STOCKFISH

    def shards_per_worker(self) -> int:
        total = -(-self.positions // self.shard_positions)
        return -(-total // self.workers)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def phase_of(board: chess.Board, ply: int) -> int:
    """0 opening (first 20 plies), 2 endgame (non-pawn material <= 26 pawns), else 1."""
    npm = 0
    for pt, val in ((chess.KNIGHT, 3), (chess.BISHOP, 3), (chess.ROOK, 5), (chess.QUEEN, 9)):
        npm += val * chess.popcount(board.pieces_mask(pt, chess.WHITE) | board.pieces_mask(pt, chess.BLACK))
    if npm <= 26:
        return 2
    return 0 if ply < 20 else 1


def position_key(board: chess.Board) -> str:
    """FEN without the move counters (what deduplication compares)."""
    return board.epd()


@dataclass
class ShardBuffer:
    """Positions of one shard while it is being filled."""

    fens: list[str] = field(default_factory=list)
    planes: list[npt.NDArray[np.uint8]] = field(default_factory=list)
    halfmove: list[int] = field(default_factory=list)
    legal: list[npt.NDArray[np.int16]] = field(default_factory=list)
    pv_moves: list[list[int]] = field(default_factory=list)
    pv_scores: list[list[int]] = field(default_factory=list)
    wdl: list[tuple[int, int, int]] = field(default_factory=list)
    ply: list[int] = field(default_factory=list)
    phase: list[int] = field(default_factory=list)
    game: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.fens)

    def arrays(self, multipv: int) -> dict[str, npt.NDArray[Any]]:
        n = len(self)
        moves = np.full((n, multipv), -1, dtype=np.int16)
        scores = np.zeros((n, multipv), dtype=np.int16)
        for i, (mv, sc) in enumerate(zip(self.pv_moves, self.pv_scores, strict=True)):
            moves[i, : len(mv)] = mv
            scores[i, : len(sc)] = sc
        lengths = np.array([len(x) for x in self.legal], dtype=np.int64)
        return {
            "fen": np.array(self.fens, dtype=np.str_),
            "planes": np.stack(self.planes) if n else np.zeros((0, NUM_PLANES * 8), np.uint8),
            "halfmove": np.array(self.halfmove, dtype=np.uint8),
            "legal": np.concatenate(self.legal) if n else np.zeros(0, np.int16),
            "legal_offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            "pv_moves": moves,
            "pv_scores": scores,
            "wdl": np.array(self.wdl, dtype=np.int16).reshape(n, 3),
            "ply": np.array(self.ply, dtype=np.int16),
            "phase": np.array(self.phase, dtype=np.int8),
            "game": np.array(self.game, dtype=np.int32),
        }


def pack_planes(board: chess.Board) -> tuple[npt.NDArray[np.uint8], int]:
    """The binary input planes bit-packed (NUM_PLANES*8 bytes) and the fifty-move counter."""
    planes = encode_board(board)
    bits = planes > 0.5
    bits[HALFMOVE_PLANE] = False
    return np.packbits(bits.reshape(-1)), min(board.halfmove_clock, 255)


def unpack_planes(packed: npt.NDArray[np.uint8], halfmove: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """Inverse of :func:`pack_planes` for a batch: (B, NUM_PLANES, 8, 8) float32."""
    bits = np.unpackbits(packed, axis=1).reshape(len(packed), NUM_PLANES, 8, 8).astype(np.float32)
    bits[:, HALFMOVE_PLANE] = (np.minimum(halfmove, 100).astype(np.float32) / 100.0)[:, None, None]
    return bits


class UciEngine:
    """A minimal UCI client for the generation hot loop.

    python-chess's engine layer parses every PV of every info line, which cost twice
    Stockfish's own search time here; this reads only the last line of each multi-PV
    rank and keeps the first move of its PV.
    """

    def __init__(self, path: str, hash_mb: int, multipv: int) -> None:
        self.proc = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self._send("uci")
        self._wait("uciok")
        for name, value in (("Threads", 1), ("Hash", hash_mb), ("MultiPV", multipv), ("UCI_ShowWDL", "true")):
            self._send(f"setoption name {name} value {value}")
        self._send("isready")
        self._wait("readyok")

    def _send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")

    def _wait(self, token: str) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(token):
                return
        raise RuntimeError(f"Stockfish exited before answering {token!r}")

    def new_game(self) -> None:
        self._send("ucinewgame")
        self._send("isready")
        self._wait("readyok")

    def search(self, fen: str, moves: Sequence[str], nodes: int) -> dict[int, list[str]]:
        """The last info line of each multi-PV rank (tokens), keyed by rank."""
        assert self.proc.stdout is not None
        tail = f" moves {' '.join(moves)}" if moves else ""
        self._send(f"position fen {fen}{tail}")
        self._send(f"go nodes {nodes}")
        ranks: dict[int, list[str]] = {}
        for line in self.proc.stdout:
            if line.startswith("bestmove"):
                return ranks
            if line.startswith("info") and " pv " in line and " multipv " in line:
                tokens = line.split()
                ranks[int(tokens[tokens.index("multipv") + 1])] = tokens
        raise RuntimeError("Stockfish exited during a search")

    def quit(self) -> None:
        try:
            self._send("quit")
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


def parse_info(tokens: Sequence[str], mate_cp: int, clip_cp: int) -> tuple[str, int, tuple[int, int, int] | None]:
    """(first PV move in UCI, side-to-move centipawns, W/D/L per mille or None) of one info line.

    Mate in n is scored ``mate_cp - n``; being mated in n, ``-(mate_cp - n)``.
    """
    i = tokens.index("score")
    kind, amount = tokens[i + 1], int(tokens[i + 2])
    if kind == "mate":
        cp = (mate_cp - abs(amount)) * (1 if amount > 0 else -1) if amount != 0 else -mate_cp
    else:
        cp = max(-clip_cp, min(clip_cp, amount))
    wdl = None
    if "wdl" in tokens:
        j = tokens.index("wdl")
        wdl = (int(tokens[j + 1]), int(tokens[j + 2]), int(tokens[j + 3]))
    return tokens[tokens.index("pv") + 1], cp, wdl


def _parse_ranks(
    ranks: dict[int, list[str]], board: chess.Board, cfg: GenerateConfig
) -> tuple[list[chess.Move], list[int], tuple[int, int, int]]:
    moves: list[chess.Move] = []
    scores: list[int] = []
    wdl = (0, 1000, 0)
    for rank in sorted(ranks):
        uci, cp, w = parse_info(ranks[rank], cfg.mate_cp, cfg.clip_cp)
        move = chess.Move.from_uci(uci)
        if move in moves or not board.is_legal(move):
            continue
        moves.append(move)
        scores.append(cp)
        if rank == 1 and w is not None:
            wdl = w
    return moves, scores, wdl


def analyse(
    engine: UciEngine, board: chess.Board, cfg: GenerateConfig, root_fen: str, history: Sequence[str]
) -> tuple[list[chess.Move], list[int], tuple[int, int, int]]:
    """Multi-PV moves, their side-to-move scores (cp), and the best line's W/D/L (per mille).

    The position is sent as the game's root FEN plus its moves so that Stockfish sees
    the history (repetitions) exactly as the board does.
    """
    return _parse_ranks(engine.search(root_fen, history, cfg.nodes), board, cfg)


def open_engine(cfg: GenerateConfig) -> UciEngine:
    return UciEngine(cfg.engine, cfg.hash_mb, cfg.multipv)


@dataclass
class NetPlayer:
    """Our network searching with MCTS, as the player of a generation game."""

    path: str
    simulations: int
    evaluator: Any = None

    @classmethod
    def parse(cls, spec: str) -> NetPlayer:
        parts = spec.split(":")
        if len(parts) != 3 or parts[0] != "net" or not parts[2].isdigit():
            raise ValueError(f"player {spec!r}: expected 'stockfish' or 'net:PATH:SIMS'")
        return cls(path=parts[1], simulations=int(parts[2]))

    def load(self) -> None:
        from conceptcoach.engine.networks import inspect_file, load_evaluator

        # Any family searches here (a Leela network can play the generation games too).
        self.evaluator = load_evaluator(inspect_file(self.path), threads=1)


def _label(buf: ShardBuffer, board: chess.Board, moves: Sequence[chess.Move], scores: Sequence[int],
           wdl: tuple[int, int, int], game_id: int) -> None:
    packed, half = pack_planes(board)
    _, legal_idx = legal_move_indices(board)
    buf.fens.append(board.fen())
    buf.planes.append(packed)
    buf.halfmove.append(half)
    buf.legal.append(legal_idx.astype(np.int16))
    buf.pv_moves.append([move_to_index(board, m) for m in moves])
    buf.pv_scores.append(list(scores))
    buf.wdl.append(wdl)
    buf.ply.append(board.ply())
    buf.phase.append(phase_of(board, board.ply()))
    buf.game.append(game_id)


def choose_stockfish_move(
    cfg: GenerateConfig, rng: np.random.Generator, ply: int, moves: Sequence[chess.Move], scores: Sequence[int]
) -> chess.Move:
    """Draw the next move among Stockfish's multi-PV moves (near-best only in the opening)."""
    # Lower PVs of an interrupted last iteration can score above PV 1: use the maximum.
    arr = np.array(scores, dtype=np.float64)
    best = arr.max()
    if ply < cfg.opening_plies:
        logits = np.where(arr >= best - cfg.opening_margin_cp, (arr - best) / cfg.opening_temperature_cp, -np.inf)
    else:
        logits = (arr - best) / cfg.sample_temperature_cp
    probs = np.exp(logits)
    probs /= probs.sum()
    return moves[int(rng.choice(len(moves), p=probs))]


def play_game(
    engine: UciEngine,
    cfg: GenerateConfig,
    rng: np.random.Generator,
    seen: set[str],
    buf: ShardBuffer,
    game_id: int,
    player: NetPlayer | None = None,
) -> None:
    """One game from the initial position into ``buf``, every position labelled by Stockfish."""
    board = chess.Board()
    root_fen = board.fen()
    history: list[str] = []
    engine.new_game()  # a fresh hash per game keeps each shard reproducible
    search = None
    if player is not None:
        from conceptcoach.engine.mcts import MCTS, SearchConfig

        search = MCTS(player.evaluator, board.copy(), SearchConfig(simulations=player.simulations, root_noise=True),
                      rng=rng)
    decided = 0
    # Threefold and fifty-move draws end the game (checked cheaply, not via claim_draw,
    # which tries every legal move).
    while (not board.is_game_over() and board.ply() < cfg.max_plies
           and not board.is_repetition(3) and board.halfmove_clock < 100):
        # Draw before searching whether a decided position is kept, so that the positions
        # not kept cost only a short search.
        keep = decided < cfg.decided_plies or rng.random() < cfg.decided_keep
        ranks = engine.search(root_fen, history, cfg.nodes if keep else cfg.decided_nodes)
        moves, scores, wdl = _parse_ranks(ranks, board, cfg)
        if not moves:
            break
        key = position_key(board)
        if keep and key not in seen:
            seen.add(key)
            _label(buf, board, moves, scores, wdl, game_id)
        decided = decided + 1 if abs(max(scores)) >= cfg.decided_cp else 0
        if search is not None and player is not None:
            search.run(player.simulations)
            move = search.sample_move(1.0 if board.ply() < cfg.opening_plies else 0.0)
            search.advance(move)
        else:
            move = choose_stockfish_move(cfg, rng, board.ply(), moves, scores)
        history.append(move.uci())
        board.push(move)


def shard_path(out_dir: Path, worker: int, shard: int) -> Path:
    return out_dir / f"w{worker:02d}-s{shard:05d}.npz"


def write_shard(path: Path, arrays: dict[str, npt.NDArray[Any]], meta: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, meta=np.array(json.dumps(meta)), **arrays)  # type: ignore[arg-type]
    os.replace(tmp, path)


def worker_main(cfg: GenerateConfig, out_dir: Path, worker: int) -> None:
    """Fill this worker's shards that do not exist yet (resumes an interrupted run)."""
    seen: set[str] = set()
    todo: list[int] = []
    for k in range(cfg.shards_per_worker()):
        path = shard_path(out_dir, worker, k)
        if path.exists():
            with np.load(path) as data:
                seen.update(" ".join(f.split(" ")[:4]) for f in data["fen"])
        else:
            todo.append(k)
    player = None if cfg.player == "stockfish" else NetPlayer.parse(cfg.player)
    if player is not None:
        player.load()
    engine = open_engine(cfg)
    try:
        for k in todo:
            rng = np.random.default_rng([cfg.seed, worker, k])
            buf = ShardBuffer()
            start = time.time()
            game_id = 0
            while len(buf) < cfg.shard_positions:
                if orphaned():
                    return  # the command was killed: stop; its finished shards stay and it resumes
                play_game(engine, cfg, rng, seen, buf, (worker * 100_000 + k) * 1000 + game_id, player)
                game_id += 1
            elapsed = time.time() - start
            phases = np.bincount(np.array(buf.phase, dtype=np.int64), minlength=3).tolist()
            meta = {"worker": worker, "shard": k, "seed": [cfg.seed, worker, k], "games": game_id,
                    "positions": len(buf), "seconds": round(elapsed, 1), "phases": phases,
                    "config": cfg.to_json()}
            write_shard(shard_path(out_dir, worker, k), buf.arrays(cfg.multipv), meta)
            print(f"[{time.strftime('%H:%M:%S')}] worker {worker} shard {k}: {len(buf)} positions, "
                  f"{game_id} games, {len(buf) / elapsed:.1f} pos/s, phases {phases}", flush=True)
    finally:
        engine.quit()


def run_generate(cfg: GenerateConfig, out_dir: str | os.PathLike[str]) -> None:
    """Generate (or resume) a run into ``out_dir``; refuses a folder made with other settings."""
    if cfg.player != "stockfish":
        player = NetPlayer.parse(cfg.player)
        if not Path(player.path).exists():
            raise FileNotFoundError(f"player {cfg.player!r}: no network file at {player.path}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stamp = out / "generate.json"
    if stamp.exists():
        old = json.loads(stamp.read_text())
        # Only the target size may change on resume; anything else would mix two distributions.
        diff = {k for k, v in cfg.to_json().items() if old.get(k) != v and k not in ("positions",)}
        if diff:
            raise ValueError(f"{stamp}: this folder was generated with other settings ({sorted(diff)}); "
                             "use a new folder or the same settings")
    stamp.write_text(json.dumps(cfg.to_json(), indent=2) + "\n")
    if find_stockfish(cfg.engine) is None:
        raise FileNotFoundError(f"Stockfish not found at {cfg.engine}; install the Debian package 'stockfish'")
    if cfg.workers == 1:
        worker_main(cfg, out, 0)
        return
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=worker_main, args=(cfg, out, w)) for w in range(cfg.workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    bad = [w for w, p in enumerate(procs) if p.exitcode != 0]
    if bad:
        raise RuntimeError(f"generation workers {bad} failed; run the same command again to resume")


def list_shards(data_dir: str | os.PathLike[str]) -> Sequence[Path]:
    # A shard being written is ``*.tmp.npz`` until it is complete: never read it.
    return sorted(p for p in Path(data_dir).glob("w*-s*.npz") if not p.name.endswith(".tmp.npz"))
