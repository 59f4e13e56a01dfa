"""The concept explorer and the plots, driven offscreen: filters, the card, prototypes
on the board with the teacher's line, and curation written to a real store."""

from __future__ import annotations

from pathlib import Path

import chess
import numpy as np
import pytest

pytestmark = pytest.mark.gui

REPO = Path(__file__).resolve().parents[1]


def real_positions(count: int) -> list[tuple[str, str, list[str], str]]:
    """Real middlegame positions (plies 16 and 30) with six moves of line each."""
    from test_study_library import real_positions as positions

    return positions(count, plies=lambda ply: ply in (16, 30), next_moves=6, min_legal=6)


def visits(fen: str, best: str) -> dict[str, dict[str, float]]:
    others = sorted(m.uci() for m in chess.Board(fen).legal_moves if m.uci() != best)[:3]
    spread = ((58, 0.31), (22, 0.12), (12, -0.15), (8, -0.42))
    return {m: {"n": n, "q": q, "p": 0.25} for m, (n, q) in zip([best, *others], spread, strict=False)}


def line_heat(fen: str, line: list[str]) -> list[float]:
    """A heat map the way a concept's looks: strong on the squares its line uses, fading
    along the line, a little negative where the moving pieces came from."""
    heat = [0.0] * 64
    for i, uci in enumerate(line[:4]):
        move = chess.Move.from_uci(uci)
        heat[move.to_square] += 1.0 / (1 + i)
        heat[move.from_square] -= 0.3 / (1 + i)
    return heat


FIGURES = {
    "teachability": {"student": "student200", "train": 9, "test": 3, "prototypes": 12,
                     "agreement_before": 0.08, "agreement_after": 0.58, "baseline_random_positions": 0.25,
                     "gain": 0.33, "teachable": True},
    "random_vector_baseline": {"agreement_after": 0.17},
    "novelty": {"k": [1, 2, 4, 8, 16, 32, 64], "human": [0.98, 0.95, 0.9, 0.81, 0.7, 0.58, 0.44],
                "machine": [0.95, 0.88, 0.77, 0.62, 0.47, 0.33, 0.21], "novel": True, "min_difference": 0.03,
                "corpus": "masters", "positions": 1024},
    "teacher_move": "c2c4", "weaker_move": "g1f3",
}


def build_library(db, per_concept: int = 6) -> list[int]:  # type: ignore[no-untyped-def]
    from conceptcoach.store.concepts import NewPrototype, add_concept

    specs = [
        ("Queenside space before castling", "block2", "novel", FIGURES),
        ("Prophylactic king walk", "block5", "novel", FIGURES),
        ("Knight rerouting (not teachable)", "block5", "failed-teachability",
         {"teachability": {**FIGURES["teachability"], "agreement_after": 0.27, "gain": 0.02, "teachable": False}}),
        ("Open file pressure", "block2", "failed-novelty",
         {**FIGURES, "novelty": {**FIGURES["novelty"], "novel": False, "min_difference": -0.05,
                                 "machine": [0.99, 0.97, 0.93, 0.86, 0.76, 0.63, 0.5]}}),
    ]
    positions = real_positions(per_concept * len(specs))
    ids = []
    for k, (name, layer, status, figs) in enumerate(specs):
        chunk = positions[k * per_concept:(k + 1) * per_concept]
        protos = [NewPrototype(fen=f, best_move=b, line=line, value=0.27, visits=visits(f, b), game_key=g,
                               score=2.5 - 0.1 * i, split="train" if i % 4 else "test",
                               heat=line_heat(f, line))
                  for i, (f, b, line, g) in enumerate(chunk)]
        ids.append(add_concept(db, uid=f"gui-{k}", name=name, layer=layer, kind="dynamic", status=status,
                               vector=np.linspace(-1, 1, 64, dtype=np.float32), figures=figs,
                               prototypes=protos))
    return ids


@pytest.fixture
def library_store(tmp_path: Path, shared_data: Path) -> tuple[Path, list[int]]:
    from conceptcoach.store.db import open_store

    path = tmp_path / "store.sqlite"
    db = open_store(path)
    ids = build_library(db)
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


def _explorer(qtbot, workers):  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.board.theme import PieceSet
    from conceptcoach.desktop.screens.explorer import ConceptExplorer

    ex = ConceptExplorer(workers, PieceSet())
    qtbot.addWidget(ex)
    ex.resize(1366, 720)
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


def test_explorer_filters_card_and_curation(qtbot, library_store, workers_for, stall) -> None:  # type: ignore[no-untyped-def]
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
    ex.search.setText("zzz")
    assert ex.list_stack.currentWidget() is ex.list_message
    assert "No concept matches" in ex.list_message.text()
    ex.search.clear()
    ex.layer.setCurrentText("Any")

    # The card: the first concept, its plots and its first prototype with the teacher's arrow.
    ex.table.selectRow(0)
    qtbot.waitUntil(lambda: not ex.loading and ex.card.concept.id == ex.current_id(), timeout=5000)
    card = ex.card
    proto = card.prototypes[0]
    arrows = card.viewer.board.view._arrows
    best = chess.Move.from_uci(proto.best_move)
    assert any(a.start == best.from_square and a.end == best.to_square and a.colour == "teacher" for a in arrows)
    assert any(a.colour == "visits" for a in arrows)
    assert card.teach._bars and card.novelty._series
    # Step through the teacher's line and back.
    start_fen = card.viewer.board.board.fen()
    card.viewer.step_forward()
    qtbot.waitUntil(lambda: not card.viewer.board.view.is_animating(), timeout=3000)
    after = chess.Board(proto.fen)
    after.push(best)
    assert card.viewer.board.board.fen() == after.fen()
    card.viewer.step_back()
    assert card.viewer.board.board.fen() == start_fen
    # Autoplay runs the whole line by itself.
    card.viewer.pause_ms = 20
    card.viewer.toggle_autoplay()
    n = len(card.viewer._line())
    qtbot.waitUntil(lambda: card.viewer.ply == n and not card.viewer.board.view.is_animating(), timeout=15_000)

    # Curation lands in the store.
    cid = card.concept.id
    card.name.setText("Space on the queenside")
    card.annotation.setPlainText("Play c4-b4 before castling.")
    card.save.click()
    qtbot.waitUntil(lambda: card.status.text() == "Saved.", timeout=5000)
    stored = _store_concepts(path)[cid]
    assert (stored.name, stored.annotation) == ("Space on the queenside", "Play c4-b4 before castling.")

    before = card.concept.prototype_count
    dropped = card.prototypes[card.index].id
    card.drop.click()
    qtbot.waitUntil(lambda: len(card.prototypes) == before - 1, timeout=5000)
    assert dropped not in {p.id for p in card.prototypes}
    assert _store_concepts(path)[cid].prototype_count == before - 1

    card.hide_button.click()
    qtbot.waitUntil(lambda: ex.table.rowCount() == 3, timeout=5000)
    assert _store_concepts(path)[cid].hidden
    ex.show_hidden.setChecked(True)
    assert ex.table.rowCount() == 4


def test_explorer_empty_library_explains_itself(qtbot, tmp_path, workers_for) -> None:  # type: ignore[no-untyped-def]
    workers = workers_for(tmp_path / "empty.sqlite")
    ex = _explorer(qtbot, workers)
    ex.refresh()
    qtbot.waitUntil(lambda: ex.loaded, timeout=10_000)
    assert ex.list_stack.currentWidget() is ex.list_message
    assert "library is empty" in ex.list_message.text()
    assert "Discovery" in ex.list_message.text()


def test_gain_plot_and_line_san(qtbot) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.desktop.screens.explorer import line_san
    from conceptcoach.desktop.screens.plots import GainPlot, GainRow

    fen = "r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - 2 3"
    assert line_san(fen, ["f1b5", "a7a6", "b5a4"]) == ["3. Bb5", "a6", "4. Ba4"]
    assert line_san(fen, ["f1b5", "a7a6", "b5a4"], figurines=True)[0] == "3. ♗b5"
    black = chess.Board(fen)
    black.push_uci("f1b5")
    assert line_san(black.fen(), ["a7a6", "b5a4", "e1e1"]) == ["3... a6", "4. Ba4"]  # stops at a bad move
    plot = GainPlot()
    qtbot.addWidget(plot)
    plot.set_rows([GainRow("Idea A", 0.5, 0.1, 0.9), GainRow("Controls", 0.05, -0.3, 0.4, control=True)])
    plot.resize(500, 200)
    image = plot.grab().toImage()
    assert not image.isNull() and image.width() == 500


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
