"""The two filters of a discovery run: teachability (a student can be taught the
concept from its prototypes) and novelty (human games do not explain it).

5. teachability  a fresh student per concept, with the random-positions baseline; plus
                 the random-concept-vector baseline per layer;
6. novelty       human vs machine SVD bases per layer (cached), the curve per concept.

Student trainings and novelty bases are independent tasks on the run's back end
(``run.backend``: a local process pool or Ray); results are stored here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import chess
import numpy as np
import numpy.typing as npt
from conceptcoach.concepts.novelty import Basis, novelty_curve, svd_basis
from conceptcoach.concepts.run_config import DiscoveryRun, PoolItem
from conceptcoach.concepts.stages import dense, solved_programs
from conceptcoach.concepts.teachability import Example
from conceptcoach.engine.network import Evaluator
from conceptcoach.engine.networks import load_evaluator
from conceptcoach.engine.shipping import NetworkPayload, pack, unpack
from conceptcoach.store.bases import get_basis, put_basis
from conceptcoach.store.candidates import CandidateRow, save_candidates
from conceptcoach.store.games import position_fens
from conceptcoach.store.networks import Network, get_network, list_networks
from conceptcoach.store.runs import get_run, set_run_summary


def example_of(item: PoolItem) -> Example:
    s = item.summary
    return Example(s.fen, {c.move: float(c.n) for c in s.children if c.n > 0}, s.best_move, str(item.gid))


def teach_concepts(
    shared: tuple[list[NetworkPayload], dict[str, Any], list[Example]], jobs: list[tuple[list[Example], int]],
) -> list[dict[str, Any]]:
    """Teachability of a few concepts, one task of the stage: the students are loaded
    once per task, and each concept gets a fresh copy."""
    students, tp, random_pool = shared
    from conceptcoach.concepts import teachability as T
    from conceptcoach.engine.networks import load_net

    params = T.TeachParams(**tp)
    nets = [(s.network.name, load_net(unpack(s))) for s in students]
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
        roots = evaluator.encode_batch([chess.Board(it.summary.fen) for it in pool])
        acts = evaluator.activations(roots, run.layers)
        for i, layer in enumerate(run.layers):
            if layer in baselines:
                continue
            score = acts[layer].astype(np.float64) @ random_vector(acts[layer].shape[1], cfg.seed * 7919 + i)
            top = np.argsort(-score)[: cfg.max_prototypes]
            base_tasks.append((layer, ([example_of(pool[int(k)]) for k in top], cfg.seed + 100_000 + i)))
    chunk = 4
    chunks = [(todo[i : i + chunk], tasks[i : i + chunk]) for i in range(0, len(tasks), chunk)]
    # One map: the random-vector baselines (one concept each) first, then the concepts.
    work = [[t] for _, t in base_tasks] + [jobs for _, jobs in chunks]
    total = len(tasks) + len(base_tasks)
    run.progress(0, total, f"teachability: {total} student trainings")
    shared = ([pack(s, run.backend.ships_by_content) for s in students], cfg.teach.to_dict(), random_pool)
    done = 0
    for k, part in run.backend.map(teach_concepts, work, shared, should_stop=run.should_stop):
        if k < len(base_tasks):
            baselines[base_tasks[k][0]] = part[0]
            # Layer order, whichever finished first: the summary reads the same on any back end.
            baselines = {layer: baselines[layer] for layer in run.layers if layer in baselines}
            set_run_summary(run.db, run.run_id, {"random_vector_baseline": baselines})
        else:
            concepts_part, _ = chunks[k - len(base_tasks)]
            for (_row, _, prog), figures in zip(concepts_part, part, strict=True):
                prog["teachability"] = figures
            save_candidates(run.db, list({row.id: row for row, _, _ in concepts_part}.values()))
        done += len(part)
        run.progress(done, total, f"teachability: {done}/{total}")
    run.check("teachability")


def _sample(fens: Sequence[str], n: int, seed: int) -> list[str]:
    """``n`` of ``fens`` drawn without replacement (in their stored order), seeded."""
    if len(fens) <= n:
        return list(fens)
    return [fens[i] for i in sorted(np.random.default_rng(seed).choice(len(fens), size=n, replace=False))]


def basis_of(teacher: NetworkPayload, task: tuple[str, list[str]]) -> Basis:
    """One task of the novelty stage: the SVD basis of the teacher's activations at
    ``layer`` on the positions ``fens``."""
    layer, fens = task
    evaluator = load_evaluator(unpack(teacher))
    acts = evaluator.activations(evaluator.encode_batch([chess.Board(f) for f in fens]), [layer])[layer]
    return svd_basis(acts)


def stage_novelty(run: DiscoveryRun) -> None:
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

    # One task per basis not yet cached (each layer, human and machine): the teacher's
    # activations of n positions and their SVD, the heaviest single step at scale.
    sides = {"human": (corpus, human), "machine": (f"selfplay:{run.selfplay_run}", machine)}
    bases: dict[tuple[str, str], Basis] = {}
    missing: list[tuple[str, str]] = []
    for layer in run.layers:
        for side, (name, _) in sides.items():
            stored = get_basis(run.db, run.teacher.sha256, layer, name, n)
            if stored is None:
                missing.append((layer, side))
            else:
                bases[layer, side] = stored
    samples = {side: _sample(fetch(), n, cfg.seed) for side, (_, fetch) in sides.items()
               if any(s == side for _, s in missing)}
    teacher = pack(run.teacher, run.backend.ships_by_content)
    run.progress(0, len(missing), f"novelty: {len(missing)} bases of {n} positions")
    results = run.backend.map(basis_of, [(layer, samples[side]) for layer, side in missing], teacher,
                              should_stop=run.should_stop)
    for done, (k, basis) in enumerate(results, start=1):
        layer, side = missing[k]
        put_basis(run.db, run.teacher.sha256, layer, sides[side][0], n, basis)
        bases[layer, side] = basis
        run.progress(done, len(missing), f"novelty: basis {side} {layer}")
    run.check("novelty")
    touched: dict[int, CandidateRow] = {}
    for row, key, prog in concepts:
        layer = key.split("/")[0]
        curve = novelty_curve(dense(prog["vector"], row.data["dim"]), bases[layer, "human"][1],
                              bases[layer, "machine"][1], cfg.novelty_informative)
        curve["corpus"] = corpus
        curve["positions"] = n
        prog["novelty"] = curve
        touched[row.id] = row
    save_candidates(run.db, list(touched.values()))
