"""What the filters' figures mean: a program's status, and one concept per idea."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from conceptcoach.concepts.stages import dense
from conceptcoach.store.candidates import CandidateRow
from conceptcoach.store.concepts import ConceptStatus

Program = tuple[CandidateRow, str, dict[str, Any]]


def concept_status(program: dict[str, Any]) -> ConceptStatus:
    """The status a solved program earns from its teachability and novelty figures."""
    taught = program.get("teachability")
    if not taught or not taught.get("teachable"):
        return ConceptStatus.FAILED_TEACHABILITY
    novelty = program.get("novelty")
    if novelty is None:
        return ConceptStatus.TEACHABLE
    return ConceptStatus.NOVEL if novelty["novel"] else ConceptStatus.FAILED_NOVELTY


#: Two concepts whose vectors have |cosine| at least this are one idea (one direction).
PARALLEL_COS = 0.95


def parallel(a: npt.NDArray[np.floating[Any]], b: npt.NDArray[np.floating[Any]], limit: float = PARALLEL_COS) -> bool:
    """Whether two concept vectors point the same way up to sign."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if a.shape != b.shape or na == 0.0 or nb == 0.0:
        return False
    return abs(float(a @ b)) / (na * nb) >= limit


def one_per_direction(vectors: Sequence[tuple[str, npt.NDArray[np.floating[Any]]]]) -> list[int]:
    """Indices of the (layer, vector) pairs to keep: the first of every group of vectors of
    one layer that are parallel or anti-parallel. When a rollout has no branch that tells
    the polarities apart, the active and prophylactic programs of a position solve to the
    same vector or its negative: Plan and Prevention are one idea then, and a library must
    not teach it twice."""
    kept: list[int] = []
    for i, (layer, v) in enumerate(vectors):
        if not any(vectors[k][0] == layer and parallel(v, vectors[k][1]) for k in kept):
            kept.append(i)
    return kept


def distinct_concepts(programs: Sequence[Program]) -> list[Program]:
    """One concept per direction among solved programs (active ones first, so a
    Prevention is kept only when it differs from every Plan)."""
    ordered = sorted(programs, key=lambda p: p[1].split("/")[2] != "active")
    vectors = [(key.split("/")[0], dense(prog["vector"], row.data["dim"])) for row, key, prog in ordered]
    return [ordered[i] for i in one_per_direction(vectors)]
