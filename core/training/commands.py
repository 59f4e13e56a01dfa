"""CLI: `conceptcoach train generate|fit|ladder|all` and `conceptcoach match`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_DATA = "/work/data/gen-v2"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from conceptcoach.training.generate import GenerateConfig

    g = GenerateConfig()
    train = sub.add_parser("train", help="build the bundled networks from machine data (needs Stockfish)")
    steps = train.add_subparsers(dest="step", metavar="STEP", required=True)

    p = steps.add_parser("generate", help="machine-play positions labelled by Stockfish multi-PV (resumable)")
    p.add_argument("--out", default=DEFAULT_DATA, help=f"shard folder (default {DEFAULT_DATA})")
    p.add_argument("--positions", type=int, default=g.positions)
    p.add_argument("--workers", type=int, default=g.workers)
    p.add_argument("--seed", type=int, default=g.seed)
    p.add_argument("--nodes", type=int, default=g.nodes, help="Stockfish nodes per position")
    p.add_argument("--multipv", type=int, default=g.multipv)
    p.add_argument("--shard-positions", type=int, default=g.shard_positions)
    p.add_argument("--sample-temperature", type=float, default=g.sample_temperature_cp,
                   help="centipawn temperature for choosing the next move")
    p.add_argument("--engine", default=g.engine)
    p.set_defaults(handler=cmd_generate)


def cmd_generate(args: argparse.Namespace) -> int:
    from conceptcoach.training.generate import GenerateConfig, run_generate

    cfg = GenerateConfig(
        positions=args.positions, workers=args.workers, seed=args.seed, nodes=args.nodes,
        multipv=args.multipv, shard_positions=args.shard_positions,
        sample_temperature_cp=args.sample_temperature, engine=args.engine,
    )
    try:
        run_generate(cfg, Path(args.out))
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
