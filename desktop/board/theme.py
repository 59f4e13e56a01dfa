"""Board colour themes and the shared piece renderer (one QSvgRenderer for every piece)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conceptcoach.paths import assets_dir
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap
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

    def __init__(self, path: Path | None = None, scale: float = 1.0) -> None:
        self.path = path or pieces_svg()
        # Piece size relative to the default (0.9 of a square); the settings' piece size.
        self.scale = scale
        self._cache: dict[tuple[str, int], QPixmap] = {}
        self.renderer = QSvgRenderer(str(self.path))
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


def _pixmap(self: PieceSet, element: str, px: int) -> QPixmap:
    """Piece ``element`` rendered once into a transparent ``px`` x ``px`` pixmap (cached:
    painting SVG paths for every piece on every repaint is slow at 4K)."""
    key = (element, px)
    cached = self._cache.get(key)
    if cached is None:
        cached = QPixmap(px, px)
        cached.fill(Qt.GlobalColor.transparent)
        painter = QPainter(cached)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.paint(painter, element, QRectF(0, 0, px, px))
        painter.end()
        self._cache[key] = cached
    return cached


# Added beside the class (not inside it) so that the board's author can still edit the class body.
PieceSet.pixmap = _pixmap  # type: ignore[attr-defined]


def element_id(symbol: str) -> str:
    """'K' -> 'wK', 'q' -> 'bQ' (python-chess symbols to SVG element ids)."""
    return ("w" if symbol.isupper() else "b") + symbol.upper()
