"""How hard a concept's items are for human players, by the Maia ladder.

For every prototype, the probability that a player of each rating finds the teacher's
move (any accepted move, when the item was verified) is read from the Maia network of
that rating (core/engine/human_model.py). A concept also gets a behavioural novelty
verdict beside the latent one: its teacher moves are novel for humans of a rating when
players of that rating rarely play them (mean find-probability below ``rare``).

The figures are computed at build time from the ladder in ../shared/data/lc0 and stored
in the library, so the app needs no Maia file at run time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import chess
import numpy as np
from conceptcoach.engine.human_model import HumanModel
from conceptcoach.progress import ProgressFn, no_progress


@dataclass(frozen=True)
class HumanParams:
    #: A concept is behaviourally novel at a rating when its mean find-probability is below this.
    rare: float = 0.2
    #: The rating the behavioural verdict is given for (the strongest model by default).
    verdict_rating: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def answers_of(proto: dict[str, Any]) -> list[str]:
    """The moves that count as finding the item: the accepted ones, else the teacher's."""
    verdict = proto.get("verification") or {}
    accepted = list(verdict.get("accepted") or [])
    return accepted if verdict.get("status") == "verified" and accepted else [str(proto["best_move"])]


def find_probability(model: HumanModel, board: chess.Board, answers: Sequence[str]) -> float:
    dist = model.distribution(board)
    return float(sum(p for m, p in dist.items() if m.uci() in answers))


def add_human_figures(concepts: Iterable[dict[str, Any]], models: Sequence[HumanModel],
                      params: HumanParams | None = None, progress: ProgressFn = no_progress) -> None:
    """Write ``human`` ({rating: find-probability}) into every prototype dict and
    ``figures["behavioural_novelty"]`` into every dynamic concept dict (library format)."""
    params = params or HumanParams()
    concepts = list(concepts)
    models = sorted(models, key=lambda m: m.rating)
    if not models:
        raise ValueError("no human model: pass the folder of the Maia ladder (maia-1100.pb.gz ... maia-1900.pb.gz)")
    cache: dict[tuple[str, tuple[str, ...]], dict[str, float]] = {}
    todo = [p for c in concepts for p in c.get("prototypes", [])]
    for i, proto in enumerate(todo):
        key = (str(proto["fen"]), tuple(answers_of(proto)))
        if key not in cache:
            board = chess.Board(key[0])
            cache[key] = {str(m.rating): round(find_probability(m, board, key[1]), 5) for m in models}
        proto["human"] = cache[key]
        progress(i + 1, len(todo), f"human models: {i + 1}/{len(todo)} prototypes")
    rating = str(params.verdict_rating or models[-1].rating)
    for c in concepts:
        protos = c.get("prototypes", [])
        if not protos or c.get("kind") == "static":
            continue
        by_rating = {str(m.rating): float(np.mean([p["human"][str(m.rating)] for p in protos])) for m in models}
        c.setdefault("figures", {})["behavioural_novelty"] = {
            "rating": int(rating), "mean_find": round(by_rating[rating], 4), "rare": params.rare,
            "novel": by_rating[rating] < params.rare, "by_rating": {k: round(v, 4) for k, v in by_rating.items()},
            "models": [m.network.name for m in models], "prototypes": len(protos),
        }
