"""Writing a run's concepts into the library: the survivors of both filters, a few
controls that failed one, and known ideas as static concepts, each with prototypes."""

from __future__ import annotations

from collections.abc import Sequence

import chess
import numpy as np
from conceptcoach.concepts.describe import describe_all
from conceptcoach.concepts.filters import example_of
from conceptcoach.concepts.run_config import DiscoveryRun, PoolItem
from conceptcoach.concepts.stages import dense, solved_programs
from conceptcoach.concepts.teachability import split_by_game
from conceptcoach.concepts.verdicts import concept_status, distinct_concepts
from conceptcoach.engine.network import Evaluator
from conceptcoach.store.concepts import (
    ConceptStatus,
    NewPrototype,
    Prototype,
    add_concept,
    concept_uid_exists,
    concepts_of_run,
    list_prototypes,
    set_prototype_verification,
)
from conceptcoach.store.runs import get_run

#: Moves of the teacher's principal line kept with a prototype.
LINE_PLIES = 12


def make_prototypes(run: DiscoveryRun, items: Sequence[PoolItem], scores: Sequence[float]) -> list[NewPrototype]:
    """Prototypes of pool trees with their concept scores; the train/test split is by
    game, as teachability made it, so a session's learning and test positions differ."""
    train, _ = split_by_game([example_of(it) for it in items], run.config.teach.train_fraction, run.config.seed)
    train_games = {e.game_key for e in train}
    return [
        NewPrototype(
            fen=it.summary.fen, best_move=it.summary.best_move, line=it.summary.principal_line[:LINE_PLIES],
            value=it.summary.value,
            visits={c.move: {"n": c.n, "q": c.q, "p": c.p} for c in it.summary.children if c.n > 0},
            score=float(score), split="train" if str(it.gid) in train_games else "test", game_key=str(it.gid),
        )
        for it, score in zip(items, scores, strict=False)
    ]


def stage_write(run: DiscoveryRun, pool: list[PoolItem]) -> int:
    """Concepts that passed both filters, and ``controls`` that failed one, into the library."""
    cfg = run.config
    by_pid = {it.pid: it for it in pool}
    programs = solved_programs(run)
    keep = distinct_concepts([(r, k, p) for r, k, p in programs if concept_status(p) is ConceptStatus.NOVEL])
    failed = distinct_concepts([(r, k, p) for r, k, p in programs
                                if "teachability" in p and concept_status(p).failed
                                and len(p.get("prototypes", [])) >= cfg.teach.min_prototypes])
    rng = np.random.default_rng([cfg.seed, 3])
    controls = [failed[int(i)] for i in rng.permutation(len(failed))[: cfg.controls]]
    params = {**cfg.to_dict(), "run_id": run.run_id, "selfplay_run": run.selfplay_run,
              "teacher": run.teacher.name, "teacher_sha256": run.teacher.sha256}
    baseline = (get_run(run.db, run.run_id) or {}).get("summary") or {}
    chosen = keep + controls
    pool_items = [[by_pid[pid] for pid in prog.get("prototypes", []) if pid in by_pid] for _, _, prog in chosen]
    # Names and descriptions from what the prototypes share on the board (a coach can rename).
    described = describe_all([([(it.summary.fen, it.summary.best_move, None) for it in items], key.split("/")[2])
                              for items, (_, key, _) in zip(pool_items, chosen, strict=True)])
    written = 0
    for (row, key, prog), items, description in zip(chosen, pool_items, described, strict=True):
        layer, players, polarity = key.split("/")
        figures = {k: v for k, v in prog.items() if k not in ("vector", "prototypes", "prototype_scores")}
        figures["random_vector_baseline"] = baseline.get("random_vector_baseline", {}).get(layer)
        figures["teacher_move"] = row.data.get("teacher_move")
        figures["weaker_move"] = row.data.get("weaker_move")
        # The run id (teacher, seed, every parameter) is part of the uid: a run with other
        # parameters in the same store writes its own concepts instead of finding the old ones.
        add_concept(
            run.db, uid=f"{run.run_id}:{row.fen}:{key}",
            name=description.name, annotation=description.text,
            layer=layer, kind="dynamic", status=concept_status(prog), vector=dense(prog["vector"], row.data["dim"]),
            players=players, polarity=polarity, source_fen=row.fen, figures=figures, params=params,
            network_id=run.teacher.id, run_id=run.run_id,
            prototypes=make_prototypes(run, items, prog.get("prototype_scores", [])),
        )
        written += 1
    return written


def stage_static(run: DiscoveryRun, evaluator: Evaluator, pool: list[PoolItem]) -> None:
    """Known themes as static concepts: fitted on labelled human positions (layer chosen
    on validation games), prototypes are the pool positions the concept ranks highest."""
    from conceptcoach.concepts.known_ideas import THEMES, fit_static_best_layer, labelled_positions

    cfg = run.config
    if not cfg.static_themes or not pool:
        return
    pool_acts = evaluator.activations(evaluator.encode_batch([chess.Board(it.summary.fen) for it in pool]), run.layers)
    for i, theme in enumerate(cfg.static_themes):
        uid = f"{run.run_id}:static:{theme}"
        if concept_uid_exists(run.db, uid):
            continue
        run.progress(i, len(cfg.static_themes), f"static: {theme}")
        labels = labelled_positions(run.db, theme, cfg.static_positions, seed=cfg.seed)
        if sum(lab.positive for lab in labels) < 20 or sum(not lab.positive for lab in labels) < 20:
            run.log.append(f"static theme {theme}: too few labelled human positions; skipped")
            continue
        acts = evaluator.activations(evaluator.encode_batch([chess.Board(lab.fen) for lab in labels]), run.layers)
        choice = fit_static_best_layer(acts, labels, cfg.static_pairs, seed=cfg.seed, method=cfg.solver)
        vector = choice.result.solve.vector
        if vector is None:
            run.log.append(f"static theme {theme}: {choice.result.solve.status} ({choice.result.solve.message})")
            continue
        score = pool_acts[choice.layer].astype(np.float64) @ vector
        n_top = max(cfg.teach.min_prototypes, int(round(cfg.static_top_fraction * len(pool))))
        top = np.argsort(-score)[:n_top]
        figures = {**choice.result.solve.figures(), "train_accuracy": choice.result.train_accuracy,
                   "test_accuracy": choice.result.test_accuracy, "validation_accuracy": choice.validation,
                   "labelled_positions": len(labels), "pairs": cfg.static_pairs, "theme": THEMES[theme][1]}
        add_concept(run.db, uid=uid, name=f"Known idea: {THEMES[theme][1]}", layer=choice.layer, kind="static",
                    status=ConceptStatus.STATIC, vector=vector, players="single", polarity="active", figures=figures,
                    params={**cfg.to_dict(), "run_id": run.run_id, "theme": theme}, network_id=run.teacher.id,
                    run_id=run.run_id,
                    prototypes=make_prototypes(run, [pool[int(k)] for k in top], [float(score[int(k)]) for k in top]))


def stage_verify(run: DiscoveryRun) -> None:
    """Stockfish's verdict on every prototype the run wrote (concepts/verify.py); items
    already verified are skipped, so a run resumes. Without Stockfish (or with
    ``verify_depth`` 0) every item is marked unverified and the run's notes say why."""
    from conceptcoach.concepts.verify import VerifyParams, find_stockfish, unverified, verify_items

    cfg = run.config
    todo = [p for c in concepts_of_run(run.db, run.run_id) for p in list_prototypes(run.db, c.id, include_dropped=True)
            if p.verification is None]
    if not todo:
        return
    if cfg.verify_depth <= 0 or find_stockfish() is None:
        reason = ("verification switched off (verify_depth 0)" if cfg.verify_depth <= 0
                  else "Stockfish not found: install the Debian package 'stockfish' and run again to verify")
        for p in todo:
            set_prototype_verification(run.db, p.id, unverified(reason).to_dict())
        run.log.append(f"{len(todo)} prototypes unverified: {reason}")
        return
    params = VerifyParams(depth=cfg.verify_depth, margin_cp=cfg.verify_margin_cp)
    # One Stockfish search per distinct (position, move), on the run's back end: a few
    # items per task so each worker starts its engine once for them.
    by_key: dict[tuple[str, str], list[Prototype]] = {}
    for p in todo:
        by_key.setdefault((p.fen, p.best_move), []).append(p)
    keys = list(by_key)
    items = [(fen, move, tuple(by_key[(fen, move)][0].line), by_key[(fen, move)][0].value) for fen, move in keys]
    chunks = [list(range(i, min(i + 4, len(items)))) for i in range(0, len(items), 4)]
    done = 0
    for k, verdicts in run.backend.map(verify_items, [[items[j] for j in c] for c in chunks], params,
                                       should_stop=run.should_stop):
        for j, verdict in zip(chunks[k], verdicts, strict=True):
            for p in by_key[keys[j]]:
                set_prototype_verification(run.db, p.id, verdict)
                done += 1
        run.progress(done, len(todo), f"verify: {done}/{len(todo)} prototypes checked by Stockfish")
    run.check("verification")
