"""The board with its SAN entry field: the widget screens embed."""

from __future__ import annotations

import chess
from conceptcoach.desktop.board.theme import PieceSet
from conceptcoach.desktop.board.view import Arrow, BoardView
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QSizePolicy, QVBoxLayout, QWidget

FIGURINES = {"K": "♔", "Q": "♕", "R": "♖", "B": "♗", "N": "♘"}


def figurine(san: str) -> str:
    """SAN with figurines for pieces ('Nf3' -> '♘f3'); promotions keep their letter after '='."""
    if not san or san[0] not in FIGURINES:
        return san
    return FIGURINES[san[0]] + san[1:]


def from_figurine(text: str) -> str:
    for letter, fig in FIGURINES.items():
        text = text.replace(fig, letter).replace(chr(ord(fig) + 6), letter)  # white or black glyphs
    return text


class BoardWidget(QWidget):
    """A BoardView plus a field where a move can be typed in SAN (or figurine SAN, or UCI)."""

    moveMade = Signal(str)

    def __init__(self, pieces: PieceSet | None = None, parent: QWidget | None = None, san_entry: bool = True) -> None:
        super().__init__(parent)
        self.view = BoardView(pieces, self)
        self.view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.view.moveMade.connect(self.moveMade)
        self.entry = QLineEdit(self)
        self.entry.setPlaceholderText("Type a move (e.g. Nf3, exd5, O-O) and press Enter")
        self.entry.setAccessibleName("Move entry")
        self.entry.returnPressed.connect(self._typed)
        self.message = QLabel(self)
        self.message.setStyleSheet("color: #b00020;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        row = QHBoxLayout()
        row.addWidget(self.entry, 1)
        row.addWidget(self.message)
        layout.addLayout(row)
        self.entry.setVisible(san_entry)
        self.message.setVisible(san_entry)

    # Convenience pass-throughs so screens talk to one object.
    @property
    def board(self) -> chess.Board:
        return self.view.board

    def set_board(self, board: chess.Board, last_move: chess.Move | None = None) -> None:
        self.view.set_board(board, last_move)
        self.message.clear()

    def set_fen(self, fen: str) -> None:
        self.view.set_fen(fen)

    def set_arrows(self, arrows: list[Arrow]) -> None:
        self.view.set_arrows(arrows)

    def set_heat(self, values: list[float] | None) -> None:
        self.view.set_heat(values)

    def set_interactive(self, colours: list[bool] | None) -> None:
        self.view.set_interactive(colours)
        self.entry.setEnabled(bool(colours))

    def _typed(self) -> None:
        text = from_figurine(self.entry.text().strip())
        if not text:
            return
        board = self.view.board
        try:
            move = board.parse_san(text)
        except ValueError:
            try:
                move = chess.Move.from_uci(text.lower())
            except ValueError:
                move = chess.Move.null()
        if move not in board.legal_moves:
            self.message.setText(f"'{self.entry.text().strip()}' is not a legal move here")
            return
        if not self.view.try_move(move):
            self.message.setText("It is not your move")
            return
        self.message.clear()
        self.entry.clear()

    def sizeHint(self):  # type: ignore[no-untyped-def]
        from PySide6.QtCore import QSize

        return QSize(560, 600)


__all__ = ["Arrow", "BoardView", "BoardWidget", "figurine", "from_figurine", "Qt"]
