"""The two filters of a discovery run: teachability (a student can be taught the
concept from its prototypes) and novelty (human games do not explain it).

5. teachability  a fresh student per concept, with the random-positions baseline, in
                 worker processes; plus the random-concept-vector baseline per layer;
6. novelty       human vs machine SVD bases per layer (cached), the curve per concept.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Sequence
from typing import Any

import chess
import numpy as np
import numpy.typing as npt
import torch
from conceptcoach.concepts.novelty import cached_basis, novelty_curve
from conceptcoach.concepts.run_config import DiscoveryRun, PoolItem
from conceptcoach.concepts.stages import dense, solved_programs
from conceptcoach.concepts.teachability import Example
from conceptcoach.engine.encoding import encode_batch
from conceptcoach.engine.network import Evaluator
from conceptcoach.store.candidates import CandidateRow, save_candidates
from conceptcoach.store.games import position_fens
from conceptcoach.store.networks import Network, get_network, list_networks
from conceptcoach.store.runs import get_run, set_run_summary
from threadpoolctl import threadpool_limits


def example_of(item: PoolItem) -> Example:
    s = item.summary
    return Example(s.fen, {c.move: float(c.n) for c in s.children if c.n > 0}, s.best_move, str(item.gid))


def _teach_worker(
    args: tuple[list[Network], dict[str, Any], list[Example], list[tuple[list[Example], int]]],
) -> list[dict[str, Any]]:
    """Teachability of a few concepts, in a worker process (one torch thread): the
    students are loaded once per chunk, and each concept gets a fresh copy."""
    students, tp, random_pool, jobs = args
    torch.set_num_threads(1)
    threadpool_limits(limits=1)
    from conceptcoach.concepts import teachability as T
    from conceptcoach.engine.networks import load_net

    params = T.TeachParams(**tp)
    nets = [(s.name, load_net(s)) for s in students]
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


def students_of(run: DiscoveryRun) -> list[Network]:
    if run.config.students:
        recs = [get_network(run.db, n) for n in run.config.students]
    else:
        recs = [r for r in list_networks(run.db) if r.role == "student"]
    return sorted(recs, key=lambda r: (r.step, r.name))


def random_vector(dim: int, seed: int) -> npt.NDArray[np.float64]:
    """A random concept vector: N(0, 1) scaled by 1/n."""
    return np.random.default_rng(seed).normal(size=dim) / dim


def stage_teachability(run: DiscoveryRun, evaluator: Evaluator, pool: list[PoolItem]) -> None:
    cfg = run.config
    students = students_of(run)
    if not students:
        raise ValueError("no student network: register checkpoints with role 'student' (assets/models) "
                         "or pass --student NAME")
    by_pid = {it.pid: it for it in pool}
    random_pool = [example_of(it) for it in pool]
    concepts = solved_programs(run)
    todo = [(row, key, prog) for row, key, prog in concepts
            if "teachability" not in prog and len(prog.get("prototypes", [])) >= cfg.teach.min_prototypes]
    todo.sort(key=lambda c: -len(c[2]["prototypes"]))
    already = sum(1 for _, _, prog in concepts if "teachability" in prog)
    todo = todo[: max(0, cfg.max_teach - already)]
    tasks: list[tuple[list[Example], int]] = []
    for row, key, prog in todo:
        examples = [example_of(by_pid[pid]) for pid in prog["prototypes"] if pid in by_pid]
        tasks.append((examples, cfg.concept_seed(row.fen, key)))
    # The random-concept-vector baseline, once per layer: its prototypes are the pool
    # trees it ranks highest, taken through the same steps.
    stored = get_run(run.db, run.run_id)
    baselines: dict[str, Any] = dict((stored or {}).get("summary") or {}).get("random_vector_baseline", {})
    base_tasks: list[tuple[str, tuple[list[Example], int]]] = []
    if len(baselines) < len(run.layers) and pool:
        roots = encode_batch([chess.Board(it.summary.fen) for it in pool])
        acts = evaluator.activations(roots, run.layers)
        for i, layer in enumerate(run.layers):
            if layer in baselines:
                continue
            score = acts[layer].astype(np.float64) @ random_vector(acts[layer].shape[1], cfg.seed * 7919 + i)
            top = np.argsort(-score)[: cfg.max_prototypes]
            base_tasks.append((layer, ([example_of(pool[int(k)]) for k in top], cfg.seed + 100_000 + i)))
    total = len(tasks) + len(base_tasks)
    run.progress(0, total, f"teachability: {total} student trainings")
    shared = (students, cfg.teach.to_dict(), random_pool)
    chunk = 4
    with mp.get_context("spawn").Pool(max(1, cfg.workers)) as workers:
        if base_tasks:
            parts = workers.map(_teach_worker, [(*shared, [t]) for _, t in base_tasks])
            for (layer, _), res in zip(base_tasks, parts, strict=True):
                baselines[layer] = res[0]
            set_run_summary(run.db, run.run_id, {"random_vector_baseline": baselines})
        done = len(base_tasks)
        chunks = [(todo[i : i + chunk], tasks[i : i + chunk]) for i in range(0, len(tasks), chunk)]
        results = workers.imap(_teach_worker, [(*shared, jobs) for _, jobs in chunks])
        for (concepts_part, _), part in zip(chunks, results, strict=True):
            for (_row, _, prog), figures in zip(concepts_part, part, strict=True):
                prog["teachability"] = figures
            save_candidates(run.db, list({row.id: row for row, _, _ in concepts_part}.values()))
            done += len(part)
            run.progress(done, total, f"teachability: {done}/{total}")
            if run.should_stop():
                workers.terminate()
                run.check("teachability")


def _sample(fens: Sequence[str], n: int, seed: int) -> list[str]:
    """``n`` of ``fens`` drawn without replacement (in their stored order), seeded."""
    if len(fens) <= n:
        return list(fens)
    return [fens[i] for i in sorted(np.random.default_rng(seed).choice(len(fens), size=n, replace=False))]


def stage_novelty(run: DiscoveryRun, evaluator: Evaluator) -> None:
    cfg = run.config
    concepts = [(row, key, prog) for row, key, prog in solved_programs(run)
                if prog.get("teachability", {}).get("teachable") and "novelty" not in prog]
    if not concepts:
        return
    corpus = cfg.human_corpus or "all-human"

    def human(limit: int | None = None) -> list[str]:
        return position_fens(run.db, source="human", corpus=cfg.human_corpus, limit=limit)

    def machine(limit: int | None = None) -> list[str]:
        return position_fens(run.db, run_id=run.selfplay_run, limit=limit)

    n_h, n_a = len(human(cfg.novelty_positions)), len(machine(cfg.novelty_positions))
    n = min(n_h, n_a, cfg.novelty_positions)
    if n < 2:
        raise ValueError(f"novelty needs human and machine positions: found {n_h} human, {n_a} machine; "
                         "import human games first (conceptcoach import-pgn FILE)")

    def activations(layer: str, fens: list[str]) -> npt.NDArray[np.float32]:
        return evaluator.activations(encode_batch([chess.Board(f) for f in fens]), [layer])[layer]

    bases: dict[str, tuple[Any, Any]] = {}
    for i, layer in enumerate(run.layers):
        run.progress(i, len(run.layers), f"novelty: bases for {layer}")
        hb = cached_basis(run.db, run.teacher.sha256, layer, corpus, n,
                          lambda layer=layer: activations(layer, _sample(human(), n, cfg.seed)))
        ab = cached_basis(run.db, run.teacher.sha256, layer, f"selfplay:{run.selfplay_run}", n,
                          lambda layer=layer: activations(layer, _sample(machine(), n, cfg.seed)))
        bases[layer] = (hb[1], ab[1])
        run.check("novelty")
    touched: dict[int, CandidateRow] = {}
    for row, key, prog in concepts:
        human_basis, machine_basis = bases[key.split("/")[0]]
        curve = novelty_curve(dense(prog["vector"], row.data["dim"]), human_basis, machine_basis,
                              cfg.novelty_informative)
        curve["corpus"] = corpus
        curve["positions"] = n
        prog["novelty"] = curve
        touched[row.id] = row
    save_candidates(run.db, list(touched.values()))
