"""CLI: `conceptcoach networks` (list, `networks add FILE`), `selfplay` and `analyse`.

A network file of either family is registered the same way: ours (``.safetensors`` with
its ``.json`` beside it) or lc0 (``.pb.gz``, e.g. a Maia network, which registers as a
human model of its rating unless ``--role`` says otherwise)."""

from __future__ import annotations

import argparse
import sys

from conceptcoach.progress import run_with_bar


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("networks", help="list registered networks, or register a network file")
    p.add_argument("--register", metavar="FILE", help="the same as `networks add FILE`")
    p.add_argument("--name", help="name to register it under (default: its own)")
    p.add_argument("--role", help="teacher, weaker, student, human, ... (default: the file's own)")
    p.set_defaults(handler=cmd_networks)
    actions = p.add_subparsers(dest="networks_command", metavar="ACTION")
    add = actions.add_parser("add", help="register a network file: ours (.safetensors with its .json) "
                             "or lc0 (.pb.gz, e.g. maia-1900.pb.gz)")
    add.add_argument("file", metavar="FILE")
    add.add_argument("--name", dest="add_name", help="name to register it under (default: its own, or "
                     "the file name for lc0: maia-1900)")
    add.add_argument("--role", dest="add_role", help="teacher, weaker, student, human, ... (default: the "
                     "checkpoint's own; human for a Maia file, other for any other lc0 file)")
    add.set_defaults(handler=cmd_networks)

    p = sub.add_parser("selfplay", help="self-play games with MCTS into the store (resumable)")
    p.add_argument("--network", default="teacher", help="registered network name (default: teacher)")
    p.add_argument("--games", type=int, default=10)
    p.add_argument("--sims", type=int, default=200, help="MCTS simulations per move")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1, help="parallel processes (one torch thread each)")
    p.add_argument("--temperature-plies", type=int, default=16)
    p.set_defaults(handler=cmd_selfplay)

    p = sub.add_parser("analyse", help="search one position (FEN) and print the tree summary")
    p.add_argument("fen", nargs="?", default=None, help="FEN (default: the start position)")
    p.add_argument("--moves", default="", metavar="UCI",
                   help="moves played from the FEN, space-separated (lc0 networks read this history)")
    p.add_argument("--network", default="teacher", help="registered network, of either family")
    p.add_argument("--sims", type=int, default=800)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", action="store_true",
                   help="print the search summary as JSON: every root move with its visits, Q and prior")
    p.set_defaults(handler=cmd_analyse)


def cmd_networks(args: argparse.Namespace) -> int:
    from conceptcoach.bootstrap import open_user_store
    from conceptcoach.engine.checkpoint import CheckpointError
    from conceptcoach.engine.networks import register_file
    from conceptcoach.store.networks import list_networks

    db, _ = open_user_store(args.data_dir)
    adding = args.networks_command == "add"
    path = args.file if adding else args.register
    if path:
        name = args.add_name if adding else None
        role = args.add_role if adding else None
        try:
            rec = register_file(db, path, name=name or args.name, role=role or args.role)
        except (CheckpointError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"registered {rec.name} ({rec.describe()}, role {rec.role or '-'}, {rec.sha256[:12]})")
    for rec in list_networks(db):
        print(f"{rec.name:24s} {rec.role or '-':8s} {rec.describe():10s} "
              f"step {rec.metadata.get('step', 0):>7}  {rec.sha256[:12]}  {'bundled' if rec.bundled else rec.path}")
    return 0


def cmd_selfplay(args: argparse.Namespace) -> int:
    from conceptcoach.bootstrap import open_user_store
    from conceptcoach.engine.mcts import SearchConfig
    from conceptcoach.engine.selfplay import SelfPlayConfig, run_selfplay

    db, path = open_user_store(args.data_dir)
    config = SelfPlayConfig(
        games=args.games, seed=args.seed, simulations=args.sims, temperature_plies=args.temperature_plies,
        search=SearchConfig(simulations=args.sims, root_noise=True),
    )
    status, run_id = run_with_bar(
        lambda bar: run_selfplay(db, str(path), args.network, config, workers=args.workers, progress=bar),
        unit="game",
    )
    if run_id is None:
        return status
    print(f"run {run_id}: done")
    return 0


def cmd_analyse(args: argparse.Namespace) -> int:
    import json

    import chess
    import torch
    from conceptcoach.bootstrap import open_user_store
    from conceptcoach.engine.checkpoint import CheckpointError
    from conceptcoach.engine.mcts import MCTS, SearchConfig
    from conceptcoach.engine.networks import load_evaluator
    from conceptcoach.store.networks import get_network

    torch.set_num_threads(args.threads)
    try:
        board = chess.Board(args.fen) if args.fen else chess.Board()
    except ValueError as exc:
        print(f"error: invalid FEN {args.fen!r}: {exc}", file=sys.stderr)
        return 2
    for uci in args.moves.split():
        try:
            board.push_uci(uci)
        except ValueError:
            print(f"error: {uci} is not a legal move in {board.fen()}", file=sys.stderr)
            return 2
    db, _ = open_user_store(args.data_dir)
    try:
        rec = get_network(db, args.network)
        evaluator = load_evaluator(rec)
    except (KeyError, CheckpointError) as exc:
        print(f"error: {exc.args[0] if isinstance(exc, KeyError) else exc}", file=sys.stderr)
        return 2
    config = SearchConfig(simulations=args.sims)
    summary = MCTS(evaluator, board, config).run()
    if args.json:
        print(json.dumps({
            "network": rec.name, "family": rec.family.value, "sha256": rec.sha256, "fen": summary.fen,
            "moves_before": args.moves.split(), "simulations": args.sims, "visits": summary.visits,
            "value": summary.value, "best_move": summary.best_move,
            "moves": [{"move": c.move, "san": board.san(chess.Move.from_uci(c.move)), "visits": c.n, "q": c.q,
                       "prior": c.p} for c in summary.children],
            "principal_line": summary.principal_line, "search": config.to_dict(),
        }, indent=1))
        return 0
    print(f"value {summary.value:+.3f}  best {board.san(chess.Move.from_uci(summary.best_move)) if summary.best_move else '-'}")
    for c in summary.children[:8]:
        print(f"  {board.san(chess.Move.from_uci(c.move)):8s} N={c.n:5d}  Q={c.q:+.3f}  P={c.p:.3f}")
    line = board.variation_san([chess.Move.from_uci(m) for m in summary.principal_line])
    print(f"line: {line}")
    return 0
