"""The one line viewer both the session and the explorer show lessons with: numbering,
arrows by share, stepping, clicking a move, leaving the line with a move of one's own,
and autoplay chained by the board's animations."""

from __future__ import annotations

import chess
import pytest

pytestmark = pytest.mark.gui

FEN = "r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - 2 3"
LINE = ["f1b5", "a7a6", "b5a4", "g8f6"]


def test_numbering_and_arrows() -> None:
    from conceptcoach.desktop.board.lineviewer import numbered, search_arrows

    assert numbered(FEN, ["Bb5", "a6", "Ba4"]) == ["3. Bb5", "a6", "4. Ba4"]
    black = chess.Board(FEN)
    black.push_uci("f1b5")
    assert numbered(black.fen(), ["a6", "Ba4", "Nf6"]) == ["3... a6", "4. Ba4", "Nf6"]
    arrows = search_arrows("f1b5", [("f1c4", 0.2), ("f1b5", 0.6), ("d2d4", 0.15), ("b1c3", 0.04), ("h2h3", 0.01)])
    assert [a.colour for a in arrows] == ["visits", "visits", "visits", "teacher"]  # the teacher's on top
    assert arrows[-1].label == "60%" and arrows[-1].width > arrows[0].width > arrows[1].width
    assert all(a.label for a in arrows)  # h2h3 (1%) left out: [c4 20%, d4 15%, c3 4%]


def test_stepping_links_tries_and_autoplay(qtbot) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.board.lineviewer import OFF_LINE, LineViewer
    from conceptcoach.study.runner import line_san

    viewer = LineViewer()
    qtbot.addWidget(viewer)
    viewer.resize(500, 600)
    viewer.show()
    viewer.pause_ms = 20
    sans = line_san(FEN, LINE)
    viewer.set_line(FEN, LINE, sans, arrows=[], heat=[0.5] * 64)
    assert viewer.line == LINE and viewer.ply == 0 and viewer.board.view._heat.values
    assert "3. Bb5" in viewer.line_label.text() and "4. Ba4" in viewer.line_label.text()
    assert not viewer.first_btn.isEnabled() and viewer.fwd_btn.isEnabled()
    # A move in the line is a link: clicking it jumps there.
    viewer.line_label.linkActivated.emit("ply:3")
    board = chess.Board(FEN)
    for uci in LINE[:3]:
        board.push_uci(uci)
    assert viewer.ply == 3 and viewer.board.board.fen() == board.fen()
    assert [(a.start, a.end) for a in viewer.board.view._arrows] == [(chess.G8, chess.F6)]  # the next move
    assert not viewer.board.view._heat.values  # heat belongs to the start position
    viewer.figurines = False
    viewer.set_figurines(True)
    assert "♗a4" in viewer.line_label.text()
    # Leaving the line with a move of one's own; Forward and Back lead back to the start.
    viewer.goto(0)
    viewer.set_try_enabled(True)
    assert viewer.board.view.interactive == {chess.WHITE}
    viewer.board.view.try_move(chess.Move.from_uci("d2d4"))
    viewer.leave_line()
    assert viewer.ply == OFF_LINE and viewer.off_line and not viewer.board.view.interactive
    assert viewer.back_btn.isEnabled() and viewer.fwd_btn.isEnabled() and not viewer.last_btn.isEnabled()
    viewer.step_back()
    assert viewer.ply == 0 and viewer.board.board.fen() == chess.Board(FEN).fen()
    # Autoplay from off the line: starts at the beginning, plays to the end, lets go.
    viewer.board.view.try_move(chess.Move.from_uci("d2d4"))
    viewer.leave_line()
    viewer.auto_btn.click()
    qtbot.waitUntil(lambda: viewer.ply == len(LINE) and not viewer.board.view.is_animating(), timeout=10_000)
    qtbot.waitUntil(lambda: not viewer.auto_btn.isChecked(), timeout=3000)
    board = chess.Board(FEN)
    for uci in LINE:
        board.push_uci(uci)
    assert viewer.board.board.fen() == board.fen()
    # A line that is only partly legal is shown up to where it stops being so.
    viewer.set_line(FEN, [*LINE, "a1a8"], line_san(FEN, [*LINE, "a1a8"]))
    assert viewer.line == LINE
    viewer.clear("Nothing here.")
    assert viewer.line == [] and viewer.line_label.text() == "Nothing here." and not viewer.auto_btn.isEnabled()
