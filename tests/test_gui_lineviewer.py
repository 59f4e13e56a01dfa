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


def test_marks_belong_to_the_start_position(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Arrows and circles drawn with the right button at the start position stay with it:
    hidden along the line, shown again back at the start, replaced by the next position's
    own (none unless given), and reported (``marksEdited``) so a screen can keep them."""
    from conceptcoach.desktop.board.lineviewer import LineViewer, mark_names, marks_of
    from conceptcoach.study.runner import line_san
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    viewer = LineViewer()
    qtbot.addWidget(viewer)
    viewer.resize(500, 600)
    viewer.show()
    qtbot.waitExposed(viewer)
    view = viewer.board.view
    given = marks_of(("f3e5",), ("e5", "c6"))
    assert given == ([(chess.F3, chess.E5)], [chess.E5, chess.C6])
    assert mark_names(*given) == (("f3e5",), ("e5", "c6"))
    viewer.set_line(FEN, LINE, line_san(FEN, LINE), marks=given)
    assert view.annotations() == ([(chess.F3, chess.E5)], [chess.E5, chess.C6])
    edited: list[bool] = []
    viewer.marksEdited.connect(lambda: edited.append(True))
    vp = view.viewport()
    pt = lambda sq: view.square_center(sq).toPoint()  # noqa: E731
    QTest.mousePress(vp, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, pt(chess.D2))
    QTest.mouseRelease(vp, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, pt(chess.D4))
    QTest.mouseClick(vp, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, pt(chess.C6))  # erased
    assert len(edited) == 2
    assert viewer.marks == ([(chess.F3, chess.E5), (chess.D2, chess.D4)], [chess.E5])
    viewer.goto(2)
    assert view.annotations() == ([], [])  # along the line: the start position's marks hidden
    QTest.mouseClick(vp, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, pt(chess.H7))
    assert len(edited) == 2 and viewer.marks[1] == [chess.E5]  # drawn along the line: not the position's
    viewer.goto(0)
    assert view.annotations() == ([(chess.F3, chess.E5), (chess.D2, chess.D4)], [chess.E5])
    # A left click (a move tried) clears the board's drawings, not the position's marks.
    QTest.mouseClick(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pt(chess.A3))
    assert view.annotations() == ([], []) and viewer.marks[1] == [chess.E5]
    viewer.set_line(FEN, LINE, line_san(FEN, LINE))  # another position: nothing carried over
    assert view.annotations() == ([], []) and viewer.marks == ([], [])
