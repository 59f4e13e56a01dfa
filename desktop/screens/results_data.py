"""What the Results screen shows, loaded on the DB worker, and the pure helpers that turn
it into text and plot points (no widgets here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from conceptcoach.desktop.screens.plots import ProgressPoint
from conceptcoach.desktop.screens.widgets import natural_key
from conceptcoach.desktop.workers import Context

ALL_SESSIONS = 0


@dataclass(frozen=True)
class ConceptGain:
    concept_id: int
    name: str
    control: bool
    n_units: int
    pre_rate: float
    post_rate: float
    gain: float  # positions per concept
    low: float | None
    high: float | None
    per_phase: float


@dataclass(frozen=True)
class ResultsData:
    players: list[tuple[int, str]]
    player_id: int | None
    sessions: list[tuple[int, str, str, float | None]]  # id, when, phase, gain (positions per concept)
    session_id: int
    concepts: list[ConceptGain]
    overall: Any
    control: Any
    net: tuple[float | None, float | None, float | None]
    attempts: int
    progress: list[Any] = field(default_factory=list)  # study.stats.SessionScores, oldest first
    reviews: list[Any] = field(default_factory=list)  # study.review.ReviewCard, soonest due first
    concept_names: dict[int, str] = field(default_factory=dict)
    now: str = ""  # when the review queue was computed (ISO, UTC)
    predictions: list[Any] = field(default_factory=list)  # study.prediction.Prediction of the chosen session


def load_results(ctx: Context, player_id: int | None, session_id: int) -> ResultsData:
    from conceptcoach.store.attempts import list_attempts
    from conceptcoach.store.concepts import list_concepts
    from conceptcoach.store.players import list_players
    from conceptcoach.store.sessions import list_sessions
    from conceptcoach.study.runner import session_state
    from conceptcoach.study.stats import gain_report

    db = ctx.db
    players = [(p.id, p.name) for p in list_players(db)]
    if player_id is None and players:
        player_id = players[0][0]
    sessions = []
    if player_id is not None:
        # The history's gains: every session of the player, mean only (intervals are above).
        history = gain_report(db, player_ids=[player_id], n_boot=200).by_session
        for s in list_sessions(db, player_id=player_id):
            g = history.get(s.id)
            sessions.append((s.id, s.created_at[:16].replace("T", " "), session_state(db, s.id).phase.display,
                             g.mean_gain_positions if g else None))
    if session_id and session_id not in {s[0] for s in sessions}:
        session_id = ALL_SESSIONS
    session_ids = [session_id] if session_id else None
    player_ids = [player_id] if player_id is not None else []
    report = gain_report(db, session_ids=session_ids, player_ids=player_ids, n_boot=2000)
    names = {c.id: (c.name, c.is_control) for c in list_concepts(db, include_hidden=True)}
    controls = {u.concept_id for u in report.units if u.is_control}
    concepts = []
    for cid, s in report.by_concept.items():
        name, failed = names.get(cid, (f"concept {cid}", False))
        concepts.append(ConceptGain(
            concept_id=cid, name=name, control=cid in controls or failed, n_units=s.n_units, pre_rate=s.pre_rate,
            post_rate=s.post_rate, gain=s.mean_gain_positions, low=s.ci_low, high=s.ci_high, per_phase=s.per_phase))
    concepts.sort(key=lambda c: (c.control, natural_key(c.name)))
    attempts = len(list_attempts(db, session_ids=session_ids, player_ids=player_ids))
    progress, reviews = [], []
    now = datetime.now(UTC)
    if player_id is not None:
        from conceptcoach.study.review import review_cards
        from conceptcoach.study.stats import player_progress

        progress = player_progress(db, player_id)
        reviews = review_cards(db, player_id, now)
    predictions = []
    if session_id:
        from conceptcoach.study.prediction import pre_test_predictions

        try:
            predictions = pre_test_predictions(db, session_id)
        except KeyError:  # the session or its player is gone
            predictions = []
    return ResultsData(players, player_id, sessions, session_id, concepts, report.overall, report.control,
                       (report.net_gain_positions, report.net_ci_low, report.net_ci_high), attempts,
                       progress, reviews, {cid: n for cid, (n, _f) in names.items()}, now.isoformat(),
                       predictions)


def _ci(low: float | None, high: float | None) -> str:
    return "–" if low is None or high is None else f"[{low:+.2f}, {high:+.2f}]"


def _interval(low: float | None, high: float | None) -> str:
    """', 95% interval [a, b]' or, with too few units for one, a note saying so."""
    if low is None or high is None:
        return " (too few units for an interval)"
    return f", 95% interval [{low:+.2f}, {high:+.2f}]"


ALL_CONCEPTS = 0


def progress_points(rows: list[Any], concept_id: int | None) -> list[ProgressPoint]:
    """The plot's points: one per session (oldest first) of ``rows`` (SessionScores) for
    ``concept_id`` (None: all concepts of each session), labelled with the session's day
    (a second session on one day gets '(2)')."""
    chosen = [r for r in rows if r.concept_id == concept_id]
    seen: dict[str, int] = {}
    out = []
    for r in chosen:
        try:
            day = datetime.fromisoformat(r.when.replace("Z", "+00:00"))
            label = f"{day.day} {day:%b}"
        except ValueError:
            label = f"session {r.session_id}"
        seen[label] = seen.get(label, 0) + 1
        out.append(ProgressPoint(label if seen[label] == 1 else f"{label} ({seen[label]})", r.pre_score,
                                 r.post_score))
    return out


def due_text(due: datetime, now: datetime) -> str:
    """'due now', 'in 3 days (4 Dec)', 'tomorrow (1 Dec)'."""
    if due <= now:
        return "due now"
    due, now = due.astimezone(), now.astimezone()  # the coach's own clock
    days = (due.date() - now.date()).days
    when = f"{due.day} {due:%b}"
    if days <= 0:
        return f"later today ({due:%H:%M})"
    return f"tomorrow ({when})" if days == 1 else f"in {days} days ({when})"




def prediction_text(predictions: list[Any], names: dict[int, str]) -> str:
    """One line per concept of the chosen session: its pre-test score beside the score Maia
    predicts at the player's rating, or why there is no prediction. Empty with no pre-test items."""
    if not predictions:
        return ""
    rating = predictions[0].rating
    if rating is None:
        return ("<b>Maia's prediction</b>: none, the player has no rating (set it on Home) "
                "to compare the pre-test with what players of that rating find.")
    lines = []
    for p in predictions:
        name = "Control items" if p.concept_id is None else names.get(p.concept_id, f"concept {p.concept_id}")
        mine = f"{p.found} of {p.items} found" + (f" ({p.answered} answered)" if p.answered < p.items else "")
        if p.predicted is None:
            maia = "no human-model figures for these items"
        else:
            maia = f"Maia at {rating}: {p.predicted:.1f} ({100 * (p.predicted_share or 0.0):.0f}%)"
        lines.append(f"{name}: {mine}; {maia}")
    return (f"<b>Pre-test beside Maia at {rating}</b> (the positions a player of that rating is "
            "predicted to find):<br>" + "<br>".join(lines))
