"""Small helpers shared by the screens: headings, banners, counted nouns, natural sort,
table heights, and redrawing a screen when what it shows changed."""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QFrame, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

_DIGITS = re.compile(r"(\d+)")


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """'1 game', '2 games' ('1 match', '2 matches' with ``nouns``)."""
    return f"{n} {noun if n == 1 else (nouns or noun + 's')}"


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders numbers by value: 'Plan 9' before 'Plan 38', case ignored.

    >>> sorted(["Plan 38", "plan 9", "Plan 10b"], key=natural_key)
    ['plan 9', 'Plan 10b', 'Plan 38']
    """
    return tuple((0, int(part)) if part.isdigit() else (1, part.casefold())
                 for part in _DIGITS.split(text) if part)


class NaturalItem(QTableWidgetItem):
    """A table cell that sorts its text naturally (see :func:`natural_key`)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.key = natural_key(text)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        if isinstance(other, NaturalItem):
            return self.key < other.key
        return super().__lt__(other)


def heading(text: str, level: int = 1) -> QLabel:
    label = QLabel(text)
    f = label.font()
    f.setPointSizeF(f.pointSizeF() * (1.6 if level == 1 else 1.15))
    f.setBold(True)
    label.setFont(f)
    return label


class Banner(QFrame):
    """A coloured message line ('info', 'warn', 'error', 'empty'); hidden when empty."""

    COLOURS = {"info": ("#e8f1fb", "#1f5f99"), "warn": ("#fff6e0", "#8a5a00"),
               "error": ("#fdecea", "#a1261b"), "empty": ("#f4f4f4", "#555555")}

    def __init__(self, kind: str = "info", text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 6, 12, 6)
        lay.addWidget(self.label)
        self.set(kind, text)

    def set(self, kind: str, text: str) -> None:
        bg, fg = self.COLOURS.get(kind, self.COLOURS["info"])
        self.setStyleSheet(f"Banner {{ background: {bg}; border: 1px solid {fg}; border-radius: 6px; }}"
                           f" QLabel {{ color: {fg}; }}")
        self.label.setText(text)
        self.setVisible(bool(text))

    def text(self) -> str:
        return self.label.text()


def fit_table_height(table: QTableWidget, max_rows: int = 10, min_rows: int = 1) -> None:
    """Make ``table`` exactly as tall as its rows (between ``min_rows`` and ``max_rows``
    rows; it scrolls beyond), so a short table leaves no empty box on the screen."""
    rows = max(min_rows, min(table.rowCount(), max_rows))
    default = table.verticalHeader().defaultSectionSize()
    height = table.horizontalHeader().sizeHint().height() + 2 * table.frameWidth() + 2
    height += sum(table.rowHeight(i) if i < table.rowCount() else default for i in range(rows))
    table.setFixedHeight(height)


class Redraw(QObject):
    """Redraws a screen when what it shows changed: at once when the screen is visible,
    else the first time it is shown again (hidden screens cost the store nothing).

    ``Redraw(screen, screen.refresh)``; call :meth:`needed` from the screen's
    ``on_changes`` when a change concerns it."""

    def __init__(self, screen: QWidget, redraw: Callable[[], None]) -> None:
        super().__init__(screen)
        self.screen = screen
        self.redraw = redraw
        self.pending = False
        screen.installEventFilter(self)

    def needed(self) -> None:
        if self.screen.isVisible():
            self.pending = False
            self.redraw()
        else:
            self.pending = True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.screen and self.pending and event.type() == QEvent.Type.Show:
            self.pending = False
            self.redraw()
        return False
