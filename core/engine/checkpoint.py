"""Checkpoints: safetensors weights plus a JSON sidecar; loading never unpickles.

``NAME.safetensors`` holds the tensors (and a copy of the metadata in its header);
``NAME.json`` beside it holds the metadata and the sha256 of the weights file, so an
altered or truncated file is caught before a single tensor is used.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conceptcoach.engine.config import NetworkConfig

if TYPE_CHECKING:
    from conceptcoach.engine.network import PolicyValueNet

# torch and safetensors.torch are imported inside the functions that need them:
# reading metadata and hashing (the registry, the GUI's first run) must not pay for torch.

FORMAT = "conceptcoach-checkpoint/1"


class CheckpointError(Exception):
    """A checkpoint that cannot be used; the message names the file and what is wrong."""


@dataclass
class CheckpointInfo:
    """What a checkpoint is: its architecture and where it came from."""

    name: str
    config: NetworkConfig
    step: int = 0
    run_id: str = ""
    parent: str | None = None
    role: str = "other"
    extra: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "name": self.name,
            "architecture": self.config.to_dict(),
            "step": self.step,
            "run_id": self.run_id,
            "parent": self.parent,
            "role": self.role,
            "extra": self.extra,
            "sha256": self.sha256,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckpointInfo:
        return cls(
            name=str(data["name"]),
            config=NetworkConfig.from_dict(data["architecture"]),
            step=int(data.get("step", 0)),
            run_id=str(data.get("run_id", "")),
            parent=data.get("parent"),
            role=str(data.get("role", "other")),
            extra=dict(data.get("extra", {})),
            sha256=str(data.get("sha256", "")),
        )


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sidecar_path(weights: Path) -> Path:
    return weights.with_suffix(".json")


def save_checkpoint(net: PolicyValueNet, path: str | os.PathLike[str], info: CheckpointInfo) -> CheckpointInfo:
    """Write ``path`` (.safetensors) and its .json sidecar; returns the info with sha256 set."""
    from safetensors.torch import save_file

    weights = Path(path)
    weights.parent.mkdir(parents=True, exist_ok=True)
    info.config = net.config
    tensors = {k: v.detach().contiguous().cpu() for k, v in net.state_dict().items()}
    header = {"conceptcoach": json.dumps({**info.to_json(), "sha256": ""})}
    tmp = weights.with_suffix(".safetensors.tmp")
    save_file(tensors, str(tmp), metadata=header)
    os.replace(tmp, weights)
    info.sha256 = sha256_file(weights)
    sidecar_path(weights).write_text(json.dumps(info.to_json(), indent=2) + "\n")
    return info


def read_info(path: str | os.PathLike[str]) -> CheckpointInfo:
    """The metadata of a checkpoint, from its sidecar. Raises CheckpointError."""
    weights = Path(path)
    side = sidecar_path(weights)
    if not weights.exists():
        raise CheckpointError(f"{weights}: no such network file")
    if not side.exists():
        raise CheckpointError(f"{weights}: its metadata file {side.name} is missing")
    try:
        data = json.loads(side.read_text())
        if data.get("format") != FORMAT:
            raise CheckpointError(f"{side}: not a Concept Coach checkpoint (format {data.get('format')!r})")
        return CheckpointInfo.from_json(data)
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{side}: unreadable metadata ({exc})") from exc


def load_checkpoint(
    path: str | os.PathLike[str], expected_sha256: str | None = None
) -> tuple[PolicyValueNet, CheckpointInfo]:
    """Load a network; checks the sha256 against the sidecar (and ``expected_sha256``).

    Raises :class:`CheckpointError` naming the file for a missing, truncated, altered
    or incompatible checkpoint.
    """
    weights = Path(path)
    info = read_info(weights)
    actual = sha256_file(weights)
    for label, want in (("its metadata", info.sha256), ("the registry", expected_sha256)):
        if want and want != actual:
            raise CheckpointError(
                f"{weights}: sha256 {actual[:12]}... does not match {label} ({want[:12]}...); "
                "the file was altered or truncated"
            )
    from conceptcoach.engine.network import PolicyValueNet
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(weights), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{weights}: not a readable safetensors file ({exc})") from exc
    net = PolicyValueNet(info.config)
    try:
        net.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise CheckpointError(f"{weights}: weights do not fit architecture {info.config} ({first})") from exc
    net.eval()
    return net, info


def random_network(config: NetworkConfig | None = None, seed: int = 0) -> PolicyValueNet:
    """An untrained network with seeded weights (tests, and the start of training)."""
    import torch
    from conceptcoach.engine.network import PolicyValueNet

    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        return PolicyValueNet(config).eval()
    finally:
        torch.random.set_rng_state(gen_state)
