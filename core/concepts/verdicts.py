"""What the filters' figures mean: a program's status, and one concept per idea."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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


def distinct_concepts(programs: Sequence[Program]) -> list[Program]:
    """One of each concept vector: when a rollout has no branch that tells the two
    polarities apart, the active and prophylactic programs of a position solve to
    the same vector, and a library must not teach one idea twice."""
    seen: set[tuple[str, str, tuple[int, ...], tuple[float, ...]]] = set()
    out = []
    for row, key, prog in programs:
        sig = (row.fen, key.split("/")[0], tuple(prog["vector"]["idx"]),
               tuple(round(float(x), 6) for x in prog["vector"]["val"]))
        if sig not in seen:
            seen.add(sig)
            out.append((row, key, prog))
    return out
