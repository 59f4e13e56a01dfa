"""The search stages of a discovery run: self-play, candidates, programs, prototypes.

1. selfplay    the teacher's self-play games with their search trees (skipped when stored);
2. candidates  positions where the teacher's MCTS move differs from the weaker
               network's (trivial positions skipped), stored in ``candidates``;
3. discovery   one L1 program per candidate x layer x players x polarity (rollouts of
               the stored tree), solved and checked; results in the candidate's data;
4. prototypes  a pass over the prototype pool (positions of games never used for
               discovery) scoring every solved concept on each pool tree.

Each stage records its results as it goes and skips what is stored, so a run resumes.
Self-play, the weaker network's searches, the programs and the prototype pass are
tasks on the run's back end (``run.backend``: a local process pool or Ray); their
results come back here, where they are stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import chess
import numpy as np
import numpy.typing as npt
from conceptcoach.concepts.candidates import WeakerJob, search_weaker, trivial_reason
from conceptcoach.concepts.discovery import solve
from conceptcoach.concepts.rollouts import (
    RolloutParams,
    build_rollout,
    differences,
    rollout_activations,
)
from conceptcoach.concepts.run_config import DiscoveryRun, PoolItem, program_key
from conceptcoach.engine.networks import load_evaluator
from conceptcoach.engine.shipping import NetworkPayload, pack, unpack
from conceptcoach.engine.summary import TreeSummary
from conceptcoach.parallel import ordered
from conceptcoach.store.candidates import (
    CandidateRow,
    add_candidates,
    candidate_fens,
    candidate_rows,
    save_candidates,
)
from conceptcoach.store.games import (
    game_ids_of_run,
    games_by_id,
    position_history,
    searched_positions,
    stored_summary,
)
from conceptcoach.store.networks import Network, NetworkFamily


def tree_of(run: DiscoveryRun, position_id: int) -> TreeSummary:
    return TreeSummary.from_dict(stored_summary(run.db, position_id))


#: A position's game before it (start FEN, moves), sent with a tree when the teacher reads history.
History = tuple[str, list[str]] | None


def history_of(run: DiscoveryRun, position_id: int) -> History:
    """The game before a position when the teacher's input has history planes (lc0), so
    rollouts are encoded as the position arose; None for our networks (they read the
    board alone), which keeps the tasks small."""
    if run.teacher.family != NetworkFamily.LC0:
        return None
    return position_history(run.db, position_id)


def root_board(summary: TreeSummary, history: History) -> chess.Board | None:
    """The rollout root with the game's moves on its stack, or None (the FEN alone)."""
    if history is None:
        return None
    board = chess.Board(history[0])
    for uci in history[1]:
        board.push_uci(uci)
    return board if board.fen() == summary.fen else None


def split_games(run: DiscoveryRun) -> tuple[list[int], list[int]]:
    """(discovery games, prototype games) of the self-play run: a seeded split by game."""
    ids = game_ids_of_run(run.db, run.selfplay_run)
    order = np.random.default_rng([run.config.seed, 1]).permutation(len(ids))
    n_proto = int(round(run.config.prototype_game_fraction * len(ids)))
    proto = sorted(ids[i] for i in order[:n_proto])
    disc = sorted(ids[i] for i in order[n_proto:])
    return disc, proto


def positions_of(run: DiscoveryRun, game_ids: list[int]) -> list[dict[str, Any]]:
    """Positions with a stored search, past the opening plies, in a seeded order."""
    rows = searched_positions(run.db, game_ids, run.config.candidate.min_ply)
    return [rows[i] for i in np.random.default_rng([run.config.seed, 2]).permutation(len(rows))]


def sparse(v: npt.NDArray[np.float64]) -> dict[str, list[Any]]:
    idx = np.nonzero(np.abs(v) > 1e-12)[0]
    return {"idx": idx.tolist(), "val": v[idx].tolist()}


def dense(stored: dict[str, list[Any]], dim: int) -> npt.NDArray[np.float64]:
    v = np.zeros(dim)
    v[np.asarray(stored["idx"], np.int64)] = np.asarray(stored["val"], np.float64)
    return v


def solved_programs(run: DiscoveryRun) -> list[tuple[CandidateRow, str, dict[str, Any]]]:
    """(row, program key, program) of every program that produced a vector."""
    return [(r, key, prog) for r in candidate_rows(run.db, run.run_id)
            for key, prog in r.data.get("programs", {}).items() if "vector" in prog]


def stage_selfplay(run: DiscoveryRun) -> None:
    from conceptcoach.engine.mcts import SearchConfig
    from conceptcoach.engine.selfplay import SelfPlayConfig, run_selfplay

    cfg = run.config
    sp = SelfPlayConfig(games=cfg.selfplay_games, simulations=cfg.selfplay_sims, seed=cfg.seed,
                        max_plies=cfg.selfplay_max_plies, summary_depth=cfg.rollout.depth,
                        search=SearchConfig(simulations=cfg.selfplay_sims, root_noise=True))
    run.selfplay_run = run_selfplay(run.db, run.db_path, run.teacher.name, sp, workers=cfg.workers,
                                    progress=run.progress, should_stop=run.should_stop, backend=run.backend)


def stage_candidates(run: DiscoveryRun, weaker: Network) -> None:
    cfg = run.config
    disc, _ = split_games(run)
    done = candidate_fens(run.db, run.run_id)
    positions = positions_of(run, disc)[: cfg.max_candidate_positions]
    games = games_by_id(run.db, disc)
    jobs: list[WeakerJob] = []
    trivial: list[tuple[int, str, str, dict[str, Any]]] = []
    for p in positions:
        if p["fen"] in done:
            continue
        reason = trivial_reason(chess.Board(p["fen"]), float(p["value"]), cfg.candidate)
        if reason is not None:
            trivial.append((p["pid"], p["fen"], "trivial", {"reason": reason}))
            continue
        g = games[p["gid"]]
        jobs.append(WeakerJob(p["pid"], p["fen"], g["moves"].split()[: p["ply"]], g["start_fen"],
                              seed=cfg.search_seed(int(p["pid"]))))
    add_candidates(run.db, run.run_id, trivial)
    total = len(jobs)
    finished = 0
    run.progress(0, total, f"candidates: weaker network searches {total} positions")
    by_pid = {j.key: j for j in jobs}
    chunks = [jobs[i : i + 4] for i in range(0, total, 4)]
    shared = (pack(weaker, run.backend.ships_by_content), cfg.candidate.weaker_simulations)
    # Stored in task order: candidate rows are read back in insertion order.
    for _, part in ordered(run.backend.map(search_weaker, chunks, shared, should_stop=run.should_stop)):
        rows = []
        for pid, move, value in part:
            summary = tree_of(run, pid)
            stage = "candidate" if move != summary.best_move else "same-move"
            rows.append((pid, by_pid[pid].fen, stage, {"teacher_move": summary.best_move, "weaker_move": move,
                                                       "teacher_value": summary.value, "weaker_value": value}))
        add_candidates(run.db, run.run_id, rows)
        finished += len(part)
        run.progress(finished, total, f"candidates: {finished}/{total} searched")
    run.check("candidate search")


@dataclass(frozen=True)
class ProgramSpec:
    """What the per-candidate programs of a run share: the teacher, where and how to solve."""

    teacher: NetworkPayload
    layers: tuple[str, ...]
    rollout: RolloutParams
    players: tuple[str, ...]
    polarities: tuple[str, ...]
    solver: str
    slack_penalty: float | None


def solve_programs(spec: ProgramSpec, trees: Sequence[tuple[int, dict[str, Any], History]]) -> list[dict[str, Any]]:
    """One task of the discovery stage: for a few candidates (row id, stored tree), the
    rollouts, the teacher's activations and every program (layer x players x
    polarity), solved; returns per candidate its id, programs, dimension and stage."""
    evaluator = load_evaluator(unpack(spec.teacher))
    summaries = [TreeSummary.from_dict(tree) for _, tree, _ in trees]
    rollouts = [build_rollout(s, spec.rollout, root=root_board(s, history))
                for s, (_, _, history) in zip(summaries, trees, strict=True)]
    acts = rollout_activations(evaluator, rollouts, list(spec.layers))
    out: list[dict[str, Any]] = []
    for (row_id, _, _), ro, a in zip(trees, rollouts, acts, strict=True):
        programs: dict[str, Any] = {}
        for layer in spec.layers:
            for players in spec.players:
                for polarity in spec.polarities:
                    D, _ = differences(a[layer], ro, players, polarity)
                    res = solve(D, method=spec.solver, slack_penalty=spec.slack_penalty)
                    entry: dict[str, Any] = res.figures()
                    if res.vector is not None:
                        entry["vector"] = sparse(res.vector)
                    programs[program_key(layer, players, polarity)] = entry
        stage = "solved" if any(p["status"] in ("optimal", "slack") for p in programs.values()) else "unsolved"
        out.append({"id": row_id, "programs": programs, "dim": int(a[spec.layers[0]].shape[1]), "stage": stage})
    return out


def stage_discovery(run: DiscoveryRun) -> None:
    cfg = run.config
    todo = candidate_rows(run.db, run.run_id, "candidate")
    total = len(todo)
    by_id = {r.id: r for r in todo}
    spec = ProgramSpec(pack(run.teacher, run.backend.ships_by_content), tuple(run.layers), cfg.rollout,
                       tuple(cfg.players), tuple(cfg.polarities), cfg.solver, cfg.slack_penalty)
    batch = 8  # candidates per task: one batch of activations
    tasks = [[(r.id, stored_summary(run.db, r.position_id), history_of(run, r.position_id))
              for r in todo[start : start + batch]]
             for start in range(0, total, batch)]
    done = 0
    run.progress(0, total, f"discovery: {total} candidates")
    for _, results in run.backend.map(solve_programs, tasks, spec, should_stop=run.should_stop):
        chunk = []
        for res in results:
            row = by_id[res["id"]]
            row.data["programs"] = res["programs"]
            row.data["dim"] = res["dim"]
            row.stage = res["stage"]
            chunk.append(row)
        save_candidates(run.db, chunk)
        done += len(chunk)
        run.progress(done, total, f"discovery: {done}/{total} candidates")
    run.check("discovery")


def prototype_pool(run: DiscoveryRun) -> list[PoolItem]:
    cfg = run.config
    _, proto_games = split_games(run)
    items: list[PoolItem] = []
    for p in positions_of(run, proto_games):
        if len(items) >= cfg.max_pool_positions:
            break
        if trivial_reason(chess.Board(p["fen"]), float(p["value"]), cfg.candidate) is not None:
            continue
        items.append(PoolItem(int(p["pid"]), int(p["gid"]), tree_of(run, int(p["pid"]))))
    return items


@dataclass(frozen=True)
class PrototypeSpec:
    """What the prototype pass shares: the teacher, and every solved concept as (layer,
    players, polarity, sparse vector), in the run's order."""

    teacher: NetworkPayload
    layers: tuple[str, ...]
    rollout: RolloutParams
    players: tuple[str, ...]
    margin: float
    dim: int
    concepts: tuple[tuple[str, str, str, dict[str, list[Any]]], ...]


def score_pool(spec: PrototypeSpec, batches: Sequence[Sequence[tuple[int, TreeSummary, History]]]
               ) -> list[tuple[int, float, int]]:
    """One task of the prototype pass: every concept scored on a few pool trees (in
    batches of the teacher's activations); returns (concept index, weakest row score,
    position id) for each tree where every row clears the margin."""
    evaluator = load_evaluator(unpack(spec.teacher))
    by_layer: dict[str, list[int]] = {layer: [] for layer in spec.layers}
    for i, (layer, _, _, _) in enumerate(spec.concepts):
        by_layer[layer].append(i)
    V = {layer: np.stack([dense(spec.concepts[i][3], spec.dim) for i in ids], axis=1) if ids else None
         for layer, ids in by_layer.items()}
    hits: list[tuple[int, float, int]] = []
    for items in batches:
        rollouts = [build_rollout(summary, spec.rollout, root=root_board(summary, history))
                    for _, summary, history in items]
        acts = rollout_activations(evaluator, rollouts, list(spec.layers))
        for (pid, _, _), ro, a in zip(items, rollouts, acts, strict=True):
            for layer, ids in by_layer.items():
                Vl = V[layer]
                if Vl is None:
                    continue
                for players in spec.players:
                    D, _ = differences(a[layer], ro, players, "active")
                    if len(D) == 0:
                        continue
                    scores = D @ Vl  # rows x concepts of this layer
                    for col, ci in enumerate(ids):
                        _, c_players, c_polarity, _ = spec.concepts[ci]
                        if c_players != players:
                            continue
                        s = scores[:, col] if c_polarity == "active" else -scores[:, col]
                        worst = float(s.min())
                        if worst > spec.margin:
                            hits.append((ci, worst, pid))
    return hits


def stage_prototypes(run: DiscoveryRun, pool: list[PoolItem]) -> None:
    """Score every solved concept on each pool tree; keep the trees where every row
    clears the margin (ranked by their weakest row). Pool trees are tasks on the run's
    back end (64 a task, activations 16 at a time); the ranking does not depend on the
    order they come back in."""
    cfg = run.config
    concepts = solved_programs(run)
    if all("prototypes" in prog for _, _, prog in concepts):
        return
    dim = concepts[0][0].data["dim"] if concepts else 0
    keys = [key.split("/") for _, key, _ in concepts]
    spec = PrototypeSpec(pack(run.teacher, run.backend.ships_by_content), tuple(run.layers), cfg.rollout,
                         tuple(cfg.players), cfg.prototype_margin, dim,
                         tuple((k[0], k[1], k[2], prog["vector"]) for k, (_, _, prog) in zip(keys, concepts, strict=True)))
    batch, per_task = 16, 4
    batches = [[(it.pid, it.summary, history_of(run, it.pid)) for it in pool[start : start + batch]]
               for start in range(0, len(pool), batch)]
    tasks = [batches[i : i + per_task] for i in range(0, len(batches), per_task)]
    found: list[list[tuple[float, int]]] = [[] for _ in concepts]
    done = 0
    run.progress(0, len(pool), f"prototypes: {len(pool)} pool trees")
    for k, hits in run.backend.map(score_pool, tasks, spec, should_stop=run.should_stop):
        for ci, worst, pid in hits:
            found[ci].append((worst, pid))
        done += sum(len(b) for b in tasks[k])
        run.progress(done, len(pool), f"prototypes: {done}/{len(pool)} pool trees")
    run.check("prototype search")
    touched: dict[int, CandidateRow] = {}
    for ci, (row, _, prog) in enumerate(concepts):
        best = sorted(found[ci], reverse=True)[: cfg.max_prototypes]
        prog["prototypes"] = [pid for _, pid in best]
        prog["prototype_scores"] = [s for s, _ in best]
        touched[row.id] = row
    save_candidates(run.db, list(touched.values()))
