"""The default concept library shipped in assets/library, checked as a user receives
it: loaded into a fresh store, with what the library issue asks of it."""

from __future__ import annotations

import json
from pathlib import Path

import chess
import numpy as np
import pytest
from conceptcoach.concepts.library import load_default_library
from conceptcoach.store.concepts import list_concepts, list_prototypes

LIBRARY = Path(__file__).resolve().parents[1] / "assets" / "library"


@pytest.fixture
def shipped(store):  # type: ignore[no-untyped-def]
    if not (LIBRARY / "library.json").exists():
        pytest.fail(f"{LIBRARY} has no library.json: the default library is part of the product")
    added = load_default_library(store, LIBRARY)
    return store, added


def test_shipped_library_has_twelve_novel_concepts_with_twelve_prototypes(shipped) -> None:  # type: ignore[no-untyped-def]
    store, added = shipped
    concepts = list_concepts(store, include_hidden=True)
    assert added == len(concepts) > 0
    novel = [c for c in concepts if c.status == "novel"]
    assert len(novel) >= 12
    for c in novel:
        assert c.figures["teachability"]["teachable"] and c.figures["teachability"]["gain"] > 0.05
        nov = c.figures["novelty"]
        assert nov["novel"] and len(nov["k"]) == len(nov["human"]) == len(nov["machine"]) == len(nov["informative"])
        assert all(h - a > 0 for h, a, w in zip(nov["human"], nov["machine"], nov["informative"], strict=True) if w)
        assert c.layer in ("block1", "block3", "block5") and 0 < c.sparsity <= 1
        protos = list_prototypes(store, c.id)
        assert len(protos) >= 12  # 4 pre-test + 4 learning + 4 post-test, none reused
        assert len({p.fen for p in protos}) == len(protos)
        for p in protos:
            board = chess.Board(p.fen)
            assert chess.Move.from_uci(p.best_move) in board.legal_moves
            for uci in p.line:  # the principal line is playable from the position
                move = chess.Move.from_uci(uci)
                assert move in board.legal_moves
                board.push(move)
            assert p.visits and p.best_move in p.visits and p.value is not None
    # One idea is never shipped twice under two names: every novel vector is distinct.
    vectors = json.loads((LIBRARY / "library.json").read_text())["concepts"]
    rows = [v["vector_row"] for v in vectors]
    assert len(set(rows)) == len(rows)
    mat = np.load(LIBRARY / "vectors.npy", allow_pickle=False)
    novel_rows = [v["vector_row"] for v in vectors if v["status"] == "novel"]
    assert len({mat[r].tobytes() for r in novel_rows}) == len(novel_rows)
    # ... nor twice as a Plan and its Prevention: no two vectors of a layer are parallel up to sign.
    from conceptcoach.concepts.verdicts import parallel

    for i, a in enumerate(vectors):
        for b in vectors[i + 1:]:
            if a["layer"] == b["layer"]:
                assert not parallel(mat[a["vector_row"]], mat[b["vector_row"]]), (a["name"], b["name"])


def test_shipped_library_keeps_controls_and_known_ideas_and_its_recipe(shipped) -> None:  # type: ignore[no-untyped-def]
    store, _ = shipped
    concepts = list_concepts(store, include_hidden=True)
    controls = [c for c in concepts if c.status.startswith("failed-")]
    assert controls and all(c.is_control for c in controls)
    assert all(len(list_prototypes(store, c.id)) >= 12 for c in controls)
    assert {c.status for c in concepts if c.kind == "static"} == {"static"}
    data = json.loads((LIBRARY / "library.json").read_text())
    built = data["built_with"]
    assert built["command"].startswith("conceptcoach build-library") and built["config"]["seed"] is not None
    size = sum(f.stat().st_size for f in LIBRARY.iterdir())
    assert size < 20 * 1024 * 1024
    # Loading again adds nothing (the library is recognised by its hash).
    assert load_default_library(store, LIBRARY) == 0


def test_every_shipped_item_carries_an_engine_verdict_and_human_figures(shipped) -> None:  # type: ignore[no-untyped-def]
    store, _ = shipped
    concepts = list_concepts(store, include_hidden=True)
    usable = 0
    for c in concepts:
        protos = list_prototypes(store, c.id)
        for p in protos:
            v = p.verification
            assert v is not None and v["status"] in ("verified", "rejected") and v["params"]["depth"] >= 14
            assert (v["status"] == "verified") == (v["loss_cp"] <= v["params"]["margin_cp"])
            assert p.best_move in v["evals"] and all(m in v["evals"] for m in v["accepted"])
            assert p.human is not None and set(p.human) == {str(r) for r in range(1100, 2000, 100)}
        if c.kind == "dynamic":
            assert "behavioural_novelty" in c.figures
        if c.status == "novel" and len({p.fen for p in protos if p.verified_quiz_item}) >= 12:
            usable += 1
    # The lessons issue's floor: 12 novel concepts with enough verified quiz items for a
    # 4/4/4 session without reuse.
    assert usable >= 12


@pytest.mark.slow
def test_a_sample_of_shipped_verdicts_replays_in_stockfish(shipped) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.concepts.verify import Verifier, VerifyParams, find_stockfish

    if find_stockfish() is None:
        pytest.skip("Stockfish is not installed: install the Debian package 'stockfish' (make test does)")
    store, _ = shipped
    protos = [p for c in list_concepts(store, include_hidden=True) for p in list_prototypes(store, c.id)]
    rng = np.random.default_rng(7)
    sample = [protos[int(i)] for i in rng.choice(len(protos), size=8, replace=False)]
    first = sample[0].verification
    assert first is not None
    params = VerifyParams(**{k: v for k, v in first["params"].items() if k in VerifyParams.__dataclass_fields__})
    with Verifier(params) as verifier:
        for p in sample:
            again = verifier.verify(p.fen, p.best_move, p.line, p.value).to_dict()
            stored = p.verification or {}
            for key in ("status", "best_move", "accepted", "decided", "clear", "quiz_item"):
                assert again[key] == stored[key], (p.fen, key, again[key], stored[key])
