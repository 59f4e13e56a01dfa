"""Shared fixtures: real SQLite stores in tmp folders, small seeded networks, shared data."""

from __future__ import annotations

import os
from pathlib import Path

# Qt must be headless before any test imports it.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> None:
    # Tests share two cores with each other and with Stockfish: one intra-op thread
    # avoids oversubscription, which slows inference 50-100x.
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    torch.set_num_threads(1)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is missing (CI clones it beside the repo)")
    return SHARED_DATA


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.sqlite"


@pytest.fixture
def store(store_path: Path):  # type: ignore[no-untyped-def]
    from conceptcoach.store.db import open_store

    db = open_store(store_path)
    yield db
    db.conn.close()


@pytest.fixture
def tiny_net():  # type: ignore[no-untyped-def]
    """A small seeded untrained network (2 blocks x 16 channels): fast, real."""
    from conceptcoach.engine.checkpoint import random_network
    from conceptcoach.engine.network import NetworkConfig

    return random_network(NetworkConfig(blocks=2, channels=16, value_hidden=32), seed=7)


@pytest.fixture
def tiny_store(store, tiny_net, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The ``store`` with ``tiny_net`` saved as a checkpoint and registered as 'tiny'."""
    from conceptcoach.engine.checkpoint import CheckpointInfo, save_checkpoint
    from conceptcoach.store.networks import register_network

    weights = tmp_path / "tiny.safetensors"
    save_checkpoint(tiny_net, weights, CheckpointInfo(name="tiny", config=tiny_net.config))
    register_network(store, weights)
    return store


def screenshots_dir() -> Path:
    """Where GUI tests write their screenshots: docs/screenshots/ with
    CONCEPTCOACH_SCREENSHOTS=1 (`make screenshots`), else a temporary folder, so that
    `make test` leaves the working tree clean."""
    if os.environ.get("CONCEPTCOACH_SCREENSHOTS") == "1":
        return REPO / "docs" / "screenshots"
    import tempfile

    return Path(tempfile.gettempdir()) / "conceptcoach-screenshots"
