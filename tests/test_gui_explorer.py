"""The concept explorer and the plots, driven offscreen: filters, the card, prototypes
on the board with the teacher's line, and curation written to a real store."""

from __future__ import annotations

from pathlib import Path

import chess
import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """The pictures these tests take (of test fixtures) go to a temporary folder, even under
    `make screenshots`: docs/screenshots/ shows the real app on the bundled library
    (tests/test_gui_screenshots.py)."""
    return tmp_path

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def library_store(tmp_path: Path, curated_library) -> tuple[Path, list[int]]:  # type: ignore[no-untyped-def]
    from conceptcoach.store.db import open_store

    path = tmp_path / "store.sqlite"
    db = open_store(path)
    ids = curated_library.build(db)
    db.conn.close()
    return path, ids


@pytest.fixture
def workers_for(qtbot):  # type: ignore[no-untyped-def]
    made = []

    def make(path: Path):  # type: ignore[no-untyped-def]
        from conceptcoach.desktop.workers import Workers
        from conceptcoach.store.db import open_store

        w = Workers(lambda: open_store(path))
        made.append(w)
        return w

    yield make
    for w in made:
        w.shutdown()


@pytest.fixture
def stall(qtbot):  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.workers import StallMonitor

    m = StallMonitor()
    yield m
    m.stop()
    assert not m.stalls, f"the GUI thread was blocked: {m.stalls}"


def _explorer(qtbot, workers, size: tuple[int, int] = (1366, 720)):  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.board.theme import PieceSet
    from conceptcoach.desktop.screens.explorer import ConceptExplorer

    ex = ConceptExplorer(workers, PieceSet())
    qtbot.addWidget(ex)
    ex.resize(*size)
    ex.show()
    return ex


def _store_concepts(path: Path):  # type: ignore[no-untyped-def]
    from conceptcoach.store.concepts import list_concepts
    from conceptcoach.store.db import open_store

    db = open_store(path)
    try:
        return {c.id: c for c in list_concepts(db, include_hidden=True)}
    finally:
        db.conn.close()


def _answer_dialog(monkeypatch, answer):  # type: ignore[no-untyped-def]
    """Answer the next QMessageBox.question with ``answer``; returns the questions asked."""
    from PySide6.QtWidgets import QMessageBox

    asked: list[str] = []

    def question(_parent, title, text, *_args):  # type: ignore[no-untyped-def]
        asked.append(f"{title} {text}")
        return answer

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


def test_explorer_filters_card_and_curation(qtbot, library_store, workers_for, stall, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    path, ids = library_store
    workers = workers_for(path)
    ex = _explorer(qtbot, workers)
    ex.grab()  # the first paint loads fonts and the piece set once; watch the GUI after that
    stall.start()
    ex.refresh()
    qtbot.waitUntil(lambda: ex.card.concept is not None, timeout=10_000)
    assert ex.table.rowCount() == 4
    assert {ex.layer.itemText(i) for i in range(ex.layer.count())} == {"Any", "block2", "block5"}

    # Filters: novelty, teachability, layer.
    ex.novel.setCurrentText("novel")
    assert ex.table.rowCount() == 2
    ex.novel.setCurrentText("Any")
    ex.teachable.setCurrentText("not teachable")
    assert [ex.table.item(i, 0).text() for i in range(ex.table.rowCount())] == ["Knight rerouting (not teachable)"]
    ex.teachable.setCurrentText("Any")
    ex.layer.setCurrentText("block5")
    assert ex.table.rowCount() == 2
    # A filter that excludes every concept leaves no card of a concept it excluded.
    ex.search.setText("zzz")
    assert ex.list_stack.currentWidget() is ex.list_message
    assert "No concept matches" in ex.list_message.text()
    assert ex.card_stack.currentWidget() is ex.card_message and "No concept matches" in ex.card_message.text()
    ex.search.clear()
    ex.layer.setCurrentText("Any")
    qtbot.waitUntil(lambda: ex.card_stack.currentWidget() is ex.card, timeout=5000)

    # The card: a novel concept, its plots and its first prototype with the teacher's arrow.
    names = [ex.table.item(i, 0).text() for i in range(ex.table.rowCount())]
    assert names == sorted(names)  # by name, A to Z
    ex.table.selectRow(names.index("Queenside space before castling"))
    qtbot.waitUntil(lambda: not ex.loading and ex.card.concept.id == ex.current_id(), timeout=5000)
    card = ex.card
    proto = card.prototypes[0]
    arrows = card.viewer.board.view._arrows
    best = chess.Move.from_uci(proto.best_move)
    assert any(a.start == best.from_square and a.end == best.to_square and a.colour == "teacher" for a in arrows)
    assert any(a.colour == "visits" for a in arrows)
    assert card.teach._bars and card.novelty._series
    # The whole stored line, numbered, in the viewer; step through it and back.
    assert card.viewer.line == list(proto.line) and len(proto.line) == 6
    assert card.viewer.line_label.text().count("<a href") == 6
    start_fen = card.viewer.board.board.fen()
    card.viewer.step_forward()
    qtbot.waitUntil(lambda: not card.viewer.board.view.is_animating(), timeout=3000)
    after = chess.Board(proto.fen)
    after.push(chess.Move.from_uci(proto.line[0]))
    assert card.viewer.board.board.fen() == after.fen() and card.viewer.ply == 1
    card.viewer.step_back()
    assert card.viewer.board.board.fen() == start_fen
    # Autoplay runs the whole line by itself, then lets go of the button.
    card.viewer.pause_ms = 20
    card.viewer.auto_btn.click()
    n = len(card.viewer.line)
    qtbot.waitUntil(lambda: card.viewer.ply == n and not card.viewer.board.view.is_animating()
                    and not card.viewer.auto_btn.isChecked(), timeout=15_000)

    # Curation lands in the store.
    cid = card.concept.id
    card.name.setText("Space on the queenside")
    card.annotation.setPlainText("Play c4-b4 before castling.")
    card.save.click()
    qtbot.waitUntil(lambda: card.status.text() == "Saved.", timeout=5000)
    stored = _store_concepts(path)[cid]
    assert (stored.name, stored.annotation) == ("Space on the queenside", "Play c4-b4 before castling.")

    # Dropping a prototype asks first; cancelling keeps it.
    before = card.concept.prototype_count
    dropped = card.prototypes[card.index].id
    asked = _answer_dialog(monkeypatch, QMessageBox.StandardButton.Cancel)
    card.drop.click()
    qtbot.wait(300)
    assert len(asked) == 1 and "Drop this prototype" in asked[0]
    assert len(card.prototypes) == before and _store_concepts(path)[cid].prototype_count == before
    # Confirmed, it goes; Undo takes it back.
    _answer_dialog(monkeypatch, QMessageBox.StandardButton.Yes)
    card.drop.click()
    qtbot.waitUntil(lambda: len(card.prototypes) == before - 1, timeout=5000)
    assert dropped not in {p.id for p in card.prototypes}
    assert _store_concepts(path)[cid].prototype_count == before - 1
    assert card.undo.isVisible()
    card.undo.click()
    qtbot.waitUntil(lambda: len(card.prototypes) == before, timeout=5000)
    assert _store_concepts(path)[cid].prototype_count == before and not card.undo.isVisible()

    card.hide_button.click()
    qtbot.waitUntil(lambda: ex.table.rowCount() == 3, timeout=5000)
    assert _store_concepts(path)[cid].hidden
    ex.show_hidden.setChecked(True)
    assert ex.table.rowCount() == 4


def test_explorer_sorts_names_naturally(qtbot, tmp_path: Path, curated_library, workers_for) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.store.db import open_store

    path = tmp_path / "plans.sqlite"
    db = open_store(path)
    curated_library.build(db, per_concept=2, names=("Plan 38...Nxc4 (block5)", "Plan 9...Bxh3 (block3)",
                                                    "plan 100", "Plan 9...a5 (block2)"))
    db.conn.close()
    ex = _explorer(qtbot, workers_for(path))
    ex.refresh()
    qtbot.waitUntil(lambda: ex.card.concept is not None, timeout=10_000)
    names = [ex.table.item(i, 0).text() for i in range(ex.table.rowCount())]
    assert names == ["Plan 9...a5 (block2)", "Plan 9...Bxh3 (block3)", "Plan 38...Nxc4 (block5)", "plan 100"]
    # Narrow, long names keep their ends (where repeats differ): elided in the middle.
    assert ex.table.textElideMode() == Qt.TextElideMode.ElideMiddle


def test_card_fits_a_small_window(qtbot, library_store, workers_for, screenshots) -> None:  # type: ignore[no-untyped-def]
    """At 1024x700 (the explorer's share of it) nothing on the card is cut: the card becomes
    one column that scrolls vertically only, every button and label has its full size."""
    path, _ids = library_store
    ex = _explorer(qtbot, workers_for(path), size=(1024 - 150, 700 - 30))
    ex.refresh()
    qtbot.waitUntil(lambda: ex.card.concept is not None and not ex.loading, timeout=10_000)
    ex.table.selectRow(1)
    qtbot.waitUntil(lambda: not ex.loading and ex.card.concept.id == ex.current_id(), timeout=5000)
    qtbot.wait(100)
    card = ex.card
    assert not card.two_columns
    assert card.scroller.horizontalScrollBar().maximum() == 0
    assert card.body.width() <= card.scroller.viewport().width()
    for w in (card.save, card.prev_proto, card.next_proto, card.drop, card.hide_button, card.viewer.auto_btn):
        assert w.width() >= w.sizeHint().width(), w.text()
    for label in (card.proto_label, card.value, card.caption, card.facts):
        assert label.width() >= label.minimumSizeHint().width()
        assert label.height() >= label.heightForWidth(label.width()), label.text()
    # The board, its line and its buttons are in view together without scrolling.
    vp = card.scroller.viewport()
    bottom = card.viewer.controls.mapTo(vp, card.viewer.controls.rect().bottomRight()).y()
    assert bottom <= vp.height()
    assert ex.grab().save(str(screenshots / "explorer_1024x700.png"))
    ex.resize(1366 - 150, 768 - 30)
    qtbot.waitUntil(lambda: card.two_columns, timeout=3000)
    qtbot.wait(100)
    assert card.scroller.verticalScrollBar().maximum() == 0  # two columns fit without scrolling


def test_explorer_empty_library_explains_itself(qtbot, tmp_path, workers_for) -> None:  # type: ignore[no-untyped-def]
    workers = workers_for(tmp_path / "empty.sqlite")
    ex = _explorer(qtbot, workers)
    ex.refresh()
    qtbot.waitUntil(lambda: ex.loaded, timeout=10_000)
    assert ex.list_stack.currentWidget() is ex.list_message
    assert "library is empty" in ex.list_message.text()
    assert "Discovery" in ex.list_message.text()


def test_gain_plot(qtbot) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.screens.plots import GainPlot, GainRow

    plot = GainPlot()
    qtbot.addWidget(plot)
    plot.set_rows([GainRow("Idea A", 0.5, 0.1, 0.9), GainRow("Controls", 0.05, -0.3, 0.4, control=True)])
    plot.resize(500, 200)
    image = plot.grab().toImage()
    assert not image.isNull() and image.width() == 500


def test_plot_titles_wrap_and_axis_labels_keep_apart(qtbot) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.screens.plots import NoveltyPlot, spaced_labels, wrap_text
    from PySide6.QtGui import QFontMetricsF

    fm = QFontMetricsF(NoveltyPlot().font())
    title = "Novelty: error rebuilding it from k basis vectors"
    lines = wrap_text(fm, title, fm.horizontalAdvance(title) * 0.6)
    assert len(lines) == 2 and " ".join(lines) == title  # wrapped, nothing cut
    assert wrap_text(fm, title, 10_000) == [title]
    # k = 1 .. 512 and 975 on a narrow axis: labels that would touch are left out, the last is kept.
    ks = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 975]
    xs = [i * 22.0 for i in range(len(ks))]
    widths = [fm.horizontalAdvance(str(k)) for k in ks]
    keep = spaced_labels(xs, widths)
    assert keep[0] == 0 and keep[-1] == len(ks) - 1 and len(keep) < len(ks)
    for a, b in zip(keep, keep[1:], strict=False):
        assert xs[a] + widths[a] / 2 < xs[b] - widths[b] / 2
    assert spaced_labels([0.0, 100.0, 200.0], [20.0, 20.0, 20.0]) == [0, 1, 2]


def test_novelty_plot_shades_the_sizes_left_out_of_the_comparison(qtbot) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.screens.plots import NoveltyPlot

    curve = {"k": [1, 2, 4, 8, 16, 32, 64], "human": [1.0, 1.0, 0.999, 0.97, 0.9, 0.8, 0.7],
             "machine": [1.0, 1.0, 0.9995, 0.95, 0.85, 0.7, 0.6], "corpus": "masters",
             "informative": [False, False, False, True, True, True, True], "novel": True}
    shaded, plain = NoveltyPlot(), NoveltyPlot()
    for plot, c in ((shaded, curve), (plain, {k: v for k, v in curve.items() if k != "informative"})):
        qtbot.addWidget(plot)
        plot.set_curve(c)
        plot.resize(520, 220)
    assert "every compared k" in shaded._verdict and "every k" in plain._verdict
    a, b = shaded.grab().toImage(), plain.grab().toImage()
    # The left part of the plot (k = 1..4) differs only by the grey band; the right part not at all.
    y = a.height() // 3
    left = sum(a.pixelColor(x, y) != b.pixelColor(x, y) for x in range(60, 200))
    right = sum(a.pixelColor(x, y) != b.pixelColor(x, y) for x in range(400, 500))
    assert left > 50 and right == 0
    assert shaded.toolTip() and not plain.toolTip()
    shaded.set_curve(plain_curve := {k: v for k, v in curve.items() if k != "informative"})
    assert not shaded.toolTip() and "every k" in shaded._verdict and plain_curve["novel"]


def test_progress_plot_draws_sessions_and_says_when_empty(qtbot) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.screens.plots import ProgressPlot, ProgressPoint
    from conceptcoach.desktop.screens.results import due_text, progress_points
    from conceptcoach.study.stats import SessionScores

    plot = ProgressPlot()
    qtbot.addWidget(plot)
    plot.resize(420, 230)
    plot.show()
    empty = plot.grab().toImage()
    rows = [SessionScores(3, "2025-03-04T10:00:00Z", None, 4, 1, 4, 3), SessionScores(3, "2025-03-04T10:00:00Z", 7,
                                                                                         2, 0, 2, 2),
            SessionScores(5, "2025-03-04T15:00:00Z", None, 4, 2, 0, 0), SessionScores(9, "2025-03-11T09:00:00Z",
                                                                                         None, 4, 3, 4, 4)]
    points = progress_points(rows, None)
    assert points == [ProgressPoint("4 Mar", 0.25, 0.75), ProgressPoint("4 Mar (2)", 0.5, None),
                      ProgressPoint("11 Mar", 0.75, 1.0)]
    assert progress_points(rows, 7) == [ProgressPoint("4 Mar", 0.0, 1.0)]
    plot.set_points(points)
    drawn = plot.grab().toImage()
    assert drawn != empty
    from datetime import datetime

    def local(*when: int) -> datetime:
        return datetime(*when).astimezone()  # the coach's own clock, whatever the machine's zone

    now = local(2025, 3, 4, 12)
    assert due_text(local(2025, 3, 4, 11), now) == "due now"
    assert due_text(local(2025, 3, 4, 18, 30), now) == "later today (18:30)"
    assert due_text(local(2025, 3, 5, 9), now) == "tomorrow (5 Mar)"
    assert due_text(local(2025, 3, 9, 9), now) == "in 5 days (9 Mar)"
