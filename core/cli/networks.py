"""CLI: `conceptcoach networks`, `selfplay` and `analyse`."""

from __future__ import annotations

import argparse
import sys

from conceptcoach.progress import run_with_bar


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("networks", help="list registered networks, or register a checkpoint")
    p.add_argument("--register", metavar="FILE", help="a .safetensors checkpoint (with its .json beside it)")
    p.add_argument("--name", help="name to register it under (default: its own)")
    p.set_defaults(handler=cmd_networks)

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
    p.add_argument("--network", default="teacher")
    p.add_argument("--sims", type=int, default=800)
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(handler=cmd_analyse)


def cmd_networks(args: argparse.Namespace) -> int:
    from conceptcoach.bootstrap import open_user_store
    from conceptcoach.engine.checkpoint import CheckpointError
    from conceptcoach.engine.networks import register_file
    from conceptcoach.store.networks import list_networks

    db, _ = open_user_store(args.data_dir)
    if args.register:
        try:
            rec = register_file(db, args.register, name=args.name)
        except CheckpointError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"registered {rec.name} ({rec.sha256[:12]})")
    for rec in list_networks(db):
        arch = rec.architecture
        print(f"{rec.name:24s} {rec.role or '-':8s} {arch.get('blocks')}x{arch.get('channels')}  "
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
    import chess
    import torch
    from conceptcoach.bootstrap import open_user_store
    from conceptcoach.engine.mcts import MCTS, SearchConfig
    from conceptcoach.engine.networks import load_evaluator
    from conceptcoach.store.networks import get_network

    torch.set_num_threads(args.threads)
    try:
        board = chess.Board(args.fen) if args.fen else chess.Board()
    except ValueError as exc:
        print(f"error: invalid FEN {args.fen!r}: {exc}", file=sys.stderr)
        return 2
    db, _ = open_user_store(args.data_dir)
    rec = get_network(db, args.network)
    summary = MCTS(load_evaluator(rec), board, SearchConfig(simulations=args.sims)).run()
    print(f"value {summary.value:+.3f}  best {board.san(chess.Move.from_uci(summary.best_move)) if summary.best_move else '-'}")
    for c in summary.children[:8]:
        print(f"  {board.san(chess.Move.from_uci(c.move)):8s} N={c.n:5d}  Q={c.q:+.3f}  P={c.p:.3f}")
    line = board.variation_san([chess.Move.from_uci(m) for m in summary.principal_line])
    print(f"line: {line}")
    return 0
