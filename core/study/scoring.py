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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

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
    if correct:
        drop = 0.0
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
