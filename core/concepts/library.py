"""The concept library that ships in assets/library/: writing it from a discovery
run, and loading it into a user's store.

``library.json`` holds the concepts (figures, parameters, prototypes) and
``vectors.npy`` their vectors (float32, one row per concept, read without pickle).
Loading is idempotent (concepts are keyed by uid) and cheap when the same library
is already loaded: a marker run ``library-<sha256 of library.json>`` records it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils
from conceptcoach.store.concepts import (
    NewPrototype,
    add_concept,
    concept_signatures,
    concept_uids,
    concept_vector,
    list_concepts,
    list_prototypes,
)
from conceptcoach.store.networks import get_network_by_id, list_networks
from conceptcoach.store.runs import record_finished_run, run_is_done

FORMAT = "conceptcoach-library/1"
LIBRARY_JSON = "library.json"
VECTORS = "vectors.npy"


class LibraryError(Exception):
    """A library folder that cannot be loaded; the message names the file and what is wrong."""


def write_library(
    db: sqlite_utils.Database, lib_dir: Path, concept_ids: list[int], built_with: dict[str, Any],
) -> Path:
    """Write the given concepts (with their prototypes) to ``lib_dir``; returns library.json."""
    lib_dir.mkdir(parents=True, exist_ok=True)
    concepts: list[dict[str, Any]] = []
    vectors = []
    by_id = {c.id: c for c in list_concepts(db, include_hidden=True)}
    for i, cid in enumerate(concept_ids):
        c = by_id[cid]
        vectors.append(concept_vector(db, cid))
        network = None
        if c.network_id is not None:
            try:
                net = get_network_by_id(db, c.network_id)
                network = {"name": net.name, "sha256": net.sha256}
            except KeyError:
                network = None
        concepts.append({
            "uid": c.uid, "name": c.name, "annotation": c.annotation, "layer": c.layer, "kind": c.kind,
            "players": c.players, "polarity": c.polarity, "status": c.status, "source_fen": c.source_fen,
            "sparsity": c.sparsity, "dim": c.dim, "vector_row": i, "network": network,
            "figures": c.figures, "params": c.params, "run_id": c.run_id,
            "prototypes": [
                {"fen": p.fen, "best_move": p.best_move, "line": p.line, "value": p.value, "visits": p.visits,
                 "score": p.score, "split": p.split, "game_key": p.game_key, "heat": p.heat,
                 "verification": p.verification, "human": p.human}
                for p in list_prototypes(db, cid)
            ],
        })
    matrix = np.stack(vectors).astype("<f4") if vectors else np.zeros((0, 0), "<f4")
    np.save(lib_dir / VECTORS, matrix, allow_pickle=False)
    return write_library_body(lib_dir, {"format": FORMAT, "built_with": built_with, "concepts": concepts})


def write_library_body(lib_dir: Path, body: dict[str, Any]) -> Path:
    """Write library.json from its body (the vectors file must be in place); the version
    is a hash of both, so a changed library is recognised and loaded again."""
    body = {k: v for k, v in body.items() if k != "version"}
    matrix = np.load(Path(lib_dir) / VECTORS, allow_pickle=False)
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    version = hashlib.sha256(text.encode() + matrix.astype("<f4").tobytes()).hexdigest()[:16]
    path = Path(lib_dir) / LIBRARY_JSON
    path.write_text(json.dumps({**body, "version": version}, indent=1, sort_keys=True) + "\n")
    return path


def _signature(layer: str, source_fen: str | None, players: str, polarity: str, vector: bytes) -> tuple[str, ...]:
    return (layer, source_fen or "", players, polarity, hashlib.sha256(vector).hexdigest())


def load_default_library(db: sqlite_utils.Database, lib_dir: Path) -> int:
    """Load the library in ``lib_dir`` into ``db``; returns the number of concepts added.

    Idempotent: concepts already present (by uid) are left as the coach edited them,
    and a library already loaded is recognised by its file hash without parsing it.
    Raises :class:`LibraryError` for an unreadable library.
    """
    path = Path(lib_dir) / LIBRARY_JSON
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LibraryError(f"{path}: unreadable concept library ({exc}); reinstall Concept Coach") from exc
    # Checked on every start: hashing the file is cheaper than parsing it.
    marker = f"library-{hashlib.sha256(raw).hexdigest()[:16]}"
    if run_is_done(db, marker):
        return 0
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LibraryError(f"{path}: unreadable concept library ({exc}); reinstall Concept Coach") from exc
    if data.get("format") != FORMAT:
        raise LibraryError(f"{path}: not a Concept Coach library (format {data.get('format')!r})")
    try:
        vectors = np.load(Path(lib_dir) / VECTORS, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise LibraryError(f"{Path(lib_dir) / VECTORS}: unreadable concept vectors ({exc})") from exc
    known = concept_uids(db)
    # A newer library may carry a concept an earlier one already brought under another
    # uid (same layer, source position, kind and vector): the copy in the store keeps
    # its sessions and the coach's edits, and no second copy is added.
    same = {_signature(*sig) for sig in concept_signatures(db)}
    networks = {n.sha256: n.id for n in list_networks(db)}
    added = 0
    for c in data["concepts"]:
        if c["uid"] in known:
            continue
        vector = np.asarray(vectors[int(c["vector_row"])], dtype="<f4")
        if _signature(c["layer"], c.get("source_fen"), c["players"], c["polarity"], vector.tobytes()) in same:
            continue
        network_id = networks.get((c.get("network") or {}).get("sha256", ""))
        add_concept(
            db, uid=c["uid"], name=c["name"], layer=c["layer"], kind=c["kind"], status=c["status"],
            vector=vector, players=c["players"], polarity=c["polarity"],
            source_fen=c.get("source_fen"), figures=c.get("figures", {}), params=c.get("params", {}),
            network_id=network_id, annotation=c.get("annotation", ""),
            prototypes=[NewPrototype(fen=p["fen"], best_move=p["best_move"], line=p.get("line", []),
                                     value=p.get("value"), visits=p.get("visits", {}), score=p.get("score"),
                                     split=p.get("split", "train"), game_key=p.get("game_key"),
                                     heat=p.get("heat"), verification=p.get("verification"),
                                     human=p.get("human"))
                        for p in c.get("prototypes", [])],
        )
        added += 1
    record_finished_run(db, marker, "library", {"path": str(path)}, {"added": added})
    return added
