"""`conceptcoach library check`: how sound a concept library's quiz items are.

Every prototype of every concept is verified by Stockfish (core/concepts/verify.py,
each distinct position once); the report gives the share of items whose teacher move
is within the margin of the best, the decided positions, the items whose answer
depends on the game's history, and the concepts with fewer than ``min_items``
verified quiz items (a session needs 4 pre-test, 4 learning and 4 post-test).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conceptcoach.concepts.library import LIBRARY_JSON
from conceptcoach.concepts.verify import Verdict, Verifier, VerifyParams, unverified
from conceptcoach.progress import Cancelled, ProgressFn, StopFn, never_stop, no_progress

MIN_ITEMS = 12


@dataclass
class ConceptCheck:
    name: str
    status: str
    items: int
    verified: int
    quiz_items: int
    clear: int


@dataclass
class CheckReport:
    params: dict[str, Any]
    items: int = 0
    positions: int = 0
    within_margin: int = 0
    blunders: int = 0  # the teacher's move loses >= 300 cp
    mistakes: int = 0  # >= 100 cp
    decided: int = 0
    history_dependent: int = 0
    clear: int = 0
    lines_cut: int = 0
    concepts: list[ConceptCheck] = field(default_factory=list)

    def lines(self, min_items: int = MIN_ITEMS) -> list[str]:
        def share(n: int) -> str:
            return f"{n:5d}  {100.0 * n / self.positions:5.1f}%" if self.positions else f"{n:5d}"

        p = self.params
        out = [
            f"items {self.items} ({self.positions} distinct positions), Stockfish depth {p['depth']}, "
            f"margin {p['margin_cp']} cp",
            f"teacher's move within the margin  {share(self.within_margin)}",
            f"teacher's move loses >= 100 cp   {share(self.mistakes)}",
            f"teacher's move loses >= 300 cp   {share(self.blunders)}",
            f"decided (|eval| >= {p['decided_cp']} cp)       {share(self.decided)}",
            f"answer depends on history        {share(self.history_dependent)}",
            f"one clearly best move (teacher's) {share(self.clear)}",
            f"teacher's line cut where it fails {share(self.lines_cut)}",
        ]
        short = [c for c in self.concepts if c.quiz_items < min_items and c.status != "static"]
        out.append(f"concepts with fewer than {min_items} verified quiz items: {len(short)} of "
                   f"{len(self.concepts)}")
        for c in sorted(self.concepts, key=lambda c: c.quiz_items):
            flag = "  <" if c in short else "   "
            out.append(f"{flag} {c.quiz_items:3d} quiz / {c.verified:3d} verified / {c.items:3d} items  "
                       f"{c.name} [{c.status}]")
        return out


def check_concepts(
    concepts: Iterable[dict[str, Any]],
    params: VerifyParams | None = None,
    engine_path: str | None = None,
    progress: ProgressFn = no_progress,
    should_stop: StopFn = never_stop,
) -> CheckReport:
    """Verify the prototypes of library-format concept dicts (``name``, ``status``,
    ``prototypes`` with ``fen``, ``best_move``, ``line``, ``value``), writing each
    verdict into its prototype dict under ``verification``."""
    params = params or VerifyParams()
    concepts = list(concepts)
    report = CheckReport(params=params.to_dict())
    cache: dict[tuple[str, str], Verdict] = {}
    todo = {(p["fen"], p["best_move"]): p for c in concepts for p in c.get("prototypes", [])}
    with Verifier(params, engine_path) as verifier:
        for i, (key, proto) in enumerate(todo.items()):
            if should_stop():
                raise Cancelled(f"library check stopped after {i} of {len(todo)} positions")
            cache[key] = verifier.verify(proto["fen"], proto["best_move"], proto.get("line") or (),
                                         proto.get("value"))
            progress(i + 1, len(todo), f"verified {i + 1}/{len(todo)} positions")
    for c in concepts:
        for p in c.get("prototypes", []):
            p["verification"] = cache[(p["fen"], p["best_move"])].to_dict()
    return report_verdicts(concepts, report)


def report_verdicts(concepts: Iterable[dict[str, Any]], report: CheckReport | None = None) -> CheckReport:
    """The shares of the verdicts stored with the prototypes (``verification``), without
    running Stockfish: what a build recorded, or what :func:`check_concepts` just wrote.
    A prototype without a verdict counts as unverified (not within the margin)."""
    concepts = list(concepts)
    verdicts = {(p["fen"], p["best_move"]): Verdict.from_dict(p["verification"]) if p.get("verification")
                else unverified("no stored verdict")
                for c in concepts for p in c.get("prototypes", [])}
    if report is None:
        stored: dict[str, Any] = next((v.params for v in verdicts.values() if v.params), {})
        report = CheckReport(params=stored)
    for verdict in verdicts.values():
        report.positions += 1
        loss = verdict.loss_cp if verdict.loss_cp is not None else 10**6
        report.within_margin += verdict.status == "verified"
        report.mistakes += loss >= 100
        report.blunders += loss >= 300
        report.decided += verdict.decided
        report.history_dependent += verdict.history_dependent
        report.clear += verdict.clear
        report.lines_cut += verdict.line_cut_at is not None
    for c in concepts:
        protos = c.get("prototypes", [])
        mine = [verdicts[(p["fen"], p["best_move"])] for p in protos]
        report.items += len(protos)
        report.concepts.append(ConceptCheck(
            name=str(c.get("name")), status=str(c.get("status")), items=len(protos),
            verified=sum(v.status == "verified" for v in mine),
            quiz_items=len({p["fen"] for p, v in zip(protos, mine, strict=True) if v.quiz_item}),
            clear=sum(v.clear for v in mine)))
    return report


def read_library_concepts(lib_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The library file's body and its concepts (library format)."""
    path = Path(lib_dir) / LIBRARY_JSON
    try:
        body = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable concept library ({exc})") from exc
    return body, list(body.get("concepts", []))
