"""Independent verification of quiz items by Stockfish, at library build time.

A lesson teaches an idea through positions where the teacher's move is right,
clearly better than the alternatives, and not obvious. For each prototype this
module asks Stockfish (multi-PV, fixed depth):

- is the teacher's move within ``margin_cp`` of the best move? Every move within the
  margin is an *accepted* answer (a player who finds one of them is right);
- is the position still open (|best eval| < ``decided_cp``)?
- is there one clearly best move (the second best ``clear_cp`` or more worse)? Such
  items are preferred for quizzes; positions with several equal moves serve learning;
- does the answer depend on the game's history (a fifty-move count near the limit, or
  the teacher valuing the position as a draw that Stockfish, seeing only the position,
  does not)? Such items are never quiz items;
- does the teacher's line hold? It is walked move by move and cut before the first
  move that loses ``line_cut_cp`` or more against the best move there.

The verdict is a plain dict stored with the prototype, so the app never needs
Stockfish at run time. Without Stockfish, items are marked ``unverified``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import chess
import chess.engine
from conceptcoach.engine.stockfish import find_stockfish, pov_cp


@dataclass(frozen=True)
class VerifyParams:
    """Every knob of the verification; recorded with each verdict."""

    depth: int = 16
    line_depth: int = 12
    multipv: int = 5
    margin_cp: int = 30
    decided_cp: int = 400
    clear_cp: int = 100
    line_cut_cp: int = 150
    fifty_move_limit: int = 80  # halfmove clock from which the fifty-move rule can decide the answer
    draw_value: float = 0.02  # a teacher value this close to 0 while Stockfish sees an edge: history at play
    draw_edge_cp: int = 150
    hash_mb: int = 64

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Verdict:
    """What Stockfish says of one item."""

    status: str  # "verified", "rejected" or "unverified"
    reasons: list[str] = field(default_factory=list)
    best_move: str | None = None
    best_cp: int | None = None
    teacher_cp: int | None = None
    loss_cp: int | None = None
    #: Moves within the margin of the best, with their evals (side to move, centipawns).
    accepted: dict[str, int] = field(default_factory=dict)
    #: Every move Stockfish searched, with its eval (partial credit for near misses).
    evals: dict[str, int] = field(default_factory=dict)
    clear: bool = False
    decided: bool = False
    history_dependent: bool = False
    line: list[str] = field(default_factory=list)  # the teacher's line, cut where it goes wrong
    line_cut_at: int | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def quiz_item(self) -> bool:
        """Fit for a pre- or post-test: verified, open, no history involved."""
        return self.status == "verified" and not self.decided and not self.history_dependent

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["quiz_item"] = self.quiz_item
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def unverified(reason: str) -> Verdict:
    return Verdict(status="unverified", reasons=[reason])


class Verifier:
    """A Stockfish process that verifies items; use as a context manager."""

    def __init__(self, params: VerifyParams | None = None, engine_path: str | None = None) -> None:
        self.params = params or VerifyParams()
        path = find_stockfish(engine_path)
        if path is None:
            raise FileNotFoundError("Stockfish not found (install the Debian package 'stockfish'); "
                                    "items stay unverified")
        self.engine_path = path
        self.engine = chess.engine.SimpleEngine.popen_uci(path)
        self.engine.configure({"Threads": 1, "Hash": self.params.hash_mb})

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(chess.engine.EngineError, OSError):  # already gone
            self.engine.quit()

    def _multipv(self, board: chess.Board, depth: int, multipv: int) -> list[tuple[str, int]]:
        infos = self.engine.analyse(board, chess.engine.Limit(depth=depth), multipv=multipv, game=object())
        out = []
        for info in infos:
            pv = info.get("pv")
            if pv:
                out.append((pv[0].uci(), pov_cp(info["score"], board.turn)))
        return out

    def _move_eval(self, board: chess.Board, move: chess.Move, depth: int) -> int:
        """The eval of ``move`` for the side to move (Stockfish restricted to that move)."""
        info = self.engine.analyse(board, chess.engine.Limit(depth=depth), root_moves=[move], game=object())
        return pov_cp(info["score"], board.turn)

    def verify(self, fen: str, teacher_move: str, line: Sequence[str] = (),
               teacher_value: float | None = None) -> Verdict:
        """The verdict on one item: the teacher's move and line from ``fen``, and its value
        (side to move) when known, which reveals draws the position alone does not show."""
        p = self.params
        board = chess.Board(fen)
        try:
            move = chess.Move.from_uci(teacher_move)
        except ValueError:
            return Verdict(status="rejected", reasons=[f"teacher's move {teacher_move!r} is not a move"],
                           params=p.to_dict())
        if move not in board.legal_moves:
            return Verdict(status="rejected", reasons=[f"teacher's move {teacher_move} is illegal here"],
                           params=p.to_dict())
        top = self._multipv(board, p.depth, min(p.multipv, board.legal_moves.count()))
        evals = dict(top)
        if teacher_move not in evals:
            evals[teacher_move] = self._move_eval(board, move, p.depth)
        best_move, best_cp = max(evals.items(), key=lambda kv: kv[1])
        teacher_cp = evals[teacher_move]
        loss = best_cp - teacher_cp
        accepted = {m: cp for m, cp in evals.items() if best_cp - cp <= p.margin_cp}
        ranked = sorted(evals.values(), reverse=True)
        # Clear: one move stands out, and it is the teacher's (only searched moves count;
        # multi-PV covers the strongest alternatives).
        clear = len(accepted) == 1 and teacher_move in accepted and (
            len(ranked) < 2 or ranked[0] - ranked[1] >= p.clear_cp)
        decided = abs(best_cp) >= p.decided_cp
        reasons: list[str] = []
        history_dependent = board.halfmove_clock >= p.fifty_move_limit
        if history_dependent:
            reasons.append(f"fifty-move count {board.halfmove_clock}: the answer depends on the game's history")
        if teacher_value is not None and abs(teacher_value) <= p.draw_value and abs(best_cp) >= p.draw_edge_cp:
            history_dependent = True
            reasons.append(f"the teacher values it {teacher_value:+.2f} (a draw by repetition in its game?) while "
                           f"Stockfish sees {best_cp:+d} cp from the position alone")
        if loss > p.margin_cp:
            reasons.append(f"teacher's move loses {loss} cp against {board.san(chess.Move.from_uci(best_move))}")
        if decided:
            reasons.append(f"already decided (Stockfish {best_cp:+d} cp)")
        full = list(line) if list(line[:1]) == [teacher_move] else [teacher_move, *line]
        kept, cut_at = self.check_line(board, full)
        status = "verified" if loss <= p.margin_cp else "rejected"
        return Verdict(status=status, reasons=reasons, best_move=best_move, best_cp=best_cp, teacher_cp=teacher_cp,
                       loss_cp=loss, accepted=accepted, evals=evals, clear=clear, decided=decided,
                       history_dependent=history_dependent, line=kept, line_cut_at=cut_at, params=p.to_dict())

    def check_line(self, board: chess.Board, line: Sequence[str]) -> tuple[list[str], int | None]:
        """The line up to (not including) the first move that loses ``line_cut_cp`` or more
        against the best move there, and the index of that move (None if it holds)."""
        p = self.params
        b = board.copy(stack=False)
        kept: list[str] = []
        for i, uci in enumerate(line):
            try:
                move = chess.Move.from_uci(uci)
            except ValueError:
                return kept, i
            if move not in b.legal_moves:
                return kept, i
            if i > 0:  # the first move is the item's answer, judged above
                top = self._multipv(b, p.line_depth, 1)
                best = top[0][1] if top else 0
                played = best if top and top[0][0] == uci else self._move_eval(b, move, p.line_depth)
                if best - played >= p.line_cut_cp:
                    return kept, i
            kept.append(uci)
            b.push(move)
            if b.is_game_over():
                break
        return kept, None


#: One item to verify, as it travels to a worker: FEN, teacher's move, line, value.
VerifyItem = tuple[str, str, tuple[str, ...], "float | None"]


def verify_items(params: VerifyParams, items: Sequence[VerifyItem]) -> list[dict[str, Any]]:
    """One task of the verify stage: a few items on one Stockfish process of the worker
    (every search starts a new game, so a verdict does not depend on the items beside it)."""
    with Verifier(params) as verifier:
        return [verifier.verify(fen, move, line, value).to_dict() for fen, move, line, value in items]
