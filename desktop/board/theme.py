"""Board colour themes and the shared piece renderer (one QSvgRenderer for every piece)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conceptcoach.paths import assets_dir
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter
from PySide6.QtSvg import QSvgRenderer


@dataclass(frozen=True)
class BoardTheme:
    name: str
    light: str
    dark: str
    last_move: str  # translucent overlay on the from/to squares
    selected: str
    dot: str
    check: str

    def qcolor(self, field: str) -> QColor:
        return rgba(getattr(self, field))


def rgba(text: str) -> QColor:
    """'#rrggbb' or CSS-style '#rrggbbaa' (Qt itself reads 8 hex digits as #aarrggbb)."""
    if text.startswith("#") and len(text) == 9:
        colour = QColor(text[:7])
        colour.setAlpha(int(text[7:], 16))
        return colour
    return QColor(text)


THEMES: dict[str, BoardTheme] = {
    "wood": BoardTheme("wood", "#f0d9b5", "#b58863", "#9bc70066", "#14551e80", "#14551e66", "#e0282880"),
    "green": BoardTheme("green", "#eeeed2", "#769656", "#f6f66988", "#baca2b99", "#00000040", "#e0282880"),
    "blue": BoardTheme("blue", "#dee3e6", "#8ca2ad", "#9bc70066", "#14551e80", "#14551e66", "#e0282880"),
    "grey": BoardTheme("grey", "#d9d9d9", "#8f8f8f", "#f6f66988", "#5b8bd080", "#00000040", "#e0282880"),
}
DEFAULT_THEME = "wood"


def theme(name: str) -> BoardTheme:
    return THEMES.get(name, THEMES[DEFAULT_THEME])


def pieces_svg() -> Path:
    return assets_dir() / "pieces" / "pieces.svg"


class PieceSet:
    """One QSvgRenderer shared by every piece item of a board (and by choosers, icons)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or pieces_svg()
        self.renderer = QSvgRenderer(str(self.path))
        # Piece size relative to the square (the "piece size" setting); shared by every board.
        self.scale = 1.0
        if not self.renderer.isValid():
            raise FileNotFoundError(
                f"the piece set {self.path} is missing or unreadable; reinstall Concept Coach "
                "or set CONCEPTCOACH_ASSETS to the assets folder"
            )

    def paint(self, painter: QPainter, element: str, rect: QRectF) -> None:
        """Paint piece ``element`` ('wK', 'bP'...) into the square ``rect``.

        QSvgRenderer.render(painter, id, rect) stretches the element's own bounding box
        to the rect, which would make a pawn as tall as a king; instead each piece keeps
        its place inside its 45x45 cell of the sheet.
        """
        bounds = self.renderer.boundsOnElement(element)
        if bounds.isEmpty():
            return
        if self.scale != 1.0:
            inset = rect.width() * (1.0 - self.scale) / 2
            rect = rect.adjusted(inset, inset * 1.4, -inset, -inset * 0.6)  # keep pieces standing low
        cell = 45.0
        col = int(bounds.center().x() // cell)
        row = int(bounds.center().y() // cell)
        scale = rect.width() / cell
        target = QRectF(
            rect.x() + (bounds.x() - col * cell) * scale,
            rect.y() + (bounds.y() - row * cell) * scale,
            bounds.width() * scale,
            bounds.height() * scale,
        )
        self.renderer.render(painter, element, target)


def element_id(symbol: str) -> str:
    """'K' -> 'wK', 'q' -> 'bQ' (python-chess symbols to SVG element ids)."""
    return ("w" if symbol.isupper() else "b") + symbol.upper()
