"""What one task of each discovery stage costs at the settings of a paper-scale run, on
one core (the figures docs/SCALE.md projects to a cluster):

    python -m bench.scale            # about 5-10 minutes on one core

Each task is the stage's own task function, run once in this process with one torch
thread: a self-play move (100 simulations), a weaker network's search (200), the 12
programs of one candidate (3 layers x 2 x 2), one student training (5 epochs on 60
prototypes, with its random-positions baseline), novelty bases of 1,024 / 2,048 /
4,096 positions (activations and SVD; 17,184 is projected from their growth), and the
prototype pass, which stays on the head (one pool tree against 8,000 concepts a layer).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import chess
import numpy as np
from conceptcoach.concepts.candidates import WeakerJob, search_weaker
from conceptcoach.concepts.filters import basis_of, teach_concepts
from conceptcoach.concepts.rollouts import RolloutParams
from conceptcoach.concepts.stages import ProgramSpec, solve_programs
from conceptcoach.concepts.teachability import Example, TeachParams
from conceptcoach.engine.mcts import MCTS, SearchConfig
from conceptcoach.engine.networks import load_evaluator
from conceptcoach.engine.selfplay import SelfPlayConfig, play_game
from conceptcoach.engine.shipping import pack
from conceptcoach.parallel import one_thread

from bench.bench_ray import _fen, _networks, _positions


def _timed(label: str, seconds: float, per: str) -> None:
    print(f"scale: {label} = {seconds:.3f} s {per}", flush=True)


def main() -> None:
    one_thread()
    with tempfile.TemporaryDirectory() as tmp:
        nets = _networks(Path(tmp))
        teacher = load_evaluator(nets["teacher"])
        lines = _positions(90, ply=24)

        # Self-play: a 40-ply game at 100 simulations per move; the cost is per move.
        cfg = SelfPlayConfig(games=1, simulations=100, seed=3, max_plies=40, resign_value=-2.0,
                             search=SearchConfig(simulations=100, root_noise=True))
        start = time.perf_counter()
        game = play_game(teacher, cfg, seed=3)
        _timed("selfplay_move_100_sims", (time.perf_counter() - start) / max(1, len(game.moves)), "per move")

        # The weaker network's search of one position at 200 simulations.
        jobs = [WeakerJob(k, _fen(s, m), m, s, seed=k) for k, (s, m) in enumerate(lines[:4])]
        start = time.perf_counter()
        search_weaker((pack(nets["weaker"], False), 200), jobs)
        _timed("candidate_search_200_sims", (time.perf_counter() - start) / len(jobs), "per position")

        # The programs of one candidate: trees at 100 simulations, rollouts of depth 10.
        trees = []
        for i, (s, m) in enumerate(lines[4:84]):
            board = chess.Board(s)
            for uci in m:
                board.push_uci(uci)
            trees.append(MCTS(teacher, board, SearchConfig(simulations=100), rng=np.random.default_rng(i))
                         .run().to_dict())
        names = teacher.layer_names()
        layers = ("block1", "block3", "block5") if "block5" in names else tuple(names[-3:])
        spec = ProgramSpec(pack(nets["teacher"], False), layers, RolloutParams(), ("single", "both"),
                           ("active", "prophylactic"), "fast", None)
        start = time.perf_counter()
        solve_programs(spec, [(k, t, None) for k, t in enumerate(trees[:8])])
        _timed("programs_of_one_candidate", (time.perf_counter() - start) / 8, "per candidate (12 programs)")

        # The prototype pass (on the head, not a task): one pool tree's rollout activations
        # scored against 8,000 concept vectors per layer.
        from conceptcoach.concepts.rollouts import build_rollout, differences, rollout_activations
        from conceptcoach.engine.summary import TreeSummary

        rng = np.random.default_rng(0)
        vectors = rng.normal(size=(teacher.width, 8000)).astype(np.float64)
        start = time.perf_counter()
        for tree in trees[8:16]:
            ro = build_rollout(TreeSummary.from_dict(tree), RolloutParams())
            acts = rollout_activations(teacher, [ro], list(layers))[0]
            for layer in layers:
                for players in ("single", "both"):
                    D, _ = differences(acts[layer], ro, players, "active")
                    if len(D):
                        _ = D @ vectors
        _timed("prototype_pass_per_pool_tree_8000_concepts", (time.perf_counter() - start) / 8, "per pool tree")

        # One student training: 60 prototypes, 5 epochs, with its baseline.
        examples = [Example(t["fen"], {c["move"]: float(c["n"]) for c in t["children"] if c["n"] > 0},
                            t["best_move"], str(i)) for i, t in enumerate(trees)]
        students = [pack(nets[n], False) for n in ("student-1", "student-2")]
        teach = TeachParams(epochs=5, max_student_agreement=1.01).to_dict()
        start = time.perf_counter()
        teach_concepts((students, teach, examples), [(examples[:60], 1)])
        _timed("student_training_60_prototypes", time.perf_counter() - start, "per concept")

        # Novelty bases of growing size (activations of n positions and their SVD).
        fens = [_fen(s, m) for s, m in _positions(400, ply=30)]
        for n in (1024, 2048, 4096):
            sample = (fens * (n // len(fens) + 1))[:n]
            start = time.perf_counter()
            basis_of(pack(nets["teacher"], False), (layers[1], sample))
            _timed(f"novelty_basis_{n}_positions", time.perf_counter() - start, "per basis")


if __name__ == "__main__":
    main()
