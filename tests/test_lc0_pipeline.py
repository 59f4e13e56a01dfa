"""The discovery pipeline end to end with an lc0 teacher: Maia-1900 teaches, Maia-1100
is the weaker network, students are small networks of our own family (teachability
trains them, and only ours can be trained here), on real human games.

Every stage reads the teacher through the one search interface: self-play and the
weaker network's searches run MCTS on lc0's planes with the game's history, programs
and prototypes use lc0's per-block activations (64 filters x 64 squares), the
random-vector baseline, novelty bases and known ideas encode through the teacher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conceptcoach.concepts.run import DiscoveryConfig, run_discovery
from conceptcoach.concepts.teachability import TeachParams
from conceptcoach.engine.checkpoint import CheckpointInfo, random_network, save_checkpoint
from conceptcoach.engine.network import NetworkConfig
from conceptcoach.engine.networks import register_file
from conceptcoach.store.concepts import list_concepts, list_prototypes

LC0_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lc0"


@pytest.mark.slow
def test_discovery_with_a_maia_teacher(store, store_path: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                       shared_data: Path) -> None:
    from conceptcoach.io.pgn_import import import_pgn

    if not (LC0_DATA / "maia-1900.pb.gz").is_file():
        pytest.skip(f"lc0 test networks missing: {LC0_DATA} (shared data is cloned beside the repo)")
    teacher = register_file(store, LC0_DATA / "maia-1900.pb.gz", role="teacher")
    register_file(store, LC0_DATA / "maia-1100.pb.gz", role="weaker")
    cfg = NetworkConfig(blocks=2, channels=16, value_hidden=32)
    for name, seed, step in (("student-a", 3, 10), ("student-b", 4, 20)):
        path = tmp_path / f"{name}.safetensors"
        save_checkpoint(random_network(cfg, seed=seed), path,
                        CheckpointInfo(name=name, config=cfg, step=step, role="student"))
        register_file(store, path)
    import_pgn(store, shared_data / "human" / "lichess_fgf_sample_3000.pgn.gz", max_games=40)
    config = DiscoveryConfig(
        teacher="maia-1900", weaker="maia-1100", selfplay_games=4, selfplay_sims=24, selfplay_max_plies=60,
        max_candidate_positions=16, max_pool_positions=48, layers=("block2", "block5"), novelty_positions=48,
        max_teach=6, teach=TeachParams(min_prototypes=3, epochs=2), workers=1, seed=5,
        static_themes=("queen",), static_positions=120, static_pairs=60,
    )

    run_id, funnel = run_discovery(store, str(store_path), config)

    assert funnel.positions == 16
    assert funnel.candidates > 0 and funnel.programs == funnel.candidates * 2 * 2 * 2
    assert funnel.solved + funnel.infeasible + funnel.doubtful + funnel.empty == funnel.programs
    assert funnel.solved > 0 and funnel.novel <= funnel.teachable <= funnel.solved
    run = next(iter(store.query("SELECT * FROM runs WHERE id = ?", [run_id])))
    params = json.loads(run["params"])
    assert params["teacher_sha256"] == teacher.sha256 and params["layers"] == ["block2", "block5"]
    assert params["weaker"] == "maia-1100"
    summary = json.loads(run["summary"])
    assert set(summary["random_vector_baseline"]) == {"block2", "block5"}
    for row in store.query("SELECT data FROM candidates WHERE stage IN ('solved', 'unsolved')"):
        data = json.loads(row["data"])
        assert data["dim"] == 64 * 64  # lc0's 64 filters on 64 squares
        for prog in data["programs"].values():
            assert ("vector" in prog) == (prog["status"] in ("optimal", "slack"))
    # Teachability ran on our students for every concept with enough prototypes.
    taught = [prog["teachability"] for row in store.query("SELECT data FROM candidates")
              for prog in json.loads(row["data"]).get("programs", {}).values() if "teachability" in prog]
    assert taught and all(t.get("student") in ("student-a", "student-b") or "reason" in t for t in taught)

    concepts = list_concepts(store, include_hidden=True)
    static = [c for c in concepts if c.kind == "static"]
    assert [c.status for c in static] == ["static"] and static[0].layer in ("block2", "block5")
    dynamic = [c for c in concepts if c.kind == "dynamic"]
    assert funnel.written > 0 and len(dynamic) == funnel.written
    for c in dynamic:
        assert c.network_id == teacher.id and c.dim == 64 * 64 and c.layer in ("block2", "block5")
        assert c.status in ("novel", "failed-teachability", "failed-novelty")
        protos = list_prototypes(store, c.id)
        assert len(protos) >= 3 and all(p.best_move for p in protos)

    again_id, again = run_discovery(store, str(store_path), config)
    assert again_id == run_id and again == funnel
    # The rollouts of an lc0 teacher start from the position as it arose in its game:
    # the moves before it are on the root board's stack (history planes), not the FEN alone.
    from conceptcoach.concepts.stages import root_board
    from conceptcoach.engine.summary import TreeSummary
    from conceptcoach.store.games import position_history, stored_summary

    row = next(iter(store.query("SELECT position_id FROM candidates WHERE stage = 'solved' LIMIT 1")))
    summary = TreeSummary.from_dict(stored_summary(store, int(row["position_id"])))
    history = position_history(store, int(row["position_id"]))
    board = root_board(summary, history)
    assert history[1] and board is not None and board.fen() == summary.fen
    assert [m.uci() for m in board.move_stack] == history[1]
    assert root_board(summary, None) is None
