"""Scoring one answer: correct or not, and partial credit from the teacher's own search.

The teacher's judgement (METHOD.md section 7) comes from the root children stored
with the position (visits ``{uci: {"n", "q", "p"}}``, Q from the side to move):

* visit share: the answer's share of the root visits (0 when the search never
  tried it, None when no visits were stored);
* value drop: Q(teacher's move) - Q(answer), in value units [-1, 1] (so 0..2);
  when the answer was not searched, an optional ``evaluate(fen, uci)`` callback
  (:func:`network_evaluate` wraps the teacher network; a fresh search also fits)
  supplies its value, else None;
* partial credit: 1 for a correct answer, else the share of the teacher's expected
  score the answer keeps, ``1 - value_drop / 2`` clipped to [0, 1] (a value v maps
  to an expected score (1 + v) / 2, so a drop of d loses d / 2 of a point).

Items verified by Stockfish carry every accepted move in ``expected`` (all right) and
the engine's evaluation of each move it searched as ``visits[uci]["cp"]``; where both
the best accepted move and the answer have one, the drop is measured on the engine's
evaluation (centipawns mapped to a value by :func:`cp_to_value`) instead of the
teacher's Q: a near miss gets credit from what an independent engine says.

A move the player tries in a learning position is scored the same way
(:func:`rate_try`, which adds the teacher's own move and share for comparison);
:func:`tally_by_phase` counts the concept positions found per phase.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import chess
import numpy as np
import numpy.typing as npt

#: ``evaluate(fen, uci) -> value`` of playing ``uci`` in ``fen``, side to move's view, [-1, 1].
Evaluate = Callable[[str, str], float]


@dataclass(frozen=True)
class Score:
    answer_uci: str
    answer_san: str
    correct: bool
    visit_share: float | None
    value_drop: float | None
    partial_credit: float | None


class IllegalAnswer(ValueError):
    """The answer is not a legal move in the position."""


def parse_answer(fen: str, move: str) -> chess.Move:
    """A legal move from UCI or SAN text; raises :class:`IllegalAnswer` saying why."""
    board = chess.Board(fen)
    text = move.strip()
    try:
        mv = chess.Move.from_uci(text)
        if mv in board.legal_moves:
            return mv
    except ValueError:
        pass
    try:
        return board.parse_san(text)
    except ValueError as exc:
        raise IllegalAnswer(f"{move!r} is not a legal move in {fen} ({exc})") from exc


def score_answer(
    fen: str,
    expected: Sequence[str],
    visits: Mapping[str, Mapping[str, float]],
    answer: str | None,
    evaluate: Evaluate | None = None,
) -> Score:
    """Score ``answer`` (UCI or SAN; None when no move was given) in ``fen``.

    ``expected`` holds the teacher's move(s) in UCI. Raises :class:`IllegalAnswer` for
    a move that is not legal there.
    """
    if answer is None or not answer.strip():
        return Score("", "", False, None, None, 0.0)
    board = chess.Board(fen)
    mv = parse_answer(fen, answer)
    uci, san = mv.uci(), board.san(mv)
    correct = uci in expected
    total = sum(float(v.get("n", 0)) for v in visits.values())
    share: float | None = float(visits.get(uci, {}).get("n", 0)) / total if total > 0 else None
    best = expected[0] if expected else None
    q_best = _q(visits, best) if best else None
    drop: float | None = None
    engine_evals = [cp for cp in (_cp(visits, m) for m in expected) if cp is not None]
    engine_best = max(engine_evals) if engine_evals else None
    engine_answer = _cp(visits, uci)
    if correct:
        drop = 0.0
    elif engine_best is not None and engine_answer is not None:
        drop = max(0.0, cp_to_value(engine_best) - cp_to_value(engine_answer))
    elif q_best is not None:
        q_ans = _q(visits, uci)
        if q_ans is None and evaluate is not None:
            q_ans = float(evaluate(fen, uci))
        if q_ans is not None:
            drop = q_best - q_ans
    if correct:
        credit: float | None = 1.0
    elif drop is not None:
        credit = min(1.0, max(0.0, 1.0 - drop / 2.0))
    else:
        credit = None
    return Score(uci, san, correct, share, drop, credit)


def cp_to_value(cp: float) -> float:
    """An engine's centipawns as a value in [-1, 1] (expected score 1 / (1 + 10^(-cp/400)),
    the logistic Elo curve), comparable with the teacher's Q."""
    return 2.0 / (1.0 + 10.0 ** (-cp / 400.0)) - 1.0


def _cp(visits: Mapping[str, Mapping[str, float]], uci: str) -> float | None:
    child = visits.get(uci)
    if not child or "cp" not in child:
        return None
    return float(child["cp"])


def _q(visits: Mapping[str, Mapping[str, float]], uci: str) -> float | None:
    child = visits.get(uci)
    if not child or float(child.get("n", 0)) <= 0 or "q" not in child:
        return None
    return float(child["q"])


def network_evaluate(
    evaluator: Callable[[npt.NDArray[np.float32]], tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]],
) -> Evaluate:
    """An ``evaluate(fen, uci)`` callback from a network evaluator (for example
    ``engine.network.Evaluator(net)``): the value of the answer for the side that
    played it, i.e. minus the network's value of the position after it, or the exact
    result when the answer ends the game (mate +1, draw 0).

    The network's raw value is coarser than the search's Q of the moves it did try,
    so it is only used for answers the search never visited.
    """
    from conceptcoach.engine.encoding import encode_board

    def evaluate(fen: str, uci: str) -> float:
        board = chess.Board(fen)
        board.push(chess.Move.from_uci(uci))
        outcome = board.outcome(claim_draw=True)
        if outcome is not None:
            return 0.0 if outcome.winner is None else 1.0
        _, values = evaluator(encode_board(board)[None])
        return -float(values[0])

    return evaluate


@dataclass(frozen=True)
class PhaseTally:
    """Concept positions found in one phase of a session (control items left out)."""

    correct: int
    answered: int

    @property
    def rate(self) -> float | None:
        return self.correct / self.answered if self.answered else None


def tally_by_phase(attempts: Iterable[Any]) -> dict[str, PhaseTally]:
    """Correct and answered concept positions per phase, from attempt rows (anything
    with ``phase``, ``correct`` and ``is_control``); phases in the order first met.

    >>> from types import SimpleNamespace as A
    >>> tally_by_phase([A(phase="pre", correct=False, is_control=False),
    ...                 A(phase="post", correct=True, is_control=False),
    ...                 A(phase="post", correct=True, is_control=True)])
    {'pre': PhaseTally(correct=0, answered=1), 'post': PhaseTally(correct=1, answered=1)}
    """
    counts: dict[str, list[int]] = {}
    for a in attempts:
        if a.is_control:
            continue
        c = counts.setdefault(str(a.phase), [0, 0])
        c[0] += int(bool(a.correct))
        c[1] += 1
    return {phase: PhaseTally(c, n) for phase, (c, n) in counts.items()}


@dataclass(frozen=True)
class TryRating:
    """How the teacher's search rates a move the player tried in a learning position.

    ``score`` is the move scored like a test answer; ``value`` is the search's Q of the
    tried move (None when it was not searched); the teacher's own move is given with its
    share of the search so the two can be compared."""

    score: Score
    value: float | None
    best_uci: str
    best_san: str
    best_share: float | None

    @property
    def is_best(self) -> bool:
        return self.score.correct

    @property
    def searched(self) -> bool:
        """The search looked at the tried move at all."""
        return bool(self.score.visit_share)


def rate_try(
    fen: str,
    expected: Sequence[str],
    visits: Mapping[str, Mapping[str, float]],
    move: str,
    evaluate: Evaluate | None = None,
) -> TryRating:
    """Rate ``move`` (UCI or SAN) tried in ``fen`` against the teacher's stored search.
    Raises :class:`IllegalAnswer` for a move that is not legal there."""
    score = score_answer(fen, expected, visits, move, evaluate)
    board = chess.Board(fen)
    best = expected[0] if expected else ""
    best_san = board.san(chess.Move.from_uci(best)) if best else ""
    total = sum(float(v.get("n", 0)) for v in visits.values())
    best_share = float(visits.get(best, {}).get("n", 0)) / total if best and total > 0 else None
    return TryRating(score, _q(visits, score.answer_uci), best, best_san, best_share)
