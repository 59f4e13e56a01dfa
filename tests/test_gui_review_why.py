"""Review page: why a position was chosen (SessionItem.why) is shown under its figures."""

from __future__ import annotations

import chess
from conceptcoach.desktop.screens.session.review import ReviewPage
from conceptcoach.study.review import ReviewedPosition


def _pos(item_id: int) -> ReviewedPosition:
    board = chess.Board()
    return ReviewedPosition(
        item_id=item_id, phase="pre", number=item_id, phase_size=2, concept_id=1, concept_name="Forks",
        is_control=False, fen=board.fen(), teacher_uci="e2e4", teacher_san="e4", accepted=("e2e4",),
        accepted_san=("e4",), answered=True, answer_uci="e2e4", answer_san="e4", correct=True, response_ms=1200,
        moves=(), line_uci=("e2e4",), line_san=("e4",), engine=None)


def test_why_under_the_figures_when_given(qtbot) -> None:  # type: ignore[no-untyped-def]
    page = ReviewPage(workers=None)  # type: ignore[arg-type]  # nothing is loaded through them here
    qtbot.addWidget(page)
    page.show()
    page.session_id = 7
    why = "found by 34% of players rated 1500 (Maia): suited to the rating"
    page._loaded(7, [_pos(1), _pos(2)], None, {1: why})
    assert page.why.isVisible() and why in page.why.text()
    page.go(1)
    assert not page.why.isVisible() and page.why.text() == ""
    page.go(0)
    assert why in page.why.text()
