"""CLI: `conceptcoach import-pgn`, `discover` and `build-library`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import sqlite_utils
from conceptcoach.progress import Cancelled, TqdmProgress, run_with_bar


def _add_discovery_args(p: argparse.ArgumentParser) -> None:
    from conceptcoach.concepts.run import DiscoveryConfig
    from conceptcoach.parallel import BACKENDS

    d = DiscoveryConfig()
    p.add_argument("--teacher", default=d.teacher, help="registered teacher network (default: teacher)")
    p.add_argument("--weaker", help="registered weaker network (default: the one with role 'weaker')")
    p.add_argument("--student", action="append", default=[], metavar="NAME",
                   help="registered student network (repeatable; default: networks with role 'student')")
    p.add_argument("--games", type=int, default=d.selfplay_games, help="teacher self-play games")
    p.add_argument("--sims", type=int, default=d.selfplay_sims, help="MCTS simulations per self-play move")
    p.add_argument("--max-plies", type=int, default=d.selfplay_max_plies, help="longest self-play game")
    p.add_argument("--weaker-sims", type=int, default=d.candidate.weaker_simulations)
    p.add_argument("--max-candidates", type=int, default=d.max_candidate_positions,
                   help="positions searched by the weaker network")
    p.add_argument("--pool", type=int, default=d.max_pool_positions, help="prototype pool positions")
    p.add_argument("--layers", help="comma-separated layer names (default: an early, a middle and the last block)")
    p.add_argument("--slack", type=float, default=None, metavar="C", help="solve with slack penalised by C")
    p.add_argument("--solver", choices=("fast", "reference"), default=d.solver)
    p.add_argument("--epochs", type=int, default=d.teach.epochs)
    p.add_argument("--max-teach", type=int, default=d.max_teach, help="concepts taken to teachability")
    p.add_argument("--teach-min-prototypes", type=int, default=d.teach.min_prototypes,
                   help="prototypes a concept needs to be taken to teachability")
    p.add_argument("--novelty-positions", type=int, default=d.novelty_positions)
    p.add_argument("--novelty-informative", type=float, default=d.novelty_informative, metavar="FRACTION",
                   help="compare the novelty curves only where a basis explains at least this fraction "
                        "of the concept (0: every basis size)")
    p.add_argument("--workers", type=int, default=d.workers,
                   help="parallel processes (one torch thread each); with --backend ray and no --address, "
                        "the CPUs of a Ray instance started on this machine")
    p.add_argument("--backend", choices=BACKENDS, default=d.backend,
                   help="where independent work runs: a local process pool (default) or a Ray cluster "
                        "(pip install 'conceptcoach[ray]'); the same seed finds the same concepts on either, "
                        "and a run stopped on one resumes on the other")
    p.add_argument("--address", default=None, metavar="ADDR",
                   help="the Ray cluster to join with --backend ray (HOST:PORT, auto or ray://HOST:PORT; "
                        "default: start Ray on this machine); see docs/SCALE.md")
    p.add_argument("--verify-depth", type=int, default=d.verify_depth,
                   help="Stockfish depth for verifying every written prototype (0: leave them unverified)")
    p.add_argument("--static-themes", default="",
                   help="known themes to discover as static concepts, comma-separated (queen, sicilian)")
    p.add_argument("--seed", type=int, default=d.seed)


def _config(args: argparse.Namespace, human_pgn: tuple[str, ...], human_corpus: str | None):  # type: ignore[no-untyped-def]
    from conceptcoach.concepts.run import DiscoveryConfig

    d = DiscoveryConfig()
    return DiscoveryConfig(
        teacher=args.teacher, weaker=args.weaker, students=tuple(args.student), human_pgn=human_pgn,
        human_corpus=human_corpus, selfplay_games=args.games, selfplay_sims=args.sims,
        selfplay_max_plies=args.max_plies,
        max_candidate_positions=args.max_candidates, max_pool_positions=args.pool,
        candidate=replace(d.candidate, weaker_simulations=args.weaker_sims),
        layers=tuple(args.layers.split(",")) if args.layers else (), solver=args.solver,
        slack_penalty=args.slack,
        teach=replace(d.teach, epochs=args.epochs, min_prototypes=args.teach_min_prototypes),
        max_teach=args.max_teach, novelty_positions=args.novelty_positions,
        novelty_informative=args.novelty_informative, workers=args.workers, seed=args.seed,
        backend=args.backend, ray_address=args.address,
        verify_depth=args.verify_depth,
        static_themes=tuple(t for t in args.static_themes.split(",") if t),
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("import-pgn", help="import human games from PGN files (.pgn or .pgn.gz)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--corpus", help="name of the set the games belong to (default: each file's name)")
    p.add_argument("--max-games", type=int, help="import only the first N games of each file")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("discover", help="discover concepts: candidates, programs, teachability, novelty")
    _add_discovery_args(p)
    p.add_argument("--human-games", metavar="FILE", action="append", default=[],
                   help="PGN of human games to compare against (e.g. one student's games); imported first")
    p.add_argument("--corpus", help="compare against this imported corpus (default: all human games)")
    p.set_defaults(handler=cmd_discover)

    p = sub.add_parser("build-library", help="build the default concept library (assets/library) from the "
                       "bundled networks, their self-play and human games")
    _add_discovery_args(p)
    p.add_argument("--human", nargs="+", required=True, metavar="PGN", help="human game files")
    p.add_argument("--human-max-games", type=int, default=None, help="games imported per human file")
    p.add_argument("--work", required=True, help="folder for the build's own store (kept for resume)")
    p.add_argument("--out", default=None, help="library folder (default: assets/library)")
    p.add_argument("--concepts", type=int, default=16, help="novel concepts to ship (most prototypes first)")
    p.add_argument("--min-prototypes", type=int, default=12)
    p.add_argument("--controls", type=int, default=4, help="concepts that failed a filter, shipped as controls")
    p.add_argument("--human-ladder", default=None, metavar="DIR",
                   help="folder with the Maia ladder (maia-1100.pb.gz ... maia-1900.pb.gz): store every "
                   "item's find-probability by rating and each concept's behavioural novelty")
    p.add_argument("--network-file", action="append", default=[], metavar="FILE[:ROLE]",
                   help="extra checkpoint to register in the build store, with an optional role "
                   "(weaker, student); for teachers without a published ladder")
    p.set_defaults(handler=cmd_build_library)


def cmd_import(args: argparse.Namespace) -> int:
    from conceptcoach.bootstrap import open_user_store
    from conceptcoach.io.pgn_import import import_pgn

    db, _ = open_user_store(args.data_dir)
    bar = TqdmProgress(unit="B")
    status = 0
    try:
        for f in args.files:
            try:
                report = import_pgn(db, f, args.corpus, max_games=args.max_games, progress=bar)
            except FileNotFoundError as exc:
                print(f"error: {exc}", file=sys.stderr)
                status = 2
                continue
            bar.close()
            print(f"{f}: {report.games_read} games read, {report.imported} imported, "
                  f"{report.duplicates} already in the store, {len(report.problems)} bad "
                  f"(corpus {report.corpus!r})")
            for problem in report.problems:
                print(f"  skipped {problem}", file=sys.stderr)
    except Cancelled as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 130
    finally:
        bar.close()
    return status


def _print_funnel(run_id: str, funnel) -> None:  # type: ignore[no-untyped-def]
    print(f"run {run_id}")
    for line in funnel.lines():
        print("  " + line)


def cmd_discover(args: argparse.Namespace) -> int:
    from conceptcoach.bootstrap import open_user_store
    from conceptcoach.concepts.run import run_discovery

    db, path = open_user_store(args.data_dir)
    config = _config(args, tuple(args.human_games), args.corpus)
    status, result = run_with_bar(lambda bar: run_discovery(db, str(path), config, progress=bar))
    if result is None:
        return status
    _print_funnel(*result)
    return 0


def cmd_build_library(args: argparse.Namespace) -> int:
    from conceptcoach.concepts.library import write_library
    from conceptcoach.concepts.run import run_discovery
    from conceptcoach.engine.networks import register_bundled, register_file
    from conceptcoach.paths import library_dir, models_dir
    from conceptcoach.store.concepts import list_concepts
    from conceptcoach.store.db import open_store
    from conceptcoach.store.networks import list_networks

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "build.sqlite"
    db = open_store(db_path)
    register_bundled(db, models_dir())
    for spec in args.network_file:
        file, _, role = spec.partition(":")
        register_file(db, file, role=role or None)
    out = Path(args.out) if args.out else library_dir()
    from conceptcoach.io.pgn_import import import_pgn

    started = time.time()
    config = _config(args, (), None)

    def build(bar: TqdmProgress) -> tuple[str, Any]:
        for f in args.human:
            report = import_pgn(db, f, max_games=args.human_max_games, progress=bar)
            bar.close()
            print(f"{f}: {report.imported} new, {report.duplicates} known, {len(report.problems)} bad")
        return run_discovery(db, str(db_path), config, progress=bar)

    status, result = run_with_bar(build)
    if result is None:
        return status
    run_id, funnel = result
    _print_funnel(run_id, funnel)
    concepts = [c for c in list_concepts(db, include_hidden=True) if c.run_id == run_id]
    # A concept ships when a session can test it without reuse: enough distinct positions
    # whose teacher move Stockfish confirmed (every prototype when items are unverified).
    items = {c.id: _quiz_items(db, c.id) for c in concepts}
    novel = sorted((c for c in concepts if c.status == "novel" and items[c.id] >= args.min_prototypes),
                   key=lambda c: (-c.figures.get("teachability", {}).get("gain", 0.0), -items[c.id], c.id))
    failed = [c for c in concepts if c.status.startswith("failed") and items[c.id] >= args.min_prototypes]
    static = [c for c in concepts if c.status == "static"]
    chosen = novel[: args.concepts] + failed[: args.controls] + static
    if len(novel) < 12:
        print(f"warning: only {len(novel)} novel concepts with >= {args.min_prototypes} verified quiz items "
              "(the shipped library should hold at least 12); raise --games/--pool or lower the filters",
              file=sys.stderr)
    argv = " ".join(sys.argv[1:])
    built_with = {
        "command": f"conceptcoach {argv}" if argv else "conceptcoach build-library",
        "run_id": run_id, "seed": args.seed, "funnel": funnel.__dict__,
        "seconds": round(time.time() - started), "config": config.to_dict(),
        "networks": [{"name": n.name, "role": n.role, "sha256": n.sha256}
                     for n in sorted(list_networks(db), key=lambda n: n.id or 0)],
    }
    path = write_library(db, out, [c.id for c in chosen], built_with)
    heated = _add_heat(db, out)
    print(f"heat on the squares computed for {heated} prototypes")
    if args.human_ladder:
        from conceptcoach.cli.library import add_humans
        from conceptcoach.concepts.human_difficulty import HumanParams

        status = add_humans(out, Path(args.human_ladder), rare=HumanParams().rare, write=True)
        if status:
            return status
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"wrote {path} ({len(chosen)} concepts: {len(novel[: args.concepts])} novel, "
          f"{len(failed[: args.controls])} controls, {len(static)} static; {size / 1e6:.1f} MB)")
    print(json.dumps(funnel.__dict__))
    return 0


def _quiz_items(db: sqlite_utils.Database, concept_id: int) -> int:
    """Distinct positions fit for a test: verified quiz items, or every prototype of a
    run that could not verify (no Stockfish)."""
    from conceptcoach.store.concepts import list_prototypes

    protos = list_prototypes(db, concept_id)
    if all((p.verification or {}).get("status", "unverified") == "unverified" for p in protos):
        return len({p.fen for p in protos})
    return len({p.fen for p in protos if p.verified_quiz_item})


def _add_heat(db: sqlite_utils.Database, out: Path) -> int:
    """The teacher's per-square heat of each concept on its prototypes (the learning view paints it)."""
    from conceptcoach.concepts.heat import add_heat_to_library
    from conceptcoach.engine.networks import load_evaluator
    from conceptcoach.store.networks import network_by_role

    teacher = network_by_role(db, "teacher")
    if teacher is None:
        return 0
    return add_heat_to_library(out, load_evaluator(teacher))
