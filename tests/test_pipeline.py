"""The discovery pipeline end to end on small seeded networks and real human games:
funnel, stored parameters, cancel and resume, concepts in the library."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conceptcoach.concepts.run import DiscoveryConfig, run_discovery
from conceptcoach.concepts.teachability import TeachParams
from conceptcoach.engine.checkpoint import CheckpointInfo, random_network, save_checkpoint
from conceptcoach.engine.network import NetworkConfig
from conceptcoach.engine.networks import register_file
from conceptcoach.progress import Cancelled
from conceptcoach.store.concepts import list_concepts, list_prototypes


def _networks(store, tmp_path: Path, prefix: str = "") -> None:  # type: ignore[no-untyped-def]
    cfg = NetworkConfig(blocks=2, channels=16, value_hidden=32)
    for name, role, seed, step in ((f"{prefix}teacher", "teacher", 1, 100), (f"{prefix}weaker", "weaker", 2, 50),
                                   (f"{prefix}student-a", "student", 3, 10), (f"{prefix}student-b", "student", 4, 20)):
        path = tmp_path / f"{name}.safetensors"
        save_checkpoint(random_network(cfg, seed=seed), path, CheckpointInfo(name=name, config=cfg, step=step, role=role))
        register_file(store, path)


def _config(shared_data: Path) -> DiscoveryConfig:
    return DiscoveryConfig(
        selfplay_games=4, selfplay_sims=24, selfplay_max_plies=60, max_candidate_positions=16,
        max_pool_positions=48, layers=("block0", "block1"), novelty_positions=48, max_teach=6,
        teach=TeachParams(min_prototypes=3, epochs=2), workers=1, seed=5,
        static_themes=("queen",), static_positions=120, static_pairs=60, verify_depth=6,
    )


@pytest.mark.slow
def test_discovery_runs_resumes_and_fills_the_library(store, store_path: Path, tmp_path: Path,
                                                      shared_data: Path) -> None:
    from conceptcoach.io.pgn_import import import_pgn

    _networks(store, tmp_path)
    import_pgn(store, shared_data / "human" / "lichess_fgf_sample_3000.pgn.gz", max_games=40)
    config = _config(shared_data)

    seen: list[str] = []

    def stop_in_discovery() -> bool:
        return any(m.startswith("discovery:") for m in seen)

    with pytest.raises(Cancelled):
        run_discovery(store, str(store_path), config, progress=lambda d, t, m: seen.append(m),
                      should_stop=stop_in_discovery)
    partial = {r["stage"] for r in store.query("SELECT stage FROM candidates")}
    assert "candidate" in partial or "solved" in partial

    run_id, funnel = run_discovery(store, str(store_path), config)
    assert funnel.positions == 16
    assert funnel.candidates > 0 and funnel.programs == funnel.candidates * 2 * 2 * 2
    assert funnel.solved + funnel.infeasible + funnel.doubtful + funnel.empty == funnel.programs
    assert funnel.novel <= funnel.teachable <= funnel.solved
    run = next(iter(store.query("SELECT * FROM runs WHERE id = ?", [run_id])))
    params = json.loads(run["params"])
    assert params["seed"] == 5 and params["layers"] == ["block0", "block1"] and params["teacher_sha256"]
    summary = json.loads(run["summary"])
    assert summary["funnel"]["programs"] == funnel.programs
    assert set(summary["random_vector_baseline"]) == {"block0", "block1"}

    # Every program's outcome is recorded, and no failed one carries a vector.
    for row in store.query("SELECT data FROM candidates WHERE stage IN ('solved', 'unsolved')"):
        for prog in json.loads(row["data"])["programs"].values():
            assert prog["status"] in ("optimal", "slack", "infeasible", "doubtful", "empty")
            assert ("vector" in prog) == (prog["status"] in ("optimal", "slack"))

    concepts = list_concepts(store, include_hidden=True)
    static = [c for c in concepts if c.kind == "static"]
    assert [c.status for c in static] == ["static"]
    assert static[0].figures["test_accuracy"] > 0.5 and len(list_prototypes(store, static[0].id)) >= 3
    concepts = [c for c in concepts if c.kind == "dynamic"]
    assert funnel.written > 0 and len(concepts) == funnel.written
    for c in concepts:
        assert c.status in ("novel", "failed-teachability", "failed-novelty")
        assert c.params["seed"] == 5 and c.figures["status"] in ("optimal", "slack")
        protos = list_prototypes(store, c.id)
        assert len(protos) >= 3 and all(p.best_move for p in protos)
        if c.status == "novel":
            assert c.figures["novelty"]["novel"] and c.figures["teachability"]["teachable"]

    # Every written prototype carries Stockfish's verdict (or says it is unverified).
    assert funnel.items > 0 and funnel.verified + funnel.unverified <= funnel.items
    assert funnel.unverified == 0 or funnel.verified == 0
    assert all(p.verification is not None for c in concepts for p in list_prototypes(store, c.id))

    # Resuming a finished run changes nothing.
    rows_before = store.execute("SELECT COUNT(*) FROM candidates").fetchone()[0]
    again_id, again = run_discovery(store, str(store_path), config)
    assert again_id == run_id and again == funnel
    assert store.execute("SELECT COUNT(*) FROM candidates").fetchone()[0] == rows_before
    assert len(list_concepts(store, include_hidden=True)) == len(concepts) + 1


@pytest.mark.slow
def test_the_discovery_screen_and_the_command_line_find_the_same_concepts(tmp_path: Path,
                                                                         shared_data: Path) -> None:
    """One seed governs every random choice: the GUI path (the Discovery screen's
    overrides through the job it runs) and `conceptcoach discover` give the same run."""
    from conceptcoach.bootstrap import open_user_store
    from conceptcoach.cli.main import main
    from conceptcoach.desktop.jobs import discover
    from conceptcoach.io.pgn_import import import_pgn
    from conceptcoach.store.db import open_store

    pgn = shared_data / "human" / "lichess_fgf_sample_3000.pgn.gz"
    stores = {}
    for side in ("gui", "cli"):
        folder = tmp_path / side
        db, path = open_user_store(str(folder))  # as the app and the CLI open it: bundled networks too
        _networks(db, folder, prefix="tiny-")
        import_pgn(db, pgn, max_games=30)
        db.conn.close()
        stores[side] = path
    nets = {"teacher": "tiny-teacher", "weaker": "tiny-weaker", "students": ("tiny-student-a", "tiny-student-b")}
    # The keys the Discovery screen sends (DiscoveryScreen.overrides), then the small scale.
    screen = {"selfplay_games": 4, "selfplay_sims": 24, "max_candidate_positions": 16, "workers": 1, "seed": 5}
    small = {"selfplay_max_plies": 60, "max_pool_positions": 48, "layers": ("block0", "block1"),
             "novelty_positions": 48, "max_teach": 6, "teach": TeachParams(min_prototypes=3, epochs=2),
             "verify_depth": 6}
    discover(str(stores["gui"]), [], {**nets, **screen, **small}, lambda *a: None, lambda: False)
    code = main(["--data-dir", str(stores["cli"].parent), "discover", "--teacher", "tiny-teacher",
                 "--weaker", "tiny-weaker", "--student", "tiny-student-a", "--student", "tiny-student-b",
                 "--games", "4", "--sims", "24", "--max-candidates", "16", "--workers", "1", "--seed", "5",
                 "--pool", "48", "--layers", "block0,block1", "--novelty-positions", "48", "--max-teach", "6",
                 "--epochs", "2", "--teach-min-prototypes", "3", "--max-plies", "60", "--verify-depth", "6"])
    assert code == 0
    found = {}
    for side in ("gui", "cli"):
        db = open_store(stores[side])
        runs = [r["id"] for r in db.query("SELECT id FROM runs WHERE kind = 'discovery'")]
        assert len(runs) == 1, runs
        found[side] = (runs, sorted((c.uid, c.status, c.prototype_count, round(float(c.sparsity), 6))
                                    for c in list_concepts(db, include_hidden=True) if c.run_id == runs[0]))
        db.conn.close()
    assert found["gui"] == found["cli"] and found["gui"][1]
