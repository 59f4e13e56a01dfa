"""Shared fixtures: real SQLite stores in tmp folders, small seeded networks, shared data."""

from __future__ import annotations

import os
from pathlib import Path

# Qt must be headless before any test imports it.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> None:
    # Tests share two cores with each other and with Stockfish: one intra-op thread
    # avoids oversubscription, which slows inference 50-100x.
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    torch.set_num_threads(1)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is missing (CI clones it beside the repo)")
    return SHARED_DATA


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.sqlite"


@pytest.fixture
def store(store_path: Path):  # type: ignore[no-untyped-def]
    from conceptcoach.store.db import open_store

    db = open_store(store_path)
    yield db
    db.conn.close()


@pytest.fixture
def tiny_net():  # type: ignore[no-untyped-def]
    """A small seeded untrained network (2 blocks x 16 channels): fast, real."""
    from conceptcoach.engine.checkpoint import random_network
    from conceptcoach.engine.network import NetworkConfig

    return random_network(NetworkConfig(blocks=2, channels=16, value_hidden=32), seed=7)


@pytest.fixture
def tiny_store(store, tiny_net, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The ``store`` with ``tiny_net`` saved as a checkpoint and registered as 'tiny'."""
    from conceptcoach.engine.checkpoint import CheckpointInfo, save_checkpoint
    from conceptcoach.engine.networks import register_file

    weights = tmp_path / "tiny.safetensors"
    save_checkpoint(tiny_net, weights, CheckpointInfo(name="tiny", config=tiny_net.config))
    register_file(store, weights)
    return store


def screenshots_dir() -> Path:
    """Where GUI tests write their screenshots: docs/screenshots/ with
    CONCEPTCOACH_SCREENSHOTS=1 (`make screenshots`), else a temporary folder, so that
    `make test` leaves the working tree clean."""
    if os.environ.get("CONCEPTCOACH_SCREENSHOTS") == "1":
        return REPO / "docs" / "screenshots"
    import tempfile

    return Path(tempfile.gettempdir()) / "conceptcoach-screenshots"


# ----- shared test data and input helpers, as fixtures -------------------------------------------
# GUI and study tests take these instead of importing helpers from one another's modules.

_VISIT_SPREAD = ((60, 0.30), (20, 0.10), (10, -0.20), (10, -0.50))


def _ply_21(ply: int) -> bool:
    return ply == 21


def _real_positions(count: int, skip: int = 0, plies=_ply_21, next_moves: int = 4,  # type: ignore[no-untyped-def]
                    min_legal: int = 4) -> list[tuple[str, str, list[str], str]]:
    """(fen, move played, the next ``next_moves`` moves, game key) of distinct real positions
    of the Lichess sample at the plies ``plies`` accepts (by default one per game, so no two
    share a game: a session plan keeps each game to one phase), with >= ``min_legal`` legal
    moves."""
    import gzip

    import chess.pgn

    out: list[tuple[str, str, list[str], str]] = []
    seen: set[str] = set()
    with gzip.open(SHARED_DATA / "human" / "lichess_fgf_sample_3000.pgn.gz", "rt", encoding="utf-8",
                   errors="replace") as fh:
        game_no = 0
        while len(out) < count + skip:
            game = chess.pgn.read_game(fh)
            if game is None:
                break
            game_no += 1
            moves = list(game.mainline_moves())
            board = game.board()
            for ply, mv in enumerate(moves):
                if plies(ply) and board.legal_moves.count() >= min_legal:
                    key = " ".join(board.fen().split()[:4])
                    if key not in seen:
                        seen.add(key)
                        out.append((board.fen(), mv.uci(), [m.uci() for m in moves[ply:ply + next_moves]],
                                    f"lichess#{game_no}"))
                board.push(mv)
    return out[skip:skip + count]


def _visits_for(fen: str, best: str) -> dict[str, dict[str, float]]:
    import chess

    others = sorted(m.uci() for m in chess.Board(fen).legal_moves if m.uci() != best)[:3]
    return {m: {"n": n, "q": q, "p": 0.25} for m, (n, q) in zip([best, *others], _VISIT_SPREAD, strict=False)}


def _wrong_move(fen: str, expected: tuple[str, ...]) -> str:
    visits = _visits_for(fen, expected[0])
    return sorted((m for m in visits if m not in expected), key=lambda m: -visits[m]["n"])[0]


def _build_study_library(db, concepts: int = 4, per_concept: int = 14, failed: int = 1) -> list[int]:  # type: ignore[no-untyped-def]
    import numpy as np
    from conceptcoach.store.concepts import NewPrototype, add_concept

    total = concepts + failed
    positions = _real_positions(total * per_concept)
    ids = []
    for k in range(total):
        chunk = positions[k * per_concept:(k + 1) * per_concept]
        protos = [NewPrototype(fen=f, best_move=b, line=line, value=0.3, visits=_visits_for(f, b), game_key=g)
                  for f, b, line, g in chunk]
        status = "teachable" if k < concepts else "failed-teachability"
        ids.append(add_concept(db, uid=f"test-{k}", name=f"Idea {k}" if k < concepts else f"Failed {k}",
                               layer="block3", kind="dynamic", status=status,
                               vector=np.linspace(-1, 1, 16, dtype=np.float32), prototypes=protos))
    return ids


@pytest.fixture
def study_library(shared_data: Path):  # type: ignore[no-untyped-def]
    """A small real concept library built from real games (the Lichess sample): each
    prototype a real position, the move played there as the teacher's move, the next
    moves as its line, and a fixed visit spread (teacher's move n=60 q=+0.30, then
    20/+0.10, 10/-0.20, 10/-0.50). ``build(db, concepts, per_concept, failed)`` adds it
    and returns the concept ids; ``wrong_move(fen, expected)`` is the second most visited
    move; ``real_positions`` and ``visits_for`` are the parts; ``play(db, sid, scores)``
    runs a session answering ``scores[(phase, concept)]`` items of each correctly."""
    from types import SimpleNamespace

    return SimpleNamespace(build=_build_study_library, real_positions=_real_positions, visits_for=_visits_for,
                           wrong_move=_wrong_move, play=_play_session)


CURATED_FIGURES = {
    "teachability": {"student": "student200", "train": 9, "test": 3, "prototypes": 12,
                     "agreement_before": 0.08, "agreement_after": 0.58, "baseline_random_positions": 0.25,
                     "gain": 0.33, "teachable": True},
    "random_vector_baseline": {"agreement_after": 0.17},
    "novelty": {"k": [1, 2, 4, 8, 16, 32, 64], "human": [0.98, 0.95, 0.9, 0.81, 0.7, 0.58, 0.44],
                "machine": [0.95, 0.88, 0.77, 0.62, 0.47, 0.33, 0.21], "novel": True, "min_difference": 0.03,
                "corpus": "masters", "positions": 1024},
    "teacher_move": "c2c4", "weaker_move": "g1f3",
}


def _build_curated_library(db, per_concept: int = 6, names: tuple[str, ...] = ()) -> list[int]:  # type: ignore[no-untyped-def]
    """Four concepts as the explorer shows them (two novel, two controls), with figures,
    heat and six-move lines on real middlegame positions (one per game); ``names`` renames
    them."""
    import chess
    import numpy as np
    from conceptcoach.store.concepts import NewPrototype, add_concept

    def visits(fen: str, best: str) -> dict[str, dict[str, float]]:
        others = sorted(m.uci() for m in chess.Board(fen).legal_moves if m.uci() != best)[:3]
        spread = ((58, 0.31), (22, 0.12), (12, -0.15), (8, -0.42))
        return {m: {"n": n, "q": q, "p": 0.25} for m, (n, q) in zip([best, *others], spread, strict=False)}

    def line_heat(line: list[str]) -> list[float]:
        heat = [0.0] * 64
        for i, uci in enumerate(line[:4]):
            move = chess.Move.from_uci(uci)
            heat[move.to_square] += 1.0 / (1 + i)
            heat[move.from_square] -= 0.3 / (1 + i)
        return heat

    figs = CURATED_FIGURES
    specs = [
        ("Queenside space before castling", "block2", "novel", figs),
        ("Prophylactic king walk", "block5", "novel", figs),
        ("Knight rerouting (not teachable)", "block5", "failed-teachability",
         {"teachability": {**figs["teachability"], "agreement_after": 0.27, "gain": 0.02, "teachable": False}}),
        ("Open file pressure", "block2", "failed-novelty",
         {**figs, "novelty": {**figs["novelty"], "novel": False, "min_difference": -0.05,
                              "machine": [0.99, 0.97, 0.93, 0.86, 0.76, 0.63, 0.5]}}),
    ]
    positions = _real_positions(per_concept * len(specs), plies=lambda ply: ply == 16, next_moves=6, min_legal=6)
    ids = []
    for k, (name, layer, status, f) in enumerate(specs):
        chunk = positions[k * per_concept:(k + 1) * per_concept]
        protos = [NewPrototype(fen=fen, best_move=b, line=line, value=0.27, visits=visits(fen, b), game_key=g,
                               score=2.5 - 0.1 * i, split="train" if i % 4 else "test", heat=line_heat(line))
                  for i, (fen, b, line, g) in enumerate(chunk)]
        ids.append(add_concept(db, uid=f"gui-{k}", name=names[k] if k < len(names) else name, layer=layer,
                               kind="dynamic", status=status, vector=np.linspace(-1, 1, 64, dtype=np.float32),
                               figures=f, prototypes=protos))
    return ids


@pytest.fixture
def curated_library(shared_data: Path):  # type: ignore[no-untyped-def]
    """``build(db, per_concept=6, names=())``: the explorer's four concepts with figures
    (``figures``: the novel ones' teachability and novelty figures)."""
    from types import SimpleNamespace

    return SimpleNamespace(build=_build_curated_library, figures=CURATED_FIGURES)


def _drag(board, a: int, b: int) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    vp = board.view.viewport()
    pa, pb = board.view.square_center(a).toPoint(), board.view.square_center(b).toPoint()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pa)
    QTest.mouseMove(vp, (pa + pb) / 2)
    QTest.mouseMove(vp, pb)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pb)


def _play_by_mouse(board, uci: str) -> None:  # type: ignore[no-untyped-def]
    import chess
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    move = chess.Move.from_uci(uci)
    _drag(board, move.from_square, move.to_square)
    if move.promotion:
        order = [chess.QUEEN, chess.ROOK, chess.BISHOP, chess.KNIGHT]
        step = -8 if chess.square_rank(move.to_square) == 7 else 8
        target = move.to_square + step * order.index(move.promotion)
        QTest.mouseClick(board.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         board.view.square_center(target).toPoint())


@pytest.fixture
def mouse():  # type: ignore[no-untyped-def]
    """Mouse input on a BoardWidget: ``drag(board, from_sq, to_sq)`` and ``play(board, uci)``
    (a drag, then a click in the promotion chooser when the move promotes)."""
    from types import SimpleNamespace

    return SimpleNamespace(drag=_drag, play=_play_by_mouse)


@pytest.fixture
def screenshots() -> Path:
    """The folder GUI tests write screenshots to (see :func:`screenshots_dir`), created."""
    folder = screenshots_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _play_session(db, sid: int, scores: dict[tuple[str, int], int]) -> None:  # type: ignore[no-untyped-def]
    """Run session ``sid`` to its end: every learning item studied, and exactly
    ``scores[(phase, concept)]`` items of each phase and concept answered with the teacher's
    move (controls count under concept -1), the others with :func:`_wrong_move`."""
    from conceptcoach.study.runner import answer, mark_studied, session_state

    given: dict[tuple[str, int | None], int] = {}
    while (st := session_state(db, sid)).current is not None:
        it = st.current
        if it.phase == "learning":
            mark_studied(db, sid, it.id)
            continue
        key = (it.phase, it.concept_id)
        ok = given.get(key, 0) < scores.get((it.phase, it.concept_id or -1), 0)  # type: ignore[arg-type]
        given[key] = given.get(key, 0) + int(ok)
        answer(db, sid, it.id, it.expected[0] if ok else _wrong_move(it.fen, it.expected))


def _legal_games(text: str):  # type: ignore[no-untyped-def]
    """The games of a PGN text, each checked: parsed without errors, every move legal,
    a final result."""
    from conceptcoach.training.match import read_pgn_games

    parsed = read_pgn_games(text)
    for game in parsed:
        assert not game.errors
        board = game.board()
        for move in game.mainline_moves():
            assert board.is_legal(move)
            board.push(move)
        assert game.headers["Result"] in ("1-0", "0-1", "1/2-1/2")
    return parsed


@pytest.fixture
def legal_games():  # type: ignore[no-untyped-def]
    """``legal_games(pgn_text)``: the games of a PGN text, asserting each parsed without
    errors, every move legal and a final result."""
    return _legal_games


# A coach's EPD quiz set (7 records): 3 are added (q1, q2 and "no move", which has no best
# move), "dup" repeats q1's position, and lines 4, 5 and 7 are problems (unreadable, an
# illegal best move, an empty board); q1's comment is a spreadsheet formula.
EPD_QUIZ = """\
# a coach's quiz set
rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - bm e5; id "q1"; c0 "=cmd|' /C calc'!A0";
r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - bm Bb5 Bc4; pv Bb5 a6 Ba4; id "q2";
this is not an epd line at all
rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - bm Ke2; id "illegal";

8/8/8/8/8/8/8/8 w - - id "empty board";
rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - bm d5; id "dup";
4k3/8/8/8/8/8/8/4K2R w K - id "no move";
"""


@pytest.fixture
def epd_text() -> str:
    """The text of a small EPD quiz file with good and bad lines (see ``EPD_QUIZ``)."""
    return EPD_QUIZ
