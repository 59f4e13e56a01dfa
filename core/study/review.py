"""The review queue: which concepts are due again for a player (FSRS scheduler).

Scheduling uses the ``fsrs`` package (the scheduler Anki ships), replayed from the
attempt log: each post-test or review-mode test of a concept in a session is one
review, rated from the share of the teacher's moves found (all: Easy, at least 3/4:
Good, at least 1/2: Hard, less: Again) at the time of its last answer. Fuzzing is
off, so the queue is a pure function of the log and the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlite_utils
from conceptcoach.store.attempts import list_attempts
from conceptcoach.store.concepts import get_concept
from fsrs import Card, Rating, Scheduler


@dataclass(frozen=True)
class ReviewCard:
    concept_id: int
    concept_name: str
    due: datetime
    state: str  # Learning / Review / Relearning
    stability: float | None
    difficulty: float | None
    retrievability: float  # predicted chance of finding the idea now
    last_review: datetime | None
    reviews: int
    last_score: float  # share correct in the last review


def rating_for(correct: int, total: int) -> Rating:
    share = correct / total if total else 0.0
    if share >= 1.0:
        return Rating.Easy
    if share >= 0.75:
        return Rating.Good
    if share >= 0.5:
        return Rating.Hard
    return Rating.Again


def _parse(ts: str) -> datetime:
    dt = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def review_cards(db: sqlite_utils.Database, player_id: int, now: datetime | None = None) -> list[ReviewCard]:
    """Every concept the player was tested on after studying, soonest due first."""
    now = now or datetime.now(UTC)
    scheduler = Scheduler(enable_fuzzing=False)
    events: dict[tuple[int, int], list[int | str]] = {}  # (session, concept) -> [correct, total, last time]
    for a in list_attempts(db, player_ids=[player_id], phases=("post", "review")):
        if a.is_control or a.concept_id is None:
            continue
        ev = events.setdefault((a.session_id, a.concept_id), [0, 0, a.answered_at])
        ev[0] = int(ev[0]) + int(a.correct)
        ev[1] = int(ev[1]) + 1
        ev[2] = max(str(ev[2]), a.answered_at)
    cards: dict[int, tuple[Card, int, float]] = {}
    for (_, concept_id), (correct, total, when) in sorted(events.items(), key=lambda kv: str(kv[1][2])):
        t = _parse(str(when))
        card, n, _ = cards.get(concept_id, (Card(card_id=concept_id, due=t), 0, 0.0))
        card, _log = scheduler.review_card(card, rating_for(int(correct), int(total)), review_datetime=t)
        cards[concept_id] = (card, n + 1, int(correct) / int(total))
    out = []
    for concept_id, (card, n, last) in cards.items():
        try:
            name = get_concept(db, concept_id).name
        except KeyError:
            name = f"concept {concept_id}"
        out.append(ReviewCard(concept_id, name, card.due, card.state.name, card.stability, card.difficulty,
                              float(scheduler.get_card_retrievability(card, now)), card.last_review, n, last))
    return sorted(out, key=lambda c: (c.due, c.concept_id))


def due_reviews(db: sqlite_utils.Database, player_id: int, now: datetime | None = None) -> list[ReviewCard]:
    """The concepts due for review now (the queue a self-study screen shows)."""
    now = now or datetime.now(UTC)
    return [c for c in review_cards(db, player_id, now) if c.due <= now]
