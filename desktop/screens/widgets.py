"""Small helpers shared by the screens."""

from __future__ import annotations

from PySide6.QtWidgets import QTableWidget


def fit_table_height(table: QTableWidget, max_rows: int = 10, min_rows: int = 1) -> None:
    """Make ``table`` exactly as tall as its rows (between ``min_rows`` and ``max_rows``
    rows; it scrolls beyond), so a short table leaves no empty box on the screen."""
    rows = max(min_rows, min(table.rowCount(), max_rows))
    default = table.verticalHeader().defaultSectionSize()
    height = table.horizontalHeader().sizeHint().height() + 2 * table.frameWidth() + 2
    height += sum(table.rowHeight(i) if i < table.rowCount() else default for i in range(rows))
    table.setFixedHeight(height)
