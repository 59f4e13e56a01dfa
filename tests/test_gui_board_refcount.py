"""Regression: PySide6 6.12.0 dropped a reference to None at every Python paint override
and every QGraphicsScene.addRect, so a busy board aborted with 'none_dealloc' within
minutes (issue 14). The real board is redrawn thousands of times here; None's reference
count must not fall."""

from __future__ import annotations

import gc
import random
import sys

import chess
import pytest
from PySide6.QtGui import QImage, QPainter

pytestmark = pytest.mark.gui


def test_redrawing_the_real_board_keeps_none_alive(qtbot) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.board.view import Arrow
    from conceptcoach.desktop.board.widget import BoardWidget

    w = BoardWidget()
    qtbot.addWidget(w)
    w.resize(480, 520)
    w.show()
    qtbot.waitExposed(w)
    rng = random.Random(7)
    board = chess.Board()
    image = QImage(480, 480, QImage.Format.Format_ARGB32)
    # Objects of earlier tests freed by the collector mid-loop also release None: collect
    # them first and hold the collector off, so the count moves with the board alone.
    gc.collect()
    gc.disable()
    before = sys.getrefcount(None)
    lowest = before
    for i in range(2000):
        if board.is_game_over() or board.ply() > 60:
            board = chess.Board()
        move = rng.choice(list(board.legal_moves))
        board.push(move)
        w.view.set_board(board, last_move=move)
        targets = list(board.legal_moves)[:3]
        w.view.set_arrows([Arrow(m.from_square, m.to_square, label=f"{10 * k}%") for k, m in enumerate(targets)])
        w.view.set_heat([rng.random() for _ in range(64)] if i % 2 else None)
        w.view.set_flipped(i % 50 == 0)
        painter = QPainter(image)
        w.view.scene().render(painter)  # every item's Python paint() runs
        painter.end()
        lowest = min(lowest, sys.getrefcount(None))
    gc.enable()
    # The broken release lost about three references per redraw: 6,000 here. Other
    # threads of the app may still free a few hundred objects meanwhile.
    assert lowest >= before - 1000, f"None lost {before - lowest} references over 2,000 redraws"
