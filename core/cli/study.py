"""CLI for scripts: `conceptcoach player`, `session`, `review`, `positions` and `export`.

The commands call the same functions as the desktop app (study.plan, study.runner,
study.stats, io.exports, io.positions_import), so a script, the GUI and the CLI
run the same sessions and get the same numbers. A user error (unknown player, an
illegal move, too few positions) is printed as one line saying what to do, with
exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import chess
import sqlite_utils
from conceptcoach.study.phases import Phase

Sub = argparse._SubParsersAction  # noqa: SLF001 - argparse exposes no public name for it


def _open(args: argparse.Namespace) -> sqlite_utils.Database:
    from conceptcoach.bootstrap import open_user_store

    db, _ = open_user_store(args.data_dir)
    return db


def _fail(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


def _player_ids(db: sqlite_utils.Database, refs: list[str]) -> list[int]:
    from conceptcoach.store.players import find_player

    return [find_player(db, ref).id for ref in refs]


# ------------------------------------------------------------------------- players


def cmd_player_add(args: argparse.Namespace) -> int:
    from conceptcoach.store.players import add_player

    p = add_player(_open(args), args.name, rating=args.rating, notes=args.notes)
    print(f"player {p.id}: {p.name}")
    return 0


def cmd_player_list(args: argparse.Namespace) -> int:
    from conceptcoach.store.players import list_players

    for p in list_players(_open(args)):
        rating = "" if p.rating is None else f" ({p.rating})"
        print(f"{p.id}\t{p.name}{rating}")
    return 0


# ------------------------------------------------------------------------ sessions


def cmd_session_create(args: argparse.Namespace) -> int:
    from conceptcoach.store.sessions import get_template, save_template
    from conceptcoach.study.plan import ControlSpec, PlanSpec, create_sessions

    db = _open(args)
    if args.template:
        spec = PlanSpec.from_dict(get_template(db, args.template).plan)
        if args.player:
            spec.player_ids = _player_ids(db, args.player)
        if args.concept:
            spec.concept_ids = list(args.concept)
        if args.seed is not None:
            spec.seed = args.seed
    else:
        spec = PlanSpec(
            player_ids=_player_ids(db, args.player), concept_ids=list(args.concept), per_phase=args.per_phase,
            learning_per_concept=args.learning,
            seconds_per_position=args.seconds,
            control=ControlSpec(count=args.control, source=args.control_source, set_id=args.control_set),
            seed=args.seed, mode=args.mode, label=args.label,
        )
    if args.save_template:
        save_template(db, args.save_template, {**spec.to_dict(), "seed": None}, replace=True)
        print(f"template {args.save_template!r} saved")
    planned = create_sessions(db, spec)
    print(f"seed {planned.seed}, {planned.items_per_session} items per session")
    for sid, pid in zip(planned.session_ids, spec.player_ids, strict=True):
        print(f"session {sid} for player {pid}")
    return 0


def cmd_session_list(args: argparse.Namespace) -> int:
    from conceptcoach.store.sessions import list_sessions
    from conceptcoach.study.runner import session_state

    db = _open(args)
    pid = _player_ids(db, [args.player])[0] if args.player else None
    for s in list_sessions(db, player_id=pid):
        st = session_state(db, s.id)
        print(f"{s.id}\tplayer {s.player_id}\t{s.mode}\t{st.phase}\t{st.done_items}/{st.total_items}\t{s.created_at}\t{s.label}")
    return 0


def _state_dict(db: sqlite_utils.Database, session_id: int) -> dict[str, Any]:
    from conceptcoach.study.runner import session_state

    st = session_state(db, session_id)
    cur = st.current
    return {
        "session": session_id, "player": st.session.player_id, "mode": st.session.mode, "phase": st.phase,
        "done": st.done_items, "total": st.total_items,
        "current": None if cur is None else {
            "item": cur.id, "phase": cur.phase, "index": st.index_in_phase + 1, "of": st.phase_size,
            "fen": cur.fen, "concept": cur.concept_id, "control": cur.is_control,
        },
    }


def cmd_session_delete(args: argparse.Namespace) -> int:
    from conceptcoach.store.sessions import delete_unstarted_session

    delete_unstarted_session(_open(args), args.session)
    print(f"session {args.session} deleted")
    return 0


def cmd_session_show(args: argparse.Namespace) -> int:
    from conceptcoach.io.exports import report_dict
    from conceptcoach.store.attempts import list_attempts
    from conceptcoach.store.concepts import concept_names
    from conceptcoach.study.stats import compute_gains

    db = _open(args)
    state = _state_dict(db, args.session)
    report = compute_gains(list_attempts(db, session_ids=[args.session], phases=(Phase.PRE, Phase.POST)), seed=args.seed)
    names = concept_names(db)
    if args.json:
        print(json.dumps({"state": state, "results": report_dict(report)}, indent=2, default=str))
        return 0
    print(f"session {args.session}: player {state['player']}, {state['mode']}, phase {state['phase']}, "
          f"{state['done']}/{state['total']} items done")
    for cid, s in report.by_concept.items():
        print(f"  {names.get(cid, cid)}: pre {s.pre_rate:.0%} -> post {s.post_rate:.0%}, "
              f"gain {s.mean_gain_positions:+.2f} of {s.per_phase:g}")
    if report.overall is not None:
        o = report.overall
        print(f"  all concepts: gain {o.mean_gain_positions:+.2f} of {o.per_phase:g} positions")
    if report.control is not None:
        print(f"  control items: gain {report.control.mean_gain_positions:+.2f}; "
              f"net of controls {report.net_gain_positions:+.2f}")
    return 0


def cmd_session_next(args: argparse.Namespace) -> int:
    from conceptcoach.store.sessions import get_item
    from conceptcoach.study.runner import lesson

    db = _open(args)
    state = _state_dict(db, args.session)
    cur = state["current"]
    if args.json:
        if cur is not None and cur["phase"] == Phase.LEARNING:
            cur["lesson"] = asdict(lesson(db, get_item(db, cur["item"])))
        print(json.dumps(state, indent=2, default=str))
        return 0
    if cur is None:
        print(f"session {args.session} is finished ({state['done']}/{state['total']})")
        return 0
    board = chess.Board(cur["fen"])
    print(f"session {args.session}: {cur['phase']} {cur['index']}/{cur['of']} (item {cur['item']})")
    print(board.unicode(orientation=board.turn) if args.unicode else board)
    print(f"FEN {cur['fen']}")
    print(f"{'White' if board.turn else 'Black'} to move")
    if cur["phase"] == Phase.LEARNING:
        le = lesson(db, get_item(db, cur["item"]))
        print(f"teacher's move: {le.move_san}; line: {' '.join(le.line_san)}")
        for uci, san, share, q in le.children[:5]:
            qs = "" if q is None else f", Q {q:+.3f}"
            print(f"  {san} ({uci}): {share:.0%} of visits{qs}")
        print(f"when studied: conceptcoach session answer {args.session} --studied")
    else:
        print(f"answer with: conceptcoach session answer {args.session} MOVE")
    return 0


def cmd_session_answer(args: argparse.Namespace) -> int:
    from conceptcoach.study.runner import answer, mark_studied, session_state

    db = _open(args)
    st = session_state(db, args.session)
    if st.current is None:
        return _fail(f"session {args.session} is finished; nothing to answer")
    item = st.current
    if args.studied:
        if item.phase != Phase.LEARNING:
            return _fail(f"the current item of session {args.session} is a {item.phase}-test position: "
                         "answer it with a move")
        after = mark_studied(db, args.session, item.id, study_ms=args.ms)
        print(f"studied; next: {after.phase} ({after.done_items}/{after.total_items})")
        return 0
    if args.move is None:
        return _fail("give a move (UCI or SAN), or --studied for a learning position")
    if item.phase == Phase.LEARNING:
        return _fail(f"the current item of session {args.session} is a learning position: "
                     f"study it (conceptcoach session next {args.session}) then mark it with --studied")
    res = answer(db, args.session, item.id, args.move, response_ms=args.ms, hints=args.hints)
    a = res.attempt
    verdict = "correct" if a.correct else f"not the teacher's move ({' '.join(a.expected)})"
    credit = "" if a.partial_credit is None else f", partial credit {a.partial_credit:.2f}"
    print(f"{a.answer_san}: {verdict}{credit}; next: {res.state.phase} ({res.state.done_items}/{res.state.total_items})")
    return 0


# ------------------------------------------------------------------------- reviews


def cmd_review(args: argparse.Namespace) -> int:
    from conceptcoach.study.review import due_reviews, review_cards

    db = _open(args)
    pid = _player_ids(db, [args.player])[0]
    cards = review_cards(db, pid) if args.all else due_reviews(db, pid)
    if not cards:
        print("nothing due" if not args.all else "no concept tested after study yet")
    for c in cards:
        print(f"{c.concept_id}\t{c.concept_name}\tdue {c.due.isoformat(timespec='minutes')}\t{c.state}\t"
              f"recall {c.retrievability:.0%}\t{c.reviews} review(s), last {c.last_score:.0%}")
    return 0


# ----------------------------------------------------------------------- positions


def cmd_positions_import(args: argparse.Namespace) -> int:
    from conceptcoach.io.positions_import import import_positions

    db = _open(args)
    status = 0
    for f in args.files:
        rep = import_positions(db, f, args.set)
        for p in rep.problems:
            print(f"  {p}", file=sys.stderr)
        print(f"{f}: set {rep.set_id} {rep.set_name!r}: {rep.added} added, {rep.duplicates} already there, "
              f"{len(rep.problems)} bad, {rep.without_move} without a best move")
        status = status or (1 if rep.problems else 0)
    return status


# -------------------------------------------------------------------------- export


def cmd_export(args: argparse.Namespace) -> int:
    from conceptcoach.io import exports

    db = _open(args)
    kind = args.export_kind
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    if kind == "pdf":
        from conceptcoach.io.worksheet import write_worksheet

        sheet = write_worksheet(db, args.out, session_id=args.session, concept_id=args.concept,
                                per_page=args.per_page)
        print(f"{args.out}: {sheet.positions} positions on {sheet.diagram_pages} diagram page(s), "
              f"answer key on {sheet.answer_pages} (pdf)")
        return 0
    players = _player_ids(db, args.player) if getattr(args, "player", None) else None
    sessions = list(args.session) if getattr(args, "session", None) else None
    if kind == "csv":
        n = exports.write_attempts_csv(db, args.out, session_ids=sessions, player_ids=players)
        what = f"{n} attempts"
    elif kind == "json":
        exports.write_session_json(db, args.session_id, args.out, seed=args.seed)
        what = f"session {args.session_id}"
    elif kind == "pgn":
        what = f"{exports.write_concept_pgn(db, args.concept_id, args.out)} games"
    elif kind == "epd":
        what = f"{exports.write_epd_quiz(db, list(args.concept), args.out)} positions"
    else:
        exports.write_html_report(db, args.out, session_ids=sessions, player_ids=players, seed=args.seed)
        what = "report"
    print(f"{args.out}: {what} ({kind})")
    return 0


def _guard(fn: Any) -> Any:
    """User errors as one line and status 2, not a traceback."""
    from conceptcoach.store.attempts import AlreadyDone

    def run(args: argparse.Namespace) -> int:
        try:
            return int(fn(args))
        except (ValueError, KeyError, FileNotFoundError, AlreadyDone) as exc:
            msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
            return _fail(str(msg))

    return run


def register(sub: Sub[argparse.ArgumentParser]) -> None:
    pl = sub.add_parser("player", help="players (add, list)")
    psub = pl.add_subparsers(dest="player_command", metavar="ACTION", required=True)
    p = psub.add_parser("add", help="add a player")
    p.add_argument("name")
    p.add_argument("--rating", type=int)
    p.add_argument("--notes", default="")
    p.set_defaults(handler=_guard(cmd_player_add))
    p = psub.add_parser("list", help="list players")
    p.set_defaults(handler=_guard(cmd_player_list))

    se = sub.add_parser("session", help="study sessions: create, list, show, next, answer")
    ssub = se.add_subparsers(dest="session_command", metavar="ACTION", required=True)
    p = ssub.add_parser("create", help="plan a session per player (pre-test, learning, post-test)")
    p.add_argument("--player", action="append", default=[], metavar="ID|NAME", help="repeatable")
    p.add_argument("--concept", action="append", type=int, default=[], metavar="ID", help="repeatable")
    p.add_argument("--per-phase", type=int, default=4, help="positions per concept per phase (default 4)")
    p.add_argument("--learning", type=int, metavar="N", help="positions per concept to study (default: --per-phase)")
    p.add_argument("--seconds", type=float, help="time per position (shown by the client)")
    p.add_argument("--control", type=int, default=0, metavar="N", help="control items per phase")
    p.add_argument("--control-source", choices=("failed", "machine", "set"), default="failed")
    p.add_argument("--control-set", type=int, metavar="SET_ID", help="position set for --control-source set")
    p.add_argument("--seed", type=int, help="order seed (default: drawn and recorded)")
    p.add_argument("--mode", choices=("coach", "self", "review"), default="coach")
    p.add_argument("--label", default="")
    p.add_argument("--template", metavar="NAME", help="start from a saved template")
    p.add_argument("--save-template", metavar="NAME", help="save this plan (without its seed) as a template")
    p.set_defaults(handler=_guard(cmd_session_create))
    p = ssub.add_parser("list", help="sessions and where they stand")
    p.add_argument("--player", metavar="ID|NAME")
    p.set_defaults(handler=_guard(cmd_session_list))
    p = ssub.add_parser("show", help="state and gains of a session")
    p.add_argument("session", type=int)
    p.add_argument("--json", action="store_true")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.set_defaults(handler=_guard(cmd_session_show))
    p = ssub.add_parser("next", help="the current position of a session (and the lesson in learning)")
    p.add_argument("session", type=int)
    p.add_argument("--json", action="store_true")
    p.add_argument("--unicode", action="store_true", help="draw the board with chess symbols")
    p.set_defaults(handler=_guard(cmd_session_next))
    p = ssub.add_parser("answer", help="answer the current position (committed at once)")
    p.add_argument("session", type=int)
    p.add_argument("move", nargs="?", help="UCI or SAN")
    p.add_argument("--studied", action="store_true", help="mark the current learning position as studied")
    p.add_argument("--ms", type=int, help="response (or study) time in milliseconds")
    p.add_argument("--hints", type=int, default=0)
    p.set_defaults(handler=_guard(cmd_session_answer))

    p = ssub.add_parser("delete", help="delete a session nobody has started (frees its positions)")
    p.add_argument("session", type=int)
    p.set_defaults(handler=_guard(cmd_session_delete))

    p = sub.add_parser("review", help="the FSRS review queue of a player: concepts due again")
    p.add_argument("player", metavar="ID|NAME")
    p.add_argument("--all", action="store_true", help="every scheduled concept, not only those due now")
    p.set_defaults(handler=_guard(cmd_review))

    po = sub.add_parser("positions", help="custom position sets")
    posub = po.add_subparsers(dest="positions_command", metavar="ACTION", required=True)
    p = posub.add_parser("import", help="import EPD quiz sets or PGN games with FEN set-ups")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--set", metavar="NAME", help="set name (default: each file's name)")
    p.set_defaults(handler=_guard(cmd_positions_import))

    ex = sub.add_parser("export", help="export results and lessons: csv, json, pgn, epd, html, pdf")
    esub = ex.add_subparsers(dest="export_kind", metavar="FORMAT", required=True)
    p = esub.add_parser("csv", help="one row per attempt (spreadsheet-safe)")
    p.add_argument("out")
    p.add_argument("--session", action="append", type=int, metavar="ID")
    p.add_argument("--player", action="append", metavar="ID|NAME")
    p = esub.add_parser("json", help="a session with its results")
    p.add_argument("session_id", type=int)
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p = esub.add_parser("pgn", help="a PGN study of a concept")
    p.add_argument("concept_id", type=int)
    p.add_argument("out")
    p = esub.add_parser("epd", help="an EPD quiz set of concepts")
    p.add_argument("out")
    p.add_argument("--concept", action="append", type=int, required=True, metavar="ID")
    p = esub.add_parser("html", help="a printable HTML report of gains")
    p.add_argument("out")
    p.add_argument("--session", action="append", type=int, metavar="ID")
    p.add_argument("--player", action="append", metavar="ID|NAME")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p = esub.add_parser("pdf", help="a printable worksheet: board diagrams, then the answer key")
    p.add_argument("out")
    whose = p.add_mutually_exclusive_group(required=True)
    whose.add_argument("--session", type=int, metavar="ID", help="the positions of a session, in order")
    whose.add_argument("--concept", type=int, metavar="ID", help="the positions of a concept")
    p.add_argument("--per-page", type=int, choices=(4, 6), default=6, help="diagrams per page (default 6)")
    for choice in esub.choices.values():
        choice.set_defaults(handler=_guard(cmd_export))
