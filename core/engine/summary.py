"""What a search tree says, in plain data: root statistics, lines and subpar branches.

This is what self-play stores per move and what concept discovery (METHOD.md
section 3) reads: the *chosen* line follows the most-visited child from the root;
at each depth of it, *subpar* branches leave through a clearly worse sibling and
then follow the most-visited children down to the same depth.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import chess
import numpy as np

if TYPE_CHECKING:
    from conceptcoach.engine.mcts import Node


@dataclass
class ChildStat:
    move: str  # UCI
    n: int
    q: float  # mean value for the side to move at the root, [-1, 1]
    p: float  # prior


@dataclass
class Branch:
    """A subpar line leaving the chosen line at ``depth`` through ``move``."""

    depth: int
    move: str
    n: int
    q: float  # from the side to move at the branch point
    value_gap: float
    visit_gap: float
    line: list[str]  # UCI moves from the root: the chosen line's first ``depth`` moves, then this branch


@dataclass
class TreeSummary:
    fen: str
    visits: int
    value: float  # root value for the side to move
    best_move: str
    children: list[ChildStat]
    principal_line: list[str]
    chosen_line: list[str] = field(default_factory=list)
    chosen_q: list[float] = field(default_factory=list)  # Q of each chosen edge, mover's view
    branches: list[Branch] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TreeSummary:
        return cls(
            fen=data["fen"],
            visits=int(data["visits"]),
            value=float(data["value"]),
            best_move=data["best_move"],
            children=[ChildStat(**c) for c in data["children"]],
            principal_line=list(data["principal_line"]),
            chosen_line=list(data.get("chosen_line", [])),
            chosen_q=list(data.get("chosen_q", [])),
            branches=[Branch(**b) for b in data.get("branches", [])],
            params=dict(data.get("params", {})),
        )

    def visit_share(self, uci: str) -> float:
        total = sum(c.n for c in self.children)
        for c in self.children:
            if c.move == uci:
                return c.n / total if total else 0.0
        return 0.0

    def q_of(self, uci: str) -> float | None:
        for c in self.children:
            if c.move == uci and c.n > 0:
                return c.q
        return None


def _follow(node: Node | None, max_moves: int) -> list[str]:
    line: list[str] = []
    while node is not None and node.moves and len(line) < max_moves and sum(node.n) > 0:
        i = int(np.argmax(node.n))
        line.append(node.moves[i].uci())
        node = node.children[i]
    return line


def summarise(
    board: chess.Board,
    root: Node,
    depth: int = 10,
    value_gap: float = 0.20,
    visit_gap: float = 0.10,
    max_branches: int = 3,
    min_branch_visits: int = 2,
) -> TreeSummary:
    """Summarise the tree under ``root`` (the position ``board``)."""
    params = {"depth": depth, "value_gap": value_gap, "visit_gap": visit_gap,
              "max_branches": max_branches, "min_branch_visits": min_branch_visits}
    if not root.moves:
        return TreeSummary(board.fen(), int(root.visits), float(root.terminal or 0.0), "", [], [], params=params)
    children = [
        ChildStat(m.uci(), int(round(n)), float(w / n) if n > 0 else 0.0, float(p))
        for m, n, w, p in zip(root.moves, root.n, root.w, root.priors, strict=True)
    ]
    children.sort(key=lambda c: (-c.n, -c.p))
    best = children[0].move
    principal = _follow(root, 64)

    chosen: list[str] = []
    chosen_q: list[float] = []
    branches: list[Branch] = []
    node: Node | None = root
    while node is not None and node.moves and len(chosen) < depth and sum(node.n) > 0:
        j = len(chosen)
        i_best = int(np.argmax(node.n))
        n_best = float(node.n[i_best])
        q_best = float(node.w[i_best] / n_best)
        if j <= depth - 5:
            found: list[Branch] = []
            for i, m in enumerate(node.moves):
                n_alt = float(node.n[i])
                if i == i_best or n_alt < min_branch_visits:
                    continue
                q_alt = float(node.w[i] / n_alt)
                vgap = q_best - q_alt
                ngap = (n_best - n_alt) / n_best
                if abs(vgap) >= value_gap or ngap >= visit_gap:
                    tail = _follow(node.children[i], depth - j - 1)
                    found.append(Branch(j, m.uci(), int(n_alt), q_alt, vgap, ngap, chosen + [m.uci()] + tail))
            found.sort(key=lambda b: -b.n)
            branches.extend(found[:max_branches])
        chosen.append(node.moves[i_best].uci())
        chosen_q.append(q_best)
        node = node.children[i_best]
    return TreeSummary(
        fen=board.fen(),
        visits=int(round(sum(root.n))),
        value=float(root.q()),
        best_move=best,
        children=children,
        principal_line=principal,
        chosen_line=chosen,
        chosen_q=chosen_q,
        branches=branches,
        params=params,
    )
