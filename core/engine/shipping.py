"""Networks sent to workers by content: a worker on another machine has no path of
the head's disk, so the files travel as bytes and are checked on arrival.

The head packs a registered :class:`Network` (:func:`pack`); a worker unpacks it
(:func:`unpack`): the files are written once per machine into a folder named by the
sha256, checked against the registered sha256, and the worker gets the same value
with a path of its own disk, which :func:`~conceptcoach.engine.networks.load_evaluator`
and :func:`~conceptcoach.engine.networks.load_net` read as usual. On a local pool the
workers share the head's disk, so the payload carries the value alone.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from conceptcoach.engine.checkpoint import CheckpointError, sidecar_path
from conceptcoach.store.networks import Network, NetworkFamily


@dataclass(frozen=True)
class NetworkPayload:
    """A network as it travels to a worker: the value, and its files (name, bytes)
    when the worker may be another machine (weights first)."""

    network: Network
    files: tuple[tuple[str, bytes], ...] = ()

    @property
    def by_content(self) -> bool:
        return bool(self.files)


def pack(network: Network, by_content: bool) -> NetworkPayload:
    """The payload of ``network``: its files' bytes when ``by_content`` (the weights, and
    the metadata sidecar of our checkpoints). Raises CheckpointError naming a missing file."""
    if not by_content:
        return NetworkPayload(network)
    weights = Path(network.path)
    paths = [weights]
    if network.family is NetworkFamily.OURS:
        paths.append(sidecar_path(weights))
    files = []
    for path in paths:
        try:
            files.append((path.name, path.read_bytes()))
        except OSError as exc:
            raise CheckpointError(f"{path}: cannot read the file of network {network.name!r} ({exc})") from exc
    return NetworkPayload(network, tuple(files))


def cache_dir() -> Path:
    """Where workers keep the networks they received (one folder per sha256)."""
    return Path(os.environ.get("CONCEPTCOACH_NETWORK_CACHE") or Path(tempfile.gettempdir()) / "conceptcoach-networks")


def unpack(payload: NetworkPayload, cache: Path | None = None) -> Network:
    """The network with a path readable here. Files sent by content are checked against
    the registered sha256 and written once per machine (atomically: workers of one
    machine share the folder, named by the sha256); later tasks find them there. Raises
    CheckpointError when the bytes that arrived are not the registered network's."""
    network = payload.network
    if not payload.files:
        return network
    (weights_name, weights), *others = payload.files
    folder = (cache or cache_dir()) / (network.sha256 or hashlib.sha256(weights).hexdigest())
    target = folder / weights_name
    # Already here from an earlier task: written whole (atomically) and checked then; the
    # loaders check its sha256 against the registry again on every load.
    if network.sha256 and target.exists() and all((folder / name).exists() for name, _ in others):
        return replace(network, path=str(target))
    actual = hashlib.sha256(weights).hexdigest()
    if network.sha256 and actual != network.sha256:
        raise CheckpointError(f"{weights_name}: the network {network.name!r} arrived with sha256 {actual[:12]}..., "
                              f"not the registered {network.sha256[:12]}...; it was altered in transit")
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in payload.files:
        _write(folder / name, data)
    return replace(network, path=str(target))


def _write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
