"""CLI: `conceptcoach library check`: Stockfish's verdict on a library's quiz items."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from conceptcoach.progress import run_with_bar


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from conceptcoach.concepts.human_difficulty import HumanParams
    from conceptcoach.concepts.verify import VerifyParams

    v = VerifyParams()
    p = sub.add_parser("library", help="concept libraries: check their quiz items with Stockfish")
    steps = p.add_subparsers(dest="step", metavar="STEP", required=True)
    c = steps.add_parser("check", help="verify every prototype with Stockfish and report the shares")
    c.add_argument("--library", default=None, metavar="DIR",
                   help="a library folder (default: the bundled assets/library); see --store")
    c.add_argument("--store", action="store_true", help="check the concepts in the store instead")
    c.add_argument("--depth", type=int, default=v.depth, help="Stockfish depth per position")
    c.add_argument("--line-depth", type=int, default=v.line_depth, help="depth for each move of the teacher's line")
    c.add_argument("--margin", type=int, default=v.margin_cp, help="centipawns within which a move is accepted")
    c.add_argument("--decided", type=int, default=v.decided_cp, help="|eval| from which a position is decided")
    c.add_argument("--limit", type=int, default=None, help="check only the first N concepts")
    c.add_argument("--write", action="store_true", help="store each verdict with its prototype")
    c.add_argument("--stored", action="store_true",
                   help="report the verdicts stored with the prototypes (by the build or an earlier check) "
                        "without running Stockfish")
    c.add_argument("--engine", default=None, help="Stockfish binary (default: stockfish on PATH)")
    c.set_defaults(handler=cmd_check)
    d = steps.add_parser("describe", help="name the discovered concepts of a library from what their "
                         "prototypes share on the board (names a coach gave are kept)")
    d.add_argument("--library", default=None, metavar="DIR", help="a library folder (default: assets/library)")
    d.add_argument("--write", action="store_true", help="write the names and descriptions into the library")
    d.add_argument("--rename-all", action="store_true",
                   help="rename every discovered concept, not only working names (for a library whose names an "
                        "earlier build wrote; a coach's names would be lost)")
    d.set_defaults(handler=cmd_describe)
    u = steps.add_parser("dedupe", help="keep one concept per direction (vectors parallel up to sign)")
    u.add_argument("--library", default=None, metavar="DIR", help="a library folder (default: assets/library)")
    u.add_argument("--write", action="store_true", help="write the library without the duplicates")
    u.set_defaults(handler=cmd_dedupe)
    h = steps.add_parser("humans", help="store how likely players of each rating find every item's answer "
                         "(the Maia ladder), and each concept's behavioural novelty")
    h.add_argument("--ladder", required=True, metavar="DIR", help="folder with maia-1100.pb.gz ... maia-1900.pb.gz")
    h.add_argument("--library", default=None, metavar="DIR", help="a library folder (default: assets/library)")
    h.add_argument("--rare", type=float, default=HumanParams().rare,
                   help="behaviourally novel when the mean find-probability is below this")
    h.add_argument("--write", action="store_true", help="write the figures into the library")
    h.set_defaults(handler=cmd_humans)


def cmd_check(args: argparse.Namespace) -> int:
    from conceptcoach.concepts.library_check import check_concepts, read_library_concepts
    from conceptcoach.concepts.verify import VerifyParams, find_stockfish

    if args.stored and args.write:
        print("error: --stored reports the verdicts already stored; it has nothing to --write", file=sys.stderr)
        return 2
    if not args.stored and find_stockfish(args.engine) is None:
        print("error: Stockfish not found (install the Debian package 'stockfish' or pass --engine, "
              "or --stored for the verdicts already stored)", file=sys.stderr)
        return 2
    params = VerifyParams(depth=args.depth, line_depth=args.line_depth, margin_cp=args.margin,
                          decided_cp=args.decided)
    body: dict[str, Any] = {}
    lib_dir: Path | None = None
    if args.store:
        from conceptcoach.bootstrap import open_user_store
        from conceptcoach.store.concepts import list_concepts, list_prototypes

        db, _ = open_user_store(args.data_dir)
        concepts = [{"id": c.id, "name": c.name, "status": c.status,
                     "prototypes": [{"id": p.id, "fen": p.fen, "best_move": p.best_move, "line": p.line,
                                     "value": p.value, "verification": p.verification}
                                    for p in list_prototypes(db, c.id)]}
                    for c in list_concepts(db)]
    else:
        from conceptcoach.paths import library_dir

        lib_dir = Path(args.library) if args.library else library_dir()
        try:
            body, concepts = read_library_concepts(lib_dir)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.limit is not None:
        concepts = concepts[: args.limit]
    if args.stored:
        from conceptcoach.concepts.library_check import report_verdicts

        print("\n".join(report_verdicts(concepts).lines()))
        return 0
    status, report = run_with_bar(lambda bar: check_concepts(concepts, params, args.engine, progress=bar),
                                  unit="position")
    if report is None:
        return status
    for line in report.lines():
        print(line)
    if args.write:
        if args.store:
            from conceptcoach.store.concepts import set_prototype_verification

            for c in concepts:
                for p in c["prototypes"]:
                    set_prototype_verification(db, p["id"], p["verification"])
            print("verdicts stored with the prototypes in the store")
        elif lib_dir is not None:
            from conceptcoach.concepts.library import write_library_body

            path = write_library_body(lib_dir, body)
            print(f"verdicts written into {path}")
    return 0


#: Working names of earlier builds ("Plan 16...Nc4 (block5)"): replaced by described names.
WORKING_NAME_PREFIXES = ("Plan ", "Prevention ")


def cmd_describe(args: argparse.Namespace) -> int:
    from conceptcoach.concepts.describe import describe_all
    from conceptcoach.concepts.library import write_library_body
    from conceptcoach.concepts.library_check import read_library_concepts
    from conceptcoach.paths import library_dir

    lib_dir = Path(args.library) if args.library else library_dir()
    try:
        body, concepts = read_library_concepts(lib_dir)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    dynamic = [c for c in concepts if c.get("kind") == "dynamic"]
    described = describe_all([([(p["fen"], p["best_move"], p.get("heat")) for p in c["prototypes"]],
                               c.get("polarity", "active")) for c in dynamic])
    for c, d in zip(dynamic, described, strict=True):
        renamed = args.rename_all or str(c["name"]).startswith(WORKING_NAME_PREFIXES)
        print(f"{c['name']!s:44.44} -> {d.name if renamed else c['name'] + ' (kept)'}")
        if renamed:
            c["name"] = d.name
        if not c.get("annotation"):
            c["annotation"] = d.text
    if args.write:
        print(f"written into {write_library_body(lib_dir, body)}")
    return 0


def cmd_dedupe(args: argparse.Namespace) -> int:
    import numpy as np
    from conceptcoach.concepts.library import VECTORS, write_library_body
    from conceptcoach.concepts.library_check import read_library_concepts
    from conceptcoach.concepts.verdicts import one_per_direction
    from conceptcoach.paths import library_dir

    lib_dir = Path(args.library) if args.library else library_dir()
    try:
        body, concepts = read_library_concepts(lib_dir)
        vectors = np.load(lib_dir / VECTORS, allow_pickle=False)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # Active concepts first: a Prevention is kept only when it differs from every Plan.
    order = sorted(range(len(concepts)), key=lambda i: concepts[i].get("polarity") != "active")
    keep = sorted(order[k] for k in one_per_direction(
        [(str(concepts[i]["layer"]), vectors[int(concepts[i]["vector_row"])]) for i in order]))
    for i, c in enumerate(concepts):
        if i not in keep:
            print(f"dropped: {c['name']} [{c['status']}] (parallel to a concept kept)")
    print(f"{len(keep)} of {len(concepts)} concepts kept")
    if args.write:
        body["concepts"] = [concepts[i] for i in keep]
        print(f"written into {write_library_body(lib_dir, body)}")
    return 0


def load_ladder(folder: Path) -> list[Any]:
    """The Maia networks of a folder as human models, weakest first."""
    from conceptcoach.engine.human_model import HumanModel
    from conceptcoach.engine.networks import inspect_file

    files = sorted(Path(folder).glob("maia-*.pb.gz"))
    if not files:
        raise ValueError(f"{folder}: no Maia network (maia-RATING.pb.gz) found")
    return sorted((HumanModel.from_network(inspect_file(f)) for f in files), key=lambda m: m.rating)


def cmd_humans(args: argparse.Namespace) -> int:
    from conceptcoach.paths import library_dir

    lib_dir = Path(args.library) if args.library else library_dir()
    return add_humans(lib_dir, Path(args.ladder), args.rare, write=args.write)


def add_humans(lib_dir: Path, ladder: Path, rare: float, write: bool) -> int:
    """Maia find-probabilities of every item of the library in ``lib_dir`` and each
    concept's behavioural novelty; printed, and written into the library with ``write``.
    Also the last step of ``build-library --human-ladder``."""
    import torch
    from conceptcoach.concepts.human_difficulty import HumanParams, add_human_figures
    from conceptcoach.concepts.library import write_library_body
    from conceptcoach.concepts.library_check import read_library_concepts
    from conceptcoach.engine.checkpoint import CheckpointError

    torch.set_num_threads(1)
    try:
        body, concepts = read_library_concepts(lib_dir)
        models = load_ladder(ladder)
    except (ValueError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    status, _ = run_with_bar(lambda bar: add_human_figures(concepts, models, HumanParams(rare=rare),
                                                           progress=bar), unit="position")
    if status:
        return status
    ratings = [str(m.rating) for m in models]
    print("mean find-probability by rating: " + "  ".join(ratings))
    for c in concepts:
        b = c.get("figures", {}).get("behavioural_novelty")
        if b:
            row = "  ".join(f"{b['by_rating'][r]:.2f}" for r in ratings)
            print(f"  {row}  {'novel ' if b['novel'] else 'known '} {c['name']}")
    if write:
        print(f"written into {write_library_body(lib_dir, body)}")
    return 0
