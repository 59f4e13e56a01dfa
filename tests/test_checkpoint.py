"""Checkpoints: safetensors + JSON sidecar, sha256 checked, clear errors naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conceptcoach.engine.checkpoint import (
    CheckpointError,
    CheckpointInfo,
    load_checkpoint,
    save_checkpoint,
)
from conceptcoach.engine.encoding import encode_batch
from conceptcoach.engine.network import Evaluator, NetworkConfig, PolicyValueNet


def _save(net: PolicyValueNet, path: Path) -> CheckpointInfo:
    return save_checkpoint(net, path, CheckpointInfo(name="t", config=net.config, step=12, run_id="r1", parent="p0", role="student"))


def test_round_trip_gives_identical_outputs(tiny_net: PolicyValueNet, tmp_path: Path) -> None:
    import chess

    path = tmp_path / "t.safetensors"
    info = _save(tiny_net, path)
    loaded, back = load_checkpoint(path)
    assert back.step == 12 and back.run_id == "r1" and back.parent == "p0" and back.role == "student"
    assert back.sha256 == info.sha256 and len(info.sha256) == 64
    assert back.config == tiny_net.config
    planes = encode_batch([chess.Board(), chess.Board("8/8/8/8/8/8/6k1/4K2R w K - 0 1")])
    a, b = Evaluator(tiny_net)(planes), Evaluator(loaded)(planes)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert json.loads((tmp_path / "t.json").read_text())["format"].startswith("conceptcoach-checkpoint")


def test_truncated_file_is_refused(tiny_net: PolicyValueNet, tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    _save(tiny_net, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"t\.safetensors.*altered or truncated"):
        load_checkpoint(path)


def test_altered_byte_is_refused(tiny_net: PolicyValueNet, tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    _save(tiny_net, path)
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256"):
        load_checkpoint(path)


def test_registry_hash_mismatch_is_refused(tiny_net: PolicyValueNet, tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    _save(tiny_net, path)
    with pytest.raises(CheckpointError, match="registry"):
        load_checkpoint(path, expected_sha256="0" * 64)


def test_missing_sidecar_and_missing_file(tiny_net: PolicyValueNet, tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    _save(tiny_net, path)
    (tmp_path / "t.json").unlink()
    with pytest.raises(CheckpointError, match=r"metadata file t\.json is missing"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="no such network file"):
        load_checkpoint(tmp_path / "absent.safetensors")


def test_weights_that_do_not_fit_the_architecture(tiny_net: PolicyValueNet, tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    _save(tiny_net, path)
    side = tmp_path / "t.json"
    meta = json.loads(side.read_text())
    meta["architecture"]["channels"] = 32
    side.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="do not fit architecture"):
        load_checkpoint(path)


def test_a_pickle_is_never_loaded(tmp_path: Path) -> None:
    path = tmp_path / "evil.safetensors"
    torch.save({"x": torch.zeros(1)}, path)  # a pickle under a safetensors name
    net = PolicyValueNet(NetworkConfig(blocks=1, channels=8))
    meta = CheckpointInfo(name="evil", config=net.config).to_json()
    from conceptcoach.engine.checkpoint import sha256_file

    meta["sha256"] = sha256_file(path)
    (tmp_path / "evil.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(path)


def test_activations_of_named_layers(tiny_net: PolicyValueNet) -> None:
    import chess

    planes = encode_batch([chess.Board()] * 3)
    acts = Evaluator(tiny_net).activations(planes, ["stem", "block1"])
    assert acts["stem"].shape == (3, 16 * 64) and acts["block1"].shape == (3, 16 * 64)
    with pytest.raises(KeyError, match="unknown layer"):
        Evaluator(tiny_net).activations(planes, ["block9"])
