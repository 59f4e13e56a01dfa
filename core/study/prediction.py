"""What a model of a human player predicts for a session, beside what the player did.

For each concept of a session, the player's pre-test score (positions found) is put
beside the score Maia predicts at the player's rating: the sum over the concept's
pre-test items of the probability that a player of that rating finds the answer
(stored with each prototype by ``conceptcoach library humans``).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils
from conceptcoach.store.attempts import list_attempts
from conceptcoach.store.concepts import get_prototype
from conceptcoach.store.players import get_player
from conceptcoach.store.sessions import get_session, session_items
from conceptcoach.study.phases import Phase


@dataclass(frozen=True)
class Prediction:
    concept_id: int | None
    items: int  # pre-test positions of the concept
    answered: int
    found: int  # the player's pre-test score
    predicted: float | None  # expected positions found at the player's rating (None: no figures)
    rating: int | None

    @property
    def predicted_share(self) -> float | None:
        return None if self.predicted is None or not self.items else self.predicted / self.items


def pre_test_predictions(db: sqlite_utils.Database, session_id: int) -> list[Prediction]:
    """Per concept (controls grouped under None), the pre-test score and Maia's prediction."""
    session = get_session(db, session_id)
    rating = get_player(db, session.player_id).rating
    items = [it for it in session_items(db, session_id) if it.phase == Phase.PRE]
    found = {a.item_id: a.correct for a in list_attempts(db, session_ids=[session_id], phases=[Phase.PRE])}
    out: list[Prediction] = []
    for cid in dict.fromkeys(it.concept_id for it in items):
        mine = [it for it in items if it.concept_id == cid]
        probs = []
        for it in mine:
            p = None
            if it.source == "prototype" and it.source_id is not None and rating is not None:
                try:
                    p = get_prototype(db, it.source_id).find_probability_at(rating)
                except KeyError:
                    p = None
            probs.append(p)
        predicted = None if rating is None or any(p is None for p in probs) else float(sum(p or 0.0 for p in probs))
        out.append(Prediction(cid, len(mine), sum(1 for it in mine if it.id in found),
                              sum(1 for it in mine if found.get(it.id)), predicted, rating))
    return out
