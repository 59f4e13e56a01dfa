"""The board through real mouse events on its viewport: legal moves, refusals, promotion."""

from __future__ import annotations

import chess
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

pytestmark = pytest.mark.gui


@pytest.fixture
def board(qtbot):  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.board.widget import BoardWidget

    w = BoardWidget()
    qtbot.addWidget(w)
    w.resize(480, 520)
    w.show()
    qtbot.waitExposed(w)
    return w


def _pt(w, square: int) -> QPoint:  # type: ignore[no-untyped-def]
    return w.view.square_center(square).toPoint()


def drag(w, a: int, b: int) -> None:  # type: ignore[no-untyped-def]
    vp = w.view.viewport()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _pt(w, a))
    mid = (_pt(w, a) + _pt(w, b)) / 2
    QTest.mouseMove(vp, mid)
    QTest.mouseMove(vp, _pt(w, b))
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _pt(w, b))


def click(w, square: int, button=Qt.MouseButton.LeftButton) -> None:  # type: ignore[no-untyped-def]
    QTest.mouseClick(w.view.viewport(), button, Qt.KeyboardModifier.NoModifier, _pt(w, square))


def test_drag_legal_move_emits_once(board, qtbot) -> None:  # type: ignore[no-untyped-def]
    moves: list[str] = []
    board.moveMade.connect(moves.append)
    drag(board, chess.E2, chess.E4)
    assert moves == ["e2e4"]
    assert board.board.piece_at(chess.E4) == chess.Piece(chess.PAWN, chess.WHITE)
    assert board.view.last_move == chess.Move.from_uci("e2e4")


def test_illegal_drop_refused(board) -> None:  # type: ignore[no-untyped-def]
    moves: list[str] = []
    board.moveMade.connect(moves.append)
    fen = board.board.fen()
    drag(board, chess.E2, chess.E5)  # three squares: illegal
    drag(board, chess.E7, chess.E5)  # black piece on white's turn
    drag(board, chess.G1, chess.G3)
    assert moves == []
    assert board.board.fen() == fen
    # The pawn went back to its square in the scene.
    item = board.view._pieces_at[chess.E2]
    from conceptcoach.desktop.board.view import square_rect

    assert item.pos() == square_rect(chess.E2, False).topLeft()
    assert chess.E2 in board.view._pieces_at and chess.E5 not in board.view._pieces_at


def test_click_click_and_flip(board) -> None:  # type: ignore[no-untyped-def]
    moves: list[str] = []
    board.moveMade.connect(moves.append)
    click(board, chess.G1)
    assert board.view._dots, "legal-move dots shown for the selected knight"
    click(board, chess.F3)
    board.view.flip()
    drag(board, chess.D7, chess.D5)
    assert moves == ["g1f3", "d7d5"]


def test_promotion_by_mouse(board) -> None:  # type: ignore[no-untyped-def]
    board.set_board(chess.Board("8/1P4k1/8/8/8/8/6K1/8 w - - 0 1"))
    moves: list[str] = []
    board.moveMade.connect(moves.append)
    drag(board, chess.B7, chess.B8)
    assert moves == [] and board.view.promotion_pending()
    # The chooser lists queen, rook, bishop, knight downwards from b8: pick the knight.
    click(board, chess.B5)
    assert moves == ["b7b8n"]
    assert board.board.piece_at(chess.B8) == chess.Piece(chess.KNIGHT, chess.WHITE)


def test_promotion_cancel_keeps_pawn(board) -> None:  # type: ignore[no-untyped-def]
    board.set_board(chess.Board("8/1P4k1/8/8/8/8/6K1/8 w - - 0 1"))
    drag(board, chess.B7, chess.B8)
    click(board, chess.H1)
    assert not board.view.promotion_pending()
    assert board.board.piece_at(chess.B7) is not None and board.board.turn == chess.WHITE


def test_san_entry_and_read_only(board, qtbot) -> None:  # type: ignore[no-untyped-def]
    moves: list[str] = []
    board.moveMade.connect(moves.append)
    qtbot.keyClicks(board.entry, "Nf3")
    qtbot.keyClick(board.entry, Qt.Key.Key_Return)
    qtbot.keyClicks(board.entry, "Qxh7")
    qtbot.keyClick(board.entry, Qt.Key.Key_Return)
    assert "not a legal move" in board.message.text()
    board.set_interactive([chess.WHITE])  # black to move, only white may be moved by hand
    drag(board, chess.E7, chess.E5)
    assert moves == ["g1f3"]


def test_right_button_arrows_marks_and_animation(board, qtbot) -> None:  # type: ignore[no-untyped-def]
    vp = board.view.viewport()
    QTest.mousePress(vp, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, _pt(board, chess.E2))
    QTest.mouseRelease(vp, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, _pt(board, chess.E4))
    click(board, chess.D4, Qt.MouseButton.RightButton)
    assert [(a.start, a.end) for a in board.view.user_arrows] == [(chess.E2, chess.E4)]
    assert board.view.marked_squares() == [chess.D4]
    done: list[bool] = []
    board.view.animationsFinished.connect(lambda: done.append(True))
    for uci in ("e2e4", "e7e5", "g1f3"):
        board.view.play(uci)
    qtbot.waitUntil(lambda: bool(done), timeout=3000)
    assert board.board.fen().startswith("rnbqkbnr/pppp1ppp/8/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R b")
    assert board.view._pieces_at[chess.F3].symbol == "N"


def test_moves_without_animation_and_piece_scale(board, qtbot) -> None:  # type: ignore[no-untyped-def]
    done: list[bool] = []
    board.view.animation_ms = 0
    board.view.animationsFinished.connect(lambda: done.append(True))
    board.view.play("d2d4")
    board.view.play("d7d5")
    qtbot.waitUntil(lambda: bool(done) and not board.view.is_animating(), timeout=2000)
    assert board.board.fen().startswith("rnbqkbnr/ppp1pppp/8/3p4/3P4/8/PPP1PPPP/RNBQKBNR w")
    def render(scale: float):  # type: ignore[no-untyped-def]
        board.view.pieces.scale = scale
        for item in board.view.scene().items():
            item.update()  # items cache their pixels; the app repaints them after a change
        return board.view.grab().toImage()

    small, big = render(0.82), render(1.0)
    assert small != big  # the size setting reaches the painted pieces


def test_drag_outlines_legal_targets_only(board) -> None:  # type: ignore[no-untyped-def]
    vp = board.view.viewport()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _pt(board, chess.G1))
    QTest.mouseMove(vp, _pt(board, chess.G2))
    QTest.mouseMove(vp, _pt(board, chess.F3))
    assert board.view._hover is not None and board.view._hover.isVisible()
    QTest.mouseMove(vp, _pt(board, chess.G3))  # not a knight move
    assert not board.view._hover.isVisible()
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _pt(board, chess.G3))
    assert board.board.piece_at(chess.G1) is not None and not board.view._hover.isVisible()


def test_arrow_labels_sit_off_the_pieces_and_apart() -> None:
    from conceptcoach.desktop.board.view import SQ, arrow_points, label_anchor, square_rect
    from PySide6.QtCore import QPointF

    def centre(name: str) -> QPointF:
        return square_rect(chess.parse_square(name), False).center()

    # b6-b4 over a piece on b5: the midpoint is b5's centre; the label moves to a square edge.
    at = label_anchor([centre("b6"), centre("b4")], [centre("b6"), centre("b5")], [])
    d = min(abs(at.y() - centre("b5").y()), abs(at.y() - centre("b6").y()))
    assert d >= SQ * 0.45
    # Nothing in the way: the midpoint.
    free = label_anchor([centre("a1"), centre("a5")], [centre("a1")], [])
    assert abs(free.y() - (centre("a1").y() + centre("a5").y()) / 2) < 1e-6
    # A second arrow along the same line does not put its label on the first one.
    again = label_anchor([centre("a1"), centre("a5")], [centre("a1")], [free])
    assert abs(again.y() - free.y()) >= SQ * 0.5
    # A knight arrow's label sits on its bent path (c6-a6-a5), not on the straight chord.
    bent = arrow_points(centre("c6"), centre("a5"), knight=True)
    assert len(bent) == 3 and bent[1] == QPointF(centre("a5").x(), centre("c6").y())
    on = label_anchor(bent, [centre("c6")], [])
    assert abs(on.y() - centre("c6").y()) < 1e-6 or abs(on.x() - centre("a5").x()) < 1e-6
