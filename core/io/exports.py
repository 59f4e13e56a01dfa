"""Exports of study results and lessons to files other tools read.

* :func:`export_attempts_csv` - one row per attempt (in the spirit of Anki's review
  log), safe to open in a spreadsheet: a text cell that starts with ``= + - @``, a
  tab or a carriage return gets a leading ``'`` so it is never run as a formula
  (OWASP "CSV injection"). :func:`read_attempts_csv` reads it back into records the
  statistics accept, so the figures can be recomputed from the file alone.
* :func:`export_session_json` - a session: plan, items, attempts and its gains.
* :func:`export_concept_pgn` - a PGN study of a concept, one game (Lichess chapter)
  per prototype: FEN/SetUp headers, the teacher's line as moves, a green ``[%cal]``
  arrow for the teacher's move and the figures (value, visit shares) in comments.
* :func:`export_epd` - an EPD quiz set: ``bm`` (teacher's move), ``id`` and ``c0``
  (the concept's name).
* :func:`export_html_report` - an HTML report with matplotlib SVG plots of gains
  and their bootstrap intervals, with print CSS so it prints well to PDF.

Every function takes the store and plain values, writes one file and returns an
:class:`ExportResult`; nothing is kept between calls.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import chess
import chess.pgn
import sqlite_utils
from conceptcoach.store.attempts import Attempt, list_attempts
from conceptcoach.store.concepts import Concept, Prototype, get_concept, list_prototypes
from conceptcoach.store.sessions import get_session, session_items
from conceptcoach.study.stats import GainReport, GainSummary, compute_gains

# Cells starting with one of these are formulas (or become one) in Excel, LibreOffice
# and Google Sheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS: tuple[str, ...] = (
    "attempt_id", "answered_at", "player_id", "player_name", "session_id", "session_label", "phase",
    "concept_id", "concept_name", "is_control", "fen", "expected", "answer_uci", "answer_san", "correct",
    "partial_credit", "value_drop", "visit_share", "response_ms", "hints", "network_id",
)


@dataclass(frozen=True)
class ExportResult:
    path: str
    kind: str  # csv / json / pgn / epd / html
    items: int  # rows, games, positions or sessions written


def safe_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet shows as text, never evaluates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        # Numbers are written as numbers (a negative number is not text to escape).
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _names(db: sqlite_utils.Database, table: str, column: str) -> dict[int, str]:
    return {int(r["id"]): str(r[column]) for r in db.query(f"SELECT id, {column} FROM {table}")}


def _concept_names(db: sqlite_utils.Database) -> dict[int, str]:
    return _names(db, "concepts", "name")


def _write_text(path: str | os.PathLike[str], text: str) -> str:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed, so a failed export leaves no half file.
    tmp = p.with_name(p.name + ".part")
    tmp.write_text(text, encoding="utf-8", newline="")
    tmp.replace(p)
    return str(p)


# ----------------------------------------------------------------------------- CSV


def export_attempts_csv(
    db: sqlite_utils.Database,
    path: str | os.PathLike[str],
    *,
    session_ids: Sequence[int] | None = None,
    player_ids: Sequence[int] | None = None,
) -> ExportResult:
    """One row per attempt (log order), columns :data:`CSV_COLUMNS`."""
    attempts = list_attempts(db, session_ids=session_ids, player_ids=player_ids)
    players = _names(db, "players", "name")
    labels = _names(db, "sessions", "label")
    concepts = _concept_names(db)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for a in attempts:
        row = {
            "attempt_id": a.id, "answered_at": a.answered_at, "player_id": a.player_id,
            "player_name": players.get(a.player_id, ""), "session_id": a.session_id,
            "session_label": labels.get(a.session_id, ""), "phase": a.phase, "concept_id": a.concept_id,
            "concept_name": concepts.get(a.concept_id, "") if a.concept_id is not None else "",
            "is_control": a.is_control, "fen": a.fen, "expected": " ".join(a.expected),
            "answer_uci": a.answer_uci, "answer_san": a.answer_san, "correct": a.correct,
            "partial_credit": a.partial_credit, "value_drop": a.value_drop, "visit_share": a.visit_share,
            "response_ms": a.response_ms, "hints": a.hints, "network_id": a.network_id,
        }
        w.writerow([safe_cell(row[c]) for c in CSV_COLUMNS])
    return ExportResult(_write_text(path, buf.getvalue()), "csv", len(attempts))


@dataclass(frozen=True)
class CsvAttempt:
    """An attempt read back from a CSV export (the fields the statistics need, and more)."""

    attempt_id: int
    session_id: int
    player_id: int
    player_name: str
    phase: str
    concept_id: int | None
    is_control: bool
    fen: str
    answer_uci: str
    correct: bool
    partial_credit: float | None


def _unescape(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_START) else cell


def read_attempts_csv(path: str | os.PathLike[str]) -> list[CsvAttempt]:
    """Read a CSV written by :func:`export_attempts_csv` (escapes undone); a row that
    cannot be read raises ValueError naming the file and line."""
    out: list[CsvAttempt] = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = set(CSV_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: not an attempts export (missing columns {', '.join(sorted(missing))})")
        for row in reader:
            try:
                out.append(CsvAttempt(
                    attempt_id=int(row["attempt_id"]), session_id=int(row["session_id"]),
                    player_id=int(row["player_id"]), player_name=_unescape(row["player_name"]),
                    phase=row["phase"], concept_id=int(row["concept_id"]) if row["concept_id"] else None,
                    is_control=row["is_control"] == "1", fen=row["fen"], answer_uci=row["answer_uci"],
                    correct=row["correct"] == "1",
                    partial_credit=float(row["partial_credit"]) if row["partial_credit"] else None,
                ))
            except (KeyError, ValueError) as exc:
                raise ValueError(f"{path}:{reader.line_num}: bad attempt row ({exc})") from exc
    return out


# ---------------------------------------------------------------------------- JSON


def _summary_dict(s: GainSummary | None) -> dict[str, Any] | None:
    return None if s is None else asdict(s)


def report_dict(report: GainReport, concept_names: dict[int, str] | None = None) -> dict[str, Any]:
    """A gain report as plain JSON-ready data."""
    names = concept_names or {}
    return {
        "seed": report.seed, "n_boot": report.n_boot,
        "overall": _summary_dict(report.overall), "control": _summary_dict(report.control),
        "net_gain": report.net_gain, "net_gain_positions": report.net_gain_positions,
        "net_ci": [report.net_ci_low, report.net_ci_high],
        "by_concept": {str(k): {"name": names.get(k, ""), **asdict(v)} for k, v in report.by_concept.items()},
        "by_player": {str(k): asdict(v) for k, v in report.by_player.items()},
        "by_session": {str(k): asdict(v) for k, v in report.by_session.items()},
        "units": [{**asdict(u), "gain": u.gain, "gain_positions": u.gain_positions} for u in report.units],
    }


def _attempt_dict(a: Attempt) -> dict[str, Any]:
    d = asdict(a)
    d["expected"] = list(a.expected)
    return d


def export_session_json(
    db: sqlite_utils.Database, session_id: int, path: str | os.PathLike[str], *, seed: int = 0, n_boot: int = 10_000
) -> ExportResult:
    """The session (plan with its seed), its items, its attempt log and its gains."""
    session = get_session(db, session_id)
    player = next(iter(db.query("SELECT * FROM players WHERE id = ?", [session.player_id])), None)
    attempts = list_attempts(db, session_ids=[session_id])
    items = session_items(db, session_id)
    names = _concept_names(db)
    report = compute_gains(attempts, seed=seed, n_boot=n_boot)
    data = {
        "format": "conceptcoach-session", "version": 1,
        "session": asdict(session),
        "player": player,
        "items": [{**asdict(it), "expected": list(it.expected), "line": list(it.line),
                   "concept_name": names.get(it.concept_id) if it.concept_id is not None else None}
                  for it in items],
        "attempts": [_attempt_dict(a) for a in attempts],
        "results": report_dict(report, names),
    }
    text = json.dumps(data, indent=2, sort_keys=True, default=str)
    return ExportResult(_write_text(path, text + "\n"), "json", 1)


# ----------------------------------------------------------------------------- PGN


def _visit_shares(p: Prototype) -> list[tuple[str, float, float | None]]:
    total = sum(float(v.get("n", 0)) for v in p.visits.values())
    rows = [(uci, float(v.get("n", 0)) / total if total else 0.0,
             float(v["q"]) if v.get("q") is not None else None) for uci, v in p.visits.items()]
    return sorted(rows, key=lambda r: -r[1])


def _prototype_comment(board: chess.Board, concept: Concept, p: Prototype, top: int = 4) -> str:
    best = chess.Move.from_uci(p.best_move)
    parts = [f"[%cal G{chess.square_name(best.from_square)}{chess.square_name(best.to_square)}]",
             f"Concept: {concept.name}."]
    if p.value is not None:
        parts.append(f"Teacher's value {p.value:+.3f} for the side to move.")
    shares = []
    for uci, share, q in _visit_shares(p)[:top]:
        mv = chess.Move.from_uci(uci)
        san = board.san(mv) if mv in board.legal_moves else uci
        shares.append(f"{san} {share:.0%}" + (f" (Q {q:+.3f})" if q is not None else ""))
    if shares:
        parts.append("Visits: " + ", ".join(shares) + ".")
    if concept.annotation:
        parts.append(concept.annotation)
    # Braces would end a PGN comment early.
    return " ".join(parts).replace("{", "(").replace("}", ")")


def prototype_game(concept: Concept, p: Prototype, chapter: int) -> chess.pgn.Game:
    """One prototype as a PGN game starting from its FEN, the teacher's line as moves."""
    board = chess.Board(p.fen)
    game = chess.pgn.Game()
    game.headers["Event"] = f"{concept.name}: position {chapter}"
    game.headers["Site"] = "Concept Coach"
    game.headers["Round"] = str(chapter)
    game.headers["White"] = "?"
    game.headers["Black"] = "?"
    game.headers["Result"] = "*"
    game.headers["Annotator"] = "Concept Coach"
    game.setup(board)  # sets FEN and SetUp "1"
    game.comment = _prototype_comment(board, concept, p)
    node: chess.pgn.GameNode = game
    line = list(p.line) if p.line and p.line[0] == p.best_move else [p.best_move, *p.line]
    b = board.copy()
    for uci in line:
        try:
            mv = chess.Move.from_uci(uci)
        except ValueError:
            break
        if mv not in b.legal_moves:
            break  # a stored line is only kept up to its first unplayable move
        node = node.add_variation(mv)
        b.push(mv)
    return game


def export_concept_pgn(db: sqlite_utils.Database, concept_id: int, path: str | os.PathLike[str]) -> ExportResult:
    """A PGN study of the concept: one game per (not dropped) prototype."""
    concept = get_concept(db, concept_id)
    protos = list_prototypes(db, concept_id)
    out = io.StringIO()
    for k, p in enumerate(protos, start=1):
        game = prototype_game(concept, p, k)
        out.write(game.accept(chess.pgn.StringExporter(headers=True, variations=True, comments=True)))
        out.write("\n\n")
    return ExportResult(_write_text(path, out.getvalue()), "pgn", len(protos))


# ----------------------------------------------------------------------------- EPD


def export_epd(db: sqlite_utils.Database, concept_ids: Sequence[int], path: str | os.PathLike[str]) -> ExportResult:
    """An EPD quiz set of the concepts' prototypes: bm, id and c0 (concept name)."""
    lines: list[str] = []
    for cid in concept_ids:
        concept = get_concept(db, cid)
        for k, p in enumerate(list_prototypes(db, cid), start=1):
            board = chess.Board(p.fen)
            mv = chess.Move.from_uci(p.best_move)
            if mv not in board.legal_moves:
                raise ValueError(f"concept {cid} prototype {p.id}: stored move {p.best_move} is illegal in {p.fen}")
            lines.append(board.epd(bm=[mv], id=f"cc-{concept.uid}-{k}", c0=concept.name))
    return ExportResult(_write_text(path, "\n".join(lines) + ("\n" if lines else "")), "epd", len(lines))


# ---------------------------------------------------------------------------- HTML

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; }
table { border-collapse: collapse; width: 100%; margin: 0.6em 0; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 1em 0; } svg { max-width: 100%; height: auto; }
.note { color: #555; font-size: 0.9em; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { page-break-after: avoid; break-after: avoid; }
  table, figure { page-break-inside: avoid; break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def _fmt(x: float | None, spec: str = "+.2f") -> str:
    return "–" if x is None else format(x, spec)


def _gain_plot_svg(labels: list[str], summaries: list[GainSummary], title: str) -> str:
    """Mean gain (positions) with its bootstrap 95% interval per label, as inline SVG."""
    import matplotlib

    matplotlib.use("Agg")  # no display; the caller may be a worker thread
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 0.45 * len(labels) + 1.4))
    ax = fig.add_subplot(1, 1, 1)
    ys = list(range(len(labels)))
    means = [s.mean_gain_positions for s in summaries]
    lo = [m - s.ci_low if s.ci_low is not None else 0.0 for m, s in zip(means, summaries, strict=True)]
    hi = [s.ci_high - m if s.ci_high is not None else 0.0 for m, s in zip(means, summaries, strict=True)]
    ax.errorbar(means, ys, xerr=[lo, hi], fmt="o", color="#1f5fa8", ecolor="#7a9cc6", capsize=4)
    ax.axvline(0.0, color="#999", linewidth=1)
    ax.set_yticks(ys)
    ax.set_yticklabels(labels)
    ax.invert_yaxis()
    ax.set_xlabel("gain, positions per phase (post - pre), bootstrap 95% interval")
    ax.set_title(title)
    fig.tight_layout()
    buf = io.StringIO()
    # Text as paths is the default: the SVG looks the same wherever it is opened.
    fig.savefig(buf, format="svg")
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]  # drop the XML prolog and DOCTYPE for inline use


def _summary_rows(rows: list[tuple[str, GainSummary]]) -> str:
    out = ["<table><thead><tr><th></th><th>units</th><th>pre</th><th>post</th><th>gain (positions)</th>"
           "<th>95% interval</th><th>Wilcoxon p</th><th>permutation p</th></tr></thead><tbody>"]
    for label, s in rows:
        ci = "–" if s.ci_low is None else f"[{s.ci_low:+.2f}, {s.ci_high:+.2f}]"
        out.append(
            f"<tr><td>{html.escape(label)}</td><td>{s.n_units}</td><td>{s.pre_rate:.0%}</td>"
            f"<td>{s.post_rate:.0%}</td><td>{s.mean_gain_positions:+.2f} of {s.per_phase:g}</td><td>{ci}</td>"
            f"<td>{_fmt(s.wilcoxon_p, '.3f')}</td><td>{_fmt(s.permutation_p, '.3f')}</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


def export_html_report(
    db: sqlite_utils.Database,
    path: str | os.PathLike[str],
    *,
    session_ids: Sequence[int] | None = None,
    player_ids: Sequence[int] | None = None,
    title: str = "Concept Coach: learning gains",
    seed: int = 0,
    n_boot: int = 10_000,
) -> ExportResult:
    """A standalone HTML report (inline SVG, no scripts) of the gains in the attempt log."""
    attempts = list_attempts(db, session_ids=session_ids, player_ids=player_ids, phases=("pre", "post"))
    report = compute_gains(attempts, seed=seed, n_boot=n_boot)
    concepts = _concept_names(db)
    players = _names(db, "players", "name")
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>",
             f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"]
    parts.append(f"<p class=\"note\">{len(attempts)} test answers; bootstrap seed {seed}, {n_boot} resamples. "
                 "Gain = post-test score - pre-test score, per concept and session.</p>")
    if report.overall is None:
        parts.append("<p>No concept has both a pre-test and a post-test answer yet.</p>")
    else:
        o = report.overall
        parts.append("<h2>Overall</h2>" + _summary_rows([("all concepts", o)]
                                                         + ([("control items", report.control)] if report.control else [])))
        if report.net_gain_positions is not None:
            ci = ("" if report.net_ci_low is None
                  else f", 95% interval [{report.net_ci_low:+.2f}, {report.net_ci_high:+.2f}]")
            parts.append(f"<p>Gain net of control items: {report.net_gain_positions:+.2f} positions{ci}.</p>")
        by_c = [(concepts.get(k, f"concept {k}"), v) for k, v in report.by_concept.items()]
        by_p = [(players.get(k, f"player {k}"), v) for k, v in report.by_player.items()]
        parts.append("<h2>By concept</h2>" + _summary_rows(by_c))
        parts.append("<figure>" + _gain_plot_svg([n for n, _ in by_c], [s for _, s in by_c], "Gain by concept")
                     + "</figure>")
        parts.append("<h2>By player</h2>" + _summary_rows(by_p))
        parts.append("<figure>" + _gain_plot_svg([n for n, _ in by_p], [s for _, s in by_p], "Gain by player")
                     + "</figure>")
    parts.append("</body></html>\n")
    n = len(report.by_session)
    return ExportResult(_write_text(path, "".join(parts)), "html", n)
