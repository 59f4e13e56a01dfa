"""MODEL_CARD.md for the bundled networks, written from the artefacts of the build.

Every figure in the card is read from a file the build wrote (generate.json and shard
metadata, fit.json and log.jsonl, ladder.json, the match summaries), so the card
cannot claim more than was run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from conceptcoach.engine.checkpoint import CheckpointError, read_info, sha256_file
from conceptcoach.engine.config import NetworkConfig
from conceptcoach.engine.network import PolicyValueNet
from conceptcoach.training.curves import fit_log_samples
from conceptcoach.training.generate import list_shards
from conceptcoach.training.match import PlayerSpec

SHIPPED = ("teacher", "weaker", "student-1", "student-2", "student-3")


def _shard_stats(data_dir: Path) -> dict[str, Any]:
    seconds = 0.0
    positions = 0
    games = 0
    phases = np.zeros(3, dtype=np.int64)
    shards = list_shards(data_dir)
    for path in shards:
        with np.load(path) as data:
            meta = json.loads(str(data["meta"]))
        seconds += float(meta["seconds"])
        positions += int(meta["positions"])
        games += int(meta["games"])
        phases += np.array(meta["phases"], dtype=np.int64)
    return {"shards": len(shards), "positions": positions, "games": games, "phases": phases.tolist(),
            "worker_seconds": round(seconds), "per_worker_rate": round(positions / max(seconds, 1.0), 1)}


def _fmt_elo(x: Any) -> str:
    value = float(x)
    return f"{value:+.0f}" if np.isfinite(value) else ("+inf" if value > 0 else "-inf")


def _samples(n: int) -> str:
    return f"{n / 1e6:.2f}M" if n >= 100_000 else f"{n:,}"


def _run_row(run_dir: Path) -> dict[str, Any]:
    """One fit's summary for the architecture table: shape, speed, samples, last figures."""
    fit = json.loads((run_dir / "fit.json").read_text())
    log = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines() if line.strip()]
    cfg = fit["config"]
    last: dict[str, Any] = log[-1] if log else {"samples": 0, "seconds": 0, "val": {}, "samples_per_s": 0}
    net = PolicyValueNet(NetworkConfig(blocks=cfg["blocks"], channels=cfg["channels"]))
    return {"run": cfg["run_id"], "shape": f"{cfg['blocks']}x{cfg['channels']}",
            "params": sum(p.numel() for p in net.parameters()), "samples": last["samples"],
            "minutes": float(last["seconds"]) / 60, "samples_per_s": last["samples_per_s"],
            "val": last["val"], "curve": [(e["samples"], e["val"]["top1"]) for e in log]}


def architecture_lines(runs: list[Path], comparison: Path | None) -> list[str]:
    """The architectures tried, each a whole fit (warm-up and cosine decay) of the same
    wall time on the same shards, with their held-out curves, and the equal-time match."""
    rows = [_run_row(r) for r in runs]
    out = ["## Architecture: how it was chosen\n",
           "Each candidate was fitted for the same wall time on the same shards and machine (a whole "
           "schedule, warm-up then cosine decay, so each ends annealed); validation figures on the same "
           "held-out positions.\n",
           "| run | blocks x channels | parameters | minutes | samples/s | samples seen | val top-1 | "
           "val policy CE | val value MSE |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        v = r["val"]
        out.append(f"| {r['run']} | {r['shape']} | {r['params']:,} | {r['minutes']:.1f} | {r['samples_per_s']:.0f} | "
                   f"{r['samples']:,} | {v.get('top1', 0):.3f} | {v.get('policy_ce', 0):.3f} | "
                   f"{v.get('value_mse', 0):.3f} |")
    out.append("")
    out.append("Held-out top-1 against samples seen (each run's evaluations):\n")
    for r in rows:
        points = ", ".join(f"{_samples(n)}: {t:.3f}" for n, t in r["curve"])
        out.append(f"- {r['run']}: {points}")
    out.append("")
    if comparison is not None and comparison.exists():
        m = json.loads(comparison.read_text())
        res = m["result"]
        out.append(f"At equal time per move: {m['a']} against {m['b']}, {res['games']} games, "
                   f"+{res['wins']} ={res['draws']} -{res['losses']}, score {res['score']:.3f} "
                   f"(Elo {_fmt_elo(res['elo'])} [{_fmt_elo(res['elo_low'])}, {_fmt_elo(res['elo_high'])}]).\n")
    return out


def quality_lines(path: Path) -> list[str]:
    """The teacher's searched moves judged by Stockfish (``train quality``)."""
    q = json.loads(path.read_text())
    c, s = q["config"], q["shares"]
    return ["## Move quality (Stockfish's judgement)\n",
            f"{int(s['positions'])} held-out {c['phase']} positions (the validation split, seed {c['seed']}): the "
            f"teacher searches {c['sims']} simulations, Stockfish 15.1 searches depth {c['depth']} for its best "
            "move and, when the teacher chose another, for the teacher's move; the loss is the difference "
            "(side to move, never below 0). Every position is in the report file.\n",
            "| measured | share |", "|---|---:|",
            f"| Stockfish's best move | {s['best_move']:.1%} |",
            f"| within 50 cp of the best | {s['within_50cp']:.1%} |",
            f"| loses >= 100 cp | {s['loss_100cp_or_more']:.1%} |",
            f"| loses >= 300 cp (blunders) | {s['loss_300cp_or_more']:.1%} |",
            f"| median loss | {s['median_loss_cp']:.0f} cp |", ""]


def _checkpoint_key(path: str) -> tuple[str, str]:
    """(identity, shape) of a checkpoint, from one read of its metadata. Identity is its
    run and step, so that a published copy (assets/models/teacher) is the same network
    as the ladder checkpoint it came from; the path and "?" where it cannot be read."""
    try:
        info = read_info(path)
    except CheckpointError:
        return path, "?"
    return (f"{info.run_id}@{info.step}" if info.run_id else path), f"{info.config.blocks}x{info.config.channels}"


#: The teacher issue's goal per pairing (label prefix -> score); other pairings: 0.5.
SCORE_GOALS = (("raw policy vs maia-1900", 0.5), ("MCTS-200 vs maia-1900", 0.8), ("MCTS-800 vs stockfish", 0.5))


def _score_goal(label: str) -> float:
    return next((goal for prefix, goal in SCORE_GOALS if label.startswith(prefix)), 0.5)


def _millions(n: float) -> str:
    return f"{n / 1e6:,.0f}M" if n >= 1e7 else f"{n / 1e6:,.1f}M"


def curve_lines(heldout: list[Path], match_dirs: list[Path], target: float = 0.45,
                samples_per_s: float | None = None, train_positions: int | None = None) -> list[str]:
    """Held-out agreement and match scores against samples seen, one row per fitted
    network (the last checkpoint of each schedule), and where a log-linear fit of each
    architecture's rows says ``target`` top-1 would be reached. ``heldout``: ``train
    heldout`` reports with ``samples_seen``; ``match_dirs``: folders of match summaries
    whose player A is one of those checkpoints (pairings against outside references
    only); ``samples_per_s`` and ``train_positions``: the last fit's speed and data, to
    put the samples into machine time and passes over the data."""
    points: dict[str, dict[str, Any]] = {}
    by_identity: dict[str, str] = {}
    for path in heldout:
        for ckpt, fig in json.loads(path.read_text()).items():
            if "samples_seen" in fig:
                identity, shape = _checkpoint_key(ckpt)
                by_identity[identity] = ckpt
                points[ckpt] = {"samples": int(fig["samples_seen"]), "top1": float(fig["all"]["top1"]),
                                "ce": float(fig["all"]["policy_ce"]), "positions": int(fig["positions"]["all"]),
                                "shape": shape, "matches": {}}
    if len(points) < 2:
        raise ValueError("the curve needs held-out reports of at least two checkpoints with samples_seen")
    pairings: dict[str, int] = {}
    for folder in match_dirs:
        for summary in sorted(folder.glob("*.pgn.json")):
            if summary.name.startswith("ladder-"):  # the ladder's own checkpoint-vs-checkpoint games
                continue
            m = json.loads(summary.read_text())
            config = m.get("config", {})
            try:
                a, b = PlayerSpec.parse(config.get("a", "")), PlayerSpec.parse(config.get("b", ""))
            except ValueError:
                continue  # a summary from before the players' specs were recorded
            key = by_identity.get(_checkpoint_key(a.path)[0]) if a.kind == "net" else None
            if key is None or b.kind == "net" or not m["result"]["games"]:
                continue
            label = f"{'raw policy' if a.sims <= 1 else f'MCTS-{a.sims}'} vs {m['b']}"
            points[key]["matches"][label] = m["result"]
            pairings[label] = a.sims
    opponents = sorted(pairings, key=lambda label: (pairings[label], label))
    rows = sorted(points.items(), key=lambda kv: (kv[1]["shape"], kv[1]["samples"]))
    positions = {r["positions"] for _, r in rows}
    out = ["## What more samples would reach\n",
           "Each row is the last checkpoint of a whole schedule (warm-up, then decay), so the rows are "
           f"comparable; held-out figures on the same {', '.join(f'{n:,}' for n in sorted(positions))} "
           "validation positions (`train heldout`), samples seen counting the fits a run was continued "
           "from; match scores (games in brackets) from the strength pairings played with that checkpoint.\n",
           "| checkpoint | shape | samples seen | held-out top-1 | policy CE | " + " | ".join(opponents) + " |",
           "|---|---|---:|---:|---:|" + "---:|" * len(opponents)]
    for ckpt, r in rows:
        cells = []
        for label in opponents:
            res = r["matches"].get(label)
            cells.append(f"{res['score']:.3f} ({res['games']})" if res else "")
        name = "/".join(Path(ckpt).parts[-2:])
        out.append(f"| {name} | {r['shape']} | {r['samples']:,} | {r['top1']:.3f} | {r['ce']:.3f} | "
                   + " | ".join(cells) + " |")
    out.append("")
    for shape in sorted({r["shape"] for _, r in rows}):
        mine = [r for _, r in rows if r["shape"] == shape]
        if len({r["samples"] for r in mine}) < 2:
            out.append(f"- {shape}: one schedule only, no line.")
            continue
        fit = fit_log_samples([(r["samples"], r["top1"]) for r in mine])
        need = fit.samples_for(target)
        line = (f"- {shape}: top-1 = {fit.a:.3f} + {fit.b:.4f} ln(samples) through {len(mine)} schedules, "
                f"{fit.b:+.3f} per e-fold (x2.72) of samples; ")
        if need is None:
            out.append(line + f"it does not rise, so it never reaches {target:.2f}.")
            continue
        extra = []
        if samples_per_s:
            extra.append(f"{need / samples_per_s / 86400:,.1f} days of this machine's fit at {samples_per_s:,.0f} "
                         "samples/s")
        if train_positions:
            extra.append(f"{need / train_positions:,.0f} passes over today's {train_positions:,} training positions")
        out.append(line + f"top-1 {target:.2f} (the goal) at about {_millions(need)} samples seen"
                   + (f" ({'; '.join(extra)})" if extra else "") + ".")
        for label in opponents:
            pts = [(r["samples"], r["matches"][label]["score"]) for r in mine if label in r["matches"]]
            if len({n for n, _ in pts}) < 2:
                continue
            sfit = fit_log_samples(pts)
            goal = _score_goal(label)
            reach = sfit.samples_for(goal)
            says = ("it does not rise" if reach is None else f"at or above its goal of {goal} already"
                    if pts[-1][1] >= goal else f"its goal of {goal} at about {_millions(reach)} samples")
            out.append(f"  - {label}: {sfit.b:+.3f} score per e-fold of samples; {says}.")
    out.append("")
    out.append("These are extrapolations from a few points: a curve in samples bends over as a network "
               "of this size fills, and many passes over the same positions are worth far less than new "
               "positions (the held-out figure stops rising once the fit memorises its data), so read them "
               "as what the measured trend says, not as promises.\n")
    return out


def _data_lines(data_dir: Path) -> list[str]:
    """One data folder: its generation parameters, size, phases and how its games were played."""
    g = json.loads((data_dir / "generate.json").read_text())
    stats = _shard_stats(data_dir)
    ph = stats["phases"]
    player = g.get("player", "stockfish")
    if player == "stockfish":
        how = (f"Stockfish plays: the first {g.get('opening_plies', 0)} plies draw among moves within "
               f"{g.get('opening_margin_cp', 0)} cp of the best (softmax(score / "
               f"{g.get('opening_temperature_cp', 0):.0f} cp)), later plies among all multi-PV moves "
               f"(softmax(score / {g['sample_temperature_cp']:.0f} cp))")
    else:
        how = (f"our network plays itself ({player}: MCTS with root noise; for the first "
               f"{g.get('opening_plies', 0)} plies a move drawn by visit count, then the most visited)")
    return [f"### `{data_dir.name}`\n",
            f"- Generation parameters (`generate.json`): `{json.dumps(g)}`",
            f"- {stats['positions']:,} labelled positions in {stats['shards']} shards from {stats['games']:,} games "
            f"({stats['worker_seconds']:,} worker-seconds, {stats['per_worker_rate']} positions/s per worker on "
            "the 2-core machine).",
            f"- Phases: opening (first 20 plies) {ph[0]:,}, middlegame {ph[1]:,}, endgame (non-pawn material "
            f"<= 26 pawn units) {ph[2]:,}.",
            f"- How: every game starts from the initial position; {how}. At every stored position Stockfish "
            f"(1 thread, {g['hash_mb']} MB hash, new game per game) searches {g['nodes']} nodes with MultiPV "
            f"{g['multipv']}. A game ends by the rules or at {g['max_plies']} plies; once |eval| >= "
            f"{g['decided_cp']} cp for {g['decided_plies']} consecutive positions, a position is stored with "
            f"probability {g.get('decided_keep', 0)} (the others get a {g.get('decided_nodes', 0)}-node search "
            "that only picks the move). Positions are deduplicated by FEN without move counters. Shard k of "
            "worker w is seeded with [seed, w, k] and regenerates identically.",
            f"- Regenerate: `conceptcoach train generate --out {data_dir} --positions "
            f"{stats['shards'] * g['shard_positions']} --workers {g['workers']} --seed {g['seed']} --nodes "
            f"{g['nodes']} --multipv {g['multipv']}" + (f" --player {player}" if player != "stockfish" else "")
            + "` (the positions target that regenerates exactly the shards present).\n"]


def _fit_command(run_dir: Path, fit: dict[str, Any], main_data: Path) -> str:
    """The fit's command line from its fit.json. Shards of the first data folder are
    recorded by file name, those of further folders by whole path."""
    cfg = fit["config"]
    names = fit.get("data", {}).get("shard_names", [])
    extra = sorted({str(Path(n).parent) for n in names if Path(n).parent != Path(".")})
    data = " ".join([str(main_data), *extra])
    init = f" --init-from {cfg['init_from']}" if cfg.get("init_from") else ""
    return (f"conceptcoach train fit --data {data} --run-dir {run_dir} --run-id {cfg['run_id']}{init} "
            f"--blocks {cfg['blocks']} --channels {cfg['channels']} --steps {cfg['steps']} "
            f"--checkpoint-every {cfg['checkpoint_every']} --eval-every {cfg['eval_every']} --seed {cfg['seed']} "
            f"--threads {cfg['threads']}")


def _fit_lines(run_dir: Path, main_data: Path) -> list[str]:
    """One fit of the teacher's lineage: its parameters, data and curve."""
    fit = json.loads((run_dir / "fit.json").read_text())
    log = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines() if line.strip()]
    cfg = fit["config"]
    data = fit.get("data", {})
    out = [f"### `{cfg['run_id']}`\n",
           f"- `{_fit_command(run_dir, fit, main_data)}`",
           f"- Fit parameters: `{json.dumps(cfg)}`",
           f"- Data read: {data.get('positions', 0):,} distinct positions in {data.get('shards', 0):,} shards "
           f"after removing {data.get('duplicates_dropped', 0):,} duplicates; training {fit['train_positions']:,}, "
           f"validation {fit['val_positions']:,} (split by a hash of the FEN, {cfg['val_permille']} per mille, "
           "so a position stays in its split as data grows)."]
    if cfg.get("init_from"):
        out.append(f"- Continued from `{cfg['init_from']}` (its weights; a new optimizer and schedule).")
    if "calibrated" in fit:
        out.append(f"- The step count was set from a time budget ({fit['calibrated']['minutes']} min, "
                   f"{fit['calibrated']['seconds_per_step']} s/step measured); rerun with `--steps {cfg['steps']}`.")
    out += ["", f"Validation figures on the first {cfg['max_val_positions']:,} validation positions:\n",
            "| step | samples | epoch | samples/s | train policy CE | train value MSE | val policy CE | "
            "val value MSE | val top-1 vs label |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for e in log:
        out.append(f"| {e['step']} | {e['samples']:,} | {e['epoch']} | {e.get('samples_per_s', 0):,.0f} | "
                   f"{e['train']['policy_ce']:.3f} | {e['train']['value_mse']:.3f} | {e['val']['policy_ce']:.3f} | "
                   f"{e['val']['value_mse']:.3f} | {e['val']['top1']:.3f} |")
    out.append("")
    return out


def write_card(
    models: Path, data_dirs: list[Path], run_dirs: list[Path], match_dir: Path, notes: str = "",
    out: str | os.PathLike[str] | None = None, runs: list[Path] | None = None,
    comparison: Path | None = None, quality: Path | None = None, curve: list[Path] | None = None,
    curve_matches: list[Path] | None = None, ladder_runs: list[Path] | None = None,
) -> Path:
    """Write ``models/MODEL_CARD.md`` (or ``out``) and return its path. ``data_dirs``: the
    shard folders the teacher was fitted on; ``run_dirs``: its fits in order (a fit
    continued from the one before it); ``runs``: the architecture candidates' fit folders;
    ``comparison``: their equal-time match summary; ``quality``: the teacher's
    ``train quality`` report; ``curve``: ``train heldout`` reports of each schedule's last
    checkpoint, with ``curve_matches`` folders of earlier teachers' matches;
    ``ladder_runs``: the fit folders the ladder read, when they include more than the
    teacher's fits (a dense replay of a fit's first steps, for early students)."""
    last_fit = json.loads((run_dirs[-1] / "fit.json").read_text())
    ladder = json.loads((models / "ladder.json").read_text()) if (models / "ladder.json").exists() else {}
    cfg = last_fit["config"]
    teacher = read_info(models / "teacher.safetensors")
    params = sum(p.numel() for p in PolicyValueNet(teacher.config).parameters())
    lines: list[str] = []
    add = lines.append
    add("# Bundled networks: model card\n")
    add("Concept Coach's teacher is a policy-value network in the AlphaZero style (residual tower on "
        "8x8 planes, a policy over the 4672 AlphaZero moves, a value in [-1, 1]) searched with PUCT MCTS. "
        "It was trained **only on machine data**: positions from machine games that start from the initial "
        "position (Stockfish-guided play, and the network's own self-play), labelled by Stockfish's "
        "multi-PV search. No human game was read at any stage (the openings of the strength matches are "
        "machine-made too).\n")
    add("## Rebuild\n")
    add("Each step resumes or re-runs on its own (Stockfish, the Debian package `stockfish`, is a build tool "
        "only; the app never needs it). The data folders' `train generate` commands are under Data, each "
        "fit's command under Training; then:\n")
    add("```")
    ladder_runs = ladder_runs or run_dirs
    add(f"conceptcoach train ladder --data {data_dirs[0]} --run-dir {' '.join(str(r) for r in ladder_runs)} "
        f"--match-dir {match_dir}")
    add(f"conceptcoach match net:assets/models/teacher.safetensors:200 lc0:maia-1900.pb.gz:1 --games 100 "
        f"--out {match_dir}/teacher@200-vs-maia1900@1.pgn   # and the other pairings of the table below")
    add(f"conceptcoach train card --data {' '.join(str(d) for d in data_dirs)} "
        f"--run-dir {' '.join(str(r) for r in run_dirs)} --match-dir {match_dir}")
    add("```\n")
    add("`conceptcoach train all` runs the same steps from scratch in one command (one data folder, one "
        "fit).\n")
    add("## Data\n")
    for data_dir in data_dirs:
        lines.extend(_data_lines(data_dir))
    add("## Labels\n")
    add(f"- Policy target: softmax over the multi-PV moves of (score - best) / {cfg['policy_temperature_cp']} cp; "
        "other moves 0. Mate in n is stored as 3000 - n and spread 100 cp per move of mate distance above "
        "every non-mate score (so the shortest mate is preferred); other scores are clipped at +-2500 cp.")
    add("- Value target: Stockfish's win/draw/loss estimate of the best line, (W - L) / 1000, side to move.\n")
    add("## Training\n")
    add("- Loss: cross-entropy of the policy over legal moves (illegal logits masked with -1e9) + "
        f"{cfg['value_weight']} x MSE of the value. AdamW, linear warm-up then cosine decay.")
    add(f"- The teacher is the last checkpoint of {len(run_dirs)} fit(s), each continued from the one "
        "before it:\n")
    for run_dir in run_dirs:
        lines.extend(_fit_lines(run_dir, data_dirs[0]))
    add("## Architecture\n")
    add(f"- {teacher.config.blocks} residual blocks x {teacher.config.channels} channels, "
        f"{teacher.config.input_planes} input planes, value head hidden {teacher.config.value_hidden}; "
        f"{params:,} parameters (float32).")
    add(f"- Layers for the concept code: `stem`, `block0` .. `block{teacher.config.blocks - 1}` "
        f"({teacher.config.channels} x 8 x 8 numbers each).\n")
    if runs:
        lines.extend(architecture_lines(runs, comparison))
    if quality is not None and quality.exists():
        lines.extend(quality_lines(quality))
    if curve:
        last_log = [x for x in (run_dirs[-1] / "log.jsonl").read_text().splitlines() if x.strip()]
        speed = float(json.loads(last_log[-1]).get("samples_per_s", 0)) if last_log else 0.0
        lines.extend(curve_lines(curve, [match_dir, *(curve_matches or [])], samples_per_s=speed or None,
                                 train_positions=int(last_fit["train_positions"])))
    add("## Files\n")
    add("| file | role | step | bytes | sha256 |")
    add("|---|---|---:|---:|---|")
    total = 0
    for name in SHIPPED:
        weights = models / f"{name}.safetensors"
        if not weights.exists():
            continue
        info = read_info(weights)
        for path in (weights, weights.with_suffix(".json")):
            size = path.stat().st_size
            total += size
            add(f"| {path.name} | {info.role} | {info.step} | {size:,} | `{sha256_file(path)}` |")
    add(f"\nTotal {total / 1e6:.1f} MB.\n")
    if ladder:
        add("## Ladder: students and the weaker network\n")
        for extra_run in [r for r in ladder_runs if r not in run_dirs]:
            fit_e = json.loads((extra_run / "fit.json").read_text())
            log_e = [json.loads(x) for x in (extra_run / "log.jsonl").read_text().splitlines() if x.strip()]
            ce = fit_e["config"]
            add(f"The ladder also read `{extra_run.name}`: `{ce['run_id']}` replayed from scratch with the same "
                f"seed, shards and schedule, a checkpoint every {ce['checkpoint_every']} steps, stopped after step "
                f"{log_e[-1]['step'] if log_e else 0} (`train fit --run-id {ce['run_id']} --steps {ce['steps']} "
                f"--checkpoint-every {ce['checkpoint_every']} --stop-after {log_e[-1]['step'] if log_e else 0}` on the "
                "shards its fit.json names), so that the students include checkpoints that do not know the "
                "teacher's moves yet.\n")
        add("Agreement = how often a checkpoint's raw-policy move equals the teacher's on "
            f"{ladder['shipped']['teacher']['agreement_positions']} validation positions.\n")
        shipped_by_source = {v["source"]: k for k, v in ladder["shipped"].items()}
        add("| checkpoint | agreement with teacher | shipped as |")
        add("|---|---:|---|")
        for row in ladder["ladder"]:
            add(f"| {row['checkpoint']} | {row['agreement_with_teacher']:.3f} | "
                f"{shipped_by_source.get(row['checkpoint'], '')} |")
        add("")
        add(f"The weaker network is the ladder checkpoint whose match against the teacher came nearest "
            f"{ladder['config']['target_elo']:.0f} Elo (both sides {ladder['config']['weaker_sims']} simulation(s), "
            f"{ladder['config']['weaker_games']} games, colours alternated over machine openings):\n")
        for m in ladder["weaker_matches"]:
            add(f"- teacher vs {m['checkpoint']}: {m['text']} (teacher's side)")
        add("")
    add("## Strength\n")
    add("Score and Elo are from the first player's side; 95% intervals are normal approximations. Stockfish "
        "15.1 plays with UCI_LimitStrength at the given UCI_Elo, 1 thread, a fixed time per move (its "
        "nominal Elo is calibrated at much longer time controls, so at these speeds it is likely weaker "
        "than its label). Maia-1900 (an lc0-format network trained to predict the moves of 1900-rated humans) "
        "plays its raw policy (one node), as it was made to. Games start from 50 balanced machine-made openings (each played with both "
        "colours), end by the rules, at 300 plies (draw), or by adjudication when a Stockfish judge "
        "(3000 nodes) sees |eval| >= 1000 cp on 4 consecutive checks.\n")
    add("| player A | player B | games (planned) | +W =D -L | score | Elo diff [95%] |")
    add("|---|---|---:|---|---:|---|")
    for path in sorted(match_dir.glob("*.pgn.json")):
        if path.name.startswith("ladder-"):
            continue
        m = json.loads(path.read_text())
        r = m["result"]
        if not r["games"]:
            add(f"| {m['a']} | {m['b']} | 0 ({m.get('planned_games', 0)}) | not played | | |")
            continue
        add(f"| {m['a']} | {m['b']} | {r['games']} ({m.get('planned_games', r['games'])}) | +{r['wins']} ={r['draws']} -{r['losses']} | "
            f"{r['score']:.3f} | {_fmt_elo(r['elo'])} [{_fmt_elo(r['elo_low'])}, {_fmt_elo(r['elo_high'])}] |")
    add("")
    if notes:
        add(notes.rstrip() + "\n")
    target = Path(out) if out else models / "MODEL_CARD.md"
    target.write_text("\n".join(lines) + "\n")
    return target
