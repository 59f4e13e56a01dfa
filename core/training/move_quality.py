"""How good a network's moves are by Stockfish's measure, on held-out positions.

The teacher issue's quality goal: the teacher's move at 800 simulations is within
50 cp of Stockfish's best (depth 16) on at least 80% of held-out middlegame positions,
with the share of >= 300 cp blunders reported. Positions come from the validation
split of the generated data (the split depends only on a position's FEN, so no fit ever
trained on them), drawn by a recorded seed. For each, the network searches, Stockfish
finds its best move and score, and, when the network chose another move, scores that
move with the same depth (``searchmoves``): the loss is best minus chosen, from the
side to move, never below zero. Positions are judged in parallel (one torch thread and
one Stockfish per worker).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import chess
import chess.engine
import numpy as np
from conceptcoach.engine.stockfish import DEFAULT_STOCKFISH, pov_cp

PHASES = ("opening", "middlegame", "endgame")


@dataclass(frozen=True)
class QualityConfig:
    """Every parameter of one measurement; written with its result."""

    network: str
    data: str
    positions: int = 200
    sims: int = 800
    depth: int = 16
    phase: str = "middlegame"
    seed: int = 0
    workers: int = 2
    #: Shards read to find held-out positions (every k-th shard, spread over the data).
    shards: int = 40
    #: The validation split's size in permille: the fit's (FitConfig.val_permille).
    val_permille: int = 20
    engine: str = DEFAULT_STOCKFISH
    hash_mb: int = 64

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class QualityReport:
    config: dict[str, Any]
    network_sha256: str
    #: One row per position: fen, network move, Stockfish's best, its eval (cp, side to
    #: move) and the network move's loss in cp.
    rows: list[dict[str, Any]] = field(default_factory=list)

    def shares(self) -> dict[str, float]:
        losses = np.array([r["loss_cp"] for r in self.rows], dtype=np.float64)
        n = max(1, len(losses))
        return {
            "positions": float(len(losses)),
            "best_move": float(np.sum(losses == 0)) / n,
            "within_50cp": float(np.sum(losses <= 50)) / n,
            "loss_100cp_or_more": float(np.sum(losses >= 100)) / n,
            "loss_300cp_or_more": float(np.sum(losses >= 300)) / n,
            "median_loss_cp": float(np.median(losses)) if len(losses) else 0.0,
        }

    def to_json(self) -> dict[str, Any]:
        return {"config": self.config, "network_sha256": self.network_sha256, "shares": self.shares(),
                "rows": self.rows}

    def lines(self) -> list[str]:
        s = self.shares()
        c = self.config
        return [
            f"{int(s['positions'])} held-out {c['phase']} positions, {c['sims']} simulations vs Stockfish depth "
            f"{c['depth']}",
            f"  Stockfish's best move          {s['best_move']:.1%}",
            f"  within 50 cp of the best       {s['within_50cp']:.1%}",
            f"  loses >= 100 cp                {s['loss_100cp_or_more']:.1%}",
            f"  loses >= 300 cp (blunders)     {s['loss_300cp_or_more']:.1%}",
            f"  median loss                    {s['median_loss_cp']:.0f} cp",
        ]


def held_out_positions(cfg: QualityConfig) -> list[str]:
    """``cfg.positions`` FENs of the wanted phase from the validation split, drawn with ``cfg.seed``."""
    from conceptcoach.training.dataset import load_positions, split_validation
    from conceptcoach.training.generate import list_shards

    shards = list(list_shards(cfg.data))
    if not shards:
        raise FileNotFoundError(f"{cfg.data}: no shards (w*-s*.npz)")
    if cfg.phase not in PHASES:
        raise ValueError(f"phase {cfg.phase!r}: use one of {PHASES}")
    step = max(1, len(shards) // max(1, cfg.shards))
    data, _ = load_positions(cfg.data, shards=shards[::step])
    _, val = split_validation(data, cfg.val_permille)
    wanted = val[data.phase[val] == PHASES.index(cfg.phase)]
    rng = np.random.default_rng(cfg.seed)
    chosen = rng.choice(wanted, size=min(cfg.positions, len(wanted)), replace=False)
    return [str(data.fen[i]) for i in sorted(chosen.tolist())]


def judge_positions(cfg: QualityConfig, fens: Sequence[str]) -> list[dict[str, Any]]:
    """One task: the network's searched move in each position, judged by Stockfish."""
    from conceptcoach.engine.mcts import MCTS, SearchConfig
    from conceptcoach.engine.networks import inspect_file, load_evaluator
    from conceptcoach.parallel import one_thread

    one_thread()
    evaluator = load_evaluator(inspect_file(cfg.network))
    out: list[dict[str, Any]] = []
    engine = chess.engine.SimpleEngine.popen_uci(cfg.engine)
    try:
        engine.configure({"Threads": 1, "Hash": cfg.hash_mb})
        limit = chess.engine.Limit(depth=cfg.depth)
        for fen in fens:
            board = chess.Board(fen)
            moves = list(board.legal_moves)
            if len(moves) == 1:
                move = moves[0]
            else:
                search = MCTS(evaluator, board, SearchConfig(simulations=cfg.sims))
                search.run()
                move = search.best_move()
            info = engine.analyse(board, limit, game=object())
            best = info["pv"][0]
            best_cp = pov_cp(info["score"], board.turn)
            if move == best:
                move_cp = best_cp
            else:
                moved = engine.analyse(board, limit, root_moves=[move], game=object())
                move_cp = pov_cp(moved["score"], board.turn)
            out.append({"fen": fen, "move": move.uci(), "best": best.uci(), "best_cp": best_cp,
                        "loss_cp": max(0, best_cp - move_cp)})
    finally:
        engine.quit()
    return out


def measure(cfg: QualityConfig, progress: Any = None) -> QualityReport:
    """Judge ``cfg.positions`` held-out positions; progress(done, total, text) as they come."""
    from conceptcoach.engine.checkpoint import sha256_file
    from conceptcoach.parallel import LocalBackend, ordered

    fens = held_out_positions(cfg)
    chunks = [fens[i : i + 5] for i in range(0, len(fens), 5)]
    report = QualityReport(config=cfg.to_json(), network_sha256=sha256_file(cfg.network))
    with LocalBackend(cfg.workers) as backend:
        for _, rows in ordered(backend.map(judge_positions, chunks, cfg)):
            report.rows.extend(rows)
            if progress is not None:
                progress(len(report.rows), len(fens), f"judged {len(report.rows)}/{len(fens)} positions")
    return report


def write_report(report: QualityReport, path: str | os.PathLike[str]) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report.to_json(), indent=1) + "\n")
    return out
