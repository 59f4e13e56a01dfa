"""Printable worksheets: a session's or a concept's positions as board diagrams on A4,
with space to write, and the answer key on the pages after the diagrams.

A coach prints the sheet for a lesson at the board or for homework: each diagram has
its number, who is to move, coordinates and two ruled lines for the move and the
line; the answer key (the teacher's move and whole line in SAN, the other accepted
moves where an engine verified them, and the concept a position belongs to) starts on
a new page so that the diagram pages can be handed out alone.

The PDF is drawn with fpdf2 (pure Python, no GUI): squares as rectangles and the
pieces as python-chess's SVG pieces (``chess.svg.piece``), so a diagram prints sharp at
any size and in black and white. Text is set in DejaVu Sans (shipped with matplotlib)
when it is there, else in Helvetica with characters outside Latin-1 replaced.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import chess
import chess.svg
import sqlite_utils
from conceptcoach.store.concepts import get_concept, list_prototypes
from conceptcoach.store.players import get_player
from conceptcoach.store.sessions import get_session, session_items
from conceptcoach.study.phases import Phase
from fpdf import FPDF
from fpdf.enums import MethodReturnValue

PathLike = str | os.PathLike[str]

PER_PAGE_CHOICES = (4, 6)

# A4 in millimetres, and the grey a diagram uses for dark squares: clear in print and
# on a black-and-white printer, with both piece colours readable on it.
_PAGE_W, _PAGE_H = 210.0, 297.0
_MARGIN = 15.0
_HEADER_H = 16.0
_FOOTER_H = 10.0
_LIGHT = (255, 255, 255)
_DARK = (184, 184, 184)
_INK = (0, 0, 0)
_RULE = (150, 150, 150)


@dataclass(frozen=True)
class WorksheetItem:
    """One position of a worksheet: where it comes from, and the teacher's answer."""

    label: str  # e.g. "Pre-test 2"; shown in the answer key ("" for none)
    fen: str
    move: str  # the teacher's move (UCI)
    line: tuple[str, ...] = ()  # the teacher's whole line from the position (UCI), if known
    accepted: tuple[str, ...] = ()  # other moves accepted as right (UCI)
    concept: str = ""  # the concept's name, for the answer key


@dataclass(frozen=True)
class Worksheet:
    """What :func:`write_worksheet` wrote."""

    path: Path
    positions: int
    diagram_pages: int
    answer_pages: int

    @property
    def pages(self) -> int:
        return self.diagram_pages + self.answer_pages


# ----------------------------------------------------------------------------- items


def _line_from(fen: str, move: str, line: Sequence[str]) -> tuple[str, ...]:
    """The teacher's line as played from ``fen``: the stored line when it starts with
    the teacher's move, else the move alone; cut at the first move that is not legal."""
    board = chess.Board(fen)
    moves = list(line) if list(line[:1]) == [move] else [move]
    out = []
    for uci in moves:
        try:
            mv = chess.Move.from_uci(uci)
        except ValueError:
            break
        if mv not in board.legal_moves:
            break
        out.append(uci)
        board.push(mv)
    return tuple(out)


def session_worksheet_items(db: sqlite_utils.Database, session_id: int,
                            phases: Sequence[str] | None = None) -> list[WorksheetItem]:
    """A session's positions in the order they are met (pre-test, learning, post-test),
    or those of ``phases`` only. Raises KeyError for an unknown session."""
    get_session(db, session_id)
    names: dict[int, str] = {}
    counts: dict[str, int] = {}
    out = []
    for it in session_items(db, session_id):
        if phases is not None and it.phase not in phases:
            continue
        counts[it.phase] = counts.get(it.phase, 0) + 1
        if it.concept_id is not None and it.concept_id not in names:
            try:
                names[it.concept_id] = get_concept(db, it.concept_id).name
            except KeyError:
                names[it.concept_id] = ""
        concept = "control item" if it.is_control else names.get(it.concept_id or -1, "")
        move = it.expected[0] if it.expected else ""
        out.append(WorksheetItem(
            label=f"{Phase(it.phase).display} {counts[it.phase]}", fen=it.fen, move=move,
            line=_line_from(it.fen, move, it.line) if move else (), accepted=tuple(it.expected[1:]),
            concept=concept,
        ))
    return out


def concept_worksheet_items(db: sqlite_utils.Database, concept_id: int) -> list[WorksheetItem]:
    """A concept's prototypes, in the library's order. Raises KeyError for an unknown concept."""
    get_concept(db, concept_id)
    return [
        # The sheet's title names the concept: no label needed on each answer.
        WorksheetItem(label="", fen=p.fen, move=p.best_move, line=_line_from(p.fen, p.best_move, p.line),
                      accepted=tuple(m for m in p.accepted_moves() if m != p.best_move))
        for p in list_prototypes(db, concept_id)
    ]


def line_san(fen: str, line: Sequence[str]) -> str:
    """A line in SAN with move numbers from the position (``12... Nf6 13. Bd3``)."""
    board = chess.Board(fen)
    return board.variation_san([chess.Move.from_uci(u) for u in line]) if line else ""


# ------------------------------------------------------------------------------- PDF


def _font_files() -> tuple[Path, Path] | None:
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        return None
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
    return (regular, bold) if regular.is_file() and bold.is_file() else None


class _Sheet(FPDF):
    def __init__(self, title: str, subtitle: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.sheet_title = title
        self.sheet_subtitle = subtitle
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(False)
        self.set_title(title)
        self.set_creator("Concept Coach")
        fonts = _font_files()
        if fonts is not None:
            self.add_font("DejaVu", "", str(fonts[0]))
            self.add_font("DejaVu", "B", str(fonts[1]))
            self._family = "DejaVu"
            self._unicode = True
        else:
            self._family = "Helvetica"
            self._unicode = False
        self.part = ""
        self._pieces: dict[str, bytes] = {}

    def text_of(self, text: str) -> str:
        if self._unicode:
            return text
        return text.replace("…", "...").replace("–", "-").replace("—", "-").encode(
            "latin-1", "replace").decode("latin-1")

    def font(self, size: float, bold: bool = False) -> None:
        self.set_font(self._family, "B" if bold else "", size)

    def header(self) -> None:
        self.set_text_color(*_INK)
        self.font(13, bold=True)
        self.set_xy(_MARGIN, _MARGIN - 4)
        self.cell(_PAGE_W - 2 * _MARGIN - 40, 7, self.text_of(self.sheet_title))
        self.font(9)
        self.set_xy(_PAGE_W - _MARGIN - 40, _MARGIN - 4)
        self.cell(40, 7, self.text_of(self.part), align="R")
        self.set_xy(_MARGIN, _MARGIN + 3)
        self.cell(_PAGE_W - 2 * _MARGIN, 5, self.text_of(self.sheet_subtitle))
        self.set_draw_color(*_RULE)
        self.set_line_width(0.2)
        self.line(_MARGIN, _MARGIN + 9, _PAGE_W - _MARGIN, _MARGIN + 9)

    def footer(self) -> None:
        self.font(8)
        self.set_text_color(90, 90, 90)
        self.set_xy(_MARGIN, _PAGE_H - _FOOTER_H)
        self.cell(_PAGE_W - 2 * _MARGIN, 5, f"Concept Coach · page {self.page_no()} of {{nb}}"
                  if self._unicode else f"Concept Coach - page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(*_INK)

    def piece_svg(self, piece: chess.Piece) -> io.BytesIO:
        key = piece.symbol()
        if key not in self._pieces:
            self._pieces[key] = chess.svg.piece(piece).encode()
        return io.BytesIO(self._pieces[key])

    def board(self, fen: str, x: float, y: float, size: float) -> None:
        """A diagram, White at the bottom: squares, pieces, a frame, coordinates, and a
        marker beside the edge of the side to move."""
        board = chess.Board(fen)
        sq = size / 8
        self.set_line_width(0.1)
        for square in chess.SQUARES:
            f, r = chess.square_file(square), chess.square_rank(square)
            sx, sy = x + f * sq, y + (7 - r) * sq
            self.set_fill_color(*(_DARK if (f + r) % 2 == 0 else _LIGHT))
            self.rect(sx, sy, sq, sq, style="F")
            piece = board.piece_at(square)
            if piece is not None:
                self.image(self.piece_svg(piece), x=sx, y=sy, w=sq, h=sq)
        self.set_draw_color(*_INK)
        self.set_line_width(0.5)
        self.rect(x, y, size, size)
        self.font(max(6.0, sq * 1.1))
        self.set_text_color(60, 60, 60)
        for i in range(8):
            self.set_xy(x + i * sq, y + size + 0.4)
            self.cell(sq, 3.2, "abcdefgh"[i], align="C")
            self.set_xy(x - 4.2, y + (7 - i) * sq)
            self.cell(3.6, sq, str(i + 1), align="R")
        self.set_text_color(*_INK)
        # Side to move: a small square beside that side's edge, filled for Black.
        m = min(3.6, sq * 0.55)
        mx = x + size + 1.6
        my = y + size - m if board.turn == chess.WHITE else y
        self.set_line_width(0.3)
        self.set_fill_color(*((255, 255, 255) if board.turn == chess.WHITE else (0, 0, 0)))
        self.rect(mx, my, m, m, style="DF")


def _grid(per_page: int) -> tuple[int, int]:
    if per_page not in PER_PAGE_CHOICES:
        raise ValueError(f"{per_page} diagrams a page: choose {' or '.join(map(str, PER_PAGE_CHOICES))}")
    return 2, per_page // 2


def _diagram_pages(pdf: _Sheet, items: Sequence[WorksheetItem], per_page: int) -> int:
    cols, rows = _grid(per_page)
    top = _MARGIN + _HEADER_H - 4
    cell_w = (_PAGE_W - 2 * _MARGIN) / cols
    cell_h = (_PAGE_H - top - _MARGIN - _FOOTER_H + 4) / rows
    label_h, coord_h, write_h = 7.0, 4.0, 17.0
    size = min(cell_w - 14, cell_h - label_h - coord_h - write_h - 3)
    pages = 0
    for start in range(0, len(items), per_page):
        pdf.part = f"Diagrams {start // per_page + 1}/{-(-len(items) // per_page)}"
        pdf.add_page()
        pages += 1
        for k, item in enumerate(items[start:start + per_page]):
            col, row = k % cols, k // cols
            x0, y0 = _MARGIN + col * cell_w, top + row * cell_h
            bx = x0 + 5 + (cell_w - 14 - size) / 2
            number = start + k + 1
            turn = "White" if chess.Board(item.fen).turn == chess.WHITE else "Black"
            pdf.set_xy(bx, y0 + 1)
            pdf.font(11, bold=True)
            pdf.cell(9, 5, f"{number}.")
            pdf.font(10)
            pdf.cell(size - 9, 5, f"{turn} to move")
            pdf.board(item.fen, bx, y0 + label_h, size)
            # Space to write: the move, then the line.
            pdf.font(8)
            pdf.set_text_color(90, 90, 90)
            pdf.set_draw_color(*_RULE)
            pdf.set_line_width(0.2)
            wy = y0 + label_h + size + coord_h + 5
            for caption in ("Move", "Line"):
                pdf.set_xy(bx, wy - 4)
                pdf.cell(12, 4, caption)
                pdf.line(bx + 10, wy, bx + size + 5, wy)
                wy += 7.5
            pdf.set_text_color(*_INK)
    return pages


def _answer_lines(item: WorksheetItem) -> tuple[str, str, list[str]]:
    """(who is to move, the teacher's move in SAN, further lines: the whole line, the
    other accepted moves, where the position comes from)."""
    board = chess.Board(item.fen)
    turn = "White" if board.turn == chess.WHITE else "Black"
    move = board.san(chess.Move.from_uci(item.move)) if item.move else "(no move stored)"
    more = []
    if len(item.line) > 1:
        more.append(f"Line: {line_san(item.fen, item.line)}")
    accepted = [board.san(mv) for mv in map(chess.Move.from_uci, item.accepted) if mv in board.legal_moves]
    if accepted:
        more.append("Also accepted: " + ", ".join(accepted))
    where = ", ".join(part for part in (item.label, item.concept) if part)
    if where:
        more.append(where)
    return turn, move, more


def _answer_pages(pdf: _Sheet, items: Sequence[WorksheetItem]) -> int:
    pdf.part = "Answer key"
    pdf.add_page()
    first = pdf.page_no()
    width = _PAGE_W - 2 * _MARGIN
    indent = 10.0
    y = _MARGIN + _HEADER_H
    pdf.set_xy(_MARGIN, y)
    pdf.font(12, bold=True)
    pdf.cell(width, 7, "Answer key")
    y += 10
    for number, item in enumerate(items, 1):
        turn, move, more = _answer_lines(item)
        texts = [pdf.text_of(t) for t in more]
        pdf.font(9.5)
        heights = [5.0 * len(cast(list[str], pdf.multi_cell(width - indent, 5, t, dry_run=True,
                                                             output=MethodReturnValue.LINES))) for t in texts]
        needed = 6 + sum(heights) + 2.5
        if y + needed > _PAGE_H - _MARGIN - _FOOTER_H:
            pdf.add_page()
            y = _MARGIN + _HEADER_H
        pdf.set_xy(_MARGIN, y)
        pdf.font(10.5, bold=True)
        pdf.cell(indent, 6, f"{number}.")
        pdf.font(10.5)
        label = f"{turn} to move: "
        pdf.cell(pdf.get_string_width(label) + 0.5, 6, label)
        pdf.font(10.5, bold=True)
        pdf.cell(40, 6, pdf.text_of(move))
        y += 6
        pdf.font(9.5)
        for k, (text, h) in enumerate(zip(texts, heights, strict=True)):
            # The last line says where the position comes from: in grey.
            grey = k == len(texts) - 1 and bool(item.label or item.concept)
            pdf.set_text_color(*((100, 100, 100) if grey else _INK))
            pdf.set_xy(_MARGIN + indent, y)
            pdf.multi_cell(width - indent, 5, text)
            y += h
        pdf.set_text_color(*_INK)
        y += 2.5
    return pdf.page_no() - first + 1


def _render(title: str, subtitle: str, items: Sequence[WorksheetItem], per_page: int) -> tuple[bytes, int, int]:
    if not items:
        raise ValueError("no positions to print")
    pdf = _Sheet(title, subtitle)
    diagrams = _diagram_pages(pdf, items, per_page)
    answers = _answer_pages(pdf, items)
    return bytes(pdf.output()), diagrams, answers


def worksheet_pdf(title: str, subtitle: str, items: Sequence[WorksheetItem], *, per_page: int = 6) -> bytes:
    """The worksheet as PDF bytes: diagram pages (``per_page`` diagrams each, 4 or 6),
    then the answer key on pages of its own. Raises ValueError without positions."""
    return _render(title, subtitle, items, per_page)[0]


def write_worksheet(db: sqlite_utils.Database, path: PathLike, *, session_id: int | None = None,
                    concept_id: int | None = None, per_page: int = 6,
                    phases: Sequence[str] | None = None) -> Worksheet:
    """Write the worksheet of a session (its positions in the order they are met, or
    those of ``phases``) or of a concept (its prototypes) to ``path`` as PDF.

    Give exactly one of ``session_id`` and ``concept_id``. Raises ValueError for
    neither or both, for a sheet without positions or a bad ``per_page``, and KeyError
    for an unknown session or concept."""
    if (session_id is None) == (concept_id is None):
        raise ValueError("a worksheet is of one session or of one concept: give exactly one of them")
    if session_id is not None:
        session = get_session(db, session_id)
        items = session_worksheet_items(db, session_id, phases)
        player = get_player(db, session.player_id).name
        title = f"{player}: session {session_id}"
        label = f" ({session.label})" if session.label else ""
        subtitle = f"{len(items)} positions, {session.created_at[:10]}{label}. Write your move and the line you expect."
    else:
        assert concept_id is not None
        concept = get_concept(db, concept_id)
        items = concept_worksheet_items(db, concept_id)
        title = f"Concept: {concept.name}"
        subtitle = f"{len(items)} positions. Write your move and the line you expect."
    data, diagrams, answers = _render(title, subtitle, items, per_page)
    out = Path(path)
    out.write_bytes(data)
    return Worksheet(out, len(items), diagrams, answers)
