"""The discovery run (`conceptcoach discover`, the Discovery screen), stage by stage,
with progress and resume, and its funnel.

Stages, in order, each reading what the previous one stored:

1. import        human PGN files into the store (optional);
2. selfplay .. prototypes   the search stages (:mod:`conceptcoach.concepts.stages`);
3. teachability, novelty    the filters (:mod:`conceptcoach.concepts.filters`);
4. write         the surviving concepts (and a few that failed, as controls) and the
                 known ideas into the library (:mod:`conceptcoach.concepts.writing`).

Every stage records its results as it goes, so an interrupted run (``should_stop``
or Ctrl-C) resumes where it stopped when started again with the same parameters;
the parameters and the seed are stored in ``runs``. Independent work (self-play
games, the weaker network's searches, programs, the prototype pass, student
trainings, novelty bases) runs on the back end ``DiscoveryConfig.backend`` names: a
local process pool by default, or a Ray cluster; either writes the same rows for the
same seed, and a run stopped on one resumes on the other.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import sqlite_utils
import torch
from conceptcoach.concepts.filters import stage_novelty, stage_teachability
from conceptcoach.concepts.rollouts import default_layers
from conceptcoach.concepts.run_config import STAGES, DiscoveryConfig, DiscoveryRun, run_id_for
from conceptcoach.concepts.stages import (
    prototype_pool,
    stage_candidates,
    stage_discovery,
    stage_prototypes,
    stage_selfplay,
)
from conceptcoach.concepts.verdicts import concept_status
from conceptcoach.concepts.writing import stage_static, stage_verify, stage_write
from conceptcoach.engine.network import Evaluator
from conceptcoach.engine.networks import load_evaluator
from conceptcoach.parallel import make_backend
from conceptcoach.progress import ProgressFn, StopFn, never_stop, no_progress
from conceptcoach.store.candidates import candidate_rows
from conceptcoach.store.concepts import (
    ConceptStatus,
    concepts_of_run,
    count_concepts,
    list_prototypes,
)
from conceptcoach.store.networks import Network, get_network, network_by_role
from conceptcoach.store.runs import finish_run, get_run, start_run
from threadpoolctl import threadpool_limits

__all__ = ["STAGES", "DiscoveryConfig", "Funnel", "funnel", "run_discovery"]


@dataclass
class Funnel:
    """How many positions and programs each stage kept."""

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
    items: int = 0  # prototypes of the written concepts
    verified: int = 0  # the teacher's move confirmed by Stockfish
    quiz_items: int = 0  # verified and fit for a test
    unverified: int = 0  # not checked (no Stockfish)

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
            f"prototypes             {self.items:7d}  verified {self.verified} ({frac(self.verified, self.items).strip()}),"
            f" quiz items {self.quiz_items}, unverified {self.unverified}"
            + ("  (Stockfish not found: items unverified)" if self.unverified else ""),
        ]


def funnel(run: DiscoveryRun) -> Funnel:
    f = Funnel()
    for r in candidate_rows(run.db, run.run_id):
        f.positions += 1
        if r.stage == "trivial":
            f.trivial += 1
            continue
        if r.stage != "same-move":
            f.candidates += 1
        for prog in r.data.get("programs", {}).values():
            f.programs += 1
            f.solved += prog["status"] in ("optimal", "slack")
            f.infeasible += prog["status"] == "infeasible"
            f.doubtful += prog["status"] == "doubtful"
            f.empty += prog["status"] == "empty"
            if "vector" in prog and len(prog.get("prototypes", [])) >= run.config.teach.min_prototypes:
                f.with_prototypes += 1
            f.teachable += bool(prog.get("teachability", {}).get("teachable"))
            f.novel += "vector" in prog and concept_status(prog) is ConceptStatus.NOVEL
    f.written = count_concepts(run.db, run.run_id, "dynamic")
    for concept in concepts_of_run(run.db, run.run_id):
        for p in list_prototypes(run.db, concept.id, include_dropped=True):
            f.items += 1
            status = (p.verification or {}).get("status")
            f.verified += status == "verified"
            f.quiz_items += p.verified_quiz_item
            f.unverified += status in (None, "unverified")
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
    evaluator = load_evaluator(teacher)
    layers = list(config.layers) or default_layers(int(teacher.architecture.get("blocks", 6)))
    run_id = run_id_for(config, teacher.sha256)
    params = {**config.identity(), "teacher_sha256": teacher.sha256, "weaker": weaker.name,
              "weaker_sha256": weaker.sha256, "layers": layers}
    start_run(db, run_id, "discovery", params)
    with make_backend(config.backend, config.workers, config.ray_address) as backend:
        run = DiscoveryRun(db, db_path, config, run_id, teacher, layers, progress, should_stop, backend)
        return _stages(run, weaker, evaluator)


def _stages(run: DiscoveryRun, weaker: Network, evaluator: Evaluator) -> tuple[str, Funnel]:
    db, run_id = run.db, run.run_id
    timings: dict[str, float] = {}

    def timed(name: str, step: Callable[[], object]) -> None:
        t0 = time.perf_counter()
        step()
        timings[name] = round(time.perf_counter() - t0, 1)

    timed("selfplay", lambda: stage_selfplay(run))
    timed("candidates", lambda: stage_candidates(run, weaker))
    timed("discovery", lambda: stage_discovery(run))
    pool = prototype_pool(run)
    timed("prototypes", lambda: stage_prototypes(run, pool))
    timed("teachability", lambda: stage_teachability(run, evaluator, pool))
    timed("novelty", lambda: stage_novelty(run))
    stage_write(run, pool)
    timed("static", lambda: stage_static(run, evaluator, pool))
    timed("verify", lambda: stage_verify(run))
    result = funnel(run)
    summary = dict((get_run(db, run_id) or {}).get("summary") or {})
    summary.update({"funnel": asdict(result), "timings_s": timings, "selfplay_run": run.selfplay_run,
                    "pool_positions": len(pool), "notes": run.log, "backend": run.backend.name})
    finish_run(db, run_id, summary)
    return run_id, result
