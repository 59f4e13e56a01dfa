"""Discovery programs per second: our HiGHS column-generation path against the plain
cvxpy formulation (cp.norm1) with cvxpy's default solver, on the same programs in
the same run, and the largest relative difference of their optimal objectives.

The programs are real rollout programs: short MCTS searches of the bundled teacher
(a seeded random network if none is bundled) on positions of real games, the
chosen line against the subpar branches, at the middle block (d = 4096 for 6x64).
"""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import chess
import chess.pgn
import numpy as np
import torch
from conceptcoach.concepts.discovery import solve_fast, solve_reference
from conceptcoach.concepts.rollouts import build_rollout, differences, rollout_activations
from conceptcoach.engine.checkpoint import load_checkpoint, random_network
from conceptcoach.engine.mcts import MCTS, SearchConfig
from conceptcoach.engine.network import Evaluator, PolicyValueNet
from conceptcoach.paths import models_dir
from threadpoolctl import threadpool_limits

HUMAN = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "human" / "lichess_fgf_sample_3000.pgn.gz"
POSITIONS = 12
SIMS = 160


def _network() -> tuple[PolicyValueNet, str]:
    teacher = models_dir() / "teacher.safetensors"
    if teacher.exists():
        net, info = load_checkpoint(teacher)
        return net, f"bundled teacher ({info.config.blocks}x{info.config.channels})"
    return random_network(seed=0), "random default network (6x64; no bundled teacher)"


def _boards() -> list[chess.Board]:
    """Middlegame positions of real games (ply 24 of each), or fixed FENs without the data."""
    boards: list[chess.Board] = []
    if HUMAN.exists():
        with gzip.open(HUMAN, "rt", encoding="utf-8", errors="replace") as handle:
            while len(boards) < POSITIONS:
                game = chess.pgn.read_game(handle)
                if game is None:
                    break
                board = game.board()
                for ply, move in enumerate(game.mainline_moves()):
                    if ply == 24:
                        boards.append(board.copy())
                        break
                    board.push(move)
    return boards or [chess.Board()]


def programs() -> tuple[list[np.ndarray], str]:
    net, label = _network()
    evaluator = Evaluator(net)
    layer = f"block{net.config.blocks // 2}"
    rollouts = []
    for i, board in enumerate(_boards()):
        summary = MCTS(evaluator, board, SearchConfig(simulations=SIMS), rng=np.random.default_rng(i)).run()
        rollouts.append(build_rollout(summary))
    acts = rollout_activations(evaluator, rollouts, [layer])
    out = []
    for ro, a in zip(rollouts, acts, strict=True):
        for players in ("single", "both"):
            for polarity in ("active", "prophylactic"):
                D, _ = differences(a[layer], ro, players, polarity)
                if len(D):
                    out.append(D)
    return out, f"{label}, layer {layer}"


def main() -> None:
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        progs, label = programs()
        # Warm both paths once (imports, solver start-up) outside the timings.
        solve_fast(progs[0])
        solve_reference(progs[0])
        start = time.perf_counter()
        fast = [solve_fast(D) for D in progs]
        t_fast = time.perf_counter() - start
        start = time.perf_counter()
        ref = [solve_reference(D) for D in progs]
        t_ref = time.perf_counter() - start
    both = [(a, b) for a, b in zip(fast, ref, strict=True) if a.status == "optimal" and b.status == "optimal"]
    rel = max((abs(a.objective - b.objective) / max(abs(b.objective), 1e-12) for a, b in both), default=float("nan"))
    agree = sum(a.status == b.status or {a.status, b.status} <= {"optimal", "doubtful"} for a, b in zip(fast, ref, strict=True))
    n = len(progs)
    rows = [int(D.shape[0]) for D in progs]
    print(f"# {n} programs from {label}: {min(rows)}-{max(rows)} constraints, d = {progs[0].shape[1]}")
    print(f"# statuses fast: { {s: sum(r.status == s for r in fast) for s in {r.status for r in fast}} }, "
          f"reference ({ref[0].solver}): { {s: sum(r.status == s for r in ref) for s in {r.status for r in ref}} }, "
          f"status agreement {agree}/{n}")
    print(f"bench: discovery_fast_programs_per_s = {n / t_fast:.1f}")
    print(f"bench: discovery_cvxpy_default_programs_per_s = {n / t_ref:.2f}")
    print(f"bench: discovery_vs_cvxpy_default = {t_ref / t_fast:.1f}")
    print(f"bench: discovery_max_objective_rel_diff = {rel:.2e}")
    print(f"bench: discovery_programs_compared = {len(both)}")


if __name__ == "__main__":
    main()
