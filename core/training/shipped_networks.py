"""From a fit's checkpoint ladder to the networks that ship.

``publish`` copies a ladder checkpoint into assets/models under its shipped name and
role, keeping where it came from (run id, step, ladder name) in its metadata.
``agreement`` measures how often a checkpoint's raw-policy move equals the teacher's
on fixed positions, which is how the students are chosen (low to high agreement).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from conceptcoach.engine.checkpoint import (
    CheckpointInfo,
    load_checkpoint,
    read_info,
    save_checkpoint,
)
from conceptcoach.engine.network import PolicyValueNet, masked_log_softmax
from conceptcoach.engine.stockfish import DEFAULT_STOCKFISH
from conceptcoach.training.dataset import LabelledPositions, make_batch
from conceptcoach.training.match import MatchConfig, make_openings, run_match


def publish(
    source: str | os.PathLike[str], target: Path, role: str, name: str | None = None,
    extra: dict[str, Any] | None = None,
) -> CheckpointInfo:
    """Save the network of ``source`` as ``target`` (.safetensors + .json) with ``role``."""
    net, info = load_checkpoint(source)
    meta = dict(info.extra)
    meta["ladder_name"] = info.name
    meta.update(extra or {})
    return save_checkpoint(net, target, CheckpointInfo(
        name=name or target.stem, config=info.config, step=info.step, run_id=info.run_id,
        parent=info.parent, role=role, extra=meta,
    ))


def policy_moves(net: PolicyValueNet, data: LabelledPositions, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The raw policy's top legal move index for each row."""
    out = []
    net.eval()
    with torch.inference_mode():
        for start in range(0, len(rows), 512):
            batch = make_batch(data, rows[start : start + 512], 50.0)
            logits, _, _ = net(batch.planes)
            out.append(masked_log_softmax(logits, batch.legal).argmax(dim=1).numpy())
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def agreement(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> float:
    return float((a == b).mean()) if len(a) else 0.0


@dataclass(frozen=True)
class LadderConfig:
    """How the shipped networks are chosen from a fit's ladder; recorded in ladder.json."""

    students: int = 3
    agreement_positions: int = 2000
    target_elo: float = 75.0
    weaker_games: int = 100
    weaker_sims: int = 1
    workers: int = 2
    openings: int = 50
    opening_seed: int = 1
    judge_nodes: int = 1000
    #: > 0: ignore ladder checkpoints after this step (the teacher is then that step).
    last_step: int = 0
    engine: str = DEFAULT_STOCKFISH

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def ladder_checkpoints(run_dir: str | os.PathLike[str]) -> list[Path]:
    return sorted(Path(run_dir).glob("step-*.safetensors"))


def openings_file(folder: Path, count: int, seed: int, engine: str) -> list[str]:
    """Balanced machine openings, made once and cached in ``folder`` (reproducible by seed)."""
    path = folder / f"openings-n{count}-seed{seed}.json"
    if path.exists():
        return list(json.loads(path.read_text())["fens"])
    fens = make_openings(count, seed=seed, engine_path=engine)
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"seed": seed, "count": count, "fens": fens}, indent=2) + "\n")
    return fens


def choose_students(agreements: Sequence[float], pool: Sequence[int], count: int) -> list[int]:
    """``count`` checkpoints of ``pool`` (indices in training order) whose agreement with the
    teacher spans low to high: the first and the last of the pool, and ones nearest evenly
    spaced agreement levels between them."""
    pool = sorted(pool)
    if len(pool) <= count:
        return pool
    low, high = agreements[pool[0]], agreements[pool[-1]]
    chosen = [pool[0], pool[-1]]
    for k in range(1, count - 1):
        target = low + (high - low) * k / (count - 1)
        rest = [i for i in pool if i not in chosen]
        chosen.append(min(rest, key=lambda i: abs(agreements[i] - target)))
    return sorted(chosen)


def build_ladder(
    run_dir: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], data: LabelledPositions,
    val_rows: npt.NDArray[np.int64], out_dir: Path, cfg: LadderConfig, match_dir: Path, log: Any = None,
) -> dict[str, Any]:
    """Publish teacher, weaker and students from the ladder of ``run_dir`` into ``out_dir``;
    returns the report.

    ``run_dir`` may be several runs in training order (a fit continued from another's
    last checkpoint): their ladders are read as one, so that students can span the whole
    range from early, weak checkpoints to the teacher (the last checkpoint of the last
    run). ``cfg.last_step`` applies to the last run."""
    runs = [Path(run_dir)] if isinstance(run_dir, (str, os.PathLike)) else [Path(r) for r in run_dir]
    ckpts = [p for r in runs[:-1] for p in ladder_checkpoints(r)]
    ckpts += [p for p in ladder_checkpoints(runs[-1]) if not cfg.last_step or read_info(p).step <= cfg.last_step]
    if len(ckpts) < cfg.students + 2:
        raise ValueError(f"{', '.join(map(str, runs))}: {len(ckpts)} checkpoints; need at least {cfg.students + 2}")
    # A checkpoint's name in the report and in match file names: with several runs, its run
    # folder too (v3's step 22,000 and v4's step 22,000 are different networks).
    def label(path: Path) -> str:
        return f"{path.parent.name}/{path.name}" if len(runs) > 1 else path.name

    def stem(path: Path) -> str:
        return f"{path.parent.name}-{path.stem}" if len(runs) > 1 else path.stem

    rows = val_rows[: cfg.agreement_positions]
    teacher_net, _ = load_checkpoint(ckpts[-1])
    teacher_moves = policy_moves(teacher_net, data, rows)
    agreements: list[float] = []
    for path in ckpts:
        net, _ = load_checkpoint(path)
        agreements.append(agreement(policy_moves(net, data, rows), teacher_moves))
    openings = openings_file(match_dir, cfg.openings, cfg.opening_seed, cfg.engine)
    matches: list[dict[str, Any]] = []
    gaps_by_index: dict[int, float] = {}

    def gap_to(idx: int) -> float:
        mcfg = MatchConfig(a=f"net:{ckpts[-1]}:{cfg.weaker_sims}", b=f"net:{ckpts[idx]}:{cfg.weaker_sims}",
                           games=cfg.weaker_games, workers=cfg.workers, engine=cfg.engine,
                           opening_seed=cfg.opening_seed, judge_nodes=cfg.judge_nodes)
        summary = run_match(mcfg, match_dir / f"ladder-{stem(ckpts[-1])}-vs-{stem(ckpts[idx])}.pgn", openings)
        gap = float(summary["result"]["elo"])
        matches.append({"checkpoint": label(ckpts[idx]), "teacher_elo_gap": gap, "text": summary["text"]})
        if log is not None:
            print(f"teacher vs {label(ckpts[idx])}: {summary['text']}", file=log, flush=True)
        gaps_by_index[idx] = gap
        return gap

    # Bisection for the latest checkpoint at least target_elo below the teacher (the gap
    # shrinks, roughly monotonically, as training goes on); then the nearest one measured.
    lo, hi = 0, len(ckpts) - 2
    while lo <= hi:
        mid = (lo + hi + 1) // 2
        if gap_to(mid) >= cfg.target_elo:
            lo = mid + 1
        else:
            hi = mid - 1
    weaker = min(gaps_by_index, key=lambda i: (abs(gaps_by_index[i] - cfg.target_elo), -i))
    # Students: every checkpoint but the teacher and the weaker one, so that their agreement
    # spans the whole range from the first checkpoint to just below the teacher.
    students = choose_students(agreements, [i for i in range(len(ckpts) - 1) if i != weaker], cfg.students)
    gaps = {m["checkpoint"]: m for m in matches}
    shipped: dict[str, Any] = {}

    def ship(index: int, name: str, role: str) -> None:
        extra = {"agreement_with_teacher": round(agreements[index], 4),
                 "agreement_positions": len(rows)}
        if label(ckpts[index]) in gaps:
            extra["vs_teacher"] = gaps[label(ckpts[index])]["text"]
        info = publish(ckpts[index], out_dir / f"{name}.safetensors", role=role, name=name, extra=extra)
        shipped[name] = {"role": role, "source": label(ckpts[index]), "step": info.step,
                         "sha256": info.sha256, **extra}

    ship(len(ckpts) - 1, "teacher", "teacher")
    ship(weaker, "weaker", "weaker")
    for k, index in enumerate(students, start=1):
        ship(index, f"student-{k}", "student")
    report = {"config": cfg.to_json(), "run_dir": ", ".join(map(str, runs)),
              "ladder": [{"checkpoint": label(p),
                          "agreement_with_teacher": round(a, 4)}
                         for p, a in zip(ckpts, agreements, strict=True)],
              "weaker_matches": matches, "shipped": shipped}
    (out_dir / "ladder.json").write_text(json.dumps(report, indent=2) + "\n")
    return report
