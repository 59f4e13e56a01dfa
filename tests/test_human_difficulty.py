"""Human difficulty by the Maia ladder: find-probabilities per item, behavioural novelty
per concept, stored in the library and read back by the store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_library_humans_stores_find_probabilities(tmp_path: Path, shared_data: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.cli.main import main
    from conceptcoach.concepts.library import load_default_library
    from conceptcoach.store.concepts import list_concepts, list_prototypes
    from conceptcoach.store.db import open_store

    ladder = shared_data / "lc0"
    if not (ladder / "maia-1100.pb.gz").exists():
        pytest.skip(f"{ladder}: the Maia ladder is missing")
    lib = tmp_path / "lib"
    lib.mkdir()
    body = json.loads((REPO / "assets" / "library" / "library.json").read_text())
    concept = next(c for c in body["concepts"] if c["kind"] == "dynamic")
    concept["prototypes"] = concept["prototypes"][:3]
    body["concepts"] = [concept]
    (lib / "library.json").write_text(json.dumps(body))
    shutil.copy(REPO / "assets" / "library" / "vectors.npy", lib / "vectors.npy")
    assert main(["--data-dir", str(tmp_path / "d"), "library", "humans", "--ladder", str(ladder),
                 "--library", str(lib), "--write"]) == 0
    assert "mean find-probability by rating" in capsys.readouterr().out
    db = open_store(tmp_path / "fresh.sqlite")
    assert load_default_library(db, lib) == 1
    stored = list_concepts(db)[0]
    verdict = stored.figures["behavioural_novelty"]
    assert verdict["rating"] == 1900 and set(verdict["by_rating"]) == {str(r) for r in range(1100, 2000, 100)}
    assert verdict["novel"] == (verdict["mean_find"] < verdict["rare"])
    for p in list_prototypes(db, stored.id):
        assert p.human is not None and len(p.human) == 9
        assert all(0.0 <= v <= 1.0 for v in p.human.values())
        assert p.find_probability_at(1450) == pytest.approx((p.human["1400"] + p.human["1500"]) / 2)
