"""CLI: `conceptcoach train generate|fit|ladder|all` and `conceptcoach match`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_DATA = "/work/data/gen-v2"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    from conceptcoach.training.fit import FitConfig
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

    f = FitConfig()
    p = steps.add_parser("fit", help="train a network on the labelled shards, saving a checkpoint ladder")
    p.add_argument("--data", default=DEFAULT_DATA, help="shard folder")
    p.add_argument("--run-dir", required=True, help="folder for the ladder checkpoints and log.jsonl")
    p.add_argument("--run-id", default=f.run_id)
    p.add_argument("--seed", type=int, default=f.seed)
    p.add_argument("--blocks", type=int, default=f.blocks)
    p.add_argument("--channels", type=int, default=f.channels)
    p.add_argument("--batch-size", type=int, default=f.batch_size)
    p.add_argument("--steps", type=int, default=f.steps)
    p.add_argument("--lr", type=float, default=f.lr)
    p.add_argument("--warmup-steps", type=int, default=f.warmup_steps)
    p.add_argument("--value-weight", type=float, default=f.value_weight)
    p.add_argument("--policy-temperature", type=float, default=f.policy_temperature_cp,
                   help="centipawn temperature of the multi-PV policy target")
    p.add_argument("--eval-every", type=int, default=f.eval_every)
    p.add_argument("--checkpoint-every", type=int, default=f.checkpoint_every)
    p.add_argument("--threads", type=int, default=f.threads)
    p.add_argument("--init-from", default=None, help="start from this checkpoint instead of random weights")
    p.add_argument("--limit-shards", type=int, default=None, help="use only the first N shards")
    p.add_argument("--publish", default=None, metavar="FILE",
                   help="also save the final network as FILE (role teacher), e.g. assets/models/teacher.safetensors")
    p.set_defaults(handler=cmd_fit)


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


def cmd_fit(args: argparse.Namespace) -> int:
    from conceptcoach.progress import TqdmProgress
    from conceptcoach.training.dataset import load_positions, split_validation
    from conceptcoach.training.fit import FitConfig, fit
    from conceptcoach.training.ladder import publish

    cfg = FitConfig(
        run_id=args.run_id, seed=args.seed, blocks=args.blocks, channels=args.channels,
        batch_size=args.batch_size, steps=args.steps, lr=args.lr, warmup_steps=args.warmup_steps,
        value_weight=args.value_weight, policy_temperature_cp=args.policy_temperature,
        eval_every=args.eval_every, checkpoint_every=args.checkpoint_every, threads=args.threads,
        init_from=args.init_from,
    )
    try:
        data, summary = load_positions(args.data, limit_shards=args.limit_shards)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    train_rows, val_rows = split_validation(data, cfg.val_permille)
    print(f"data: {summary}; train {len(train_rows)}, validation {len(val_rows)}", flush=True)
    result = fit(cfg, data, train_rows, val_rows, args.run_dir, summary, progress=TqdmProgress("step"))
    last = result.log[-1] if result.log else {}
    print(f"final: {json.dumps(last)}", flush=True)
    if args.publish and result.checkpoints:
        info = publish(result.checkpoints[-1], Path(args.publish), role="teacher")
        print(f"published {args.publish} ({info.sha256[:12]})")
    return 0
