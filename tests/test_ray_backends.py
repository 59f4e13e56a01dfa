"""The back ends of independent work (conceptcoach.parallel): the local process pool and
Ray, with the same results, retries of a killed worker, stop and resume across them,
and networks sent to workers by content.

The Ray tests start a small Ray cluster of their own on this machine (a head node and a
worker node, one CPU each) and stop it at the end; they are skipped with a message where
Ray is not installed (``pip install 'conceptcoach[ray]'``) or cannot start. Set
CONCEPTCOACH_TEST_RAY_ADDRESS to use a running cluster instead.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conceptcoach.engine.checkpoint import (
    CheckpointError,
    CheckpointInfo,
    random_network,
    save_checkpoint,
)
from conceptcoach.engine.network import NetworkConfig
from conceptcoach.engine.networks import load_evaluator, register_file
from conceptcoach.engine.shipping import NetworkPayload, pack, unpack
from conceptcoach.parallel import LocalBackend, WorkerLost, make_backend, ordered
from conceptcoach.progress import Cancelled

# ----- tasks (module level: workers import them, or Ray pickles them by value) ---------------


def square(offset: int, k: int) -> int:
    return k * k + offset


def die_once(marker_dir: str, k: int) -> int:
    """Kills its own worker process on its first attempt at task 1 (a file marks it)."""
    marker = Path(marker_dir) / f"task{k}.started"
    if k == 1 and not marker.exists():
        marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return k * 10


def die_always(_: None, k: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return k


def fail_on_three(_: None, k: int) -> int:
    if k == 3:
        raise KeyError(f"no position {k}")
    return k


def sleep_then(seconds: float, k: int) -> int:
    time.sleep(seconds)
    return k


def evaluate_start(payload: NetworkPayload, _: int) -> tuple[str, float]:
    """Where the worker found the network, and its value of the start position."""
    import chess

    network = unpack(payload)
    evaluator = load_evaluator(network)
    _, values = evaluator(evaluator.encode_batch([chess.Board()]))
    return network.path, float(values[0])


# ----- the local pool (no Ray needed) -----------------------------------------------------------


@pytest.fixture(scope="module")
def local_pool() -> Iterator[LocalBackend]:
    """Two worker processes shared by the local-pool tests (starting them is most of the cost)."""
    with LocalBackend(2) as pool:
        yield pool


def test_local_pool_returns_every_result_and_ordered_restores_task_order(local_pool: LocalBackend) -> None:
    got = list(local_pool.map(square, list(range(7)), 100))
    assert sorted(got) == [(k, k * k + 100) for k in range(7)]
    # A second map on the same workers sends the new shared value.
    assert dict(local_pool.map(square, [2, 3], 1)) == {0: 5, 1: 10}
    assert list(ordered(iter([(2, "c"), (0, "a"), (1, "b")]))) == [(0, "a"), (1, "b"), (2, "c")]


def test_local_pool_retries_a_task_whose_worker_was_killed(local_pool: LocalBackend, tmp_path: Path) -> None:
    got = dict(local_pool.map(die_once, [0, 1, 2, 3], str(tmp_path)))
    assert got == {0: 0, 1: 10, 2: 20, 3: 30}
    assert (tmp_path / "task1.started").exists()  # it was killed once, then retried


def test_local_pool_gives_up_on_a_task_that_always_kills_its_worker() -> None:
    with LocalBackend(1, max_retries=1) as pool, pytest.raises(WorkerLost, match="died 2 times"):
        list(pool.map(die_always, [0], None))


def test_local_pool_raises_the_task_s_own_error_and_stops_when_asked(local_pool: LocalBackend) -> None:
    with pytest.raises(KeyError, match="no position 3"):
        list(local_pool.map(fail_on_three, list(range(6)), None))
    seen: list[int] = []
    start = time.monotonic()
    for _, k in local_pool.map(sleep_then, list(range(6)), 0.5, should_stop=lambda: len(seen) >= 1):
        seen.append(k)
    assert len(seen) == 1 and time.monotonic() - start < 20  # the rest were ended, not waited for
    assert sorted(local_pool.map(square, [1, 2], 0)) == [(0, 1), (1, 4)]  # and the pool still works


def test_the_command_line_chooses_the_back_end() -> None:
    from conceptcoach.cli.discovery import _config
    from conceptcoach.cli.main import build_parser

    args = build_parser().parse_args(["discover", "--backend", "ray", "--address", "10.0.0.1:6379"])
    config = _config(args, (), None)
    assert (config.backend, config.ray_address) == ("ray", "10.0.0.1:6379")
    assert _config(build_parser().parse_args(["discover"]), (), None).backend == "local"
    # How a run is executed is not part of what it is: the same id on either back end.
    from conceptcoach.concepts.run_config import run_id_for

    assert run_id_for(config, "ab" * 32) == run_id_for(replace(config, backend="local", ray_address=None,
                                                                 workers=7), "ab" * 32)


def test_unknown_backend_and_an_address_without_ray_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown back end 'spark'"):
        make_backend("spark")
    with pytest.raises(ValueError, match="--backend ray"):
        make_backend("local", 2, "127.0.0.1:6379")


def test_a_network_travels_by_content_and_is_checked_on_arrival(tmp_path: Path, store) -> None:  # type: ignore[no-untyped-def]
    cfg = NetworkConfig(blocks=1, channels=8, value_hidden=16)
    path = tmp_path / "head" / "net.safetensors"
    path.parent.mkdir()
    save_checkpoint(random_network(cfg, seed=3), path, CheckpointInfo(name="net", config=cfg))
    network = register_file(store, path)
    payload = pack(network, by_content=True)
    assert [name for name, _ in payload.files] == ["net.safetensors", "net.json"]
    # The worker's machine has no such path: the files arrive in its cache.
    path.rename(tmp_path / "elsewhere.safetensors")
    arrived = unpack(payload, cache=tmp_path / "worker")
    assert arrived.path != network.path and Path(arrived.path).exists()
    assert load_evaluator(arrived) is not None
    altered = replace(payload, files=((payload.files[0][0], payload.files[0][1][:-1] + b"\0"), payload.files[1]))
    with pytest.raises(CheckpointError, match="altered in transit"):
        unpack(altered, cache=tmp_path / "worker2")


# ----- a Ray cluster of the tests' own --------------------------------------------------------


def _ray_cli() -> list[str]:
    beside = Path(sys.executable).parent / "ray"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "ray.scripts.scripts"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    """The address of a Ray cluster on loopback: a head node and one worker node."""
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'conceptcoach[ray]'): "
                                      "Ray back-end tests skipped")
    given = os.environ.get("CONCEPTCOACH_TEST_RAY_ADDRESS")
    if given:
        yield given
        return
    # A throwaway cluster on loopback needs no token (Ray 2.5x turns token auth on by
    # default and a joining node then fails to authenticate).
    saved = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    port = _free_port()
    address = f"127.0.0.1:{port}"
    common = ["--node-ip-address=127.0.0.1", "--num-cpus=1", "--object-store-memory=200000000",
              "--disable-usage-stats"]
    steps = [[*_ray_cli(), "start", "--head", f"--port={port}", "--include-dashboard=false", *common],
             [*_ray_cli(), "start", f"--address={address}", *common]]
    try:
        for cmd in steps:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
            if done.returncode != 0:
                pytest.skip(f"Ray could not start here ({' '.join(cmd[1:3])}): "
                            f"{(done.stderr or done.stdout).strip().splitlines()[-1:]}")
        yield address
    finally:
        subprocess.run([*_ray_cli(), "stop", "--force"], capture_output=True, timeout=120)
        if saved is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = saved


@pytest.fixture(scope="module")
def _tasks_by_value() -> None:
    """Ray workers cannot import this test module: send its tasks by value."""
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])


def test_ray_runs_tasks_retries_a_killed_worker_and_stops(ray_address: str, _tasks_by_value: None,
                                                          tmp_path: Path) -> None:
    with make_backend("ray", address=ray_address) as ray_backend:
        assert ray_backend.size == 2
        assert sorted(ray_backend.map(square, list(range(5)), 7)) == [(k, k * k + 7) for k in range(5)]
        got = dict(ray_backend.map(die_once, [0, 1, 2, 3], str(tmp_path)))
        assert got == {0: 0, 1: 10, 2: 20, 3: 30} and (tmp_path / "task1.started").exists()
        with pytest.raises(KeyError, match="no position 3"):
            list(ray_backend.map(fail_on_three, list(range(6)), None))
        seen: list[int] = []
        for _, k in ray_backend.map(sleep_then, list(range(8)), 0.3, should_stop=lambda: len(seen) >= 1):
            seen.append(k)
        assert len(seen) == 1


def test_ray_workers_receive_networks_by_content(ray_address: str, _tasks_by_value: None, tmp_path: Path,
                                                 store) -> None:  # type: ignore[no-untyped-def]
    cfg = NetworkConfig(blocks=1, channels=8, value_hidden=16)
    path = tmp_path / "only-on-the-head" / "net.safetensors"
    path.parent.mkdir()
    save_checkpoint(random_network(cfg, seed=3), path, CheckpointInfo(name="net", config=cfg))
    network = register_file(store, path)
    expected = float(load_evaluator(network)(_start_planes())[1][0])
    with make_backend("ray", address=ray_address) as ray_backend:
        payload = pack(network, ray_backend.ships_by_content)
        path.rename(tmp_path / "moved.safetensors")  # no worker can read the head's path now
        results = dict(ray_backend.map(evaluate_start, [0, 1, 2, 3], payload))
    assert all(where != str(path) and network.sha256 in where for where, _ in results.values())
    assert all(abs(value - expected) < 1e-6 for _, value in results.values())


def _start_planes() -> Any:
    import chess
    from conceptcoach.engine.encoding import encode_batch

    return encode_batch([chess.Board()])


# ----- one discovery run, two back ends ------------------------------------------------------


def _networks(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cfg = NetworkConfig(blocks=2, channels=16, value_hidden=32)
    for name, role, seed, step in (("teacher", "teacher", 1, 100), ("weaker", "weaker", 2, 50),
                                   ("student-a", "student", 3, 10), ("student-b", "student", 4, 20)):
        path = tmp_path / f"{name}.safetensors"
        save_checkpoint(random_network(cfg, seed=seed), path, CheckpointInfo(name=name, config=cfg, step=step, role=role))
        register_file(store, path)


def _store(folder: Path, shared_data: Path):  # type: ignore[no-untyped-def]
    from conceptcoach.io.pgn_import import import_pgn
    from conceptcoach.store.db import open_store

    folder.mkdir()
    db = open_store(folder / "store.sqlite")
    _networks(db, folder)
    import_pgn(db, shared_data / "human" / "lichess_fgf_sample_3000.pgn.gz", max_games=20)
    return db, str(folder / "store.sqlite")


def _untimed(value: Any) -> Any:
    """``value`` without the solver's wall-clock ``seconds`` (the one figure allowed to differ)."""
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _found(db) -> tuple[list[Any], list[Any]]:  # type: ignore[no-untyped-def]
    """What a run wrote: its concepts, and every candidate row with its data, in row order."""
    import json

    from conceptcoach.store.concepts import list_concepts, list_prototypes

    concepts = sorted((c.uid, c.status, round(float(c.sparsity), 9), [p.fen for p in list_prototypes(db, c.id)])
                      for c in list_concepts(db, include_hidden=True))
    rows = [(r["position_id"], r["fen"], r["stage"], _untimed(json.loads(r["data"])))
            for r in db.query("SELECT position_id, fen, stage, data FROM candidates ORDER BY id")]
    return concepts, rows


@pytest.mark.slow
def test_ray_and_the_local_pool_write_the_same_concepts_and_resume_each_other(
        ray_address: str, tmp_path: Path, shared_data: Path) -> None:
    from conceptcoach.concepts.run import DiscoveryConfig, run_discovery
    from conceptcoach.concepts.teachability import TeachParams

    config = DiscoveryConfig(
        selfplay_games=4, selfplay_sims=24, selfplay_max_plies=60, max_candidate_positions=16,
        # max_teach 8: the pool holds two games, and a concept whose prototypes all come
        # from one of them cannot be split for teaching; eight concepts make sure some can.
        max_pool_positions=48, layers=("block0", "block1"), novelty_positions=48, max_teach=8,
        # Untrained networks teach little: every concept a student is trained on counts as
        # teachable, so that novelty runs too.
        teach=TeachParams(min_prototypes=3, epochs=1, gain_threshold=-1.0, max_student_agreement=1.01),
        workers=2, seed=5, verify_depth=0)
    on_ray = replace(config, backend="ray", ray_address=ray_address)

    local_db, local_path = _store(tmp_path / "local", shared_data)
    local_id, local_funnel = run_discovery(local_db, local_path, config)
    reference = _found(local_db)
    assert local_funnel.teachable > 0 and local_funnel.written > 0 and reference[0]

    def stop_after(prefix: str) -> tuple[list[str], Any]:
        """A stop as soon as a progress message starts with ``prefix`` (a first result stored)."""
        seen: list[str] = []
        return seen, lambda: any(m.startswith(prefix) for m in seen)

    # One run moved between back ends: stopped on the local pool in self-play, resumed
    # on Ray (the rest of self-play, the searches, the programs, the students, the first
    # novelty basis) and stopped there, then finished on the local pool.
    db, path = _store(tmp_path / "moved", shared_data)
    seen, should_stop = stop_after("self-play: game")
    with pytest.raises(Cancelled):
        run_discovery(db, path, config, progress=lambda d, t, m: seen.append(m), should_stop=should_stop)
    assert 1 <= db.execute("SELECT COUNT(*) FROM games WHERE source = 'selfplay'").fetchone()[0] < 4
    seen, should_stop = stop_after("novelty: basis")
    with pytest.raises(Cancelled):
        run_discovery(db, path, on_ray, progress=lambda d, t, m: seen.append(m), should_stop=should_stop)
    assert not list(db.query("SELECT 1 FROM concepts")) and list(db.query("SELECT 1 FROM bases"))
    run_id, funnel = run_discovery(db, path, config)
    assert (run_id, funnel) == (local_id, local_funnel)
    assert _found(db) == reference
