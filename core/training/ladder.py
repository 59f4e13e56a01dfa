"""From a fit's checkpoint ladder to the networks that ship.

``publish`` copies a ladder checkpoint into assets/models under its shipped name and
role, keeping where it came from (run id, step, ladder name) in its metadata.
``agreement`` measures how often a checkpoint's raw-policy move equals the teacher's
on fixed positions, which is how the students are chosen (low to high agreement).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from conceptcoach.engine.checkpoint import CheckpointInfo, load_checkpoint, save_checkpoint
from conceptcoach.engine.network import PolicyValueNet, masked_log_softmax
from conceptcoach.training.dataset import LabelledPositions, make_batch


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
