"""Supervised training of the policy-value network on Stockfish-labelled machine positions.

Loss = cross-entropy of the policy against the multi-PV softmax target over legal moves
(illegal moves masked with a large negative number, METHOD.md pitfalls) + ``value_weight``
x MSE of the value against the engine's expected score. Batches are drawn from seeded
permutations; a fixed validation split (by FEN hash) measures policy loss, value MSE and
top-1 agreement with the label's best move. Every ``checkpoint_every`` steps a checkpoint
joins the ladder (the students and the weaker network are chosen from it later); each
records its step, run id, parent, validation figures and every fit parameter.

A fit resumes across sessions: beside each checkpoint it writes the optimizer's state
(safetensors, never pickle) and ``fit-state.json`` (step, epoch, position in the
epoch's permutation, the generator state that drew it, the shards it trains on), so
a fit interrupted and resumed reaches the same weights as one that ran through.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from conceptcoach.engine.checkpoint import (
    CheckpointInfo,
    load_checkpoint,
    random_network,
    save_checkpoint,
)
from conceptcoach.engine.network import NetworkConfig, PolicyValueNet, masked_log_softmax
from conceptcoach.progress import Cancelled, ProgressFn, StopFn, never_stop, no_progress
from conceptcoach.training.dataset import LabelledPositions, make_batch


@dataclass(frozen=True)
class FitConfig:
    """Every parameter of a fit; stored in each checkpoint's metadata."""

    run_id: str = "fit"
    seed: int = 0
    blocks: int = 6
    channels: int = 64
    batch_size: int = 256
    steps: int = 1000
    lr: float = 2e-3
    warmup_steps: int = 60
    final_lr_fraction: float = 0.05
    weight_decay: float = 1e-4
    value_weight: float = 1.0
    policy_temperature_cp: float = 30.0
    val_permille: int = 20
    max_val_positions: int = 2000
    eval_every: int = 50
    checkpoint_every: int = 50
    threads: int = 1
    #: "bf16": the forward pass runs under CPU autocast in bfloat16 (weights, optimizer and
    #: losses stay float32); about 1.9x the float32 throughput on an AVX512-BF16 CPU for
    #: 6x64, which decides how much a 2-core machine can train. "fp32" for exact float32.
    precision: str = "bf16"
    init_from: str | None = None
    #: If > 0: after ``calibration_steps`` the step count is set so the fit lasts about this
    #: long, with ``ladder_size`` evenly spaced checkpoints (the chosen steps are recorded;
    #: rerunning with that --steps reproduces the fit).
    minutes: float = 0.0
    calibration_steps: int = 30
    ladder_size: int = 20

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def network_config(self) -> NetworkConfig:
        return NetworkConfig(blocks=self.blocks, channels=self.channels)


STATE_FILE = "fit-state.json"
#: Fit parameters that may differ when a fit is resumed (they do not change the weights,
#: or, for ``steps``, change them on purpose: the schedule is stretched from there on).
RESUMABLE_CHANGES = frozenset({"threads", "steps", "eval_every", "checkpoint_every"})


class FitStateError(Exception):
    """A fit cannot resume from what is in its folder; the message names the file."""


@dataclass
class FitState:
    """Where a fit stands, enough to continue it exactly."""

    step: int
    epoch: int
    cursor: int
    #: The numpy generator's state just before it drew this epoch's permutation.
    epoch_rng: dict[str, Any]
    parent: str | None
    checkpoint: str
    optimizer: str
    param_groups: list[dict[str, Any]]
    config: dict[str, Any]
    shards: list[str]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def read_state(run_dir: str | os.PathLike[str]) -> FitState | None:
    """The state of the fit in ``run_dir``, or None if it has never written one."""
    path = Path(run_dir) / STATE_FILE
    if not path.exists():
        return None
    try:
        return FitState(**json.loads(path.read_text()))
    except (ValueError, TypeError) as exc:
        raise FitStateError(f"{path}: not a fit state written by this version ({exc})") from exc


def _save_optimizer(opt: torch.optim.Optimizer, path: Path) -> list[dict[str, Any]]:
    from safetensors.torch import save_file

    sd = opt.state_dict()
    tensors = {f"{idx}.{name}": value.detach().reshape(-1).clone().contiguous()
               for idx, st in sd["state"].items() for name, value in st.items()}
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp))
    os.replace(tmp, path)
    return [dict(g) for g in sd["param_groups"]]


def _load_optimizer(opt: torch.optim.Optimizer, path: Path, groups: list[dict[str, Any]]) -> None:
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise FitStateError(f"{path}: the optimizer state cannot be read ({exc})") from exc
    params = [q for grp in opt.param_groups for q in grp["params"]]
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        idx, name = key.split(".", 1)
        shape = () if name == "step" else params[int(idx)].shape
        state.setdefault(int(idx), {})[name] = value.reshape(shape)
    opt.load_state_dict({"state": state, "param_groups": groups})


@dataclass
class FitResult:
    run_dir: Path
    checkpoints: list[Path] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)


def learning_rate(cfg: FitConfig, step: int) -> float:
    """Linear warm-up, then cosine decay to ``final_lr_fraction`` of the peak."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    t = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    low = cfg.lr * cfg.final_lr_fraction
    return low + 0.5 * (cfg.lr - low) * (1.0 + math.cos(math.pi * min(1.0, t)))


PRECISIONS = ("bf16", "fp32")


def losses(
    net: PolicyValueNet, batch: Any, value_weight: float, precision: str = "fp32"
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(total loss, policy cross-entropy, value MSE, top-1 hits) of one batch."""
    planes = batch.planes.contiguous(memory_format=torch.channels_last)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        logits, value, _ = net(planes)
    logits, value = logits.float(), value.float()
    logp = masked_log_softmax(logits, batch.legal)
    policy_ce = -(batch.policy * logp).sum(dim=1).mean()
    value_mse = F.mse_loss(value, batch.value)
    hits = (logp.argmax(dim=1) == batch.best).sum()
    return policy_ce + value_weight * value_mse, policy_ce, value_mse, hits


def evaluate(
    net: PolicyValueNet, data: LabelledPositions, rows: npt.NDArray[np.int64], cfg: FitConfig
) -> dict[str, float]:
    """Validation policy CE, value MSE and top-1 agreement with the label's best move."""
    net.eval()
    total = {"policy_ce": 0.0, "value_mse": 0.0, "top1": 0.0}
    with torch.inference_mode():
        for start in range(0, len(rows), 512):
            chunk = rows[start : start + 512]
            batch = make_batch(data, chunk, cfg.policy_temperature_cp)
            _, pce, vmse, hits = losses(net, batch, cfg.value_weight, cfg.precision)
            total["policy_ce"] += float(pce) * len(chunk)
            total["value_mse"] += float(vmse) * len(chunk)
            total["top1"] += float(hits)
    net.train()
    n = max(1, len(rows))
    return {k: round(v / n, 5) for k, v in total.items()}


PHASE_NAMES = ("opening", "middlegame", "endgame")


def heldout_figures(
    net: PolicyValueNet, data: LabelledPositions, val_rows: npt.NDArray[np.int64], cfg: FitConfig | None = None
) -> dict[str, dict[str, float]]:
    """:func:`evaluate` on the whole validation split and on each phase of it (a fit
    evaluates only its first ``max_val_positions``): the figures a model card compares."""
    cfg = cfg or FitConfig()
    out = {"all": evaluate(net, data, val_rows, cfg)}
    phases = data.phase[val_rows]
    for k, name in enumerate(PHASE_NAMES):
        out[name] = evaluate(net, data, val_rows[phases == k], cfg)
    out["positions"] = {"all": float(len(val_rows)),
                        **{name: float(np.sum(phases == k)) for k, name in enumerate(PHASE_NAMES)}}
    return out


def fit(
    cfg: FitConfig,
    data: LabelledPositions,
    train_rows: npt.NDArray[np.int64],
    val_rows: npt.NDArray[np.int64],
    run_dir: str | os.PathLike[str],
    data_summary: dict[str, Any] | None = None,
    progress: ProgressFn = no_progress,
    should_stop: StopFn = never_stop,
    resume: bool = False,
    stop_after: int = 0,
) -> FitResult:
    """Train, writing ``step-NNNNNN.safetensors`` ladder checkpoints and ``log.jsonl`` to
    ``run_dir``. Returns the checkpoint paths written by this call (the last one is the
    final network). With ``resume``, continue the fit whose state is in ``run_dir``.
    ``stop_after`` > 0 ends the call after that step (the schedule stays that of
    ``cfg.steps``, so a seeded fit replays another's first steps exactly, e.g. to
    checkpoint them more densely); a later ``resume`` goes on from there."""
    out = Path(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    state = read_state(out) if resume else None
    if state is not None:
        changed = {k for k, v in cfg.to_json().items() if state.config.get(k) != v} - RESUMABLE_CHANGES
        if changed:
            raise FitStateError(f"{out / STATE_FILE}: the fit there was made with other settings "
                                f"({sorted(changed)}); resume with the same settings or use a new folder")
        net, _ = load_checkpoint(out / state.checkpoint)
    elif cfg.init_from:
        net, _ = load_checkpoint(cfg.init_from)
    else:
        net = random_network(cfg.network_config(), seed=cfg.seed)
    if cfg.precision not in PRECISIONS:
        raise ValueError(f"precision {cfg.precision!r}: use one of {PRECISIONS}")
    # channels-last lets oneDNN pick its fastest convolutions; the weights are the same numbers.
    net = net.to(memory_format=torch.channels_last)
    net.train()
    decay = [p for n, p in net.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in net.named_parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    val = val_rows[: cfg.max_val_positions]
    result = FitResult(run_dir=out)
    log_path = out / "log.jsonl"
    shard_names = list((data_summary or {}).get("shard_names", []))
    if state is None:
        (out / "fit.json").write_text(json.dumps({"config": cfg.to_json(), "data": data_summary or {},
                                                  "train_positions": len(train_rows),
                                                  "val_positions": len(val)}, indent=2) + "\n")
        epoch_rng = rng.bit_generator.state
        order = rng.permutation(train_rows)
        cursor = 0
        epoch = 0
        parent: str | None = None
        step = 0
        if log_path.exists():
            log_path.unlink()  # a fresh fit in a used folder starts a fresh log
    else:
        if shard_names and state.shards and shard_names != state.shards:
            raise FitStateError(f"{out / STATE_FILE}: the fit was trained on other shards than those loaded; "
                                "resume with the shards it names")
        _load_optimizer(opt, out / state.optimizer, state.param_groups)
        rng.bit_generator.state = state.epoch_rng
        epoch_rng = state.epoch_rng
        order = rng.permutation(train_rows)
        cursor, epoch, parent, step = state.cursor, state.epoch, state.parent, state.step
        # Keep the log up to the resumed step; entries after it are redone.
        if log_path.exists():
            kept = [line for line in log_path.read_text().splitlines()
                    if line.strip() and json.loads(line)["step"] <= step]
            log_path.write_text("".join(k + "\n" for k in kept))
        for group in opt.param_groups:  # the schedule may have been stretched (--steps)
            group["lr"] = learning_rate(cfg, step - 1)
    run_loss = {"loss": 0.0, "policy_ce": 0.0, "value_mse": 0.0, "top1": 0.0, "n": 0}
    start = time.time()
    first_step = step
    while step < cfg.steps and not (stop_after and step >= stop_after):
        step += 1
        if should_stop():
            raise Cancelled(f"fit stopped at step {step}; checkpoints so far are in {out}")
        if cursor + cfg.batch_size > len(order):
            epoch_rng = rng.bit_generator.state
            order, cursor, epoch = rng.permutation(train_rows), 0, epoch + 1
        rows = order[cursor : cursor + cfg.batch_size]
        cursor += cfg.batch_size
        for group in opt.param_groups:
            group["lr"] = learning_rate(cfg, step - 1)
        batch = make_batch(data, rows, cfg.policy_temperature_cp)
        loss, pce, vmse, hits = losses(net, batch, cfg.value_weight, cfg.precision)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if cfg.minutes > 0 and step == cfg.calibration_steps:
            per_step = (time.time() - start) / max(1, step - first_step)
            steps = max(step + 1, int(cfg.minutes * 60 / per_step))
            every = max(1, steps // cfg.ladder_size)
            steps = every * cfg.ladder_size
            minutes = cfg.minutes
            cfg = replace(cfg, steps=steps, eval_every=every, checkpoint_every=every, minutes=0.0)
            record = json.loads((out / "fit.json").read_text())
            record["config"] = cfg.to_json()
            record["calibrated"] = {"seconds_per_step": round(per_step, 4), "minutes": minutes}
            (out / "fit.json").write_text(json.dumps(record, indent=2) + "\n")
        run_loss["loss"] += loss.item()
        run_loss["policy_ce"] += pce.item()
        run_loss["value_mse"] += vmse.item()
        run_loss["top1"] += float(hits) / len(rows)
        run_loss["n"] += 1
        if step % cfg.eval_every == 0 or step % cfg.checkpoint_every == 0 or step == cfg.steps:
            n = run_loss.pop("n")
            train = {k: round(v / n, 5) for k, v in run_loss.items()}
            run_loss = {"loss": 0.0, "policy_ce": 0.0, "value_mse": 0.0, "top1": 0.0, "n": 0}
            metrics = evaluate(net, data, val, cfg)
            elapsed = time.time() - start
            entry = {"step": step, "epoch": epoch, "samples": step * cfg.batch_size,
                     "lr": round(learning_rate(cfg, step - 1), 6), "train": train, "val": metrics,
                     "seconds": round(elapsed, 1),
                     "samples_per_s": round((step - first_step) * cfg.batch_size / max(elapsed, 1e-9), 1)}
            result.log.append(entry)
            with log_path.open("a") as handle:
                handle.write(json.dumps(entry) + "\n")
            progress(step, cfg.steps, f"fit: val top1 {metrics['top1']:.3f} policy {metrics['policy_ce']:.3f}")
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                name = f"{cfg.run_id}-step{step:06d}"
                path = out / f"step-{step:06d}.safetensors"
                net.eval()
                save_checkpoint(net, path, CheckpointInfo(
                    name=name, config=net.config, step=step, run_id=cfg.run_id, parent=parent, role="ladder",
                    extra={"fit": cfg.to_json(), "val": metrics, "train": train,
                           "samples": step * cfg.batch_size, "data": data_summary or {}},
                ))
                net.train()
                parent = name
                result.checkpoints.append(path)
                opt_path = out / f"optimizer-{step:06d}.safetensors"
                groups = _save_optimizer(opt, opt_path)
                new_state = FitState(step=step, epoch=epoch, cursor=cursor, epoch_rng=dict(epoch_rng), parent=parent,
                                     checkpoint=path.name, optimizer=opt_path.name, param_groups=groups,
                                     config=cfg.to_json(), shards=shard_names)
                tmp = out / (STATE_FILE + ".tmp")
                tmp.write_text(json.dumps(new_state.to_json(), indent=2) + "\n")
                os.replace(tmp, out / STATE_FILE)
                # Only the newest optimizer state is needed to resume; the older ones are 2x a network each.
                for old in out.glob("optimizer-*.safetensors"):
                    if old != opt_path:
                        old.unlink()
    net.eval()
    return result
