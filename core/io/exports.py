"""Exports: the attempt log as CSV, a session as JSON, a concept as a PGN study, an EPD
quiz set, and an HTML report of learning gains that prints well to PDF.

Strict writing (STYLE.md): every file is canonical for the reader it targets and is
read back by a real parser in the tests (csv, python-chess, html.parser). Text a user
typed (player names, notes, concept names) is made safe for its target: CSV cells
cannot start a spreadsheet formula, HTML is escaped, PGN and EPD strings are quoted
by python-chess.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import chess
import chess.pgn
import chess.svg
import sqlite_utils
from conceptcoach.store.attempts import Attempt, list_attempts, list_studied
from conceptcoach.store.concepts import Concept, Prototype, get_concept, list_prototypes
from conceptcoach.store.notes import list_notes
from conceptcoach.store.players import get_player
from conceptcoach.store.sessions import get_session, session_items
from conceptcoach.study.stats import GainReport, GainSummary, compute_gains

PathLike = str | os.PathLike[str]

#: Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS = (
    "attempt_id", "answered_at", "session_id", "player_id", "player", "phase", "concept_id", "concept",
    "is_control", "fen", "expected", "answer_uci", "answer_san", "correct", "partial_credit", "value_drop",
    "visit_share", "response_ms", "hints", "network_id",
)


#: A plain decimal number, as a spreadsheet reads it (a sign, digits, a point, an exponent).
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_safe(text: str) -> str:
    """Prefix a text cell that a spreadsheet would run as a formula with a single quote.

    A number is left as it is, sign included (``-0.3057`` stays a negative number; a
    quote would turn it into text)::

        >>> spreadsheet_safe("=1+1"), spreadsheet_safe("-0.3057"), spreadsheet_safe("-x")
        ("'=1+1", '-0.3057', "'-x")
    """
    if not text.startswith(FORMULA_TRIGGERS) or _NUMBER.fullmatch(text):
        return text
    return "'" + text


EXPORT_KINDS = ("csv", "json", "pgn", "epd", "html", "pdf")


def export_file_name(kind: str, *, player: str = "", session_id: int | None = None,
                     concept_id: int | None = None) -> str:
    """The file name an export gets by default: ``{player}-{scope}-{what}.{kind}``, the
    scope being ``session{N}`` or ``all``; exports of one concept (the PGN study, a
    concept's worksheet) add ``concept{N}``. The player's name keeps letters, digits,
    '-' and '_' (others become '_').

        >>> export_file_name("pgn", player="Anna Kowalska", session_id=3, concept_id=7)
        'Anna_Kowalska-session3-concept7-study.pgn'
        >>> export_file_name("csv", player="Anna Kowalska")
        'Anna_Kowalska-all-attempts.csv'
    """
    if kind not in EXPORT_KINDS:
        raise ValueError(f"unknown export {kind!r}; one of {', '.join(EXPORT_KINDS)}")
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in player) or "player"
    scope = f"session{session_id}" if session_id else "all"
    concept = f"-concept{concept_id}" if concept_id is not None and kind in ("pgn", "pdf") else ""
    what = {"csv": "attempts", "json": "results", "pgn": "study", "epd": "quiz", "html": "report",
            "pdf": "worksheet"}[kind]
    return f"{safe}-{scope}{concept}-{what}.{kind}"


def _names(db: sqlite_utils.Database, attempts: Sequence[Attempt]) -> tuple[dict[int, str], dict[int, str]]:
    players = {pid: get_player(db, pid).name for pid in {a.player_id for a in attempts}}
    concepts: dict[int, str] = {}
    for cid in {a.concept_id for a in attempts if a.concept_id is not None}:
        try:
            concepts[cid] = get_concept(db, cid).name
        except KeyError:
            concepts[cid] = ""
    return players, concepts


def attempts_csv_text(
    db: sqlite_utils.Database, *, session_ids: Sequence[int] | None = None, player_ids: Sequence[int] | None = None
) -> str:
    """One row per attempt (the whole log, or some sessions or players), oldest first."""
    attempts = list_attempts(db, session_ids=session_ids, player_ids=player_ids)
    players, concepts = _names(db, attempts)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for a in attempts:
        row: list[Any] = [
            a.id, a.answered_at, a.session_id, a.player_id, players[a.player_id], a.phase,
            "" if a.concept_id is None else a.concept_id, concepts.get(a.concept_id or -1, ""), int(a.is_control),
            a.fen, " ".join(a.expected), a.answer_uci, a.answer_san, int(a.correct),
            _num(a.partial_credit), _num(a.value_drop), _num(a.visit_share),
            "" if a.response_ms is None else a.response_ms, a.hints, "" if a.network_id is None else a.network_id,
        ]
        w.writerow([spreadsheet_safe(x) if isinstance(x, str) else x for x in row])
    return buf.getvalue()


def _num(x: float | None) -> str:
    # Ten significant digits: exact for the stored figures, without float noise (0.19999999999999998).
    return "" if x is None else format(float(x), ".10g")


def write_attempts_csv(db: sqlite_utils.Database, path: PathLike, **filters: Any) -> int:
    """Write :func:`attempts_csv_text` to ``path`` as plain UTF-8 (no byte-order mark: with
    one, Python's ``csv.DictReader`` names the first column ``\ufeffattempt_id``); returns
    the number of attempts written."""
    text = attempts_csv_text(db, **filters)
    Path(path).write_text(text, encoding="utf-8", newline="")
    return text.count("\r\n") - 1


def read_attempts_csv(path: PathLike) -> list[Attempt]:
    """Attempts read back from a CSV export (for recomputing the statistics elsewhere);
    reads files written with a byte-order mark by earlier versions too."""
    def opt(v: str, cast: Any) -> Any:
        return None if v == "" else cast(v)

    out = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh):
            out.append(Attempt(
                id=int(r["attempt_id"]), answered_at=r["answered_at"], session_id=int(r["session_id"]),
                item_id=None, player_id=int(r["player_id"]), phase=r["phase"],
                concept_id=opt(r["concept_id"], int), is_control=r["is_control"] == "1", fen=r["fen"],
                expected=tuple(r["expected"].split()), answer_uci=r["answer_uci"], answer_san=r["answer_san"],
                correct=r["correct"] == "1", partial_credit=opt(r["partial_credit"], float),
                value_drop=opt(r["value_drop"], float), visit_share=opt(r["visit_share"], float),
                response_ms=opt(r["response_ms"], int), hints=int(r["hints"] or 0),
                network_id=opt(r["network_id"], int),
            ))
    return out


def _summary_dict(s: GainSummary | None) -> dict[str, Any] | None:
    return None if s is None else dataclasses.asdict(s)


def report_dict(rep: GainReport) -> dict[str, Any]:
    """A gain report as plain JSON-ready data."""
    return {
        "seed": rep.seed, "n_boot": rep.n_boot,
        "overall": _summary_dict(rep.overall), "control": _summary_dict(rep.control),
        "net_gain": rep.net_gain, "net_gain_positions": rep.net_gain_positions,
        "net_ci": [rep.net_ci_low, rep.net_ci_high],
        "by_concept": {str(k): _summary_dict(v) for k, v in rep.by_concept.items()},
        "by_player": {str(k): _summary_dict(v) for k, v in rep.by_player.items()},
        "units": [{**dataclasses.asdict(u), "pre_score": u.pre_score, "post_score": u.post_score, "gain": u.gain,
                   "gain_positions": u.gain_positions} for u in rep.units],
    }


def session_dict(db: sqlite_utils.Database, session_id: int, *, seed: int = 0, n_boot: int = 10_000) -> dict[str, Any]:
    """A session with its plan, items, logs and gains, as JSON-ready data."""
    from conceptcoach.study.runner import session_state

    s = get_session(db, session_id)
    st = session_state(db, session_id)
    attempts = list_attempts(db, session_ids=[session_id])
    return {
        "format": "conceptcoach-session", "version": 1,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "session": dataclasses.asdict(s),
        "player": dataclasses.asdict(get_player(db, s.player_id)),
        "state": {"phase": st.phase, "done_items": st.done_items, "total_items": st.total_items,
                  "last_activity": st.last_activity},
        "items": [dataclasses.asdict(i) for i in session_items(db, session_id)],
        "attempts": [dataclasses.asdict(a) for a in attempts],
        "studied": [dataclasses.asdict(x) for x in list_studied(db, session_ids=[session_id])],
        "notes": [{"id": n.id, "prototype_id": n.prototype_id, "text": n.text, "written_at": n.written_at}
                  for n in list_notes(db, session_id=session_id)],
        "gains": report_dict(compute_gains(attempts, seed=seed, n_boot=n_boot)),
    }


def write_session_json(db: sqlite_utils.Database, session_id: int, path: PathLike, **kw: Any) -> None:
    Path(path).write_text(json.dumps(session_dict(db, session_id, **kw), indent=2), encoding="utf-8")


def _line_nodes(board: chess.Board, line: Sequence[str]) -> list[chess.Move]:
    """The moves of ``line`` (UCI) playable one after the other from ``board``."""
    moves = []
    b = board.copy()
    for uci in line:
        try:
            mv = chess.Move.from_uci(uci)
        except ValueError:
            break
        if mv not in b.legal_moves:
            break
        moves.append(mv)
        b.push(mv)
    return moves


@dataclass(frozen=True)
class ChapterLines:
    """What a study chapter plays from its position: the mainline (the teacher's move and
    its line) and variations from the root, each with a comment."""

    mainline: list[chess.Move]
    variations: list[tuple[list[chess.Move], str]]
    cut_at: int | None = None  # index in the mainline where an engine found the line going wrong


def chapter_lines(p: Prototype) -> ChapterLines:
    """The teacher's whole line as a mainline, and the accepted alternatives as variations.

    The stored line is the search's principal variation: it usually starts with the
    teacher's move (the mainline is then the whole line), but may follow another root
    move, which then becomes a variation of its own. Accepted alternatives are the
    moves an engine's verification found as good (``Prototype.accepted_moves``); an
    unverified prototype has none."""
    board = chess.Board(p.fen)
    best = chess.Move.from_uci(p.best_move)
    if best not in board.legal_moves:
        return ChapterLines([], [])
    stored = _line_nodes(board, p.line)
    variations: list[tuple[list[chess.Move], str]] = []
    if stored and stored[0] == best:
        main = stored
    elif stored:
        main = [best]
        variations.append((stored, f"The teacher's principal line follows {board.san(stored[0])}."))
    else:
        after = _line_nodes(board, [p.best_move, *p.line])
        main = after if len(after) > 1 else [best]
    evals = (p.verification or {}).get("accepted") or {}
    best_cp = (p.verification or {}).get("best_cp")
    for uci in p.accepted_moves():
        mv = chess.Move.from_uci(uci)
        if mv == best or mv not in board.legal_moves:
            continue
        figure = ""
        if isinstance(evals, dict) and uci in evals and best_cp is not None:
            figure = f" ({int(best_cp) - int(evals[uci])} cp below the engine's best)"
        comment = f"Also accepted{figure}."
        merged = next((k for k, (line, _) in enumerate(variations) if line[0] == mv), None)
        if merged is not None:
            line, note = variations[merged]
            variations[merged] = (line, f"{comment} {note}")
        else:
            variations.append(([mv], comment))
    cut = (p.verification or {}).get("line_cut_at")
    cut_at = int(cut) if cut is not None and 0 < int(cut) < len(main) else None
    return ChapterLines(main, variations, cut_at)


def concept_description(concept: Concept) -> str:
    """The concept in a few sentences: its name and kind, then its description (the
    coach's annotation, or what discovery measured on its prototypes)."""
    players = "both sides" if concept.players == "both" else "the side to move"
    head = (f"{concept.name}: a {concept.kind} concept of layer {concept.layer} ({concept.status}, "
            f"{concept.polarity}, {players}).")
    return " ".join(part for part in (head, concept.annotation.strip()) if part)


def concept_pgn_text(db: sqlite_utils.Database, concept_id: int) -> str:
    """A PGN study of a concept in the style Lichess imports: one game (a chapter) per
    prototype, ``[Event "Concept: name"]``, set up from its FEN, the concept's description
    and the teacher's figures as the opening comment, the teacher's whole line as the
    mainline and the accepted alternatives as variations (:func:`chapter_lines`),
    arrows ([%cal]) for the teacher's move and the runner-up and the concept's hottest
    squares ([%csl])."""
    concept = get_concept(db, concept_id)
    protos = list_prototypes(db, concept_id)
    description = concept_description(concept)
    out = io.StringIO()
    for k, p in enumerate(protos, 1):
        board = chess.Board(p.fen)
        game = chess.pgn.Game()
        game.setup(board)
        game.headers["Event"] = f"Concept: {concept.name}"
        game.headers["Site"] = "Concept Coach"
        game.headers["Date"] = "????.??.??"
        game.headers["Round"] = str(k)
        # Older Lichess names chapters "White - Black"; newer reads ChapterName.
        game.headers["White"] = concept.name
        game.headers["Black"] = f"Position {k}/{len(protos)}"
        game.headers["StudyName"] = f"Concept: {concept.name}"
        game.headers["ChapterName"] = f"{concept.name} {k}/{len(protos)}"
        game.headers["Orientation"] = "white" if board.turn == chess.WHITE else "black"
        game.headers["Annotator"] = "Concept Coach"
        if p.game_key:
            game.headers["Source"] = p.game_key
        total = sum(float(v.get("n", 0)) for v in p.visits.values())
        ranked = sorted(p.visits.items(), key=lambda kv: -float(kv[1].get("n", 0)))
        figures = []
        for uci, v in ranked[:4]:
            mv = chess.Move.from_uci(uci)
            if mv in board.legal_moves:
                q = v.get("q")
                figures.append(f"{board.san(mv)} {100 * float(v.get('n', 0)) / total:.0f}%"
                               + (f" (value {float(q):+.2f})" if q is not None else "") if total else board.san(mv))
        intro = [description]
        if p.value is not None:
            intro.append(f"Teacher's value for the side to move: {p.value:+.2f}.")
        if figures:
            intro.append("Teacher's search: " + ", ".join(figures) + ".")
        game.comment = " ".join(intro)
        arrows = []
        best = chess.Move.from_uci(p.best_move)
        arrows.append(chess.svg.Arrow(best.from_square, best.to_square, color="green"))
        runner = next((u for u, _ in ranked if u != p.best_move), None)
        if runner:
            rm = chess.Move.from_uci(runner)
            arrows.append(chess.svg.Arrow(rm.from_square, rm.to_square, color="yellow"))
        if p.heat and len(p.heat) == 64:
            for sq in sorted(range(64), key=lambda s: -float(p.heat[s]))[:3]:
                if float(p.heat[sq]) > 0:
                    arrows.append(chess.svg.Arrow(sq, sq, color="red"))
        game.set_arrows(arrows)
        lines = chapter_lines(p)
        node: chess.pgn.GameNode = game
        for i, mv in enumerate(lines.mainline):
            node = node.add_variation(mv)
            if i == 0:
                node.comment = "The teacher's move."
            if i == lines.cut_at:
                node.comment = "An engine finds the line losing ground from this move on."
        for moves, comment in lines.variations:
            var: chess.pgn.GameNode = game
            for i, mv in enumerate(moves):
                var = var.add_variation(mv)
                if i == 0:
                    var.starting_comment = comment
        game.headers["Result"] = "*"
        print(game, file=out, end="\n\n")
    return out.getvalue()


def write_concept_pgn(db: sqlite_utils.Database, concept_id: int, path: PathLike) -> int:
    """Write :func:`concept_pgn_text` to ``path``; returns the number of chapters."""
    text = concept_pgn_text(db, concept_id)
    Path(path).write_text(text, encoding="utf-8")
    return text.count("[Event ")


def epd_quiz_text(db: sqlite_utils.Database, concept_ids: Sequence[int]) -> str:
    """An EPD quiz set: one line per prototype with ``bm`` (the teacher's move),
    ``id`` (concept uid / prototype id), ``c0`` (the concept's name) and ``pv`` (the
    teacher's line, when it has one)."""
    lines = []
    for cid in concept_ids:
        concept = get_concept(db, cid)
        for p in list_prototypes(db, cid):
            board = chess.Board(p.fen)
            ops: dict[str, Any] = {"bm": [chess.Move.from_uci(p.best_move)], "id": f"{concept.uid}/{p.id}",
                                   "c0": concept.name}
            line = _line_nodes(board, p.line)
            if line:
                ops["pv"] = line  # the teacher's line (python-chess writes it in SAN)
            lines.append(board.epd(**ops))
    return "\n".join(lines) + ("\n" if lines else "")


def write_epd_quiz(db: sqlite_utils.Database, concept_ids: Sequence[int], path: PathLike) -> int:
    text = epd_quiz_text(db, concept_ids)
    Path(path).write_text(text, encoding="utf-8")
    return text.count("\n")


# --- HTML report -----------------------------------------------------------------

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .6em 0; } th, td { padding: .25em .7em; text-align: right; }
th:first-child, td:first-child { text-align: left; } thead th { border-bottom: 1px solid #888; }
tbody tr:nth-child(even) { background: #f4f4f4; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
.note { color: #555; font-size: .9em; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5pt; }
  h2 { break-after: avoid; } figure, table { break-inside: avoid; }
  tbody tr:nth-child(even) { background: none; }
  @page { size: A4; margin: 15mm; }
}
"""


def _svg(fig: Any, key: str) -> str:
    import matplotlib

    buf = io.StringIO()
    # Text stays text (selectable, crisp in print, no glyph ids that clash when two
    # plots share one page); the salt makes clip-path ids reproducible and distinct.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": key}):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    # Every plot names its groups figure_1, patch_1, ...: prefix ids (and references
    # to them) so that ids stay unique on a page holding several plots.
    text = re.sub(r'\bid="([^"]+)"', rf'id="{key}-\1"', text)
    text = re.sub(r'url\(#([^)]+)\)', rf'url(#{key}-\1)', text)
    return re.sub(r'href="#([^"]+)"', rf'href="#{key}-\1"', text)


def _gain_plot(labels: list[str], summaries: list[GainSummary], title: str) -> str:
    # Figure directly, not pyplot: no global state, safe in a worker thread.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 0.5 + 0.45 * max(2, len(labels))))
    ax = fig.add_subplot()
    ys = list(range(len(labels)))[::-1]
    means = [s.mean_gain_positions for s in summaries]
    lo = [s.mean_gain_positions - s.ci_low if s.ci_low is not None else 0.0 for s in summaries]
    hi = [s.ci_high - s.mean_gain_positions if s.ci_high is not None else 0.0 for s in summaries]
    ax.barh(ys, means, xerr=[lo, hi], color="#4c78a8", ecolor="#222", capsize=3)
    ax.axvline(0, color="#888", linewidth=0.8)
    ax.set_yticks(ys, labels)
    ax.set_xlabel("gain (positions, post - pre) with bootstrap 95% interval")
    ax.set_title(title)
    return _svg(fig, "gains")


def _prepost_plot(labels: list[str], summaries: list[GainSummary]) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3))
    ax = fig.add_subplot()
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], [100 * s.pre_rate for s in summaries], width=0.4, label="pre-test", color="#bbb")
    ax.bar([x + 0.2 for x in xs], [100 * s.post_rate for s in summaries], width=0.4, label="post-test",
           color="#4c78a8")
    ax.set_xticks(list(xs), labels)
    ax.set_ylabel("% of the teacher's moves found")
    ax.set_ylim(0, 100)
    ax.legend()
    return _svg(fig, "prepost")


def _p(x: float | None) -> str:
    return "–" if x is None else (f"{x:.4f}" if x >= 0.0001 else "<0.0001")


def _ci(s: GainSummary) -> str:
    return "–" if s.ci_low is None or s.ci_high is None else f"[{s.ci_low:+.2f}, {s.ci_high:+.2f}]"


def _table(title: str, rows: list[tuple[str, GainSummary]]) -> str:
    head = ("<tr><th>" + html.escape(title) + "</th><th>units</th><th>pre</th><th>post</th>"
            "<th>gain (positions)</th><th>95% interval</th><th>Wilcoxon p</th><th>permutation p</th></tr>")
    body = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{s.n_units}</td><td>{100 * s.pre_rate:.0f}%</td>"
        f"<td>{100 * s.post_rate:.0f}%</td><td>{s.mean_gain_positions:+.2f} of {s.per_phase:g}</td>"
        f"<td>{_ci(s)}</td><td>{_p(s.wilcoxon_p)}</td><td>{_p(s.permutation_p)}</td></tr>"
        for name, s in rows
    )
    return f"<table><thead>{head}</thead><tbody>{body}</tbody></table>"


def html_report_text(
    db: sqlite_utils.Database,
    *,
    session_ids: Sequence[int] | None = None,
    player_ids: Sequence[int] | None = None,
    title: str = "Learning gains",
    seed: int = 0,
    n_boot: int = 10_000,
) -> str:
    """A standalone HTML page (plots inline as SVG) of the gains in some sessions or of
    some players (all sessions by default); prints to PDF through @media print."""
    attempts = list_attempts(db, session_ids=session_ids, player_ids=player_ids)
    rep = compute_gains(attempts, seed=seed, n_boot=n_boot)
    players, concepts = _names(db, attempts)
    sessions = sorted({a.session_id for a in attempts})
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"]
    who = ", ".join(sorted(players.values())) or "nobody yet"
    parts.append(f"<p>Players: {html.escape(who)}. Sessions: {len(sessions)}. Attempts: {len(attempts)}.</p>")
    if rep.overall is None:
        parts.append("<p>No concept has both a pre-test and a post-test answer yet: no gain to report.</p>")
    else:
        o = rep.overall
        parts.append("<h2>Overall</h2>")
        parts.append(f"<p>Mean gain <strong>{o.mean_gain_positions:+.2f} positions of {o.per_phase:g}</strong> "
                     f"per concept ({100 * o.pre_rate:.0f}% → {100 * o.post_rate:.0f}% of the teacher's moves "
                     f"found), 95% interval {_ci(o)}, over {o.n_units} concept × player unit(s).</p>")
        rows = [("All concepts", o)]
        if rep.control is not None:
            rows.append(("Control items", rep.control))
        parts.append(_table("", rows))
        if rep.net_gain_positions is not None:
            ci = ("" if rep.net_ci_low is None or rep.net_ci_high is None
                  else f", 95% interval [{rep.net_ci_low:+.2f}, {rep.net_ci_high:+.2f}]")
            parts.append(f"<p>Gain net of the control items: <strong>{rep.net_gain_positions:+.2f}</strong> "
                         f"positions per concept{ci}.</p>")
        c_rows = [(concepts.get(k, f"concept {k}") or f"concept {k}", s) for k, s in rep.by_concept.items()]
        parts.append("<h2>Per concept</h2>")
        parts.append(f"<figure>{_gain_plot([n for n, _ in c_rows], [s for _, s in c_rows], 'Gain per concept')}</figure>")
        parts.append(_table("Concept", c_rows))
        p_rows = [(players.get(k, f"player {k}"), s) for k, s in rep.by_player.items()]
        parts.append("<h2>Per player</h2>")
        parts.append(f"<figure>{_prepost_plot([n for n, _ in p_rows], [s for _, s in p_rows])}</figure>")
        parts.append(_table("Player", p_rows))
        if len(rep.by_session) > 1:
            s_rows = []
            for k, summ in rep.by_session.items():
                sess = get_session(db, k)
                name = players.get(sess.player_id, f"player {sess.player_id}")
                s_rows.append((f"#{k} {name}, {sess.created_at[:10]}{' ' + sess.label if sess.label else ''}", summ))
            parts.append("<h2>Per session</h2>")
            parts.append(_table("Session", s_rows))
    parts.append(
        f"<p class='note'>Gain = post-test share − pre-test share of the teacher's moves found, in positions "
        f"per phase. Intervals: percentile bootstrap over units, {rep.n_boot} resamples, seed {rep.seed}. "
        f"Paired tests across units: Wilcoxon signed-rank and sign-flip permutation (two-sided). "
        f"Generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} from the attempt log.</p>")
    parts.append("</body></html>")
    return "".join(parts)


def write_html_report(db: sqlite_utils.Database, path: PathLike, **kw: Any) -> None:
    Path(path).write_text(html_report_text(db, **kw), encoding="utf-8")

