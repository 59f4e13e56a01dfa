"""The discovery run (`conceptcoach discover`), stage by stage, with progress and resume.

Stages, in order, each reading what the previous one stored:

1. import    human PGN files into the store (optional);
2. selfplay  the teacher's self-play games with their search trees (skipped when stored);
3. candidates  positions where the teacher's MCTS move differs from the weaker
             network's (trivial positions skipped), stored in ``candidates``;
4. discovery one L1 program per candidate x layer x players x polarity (rollouts of the
             stored tree), solved and checked; results in ``candidates.data``;
5. prototypes  a pass over the prototype pool (positions of games never used for
             discovery) scoring every solved concept on each pool tree;
6. teachability  a fresh student per concept, with the random-positions baseline, in
             worker processes; plus the random-concept-vector baseline per layer;
7. novelty   human vs machine SVD bases per layer (cached), the curve per concept;
8. write     the surviving concepts (and a few that failed, as controls) into the library.

Every stage records its results as it goes, so an interrupted run (``should_stop``
or Ctrl-C) resumes where it stopped when started again with the same parameters;
the parameters and seeds are stored in ``runs``.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import chess
import numpy as np
import numpy.typing as npt
import sqlite_utils
import torch
from conceptcoach.concepts.candidates import (
    CandidateParams,
    WeakerJob,
    iter_weaker_moves,
    trivial_reason,
)
from conceptcoach.concepts.discovery import solve
from conceptcoach.concepts.naming import concept_name
from conceptcoach.concepts.novelty import cached_basis, novelty_curve
from conceptcoach.concepts.rollouts import (
    PLAYERS,
    POLARITIES,
    RolloutParams,
    build_rollout,
    default_layers,
    differences,
    rollout_activations,
)
from conceptcoach.concepts.teachability import Example, TeachParams
from conceptcoach.engine.checkpoint import load_checkpoint
from conceptcoach.engine.encoding import encode_batch
from conceptcoach.engine.network import Evaluator
from conceptcoach.engine.summary import TreeSummary
from conceptcoach.progress import Cancelled, ProgressFn, StopFn, never_stop, no_progress
from conceptcoach.store.concepts import NewPrototype, add_concept
from conceptcoach.store.db import transaction
from conceptcoach.store.networks import NetworkRecord, get_network, list_networks, network_by_role
from conceptcoach.store.runs import finish_run, get_run, start_run
from threadpoolctl import threadpool_limits

STAGES = ("import", "selfplay", "candidates", "discovery", "prototypes", "teachability", "novelty", "write")


@dataclass(frozen=True)
class DiscoveryConfig:
    """Every parameter of a discovery run; stored with the run and with each concept."""

    teacher: str = "teacher"
    weaker: str | None = None  # default: the network with role 'weaker'
    students: tuple[str, ...] = ()  # default: networks with role 'student', by training step
    human_pgn: tuple[str, ...] = ()  # PGN files imported first
    human_corpus: str | None = None  # novelty against this corpus (default: every human game)
    selfplay_games: int = 40
    selfplay_sims: int = 100
    selfplay_max_plies: int = 200
    prototype_game_fraction: float = 0.5  # games kept apart for prototypes, never used for discovery
    max_candidate_positions: int = 200  # positions searched by the weaker network
    max_pool_positions: int = 600  # prototype pool positions
    candidate: CandidateParams = field(default_factory=CandidateParams)
    rollout: RolloutParams = field(default_factory=RolloutParams)
    layers: tuple[str, ...] = ()  # default: an early, a middle and the last block
    players: tuple[str, ...] = PLAYERS
    polarities: tuple[str, ...] = POLARITIES
    solver: str = "fast"
    slack_penalty: float | None = None
    prototype_margin: float = 0.0  # a pool tree is a prototype if every row scores above this
    max_prototypes: int = 60
    teach: TeachParams = field(default_factory=TeachParams)
    max_teach: int = 400  # concepts taken to teachability (most prototypes first)
    novelty_positions: int = 1024
    novelty_informative: float = 0.01  # grid sizes where a basis explains less than this are not compared
    controls: int = 4  # failed concepts kept as control items
    static_themes: tuple[str, ...] = ()  # known themes (concepts.static.THEMES) discovered as static concepts
    static_positions: int = 1000  # labelled positions per class
    static_pairs: int = 1200
    static_top_fraction: float = 0.025  # static prototypes: the top-scoring pool positions
    workers: int = 2
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Funnel:
    positions: int = 0
    trivial: int = 0
    candidates: int = 0
    programs: int = 0
    solved: int = 0
    infeasible: int = 0
    doubtful: int = 0
    empty: int = 0  # rollouts with no branch to separate: nothing to solve
    with_prototypes: int = 0
    teachable: int = 0
    novel: int = 0
    written: int = 0

    def lines(self) -> list[str]:
        def frac(a: int, b: int) -> str:
            return f"{100.0 * a / b:5.1f}%" if b else "    -"

        return [
            f"positions searched     {self.positions:7d}",
            f"trivial (skipped)      {self.trivial:7d}",
            f"candidates             {self.candidates:7d}  {frac(self.candidates, self.positions - self.trivial)}"
            " of non-trivial positions (teacher and weaker moves differ)",
            f"programs               {self.programs:7d}  (candidates x layers x players x polarities)",
            f"solved                 {self.solved:7d}  {frac(self.solved, self.programs)}"
            f"   (infeasible {self.infeasible}, doubtful {self.doubtful}, no constraints {self.empty})",
            f"with prototypes        {self.with_prototypes:7d}  {frac(self.with_prototypes, self.solved)}",
            f"teachable              {self.teachable:7d}  {frac(self.teachable, self.solved)} of solved"
            f" ({frac(self.solved - self.teachable, self.solved).strip()} removed)",
            f"novel                  {self.novel:7d}  {frac(self.novel, self.teachable)} of teachable"
            f" ({frac(self.teachable - self.novel, self.teachable).strip()} removed)",
            f"written to library     {self.written:7d}",
        ]


def run_id_for(config: DiscoveryConfig, teacher_sha: str) -> str:
    key = hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True).encode()).hexdigest()[:10]
    return f"discovery-{teacher_sha[:8]}-seed{config.seed}-{key}"


def _program_key(layer: str, players: str, polarity: str) -> str:
    return f"{layer}/{players}/{polarity}"


@dataclass
class Context:
    db: sqlite_utils.Database
    db_path: str
    config: DiscoveryConfig
    run_id: str
    teacher: NetworkRecord
    layers: list[str]
    progress: ProgressFn
    should_stop: StopFn
    selfplay_run: str = ""
    log: list[str] = field(default_factory=list)

    def check(self, what: str) -> None:
        if self.should_stop():
            raise Cancelled(f"{what} stopped; run the same command again to resume run {self.run_id}")


# -- stored candidates --------------------------------------------------------------


def _rows(ctx: Context, stage: str | None = None) -> list[dict[str, Any]]:
    sql = "SELECT id, position_id, fen, stage, data FROM candidates WHERE run_id = ?"
    args: list[Any] = [ctx.run_id]
    if stage is not None:
        sql += " AND stage = ?"
        args.append(stage)
    out = []
    for r in ctx.db.query(sql + " ORDER BY id", args):
        row = dict(r)
        row["data"] = json.loads(row["data"])
        out.append(row)
    return out


def _save(ctx: Context, rows: Sequence[dict[str, Any]]) -> None:
    with transaction(ctx.db) as conn:
        for r in rows:
            conn.execute("UPDATE candidates SET stage = ?, data = ? WHERE id = ?",
                         (r["stage"], json.dumps(r["data"], separators=(",", ":")), r["id"]))


def _summary_of(db: sqlite_utils.Database, position_id: int) -> TreeSummary:
    row = next(iter(db.query("SELECT summary FROM search_summaries WHERE position_id = ?", [position_id])))
    return TreeSummary.from_dict(json.loads(row["summary"]))


def _split_games(ctx: Context) -> tuple[list[int], list[int]]:
    """(discovery games, prototype games) of the self-play run: a seeded split by game."""
    ids = [int(r["id"]) for r in ctx.db.query("SELECT id FROM games WHERE run_id = ? ORDER BY game_index",
                                               [ctx.selfplay_run])]
    rng = np.random.default_rng([ctx.config.seed, 1])
    order = rng.permutation(len(ids))
    n_proto = int(round(ctx.config.prototype_game_fraction * len(ids)))
    proto = sorted(ids[i] for i in order[:n_proto])
    disc = sorted(ids[i] for i in order[n_proto:])
    return disc, proto


def _positions_of(ctx: Context, game_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Positions with a stored search, past the opening plies, in a seeded order."""
    if not game_ids:
        return []
    rows = [dict(r) for r in ctx.db.query(
        "SELECT p.id AS pid, p.game_id AS gid, p.ply AS ply, p.fen AS fen, s.root_value AS value"
        " FROM positions p JOIN search_summaries s ON s.position_id = p.id"
        f" WHERE p.game_id IN ({','.join('?' * len(game_ids))}) AND p.ply >= ? ORDER BY p.id",
        [*game_ids, ctx.config.candidate.min_ply])]
    rng = np.random.default_rng([ctx.config.seed, 2])
    return [rows[i] for i in rng.permutation(len(rows))]


# -- stages ---------------------------------------------------------------------------


def stage_selfplay(ctx: Context) -> None:
    from conceptcoach.engine.mcts import SearchConfig
    from conceptcoach.engine.selfplay import SelfPlayConfig, run_selfplay

    cfg = ctx.config
    sp = SelfPlayConfig(games=cfg.selfplay_games, simulations=cfg.selfplay_sims, seed=cfg.seed,
                        max_plies=cfg.selfplay_max_plies, summary_depth=cfg.rollout.depth,
                        search=SearchConfig(simulations=cfg.selfplay_sims, root_noise=True))
    ctx.selfplay_run = run_selfplay(ctx.db, ctx.db_path, ctx.teacher.name, sp, workers=cfg.workers,
                                    progress=ctx.progress, should_stop=ctx.should_stop)


def stage_candidates(ctx: Context, weaker: NetworkRecord) -> None:
    cfg = ctx.config
    disc, _ = _split_games(ctx)
    done = {r["fen"] for r in _rows(ctx)}
    positions = _positions_of(ctx, disc)[: cfg.max_candidate_positions]
    games = {int(r["id"]): dict(r) for r in ctx.db.query(
        f"SELECT id, start_fen, moves FROM games WHERE id IN ({','.join('?' * len(disc))})", disc)} if disc else {}
    jobs: list[WeakerJob] = []
    trivial_rows = []
    for p in positions:
        if p["fen"] in done:
            continue
        board = chess.Board(p["fen"])
        reason = trivial_reason(board, float(p["value"]), cfg.candidate)
        if reason is not None:
            trivial_rows.append((ctx.run_id, p["pid"], p["fen"], "trivial", json.dumps({"reason": reason})))
            continue
        g = games[p["gid"]]
        jobs.append(WeakerJob(p["pid"], p["fen"], g["moves"].split()[: p["ply"]], g["start_fen"],
                              seed=cfg.candidate.seed * 1_000_003 + int(p["pid"])))
    ctx.db.conn.executemany("INSERT OR IGNORE INTO candidates (run_id, position_id, fen, stage, data)"
                            " VALUES (?, ?, ?, ?, ?)", trivial_rows)
    total = len(jobs)
    finished = 0
    ctx.progress(0, total, f"candidates: weaker network searches {total} positions")
    by_pid = {j.key: j for j in jobs}
    for part in iter_weaker_moves(weaker.path, weaker.sha256, jobs, cfg.candidate.weaker_simulations,
                                  workers=cfg.workers, chunk=4):
        rows = []
        for pid, move, value in part:
            summary = _summary_of(ctx.db, pid)
            stage = "candidate" if move != summary.best_move else "same-move"
            rows.append((ctx.run_id, pid, by_pid[pid].fen, stage,
                         json.dumps({"teacher_move": summary.best_move, "weaker_move": move,
                                     "teacher_value": summary.value, "weaker_value": value})))
        ctx.db.conn.executemany("INSERT OR IGNORE INTO candidates (run_id, position_id, fen, stage, data)"
                                " VALUES (?, ?, ?, ?, ?)", rows)
        finished += len(part)
        ctx.progress(finished, total, f"candidates: {finished}/{total} searched")
        ctx.check("candidate search")


def _sparse(v: npt.NDArray[np.float64]) -> dict[str, list[Any]]:
    idx = np.nonzero(np.abs(v) > 1e-12)[0]
    return {"idx": idx.tolist(), "val": v[idx].tolist()}


def _dense(sparse: dict[str, list[Any]], dim: int) -> npt.NDArray[np.float64]:
    v = np.zeros(dim)
    v[np.asarray(sparse["idx"], np.int64)] = np.asarray(sparse["val"], np.float64)
    return v


def stage_discovery(ctx: Context, evaluator: Evaluator) -> None:
    cfg = ctx.config
    todo = [r for r in _rows(ctx, "candidate")]
    total = len(todo)
    batch = 8
    for start in range(0, total, batch):
        chunk = todo[start : start + batch]
        rollouts = [build_rollout(_summary_of(ctx.db, r["position_id"]), cfg.rollout) for r in chunk]
        acts = rollout_activations(evaluator, rollouts, ctx.layers)
        for r, ro, a in zip(chunk, rollouts, acts, strict=True):
            programs: dict[str, Any] = {}
            for layer in ctx.layers:
                for players in cfg.players:
                    for polarity in cfg.polarities:
                        D, _ = differences(a[layer], ro, players, polarity)
                        res = solve(D, method=cfg.solver, slack_penalty=cfg.slack_penalty)
                        entry: dict[str, Any] = res.figures()
                        if res.vector is not None:
                            entry["vector"] = _sparse(res.vector)
                        programs[_program_key(layer, players, polarity)] = entry
            r["data"]["programs"] = programs
            r["data"]["dim"] = int(a[ctx.layers[0]].shape[1])
            r["stage"] = "solved" if any(p["status"] in ("optimal", "slack") for p in programs.values()) else "unsolved"
        _save(ctx, chunk)
        done = min(total, start + batch)
        ctx.progress(done, total, f"discovery: {done}/{total} candidates")
        ctx.check("discovery")


@dataclass
class PoolItem:
    pid: int
    gid: int
    summary: TreeSummary


def _pool(ctx: Context) -> list[PoolItem]:
    cfg = ctx.config
    _, proto_games = _split_games(ctx)
    items: list[PoolItem] = []
    for p in _positions_of(ctx, proto_games):
        if len(items) >= cfg.max_pool_positions:
            break
        if trivial_reason(chess.Board(p["fen"]), float(p["value"]), cfg.candidate) is not None:
            continue
        items.append(PoolItem(int(p["pid"]), int(p["gid"]), _summary_of(ctx.db, int(p["pid"]))))
    return items


def _concept_list(ctx: Context) -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
    out = []
    for r in _rows(ctx):
        for key, prog in r["data"].get("programs", {}).items():
            if "vector" in prog:
                out.append((r, key, prog))
    return out


def stage_prototypes(ctx: Context, evaluator: Evaluator, pool: list[PoolItem]) -> None:
    """Score every solved concept on each pool tree; keep the trees where every row
    clears the margin (ranked by their weakest row)."""
    cfg = ctx.config
    concepts = _concept_list(ctx)
    if all("prototypes" in prog for _, _, prog in concepts):
        return
    by_layer: dict[str, list[int]] = {layer: [] for layer in ctx.layers}
    for i, (_, key, _) in enumerate(concepts):
        by_layer[key.split("/")[0]].append(i)
    dim = concepts[0][0]["data"]["dim"] if concepts else 0
    V = {layer: np.stack([_dense(concepts[i][2]["vector"], dim) for i in ids], axis=1) if ids else None
         for layer, ids in by_layer.items()}
    found: list[list[tuple[float, int]]] = [[] for _ in concepts]
    batch = 16
    for start in range(0, len(pool), batch):
        items = pool[start : start + batch]
        rollouts = [build_rollout(it.summary, cfg.rollout) for it in items]
        acts = rollout_activations(evaluator, rollouts, ctx.layers)
        for it, ro, a in zip(items, rollouts, acts, strict=True):
            for layer, ids in by_layer.items():
                Vl = V[layer]
                if Vl is None:
                    continue
                for players in cfg.players:
                    D, _ = differences(a[layer], ro, players, "active")
                    if len(D) == 0:
                        continue
                    scores = D @ Vl  # rows x concepts of this layer
                    for col, ci in enumerate(ids):
                        _, key, _ = concepts[ci]
                        _, c_players, c_polarity = key.split("/")
                        if c_players != players:
                            continue
                        s = scores[:, col] if c_polarity == "active" else -scores[:, col]
                        worst = float(s.min())
                        if worst > cfg.prototype_margin:
                            found[ci].append((worst, it.pid))
        done = min(len(pool), start + batch)
        ctx.progress(done, len(pool), f"prototypes: {done}/{len(pool)} pool trees")
        ctx.check("prototype search")
    touched: dict[int, dict[str, Any]] = {}
    for ci, (row, _, prog) in enumerate(concepts):
        best = sorted(found[ci], reverse=True)[: cfg.max_prototypes]
        prog["prototypes"] = [pid for _, pid in best]
        prog["prototype_scores"] = [s for s, _ in best]
        touched[row["id"]] = row
    _save(ctx, list(touched.values()))


def _example(item: PoolItem) -> Example:
    s = item.summary
    return Example(s.fen, {c.move: float(c.n) for c in s.children if c.n > 0}, s.best_move, str(item.gid))


def _teach_worker(
    args: tuple[list[tuple[str, str, str]], dict[str, Any], list[Example], list[tuple[list[Example], int]]],
) -> list[dict[str, Any]]:
    """Teachability of a few concepts, in a worker process (one torch thread): the
    students are loaded once per chunk, and each concept gets a fresh copy."""
    students, tp, random_pool, jobs = args
    torch.set_num_threads(1)
    threadpool_limits(limits=1)
    from conceptcoach.concepts import teachability as T

    params = T.TeachParams(**tp)
    nets = [(name, load_checkpoint(path, expected_sha256=sha or None)[0]) for name, path, sha in students]
    out: list[dict[str, Any]] = []
    for prototypes, seed in jobs:
        chosen = T.choose_student(nets, T.encode_examples(prototypes), params.max_student_agreement)
        if chosen is None:
            out.append({"teachable": False, "reason": "every student already agrees with the teacher on >= "
                        f"{params.max_student_agreement} of the prototypes", "prototypes": len(prototypes)})
            continue
        name, net, agreement = chosen
        figures = T.evaluate(name, net, prototypes, random_pool, params, seed)
        figures["student_agreement_on_prototypes"] = agreement
        out.append(figures)
    return out


def _students(ctx: Context) -> list[NetworkRecord]:
    if ctx.config.students:
        recs = [get_network(ctx.db, n) for n in ctx.config.students]
    else:
        recs = [r for r in list_networks(ctx.db) if r.role == "student"]
    return sorted(recs, key=lambda r: (int(r.metadata.get("step", 0)), r.name))


def _random_vector(dim: int, seed: int) -> npt.NDArray[np.float64]:
    """A random concept vector: N(0, 1) scaled by 1/n."""
    return np.random.default_rng(seed).normal(size=dim) / dim


def stage_teachability(ctx: Context, evaluator: Evaluator, pool: list[PoolItem]) -> None:
    cfg = ctx.config
    students = _students(ctx)
    if not students:
        raise ValueError("no student network: register checkpoints with role 'student' (assets/models) "
                         "or pass --student NAME")
    student_args = [(s.name, s.path, s.sha256) for s in students]
    by_pid = {it.pid: it for it in pool}
    random_pool = [_example(it) for it in pool]
    concepts = _concept_list(ctx)
    todo = [(row, key, prog) for row, key, prog in concepts
            if "teachability" not in prog and len(prog.get("prototypes", [])) >= cfg.teach.min_prototypes]
    todo.sort(key=lambda c: -len(c[2]["prototypes"]))
    already = sum(1 for _, _, prog in concepts if "teachability" in prog)
    todo = todo[: max(0, cfg.max_teach - already)]
    tasks: list[tuple[list[Example], int]] = []
    for row, key, prog in todo:
        examples = [_example(by_pid[pid]) for pid in prog["prototypes"] if pid in by_pid]
        # A seed of the concept itself, so a resumed run teaches it exactly as the first would.
        seed = cfg.teach.seed + int(hashlib.sha256(f"{row['fen']}|{key}".encode()).hexdigest()[:8], 16)
        tasks.append((examples, seed))
    # The random-concept-vector baseline, once per layer: its prototypes are the pool
    # trees it ranks highest, taken through the same steps.
    run = get_run(ctx.db, ctx.run_id)
    baselines: dict[str, Any] = dict((run or {}).get("summary") or {}).get("random_vector_baseline", {})
    base_tasks: list[tuple[str, tuple[list[Example], int]]] = []
    if len(baselines) < len(ctx.layers) and pool:
        roots = encode_batch([chess.Board(it.summary.fen) for it in pool])
        acts = evaluator.activations(roots, ctx.layers)
        for i, layer in enumerate(ctx.layers):
            if layer in baselines:
                continue
            score = acts[layer].astype(np.float64) @ _random_vector(acts[layer].shape[1], cfg.seed * 7919 + i)
            top = np.argsort(-score)[: cfg.max_prototypes]
            base_tasks.append((layer, ([_example(pool[int(k)]) for k in top], cfg.teach.seed + 100_000 + i)))
    total = len(tasks) + len(base_tasks)
    ctx.progress(0, total, f"teachability: {total} student trainings")
    shared = (student_args, cfg.teach.to_dict(), random_pool)
    chunk = 4
    ctx_mp = mp.get_context("spawn")
    with ctx_mp.Pool(max(1, cfg.workers)) as workers:
        if base_tasks:
            parts = workers.map(_teach_worker, [(*shared, [t]) for _, t in base_tasks])
            for (layer, _), res in zip(base_tasks, parts, strict=True):
                baselines[layer] = res[0]
            ctx.db.execute("UPDATE runs SET summary = ? WHERE id = ?",
                           [json.dumps({"random_vector_baseline": baselines}), ctx.run_id])
        done = len(base_tasks)
        chunks = [(todo[i : i + chunk], tasks[i : i + chunk]) for i in range(0, len(tasks), chunk)]
        results = workers.imap(_teach_worker, [(*shared, jobs) for _, jobs in chunks])
        for (concepts_part, _), part in zip(chunks, results, strict=True):
            for (_row, _, prog), figures in zip(concepts_part, part, strict=True):
                prog["teachability"] = figures
            _save(ctx, list({row["id"]: row for row, _, _ in concepts_part}.values()))
            done += len(part)
            ctx.progress(done, total, f"teachability: {done}/{total}")
            if ctx.should_stop():
                workers.terminate()
                ctx.check("teachability")


def _sample_activations(
    ctx: Context, evaluator: Evaluator, layer: str, fens: Sequence[str]
) -> npt.NDArray[np.float32]:
    return evaluator.activations(encode_batch([chess.Board(f) for f in fens]), [layer])[layer]


def _sample_fens(db: sqlite_utils.Database, sql: str, args: list[Any], n: int, seed: int) -> list[str]:
    fens = [r["fen"] for r in db.query(sql, args)]
    rng = np.random.default_rng(seed)
    if len(fens) > n:
        fens = [fens[i] for i in sorted(rng.choice(len(fens), size=n, replace=False))]
    return fens


def stage_novelty(ctx: Context, evaluator: Evaluator) -> None:
    cfg = ctx.config
    concepts = [(row, key, prog) for row, key, prog in _concept_list(ctx)
                if prog.get("teachability", {}).get("teachable") and "novelty" not in prog]
    if not concepts:
        return
    corpus = cfg.human_corpus or "all-human"
    human_sql = "SELECT p.fen FROM positions p JOIN games g ON g.id = p.game_id WHERE g.source = 'human'"
    human_args: list[Any] = []
    if cfg.human_corpus:
        human_sql += " AND g.corpus = ?"
        human_args.append(cfg.human_corpus)
    machine_sql = "SELECT p.fen FROM positions p JOIN games g ON g.id = p.game_id WHERE g.run_id = ?"
    n_h = len(_sample_fens(ctx.db, human_sql + " LIMIT ?", [*human_args, cfg.novelty_positions], 10**9, 0))
    n_a = len(_sample_fens(ctx.db, machine_sql + " LIMIT ?", [ctx.selfplay_run, cfg.novelty_positions], 10**9, 0))
    n = min(n_h, n_a, cfg.novelty_positions)
    if n < 2:
        raise ValueError(f"novelty needs human and machine positions: found {n_h} human, {n_a} machine; "
                         "import human games first (conceptcoach import-pgn FILE)")
    bases: dict[str, tuple[Any, Any]] = {}
    for i, layer in enumerate(ctx.layers):
        ctx.progress(i, len(ctx.layers), f"novelty: bases for {layer}")
        hb = cached_basis(ctx.db, ctx.teacher.sha256, layer, corpus, n, lambda layer=layer: _sample_activations(
            ctx, evaluator, layer, _sample_fens(ctx.db, human_sql, human_args, n, cfg.seed)))
        ab = cached_basis(ctx.db, ctx.teacher.sha256, layer, f"selfplay:{ctx.selfplay_run}", n,
                          lambda layer=layer: _sample_activations(
                              ctx, evaluator, layer, _sample_fens(ctx.db, machine_sql, [ctx.selfplay_run], n,
                                                                  cfg.seed)))
        bases[layer] = (hb[1], ab[1])
        ctx.check("novelty")
    touched: dict[int, dict[str, Any]] = {}
    for row, key, prog in concepts:
        human, machine = bases[key.split("/")[0]]
        curve = novelty_curve(_dense(prog["vector"], row["data"]["dim"]), human, machine, cfg.novelty_informative)
        curve["corpus"] = corpus
        curve["positions"] = n
        prog["novelty"] = curve
        touched[row["id"]] = row
    _save(ctx, list(touched.values()))


def _status(prog: dict[str, Any]) -> str:
    t = prog.get("teachability")
    if not t or not t.get("teachable"):
        return "failed-teachability"
    nov = prog.get("novelty")
    if nov is None:
        return "teachable"
    return "novel" if nov["novel"] else "failed-novelty"


def _distinct(
    programs: list[tuple[dict[str, Any], str, dict[str, Any]]],
) -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
    """One of each concept vector: when a rollout has no branch that tells the two
    polarities apart, the active and prophylactic programs of a position solve to
    the same vector, and a library must not teach one idea twice."""
    seen: set[tuple[str, str, tuple[int, ...], tuple[float, ...]]] = set()
    out = []
    for row, key, prog in programs:
        sig = (row["fen"], key.split("/")[0], tuple(prog["vector"]["idx"]),
               tuple(round(float(x), 6) for x in prog["vector"]["val"]))
        if sig not in seen:
            seen.add(sig)
            out.append((row, key, prog))
    return out


def stage_write(ctx: Context, pool: list[PoolItem]) -> int:
    """Concepts that passed both filters, and ``controls`` that failed one, into the library."""
    cfg = ctx.config
    by_pid = {it.pid: it for it in pool}
    rows = _concept_list(ctx)
    keep = _distinct([(r, k, p) for r, k, p in rows if _status(p) == "novel"])
    failed = _distinct([(r, k, p) for r, k, p in rows if "teachability" in p and _status(p).startswith("failed")
                        and len(p.get("prototypes", [])) >= cfg.teach.min_prototypes])
    rng = np.random.default_rng([cfg.seed, 3])
    controls = [failed[int(i)] for i in rng.permutation(len(failed))[: cfg.controls]]
    params = {**cfg.to_dict(), "run_id": ctx.run_id, "selfplay_run": ctx.selfplay_run,
              "teacher": ctx.teacher.name, "teacher_sha256": ctx.teacher.sha256}
    baseline = (get_run(ctx.db, ctx.run_id) or {}).get("summary") or {}
    written = 0
    from conceptcoach.concepts.teachability import split_by_game

    for row, key, prog in keep + controls:
        layer, players, polarity = key.split("/")
        status = _status(prog)
        items = [by_pid[pid] for pid in prog.get("prototypes", []) if pid in by_pid]
        train, _ = split_by_game([_example(it) for it in items], cfg.teach.train_fraction,
                                 cfg.teach.seed)
        train_games = {e.game_key for e in train}
        protos = [
            NewPrototype(
                fen=it.summary.fen, best_move=it.summary.best_move, line=it.summary.principal_line[:12],
                value=it.summary.value,
                visits={c.move: {"n": c.n, "q": c.q, "p": c.p} for c in it.summary.children if c.n > 0},
                score=score, split="train" if str(it.gid) in train_games else "test", game_key=str(it.gid),
            )
            for it, score in zip(items, prog.get("prototype_scores", []), strict=False)
        ]
        figures = {k: v for k, v in prog.items() if k not in ("vector", "prototypes", "prototype_scores")}
        figures["random_vector_baseline"] = baseline.get("random_vector_baseline", {}).get(layer)
        figures["teacher_move"] = row["data"].get("teacher_move")
        figures["weaker_move"] = row["data"].get("weaker_move")
        # The run id (teacher, seed, every parameter) is part of the uid: a run with other
        # parameters in the same store writes its own concepts instead of finding the old ones.
        uid = f"{ctx.run_id}:{row['fen']}:{key}"
        add_concept(
            ctx.db, uid=uid, name=concept_name(polarity, players, layer, row["fen"], row["data"].get("teacher_move")),
            layer=layer, kind="dynamic", status=status, vector=_dense(prog["vector"], row["data"]["dim"]),
            players=players, polarity=polarity, source_fen=row["fen"], figures=figures, params=params,
            network_id=ctx.teacher.id, run_id=ctx.run_id, prototypes=protos,
        )
        written += 1
    return written


def stage_static(ctx: Context, evaluator: Evaluator, pool: list[PoolItem]) -> None:
    """Known themes as static concepts: fitted on labelled human positions (layer chosen
    on validation games), prototypes are the pool positions the concept ranks highest."""
    from conceptcoach.concepts.static import THEMES, fit_static_best_layer, labelled_positions

    cfg = ctx.config
    if not cfg.static_themes or not pool:
        return
    roots = encode_batch([chess.Board(it.summary.fen) for it in pool])
    pool_acts = evaluator.activations(roots, ctx.layers)
    for i, theme in enumerate(cfg.static_themes):
        uid = f"{ctx.run_id}:static:{theme}"
        if list(ctx.db.query("SELECT 1 FROM concepts WHERE uid = ?", [uid])):
            continue
        ctx.progress(i, len(cfg.static_themes), f"static: {theme}")
        labels = labelled_positions(ctx.db, theme, cfg.static_positions, seed=cfg.seed)
        if sum(lab.positive for lab in labels) < 20 or sum(not lab.positive for lab in labels) < 20:
            ctx.log.append(f"static theme {theme}: too few labelled human positions; skipped")
            continue
        acts = evaluator.activations(encode_batch([chess.Board(lab.fen) for lab in labels]), ctx.layers)
        choice = fit_static_best_layer(acts, labels, cfg.static_pairs, seed=cfg.seed, method=cfg.solver)
        vector = choice.result.solve.vector
        if vector is None:
            ctx.log.append(f"static theme {theme}: {choice.result.solve.status} ({choice.result.solve.message})")
            continue
        score = pool_acts[choice.layer].astype(np.float64) @ vector
        n_top = max(cfg.teach.min_prototypes, int(round(cfg.static_top_fraction * len(pool))))
        top = np.argsort(-score)[:n_top]
        items = [pool[int(k)] for k in top]
        from conceptcoach.concepts.teachability import split_by_game

        train, _ = split_by_game([_example(it) for it in items], cfg.teach.train_fraction, cfg.teach.seed)
        train_games = {e.game_key for e in train}
        protos = [NewPrototype(
            fen=it.summary.fen, best_move=it.summary.best_move, line=it.summary.principal_line[:12],
            value=it.summary.value,
            visits={c.move: {"n": c.n, "q": c.q, "p": c.p} for c in it.summary.children if c.n > 0},
            score=float(score[int(k)]), split="train" if str(it.gid) in train_games else "test", game_key=str(it.gid),
        ) for it, k in zip(items, top, strict=True)]
        figures = {**choice.result.solve.figures(), "train_accuracy": choice.result.train_accuracy,
                   "test_accuracy": choice.result.test_accuracy, "validation_accuracy": choice.validation,
                   "labelled_positions": len(labels), "pairs": cfg.static_pairs, "theme": THEMES[theme][1]}
        add_concept(ctx.db, uid=uid, name=f"Known idea: {THEMES[theme][1]}", layer=choice.layer, kind="static",
                    status="static", vector=vector, players="single", polarity="active", figures=figures,
                    params={**cfg.to_dict(), "run_id": ctx.run_id, "theme": theme}, network_id=ctx.teacher.id,
                    run_id=ctx.run_id, prototypes=protos)


def funnel(ctx: Context) -> Funnel:
    f = Funnel()
    for r in _rows(ctx):
        f.positions += 1
        if r["stage"] == "trivial":
            f.trivial += 1
            continue
        if r["stage"] not in ("same-move",):
            f.candidates += 1
        for prog in r["data"].get("programs", {}).values():
            f.programs += 1
            f.solved += prog["status"] in ("optimal", "slack")
            f.infeasible += prog["status"] == "infeasible"
            f.doubtful += prog["status"] == "doubtful"
            f.empty += prog["status"] == "empty"
            if "vector" in prog and len(prog.get("prototypes", [])) >= ctx.config.teach.min_prototypes:
                f.with_prototypes += 1
            f.teachable += bool(prog.get("teachability", {}).get("teachable"))
            f.novel += _status(prog) == "novel"
    f.written = int(next(iter(ctx.db.query("SELECT COUNT(*) AS n FROM concepts WHERE run_id = ? AND kind = 'dynamic'",
                                            [ctx.run_id])))["n"])
    return f


def run_discovery(
    db: sqlite_utils.Database,
    db_path: str,
    config: DiscoveryConfig,
    progress: ProgressFn = no_progress,
    should_stop: StopFn = never_stop,
) -> tuple[str, Funnel]:
    """Run (or resume) every stage; returns the run id and the funnel."""
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        return _run_discovery(db, db_path, config, progress, should_stop)


def _run_discovery(
    db: sqlite_utils.Database, db_path: str, config: DiscoveryConfig, progress: ProgressFn, should_stop: StopFn,
) -> tuple[str, Funnel]:
    from conceptcoach.io.pgn_import import corpus_name, import_pgn

    for pgn in config.human_pgn:
        report = import_pgn(db, pgn, progress=progress, should_stop=should_stop)
        progress(1, 1, f"import: {Path(pgn).name}: {report.imported} new, {report.duplicates} known, "
                 f"{len(report.problems)} bad games")
    if config.human_pgn and config.human_corpus is None and len(config.human_pgn) == 1:
        config = replace(config, human_corpus=corpus_name(config.human_pgn[0]))
    teacher = get_network(db, config.teacher)
    weaker = get_network(db, config.weaker) if config.weaker else network_by_role(db, "weaker")
    if weaker is None:
        raise ValueError("no weaker network: register a checkpoint with role 'weaker' or pass --weaker NAME")
    net, info = load_checkpoint(teacher.path, expected_sha256=teacher.sha256)
    layers = list(config.layers) or default_layers(info.config.blocks)
    run_id = run_id_for(config, teacher.sha256)
    params = {**config.to_dict(), "teacher_sha256": teacher.sha256, "weaker": weaker.name,
              "weaker_sha256": weaker.sha256, "layers": layers}
    start_run(db, run_id, "discovery", params)
    ctx = Context(db, db_path, config, run_id, teacher, layers, progress, should_stop)
    evaluator = Evaluator(net)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    stage_selfplay(ctx)
    timings["selfplay"] = round(time.perf_counter() - t0, 1)
    for name, fn in (("candidates", lambda: stage_candidates(ctx, weaker)),
                     ("discovery", lambda: stage_discovery(ctx, evaluator))):
        t0 = time.perf_counter()
        fn()
        timings[name] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    pool = _pool(ctx)
    stage_prototypes(ctx, evaluator, pool)
    timings["prototypes"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    stage_teachability(ctx, evaluator, pool)
    timings["teachability"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    stage_novelty(ctx, evaluator)
    timings["novelty"] = round(time.perf_counter() - t0, 1)
    stage_write(ctx, pool)
    t0 = time.perf_counter()
    stage_static(ctx, evaluator, pool)
    timings["static"] = round(time.perf_counter() - t0, 1)
    result = funnel(ctx)
    summary = dict((get_run(db, run_id) or {}).get("summary") or {})
    summary.update({"funnel": asdict(result), "timings_s": timings, "selfplay_run": ctx.selfplay_run,
                    "pool_positions": len(pool), "notes": ctx.log})
    finish_run(db, run_id, summary)
    return run_id, result
