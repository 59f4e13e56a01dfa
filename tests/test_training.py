"""Training pipeline: Stockfish labels, batches, the fit loop, the checkpoint ladder."""

from __future__ import annotations

import json
from pathlib import Path

import chess
import numpy as np
import pytest
import torch
from conceptcoach.engine.checkpoint import load_checkpoint, read_info
from conceptcoach.engine.encoding import encode_board, index_to_move, legal_move_indices
from conceptcoach.training.dataset import load_positions, make_batch, mate_spread, split_validation
from conceptcoach.training.fit import FitConfig, evaluate, fit, learning_rate
from conceptcoach.training.generate import (
    GenerateConfig,
    UciEngine,
    analyse,
    choose_stockfish_move,
    find_stockfish,
    parse_info,
    phase_of,
    run_generate,
    shard_path,
)
from conceptcoach.training.shipped_networks import publish


def _stockfish() -> str:
    path = find_stockfish()
    if path is None:
        pytest.skip("Stockfish is not installed (neither 'stockfish' on PATH nor /usr/games/stockfish): "
                    "install the Debian package 'stockfish' (make test does) to run the label tests")
    return path


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateConfig]:
    """Two small shards labelled by the real Stockfish (shared by the tests below)."""
    engine = _stockfish()
    out = tmp_path_factory.mktemp("gen")
    cfg = GenerateConfig(positions=120, workers=1, shard_positions=60, nodes=300, multipv=4,
                         opening_plies=8, max_plies=60, engine=engine)
    run_generate(cfg, out)
    return out, cfg


def test_parse_info_scores_mates_and_wdl() -> None:
    line = ["info", "depth", "9", "seldepth", "12", "multipv", "2", "score", "cp", "-35", "wdl", "40", "900", "60", "nodes", "3000", "pv", "e7e5", "g1f3"]
    assert parse_info(line, 3000, 2500) == ("e7e5", -35, (40, 900, 60))
    mate = ["info", "depth", "5", "multipv", "1", "score", "mate", "2", "nodes", "10", "pv", "d1h5", "g7g6"]
    assert parse_info(mate, 3000, 2500) == ("d1h5", 2998, None)
    mated = ["info", "depth", "5", "multipv", "1", "score", "mate", "-3", "nodes", "10", "pv", "a2a3"]
    assert parse_info(mated, 3000, 2500)[1] == -2997
    huge = ["info", "depth", "5", "multipv", "1", "score", "cp", "9000", "nodes", "10", "pv", "a2a3"]
    assert parse_info(huge, 3000, 2500)[1] == 2500


def test_mate_spread_prefers_shorter_mates() -> None:
    spread = mate_spread(np.array([2999.0, 2997.0, 2500.0, -2998.0, 10.0]))
    assert spread[0] - spread[1] == pytest.approx(200.0)
    assert spread[1] > 2500.0 and spread[2] == 2500.0 and spread[3] < -2500.0 and spread[4] == 10.0


def test_real_stockfish_labels_a_mate_in_one() -> None:
    engine = UciEngine(_stockfish(), 16, 4)
    try:
        board = chess.Board("r1bqkbnr/pppp1ppp/2n5/4p3/2B1P3/5Q2/PPPP1PPP/RNB1K1NR w KQkq - 4 4")
        moves, scores, wdl = analyse(engine, board, GenerateConfig(nodes=2000, multipv=4), board.fen(), [])
    finally:
        engine.quit()
    assert moves[0] == chess.Move.from_uci("f3f7")
    assert scores[0] == 2999  # mate in 1
    assert len(moves) == len(set(moves)) and all(board.is_legal(m) for m in moves)
    assert sum(wdl) == 1000 and wdl[0] == 1000


def test_generated_shards_are_consistent_and_reproducible(
    generated: tuple[Path, GenerateConfig], tmp_path: Path
) -> None:
    out, cfg = generated
    data, summary = load_positions(out)
    assert summary["shards"] == 2 and len(data) >= 120
    assert sum(summary["phases"].values()) == len(data)
    rows = np.arange(len(data))
    batch = make_batch(data, rows, 50.0)
    for i in range(0, len(data), 7):
        board = chess.Board(str(data.fen[i]))
        _, idx = legal_move_indices(board)
        assert set(np.flatnonzero(batch.legal[i].numpy()).tolist()) == set(idx.tolist())
        planes = encode_board(board)
        planes[12:14] = batch.planes[i, 12:14].numpy()  # repetition planes need the game's history
        assert np.allclose(planes, batch.planes[i].numpy())
        assert board.is_legal(index_to_move(board, int(batch.best[i])))
        assert phase_of(board, board.ply()) == int(data.phase[i])
    assert torch.allclose(batch.policy.sum(dim=1), torch.ones(len(data)), atol=1e-5)
    assert not (batch.policy > 0)[~batch.legal].any()
    assert float(batch.value.abs().max()) <= 1.0
    # Resume: a missing shard is regenerated identically (seeded by [seed, worker, shard]).
    again = tmp_path / "again"
    again.mkdir()
    first = shard_path(out, 0, 0)
    (again / first.name).write_bytes(first.read_bytes())
    run_generate(cfg, again)
    with np.load(shard_path(out, 0, 1)) as a, np.load(shard_path(again, 0, 1)) as b:
        assert a["fen"].tolist() == b["fen"].tolist()
        assert np.array_equal(a["pv_scores"], b["pv_scores"])


def test_generate_refuses_a_folder_made_with_other_settings(generated: tuple[Path, GenerateConfig]) -> None:
    out, cfg = generated
    other = GenerateConfig(**{**cfg.to_json(), "nodes": cfg.nodes + 1})
    with pytest.raises(ValueError, match="other settings"):
        run_generate(other, out)


def test_games_start_from_the_initial_position_with_near_best_moves(
    generated: tuple[Path, GenerateConfig]
) -> None:
    out, cfg = generated
    data, _ = load_positions(out)
    # No random opening plies: the first stored position is the standard start.
    assert str(data.fen[0]) == chess.STARTING_FEN
    assert int(data.ply[0]) == 0
    moves = [chess.Move.from_uci(u) for u in ("e2e4", "d2d4", "g1f3", "h2h4")]
    scores = [40, 30, 15, -60]
    rng = np.random.default_rng(0)
    opening = {choose_stockfish_move(cfg, rng, 0, moves, scores).uci() for _ in range(300)}
    assert opening <= {"e2e4", "d2d4", "g1f3"} and "e2e4" in opening  # h4 is 100 cp worse: never drawn
    later = {choose_stockfish_move(cfg, rng, cfg.opening_plies, moves, scores).uci() for _ in range(300)}
    assert "d2d4" in later


def test_decided_positions_are_sampled_not_cut(tmp_path: Path) -> None:
    """A game past a decisive eval goes on (kept at a reduced rate) instead of stopping."""
    engine = _stockfish()
    common = dict(positions=40, workers=1, shard_positions=40, nodes=300, multipv=2, max_plies=160,
                  decided_cp=300, decided_plies=2, decided_nodes=100, engine=engine)
    run_generate(GenerateConfig(**common, decided_keep=0.0), tmp_path / "none")  # type: ignore[arg-type]
    run_generate(GenerateConfig(**common, decided_keep=1.0), tmp_path / "all")  # type: ignore[arg-type]
    with np.load(shard_path(tmp_path / "none", 0, 0)) as a, np.load(shard_path(tmp_path / "all", 0, 0)) as b:
        ev_none = np.abs(a["pv_scores"].max(axis=1))
        ev_all = np.abs(b["pv_scores"].max(axis=1))
        # Keeping none of the decided positions stores at most decided_plies of them per
        # stretch; keeping all of them stores the long conversions as well.
        assert (ev_all >= 300).sum() > (ev_none >= 300).sum()
        assert int(b["ply"].max()) > 20


def test_a_network_can_play_the_generation_games(tmp_path: Path) -> None:
    engine = _stockfish()
    cfg = GenerateConfig(positions=12, workers=1, shard_positions=12, nodes=200, multipv=3, max_plies=12,
                         player="net:assets/models/teacher.safetensors:8", engine=engine)
    run_generate(cfg, tmp_path)
    with np.load(shard_path(tmp_path, 0, 0)) as shard:
        assert len(shard["fen"]) >= 12
        for fen in shard["fen"][:12]:
            assert chess.Board(str(fen)).is_valid()
    with pytest.raises(ValueError, match="net:PATH:SIMS"):
        run_generate(GenerateConfig(positions=1, workers=1, player="net:x", engine=engine), tmp_path / "bad")


def test_learning_rate_warms_up_then_decays() -> None:
    cfg = FitConfig(steps=100, warmup_steps=10, lr=1e-3, final_lr_fraction=0.1)
    assert learning_rate(cfg, 0) == pytest.approx(1e-4)
    assert learning_rate(cfg, 9) == pytest.approx(1e-3)
    assert learning_rate(cfg, 99) == pytest.approx(1e-4, rel=0.01)


@pytest.mark.slow
def test_fit_lowers_the_loss_and_writes_a_ladder(generated: tuple[Path, GenerateConfig], tmp_path: Path) -> None:
    out, _ = generated
    data, summary = load_positions(out)
    train_rows, val_rows = split_validation(data, permille=100)
    cfg = FitConfig(run_id="t", seed=3, blocks=1, channels=16, batch_size=32, steps=60, lr=3e-3,
                    warmup_steps=5, eval_every=20, checkpoint_every=20, max_val_positions=200)
    from conceptcoach.engine.checkpoint import random_network

    before = evaluate(random_network(cfg.network_config(), seed=3).train(), data, train_rows, cfg)
    result = fit(cfg, data, train_rows, val_rows, tmp_path / "run", summary)
    net, _ = load_checkpoint(result.checkpoints[-1])
    after = evaluate(net.train(), data, train_rows, cfg)
    assert after["policy_ce"] < before["policy_ce"] - 0.1
    assert after["value_mse"] < before["value_mse"]
    # Ladder: one checkpoint per 20 steps, each naming its parent, with the fit recorded.
    infos = [read_info(p) for p in result.checkpoints]
    assert [i.step for i in infos] == [20, 40, 60]
    assert [i.parent for i in infos] == [None, "t-step000020", "t-step000040"]
    assert all(i.role == "ladder" and i.run_id == "t" for i in infos)
    assert infos[-1].extra["fit"]["seed"] == 3 and infos[-1].extra["samples"] == 60 * 32
    assert "top1" in infos[-1].extra["val"]
    assert len((tmp_path / "run" / "log.jsonl").read_text().splitlines()) == 3
    shipped = publish(result.checkpoints[-1], tmp_path / "models" / "teacher.safetensors", role="teacher")
    reread = read_info(tmp_path / "models" / "teacher.safetensors")
    assert reread.role == "teacher" and reread.name == "teacher" and reread.step == 60
    assert reread.extra["ladder_name"] == "t-step000060" and reread.sha256 == shipped.sha256
    # The model card's architecture table reads the run's own records.
    from conceptcoach.training.model_card import architecture_lines

    card = "\n".join(architecture_lines([tmp_path / "run"], None))
    last = json.loads((tmp_path / "run" / "log.jsonl").read_text().splitlines()[-1])
    assert "| t | 1x16 |" in card and f"{last['val']['top1']:.3f}" in card and "0.00M:" not in card


def test_a_fit_interrupted_and_resumed_reaches_the_same_weights(
    generated: tuple[Path, GenerateConfig], tmp_path: Path
) -> None:
    from conceptcoach.progress import Cancelled
    from conceptcoach.training.fit import FitStateError, read_state

    out, _ = generated
    data, summary = load_positions(out)
    train_rows, val_rows = split_validation(data, 100)
    # Small batches so that the 60 steps cross an epoch boundary (the permutation is redrawn).
    cfg = FitConfig(run_id="r", seed=5, blocks=1, channels=8, batch_size=32, steps=60, lr=3e-3,
                    warmup_steps=5, eval_every=20, checkpoint_every=20, max_val_positions=50)
    whole = fit(cfg, data, train_rows, val_rows, tmp_path / "whole", summary)
    calls = iter(range(10_000))
    with pytest.raises(Cancelled):
        fit(cfg, data, train_rows, val_rows, tmp_path / "cut", summary, should_stop=lambda: next(calls) >= 49)
    state = read_state(tmp_path / "cut")
    assert state is not None and state.step == 40 and state.shards == summary["shard_names"]
    resumed = fit(cfg, data, train_rows, val_rows, tmp_path / "cut", summary, resume=True)
    assert [p.name for p in resumed.checkpoints] == ["step-000060.safetensors"]
    a, _ = load_checkpoint(whole.checkpoints[-1])
    b, _ = load_checkpoint(resumed.checkpoints[-1])
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.allclose(x, y, atol=1e-6, rtol=0), name
    steps = [json.loads(line)["step"] for line in (tmp_path / "cut" / "log.jsonl").read_text().splitlines()]
    assert steps == [20, 40, 60]
    assert len(list((tmp_path / "cut").glob("optimizer-*.safetensors"))) == 1
    with pytest.raises(FitStateError, match="other settings"):
        fit(FitConfig(**{**cfg.to_json(), "lr": 1e-3}), data, train_rows, val_rows, tmp_path / "cut", summary,
            resume=True)

    # The same seeded fit checkpointed densely and stopped early replays the first steps:
    # its step 20 is the whole fit's step 20 (how early students are added to a ladder).
    dense = fit(FitConfig(**{**cfg.to_json(), "eval_every": 5, "checkpoint_every": 5}), data, train_rows,
                val_rows, tmp_path / "dense", summary, stop_after=20)
    assert [p.name for p in dense.checkpoints] == [f"step-{k:06d}.safetensors" for k in (5, 10, 15, 20)]
    c, _ = load_checkpoint(dense.checkpoints[-1])
    d, _ = load_checkpoint(whole.checkpoints[0])
    for (name, x), (_, y) in zip(c.state_dict().items(), d.state_dict().items(), strict=True):
        assert torch.allclose(x, y, atol=1e-6, rtol=0), name


def test_students_span_low_to_high_agreement() -> None:
    from conceptcoach.training.shipped_networks import choose_students

    agreements = [0.10, 0.20, 0.35, 0.50, 0.55, 0.70, 0.80, 0.90, 1.0]
    chosen = choose_students(agreements, range(7), count=3)
    assert chosen == [0, 3, 6]  # lowest, nearest the middle (0.45), highest of the pool
    assert choose_students(agreements, [0, 1], count=3) == [0, 1]


@pytest.mark.slow
def test_ladder_publishes_teacher_weaker_and_students(
    generated: tuple[Path, GenerateConfig], tmp_path: Path
) -> None:
    from conceptcoach.training.shipped_networks import LadderConfig, build_ladder

    out, cfg_gen = generated
    data, summary = load_positions(out)
    train_rows, val_rows = split_validation(data, permille=200)
    cfg = FitConfig(run_id="lad", blocks=1, channels=8, batch_size=32, steps=30, warmup_steps=3,
                    eval_every=5, checkpoint_every=5, max_val_positions=50)
    fit(cfg, data, train_rows, val_rows, tmp_path / "run", summary)
    lcfg = LadderConfig(students=3, agreement_positions=50, weaker_games=2, workers=1, openings=2,
                        judge_nodes=200, engine=cfg_gen.engine)
    models = tmp_path / "models"
    models.mkdir()
    report = build_ladder(tmp_path / "run", data, val_rows, models, lcfg, tmp_path / "matches")
    roles = {name: read_info(models / f"{name}.safetensors").role for name in report["shipped"]}
    assert roles == {"teacher": "teacher", "weaker": "weaker", "student-1": "student",
                     "student-2": "student", "student-3": "student"}
    steps = {name: read_info(models / f"{name}.safetensors").step for name in report["shipped"]}
    assert steps["teacher"] == 30 and steps["student-1"] < steps["student-2"] < steps["student-3"] < 30
    assert steps["weaker"] < 30 and steps["weaker"] not in (steps["student-1"], steps["student-2"], steps["student-3"])
    assert report["shipped"]["teacher"]["agreement_with_teacher"] == 1.0
    assert report["weaker_matches"] and (models / "ladder.json").exists()
    assert "vs_teacher" in read_info(models / "weaker.safetensors").extra

    # A fit continued from the last checkpoint: both ladders are read as one, the teacher
    # is the continued fit's last checkpoint, students may come from the first run.
    first_ladder = sorted((tmp_path / "run").glob("step-*.safetensors"))
    more = FitConfig(run_id="lad2", blocks=1, channels=8, batch_size=32, steps=10, warmup_steps=2,
                     eval_every=5, checkpoint_every=5, max_val_positions=50, init_from=str(first_ladder[-1]))
    fit(more, data, train_rows, val_rows, tmp_path / "run2", summary)
    report = build_ladder([tmp_path / "run", tmp_path / "run2"], data, val_rows, models, lcfg, tmp_path / "matches")
    assert len(report["ladder"]) == len(first_ladder) + 2
    assert report["ladder"][-1]["checkpoint"].startswith("run2/")
    teacher = read_info(models / "teacher.safetensors")
    assert teacher.run_id == "lad2" and teacher.step == 10
    assert read_info(models / "student-1.safetensors").run_id == "lad"
    # Every checkpoint is named with its run: the shipped sources are ladder rows, and
    # the first run's step 10 is not the second run's step 10 (nor their match files).
    rows = {r["checkpoint"] for r in report["ladder"]}
    assert {s["source"] for s in report["shipped"].values()} <= rows
    assert {"run/step-000010.safetensors", "run2/step-000010.safetensors"} <= rows
    assert all(m["checkpoint"] in rows for m in report["weaker_matches"])
    assert list((tmp_path / "matches").glob("ladder-run2-step-000010-vs-run*-step-*.pgn"))

    # The curve's axis: a continued fit's checkpoint counts the samples of the fit it
    # started from; a missing link in that chain is an error, not a smaller figure.
    from conceptcoach.training.curves import samples_seen

    assert samples_seen(first_ladder[-1]) == 30 * 32
    assert samples_seen(tmp_path / "run2" / "step-000010.safetensors") == 30 * 32 + 10 * 32

    # The model card of a teacher fitted in two runs: both fits' commands and curves, and
    # the curve against samples seen from held-out reports of each schedule's end.
    from conceptcoach.training.fit import heldout_figures
    from conceptcoach.training.model_card import write_card

    ends = [first_ladder[-1], tmp_path / "run2" / "step-000010.safetensors"]
    report = {str(c): {**heldout_figures(load_checkpoint(c)[0], data, val_rows), "samples_seen": samples_seen(c)}
              for c in ends}
    (tmp_path / "heldout.json").write_text(json.dumps(report))
    # A strength pairing played by the published teacher counts for its ladder checkpoint
    # (pairings against outside references only: Stockfish here).
    from conceptcoach.training.match import MatchConfig, run_match

    strength = tmp_path / "strength"
    run_match(MatchConfig(a=f"net:{models / 'teacher.safetensors'}:1", b="sf:1350:0.01", games=2,
                          workers=1, max_plies=20, judge_nodes=0, engine=cfg_gen.engine), strength / "teacher-vs-early.pgn",
              [chess.Board().fen()])
    card = write_card(models, [out], [tmp_path / "run", tmp_path / "run2"], strength,
                      curve=[tmp_path / "heldout.json"], curve_matches=[tmp_path / "matches"]).read_text()
    assert f"--run-id lad2 --init-from {first_ladder[-1]}" in card and "### `lad`" in card
    assert f"| run/step-000030.safetensors | 1x8 | 960 | {report[str(ends[0])]['all']['top1']:.3f} |" in card
    assert "| run2/step-000010.safetensors | 1x8 | 1,280 |" in card and "- 1x8: " in card
    curve_table = card[card.index("## What more samples"):card.index("- 1x8: ")]
    assert "| raw policy vs stockfish-elo1350@0.01s |" in curve_table  # the teacher's pairing, as run2's row
    assert curve_table.split("| 1,280 |")[1].split("\n")[0].rstrip().endswith("(2) |")
    assert "step-000010@policy" not in curve_table  # the ladder's own matches are not strength pairings
    # A ladder that read more folders than the teacher's fits says so, with the replay's command.
    card = write_card(models, [out], [tmp_path / "run2"], strength,
                      ladder_runs=[tmp_path / "run", tmp_path / "run2"]).read_text()
    assert f"--run-dir {tmp_path / 'run'} {tmp_path / 'run2'} " in card
    assert "The ladder also read `run`" in card and "--stop-after 30" in card
    first_ladder[-1].rename(tmp_path / "moved.safetensors")
    with pytest.raises(FileNotFoundError, match="init_from chain"):
        samples_seen(tmp_path / "run2" / "step-000010.safetensors")


def test_move_quality_judges_searched_moves_on_held_out_positions(
    generated: tuple[Path, GenerateConfig], tmp_path: Path
) -> None:
    from conceptcoach.engine.checkpoint import CheckpointInfo, random_network, save_checkpoint
    from conceptcoach.engine.config import NetworkConfig
    from conceptcoach.training.move_quality import (
        QualityConfig,
        held_out_positions,
        judge_positions,
        measure,
    )

    out, cfg_gen = generated
    net_path = tmp_path / "tiny.safetensors"
    net = random_network(NetworkConfig(blocks=1, channels=8), seed=3)
    save_checkpoint(net, net_path, CheckpointInfo(name="tiny", config=net.config, step=0, run_id="t"))
    cfg = QualityConfig(network=str(net_path), data=str(out), positions=4, sims=16, depth=6, phase="opening",
                        workers=1, val_permille=500, engine=cfg_gen.engine)
    fens = held_out_positions(cfg)
    data, _ = load_positions(out)
    _, val = split_validation(data, 500)
    held_out = {str(data.fen[i]) for i in val if data.phase[i] == 0}
    assert fens and set(fens) <= held_out and fens == held_out_positions(cfg)  # drawn by the seed
    report = measure(cfg)
    assert [r["fen"] for r in report.rows] == fens
    for r in report.rows:
        assert r["loss_cp"] >= 0 and (r["loss_cp"] == 0 or r["move"] != r["best"])
        assert chess.Move.from_uci(r["move"]) in chess.Board(r["fen"]).legal_moves
    from conceptcoach.training.model_card import quality_lines
    from conceptcoach.training.move_quality import write_report

    shares = report.shares()
    card = "\n".join(quality_lines(write_report(report, tmp_path / "quality.json")))
    assert f"| within 50 cp of the best | {shares['within_50cp']:.1%} |" in card
    assert shares["positions"] == len(fens) and 0 <= shares["loss_300cp_or_more"] <= shares["loss_100cp_or_more"]
    # The whole validation split, by phase, from the command line.
    from conceptcoach.cli.main import main

    assert main(["train", "heldout", str(net_path), "--data", str(out), "--threads", "1",
                 "--out", str(tmp_path / "heldout.json")]) == 0
    figures = json.loads((tmp_path / "heldout.json").read_text())[str(net_path)]
    positions = figures["positions"]
    assert positions["all"] == positions["opening"] + positions["middlegame"] + positions["endgame"] > 0
    assert 0.0 <= figures["all"]["top1"] <= 1.0 and figures["all"]["policy_ce"] > 0
    # A forced move is the best move: no loss, whatever the network.
    forced = judge_positions(cfg, ["7k/8/8/8/8/8/1q6/K7 w - - 0 1"])[0]
    assert forced["move"] == forced["best"] == "a1b2" and forced["loss_cp"] == 0


def test_a_fit_reads_several_shard_folders_and_resumes_on_them(
    generated: tuple[Path, GenerateConfig], tmp_path: Path
) -> None:
    # Stockfish's games in one folder, the teacher's own (here: a copy of one shard) in
    # another: one fit reads both, records each shard so it can resume on exactly them.
    import shutil

    from conceptcoach.cli.main import main
    from conceptcoach.training.generate import list_shards

    out, _ = generated
    own = tmp_path / "own"
    own.mkdir()
    first, second = list_shards(out)[:2]
    stock = tmp_path / "stock"
    stock.mkdir()
    shutil.copy(first, stock / first.name)
    shutil.copy(second, own / second.name)
    args = ["train", "fit", "--data", str(stock), str(own), "--run-dir", str(tmp_path / "run"), "--run-id", "two",
            "--blocks", "1", "--channels", "8", "--batch-size", "16", "--eval-every", "3",
            "--checkpoint-every", "3", "--threads", "1", "--max-val-positions", "20"]
    assert main([*args, "--steps", "6"]) == 0
    state = json.loads((tmp_path / "run" / "fit-state.json").read_text())
    assert state["shards"] == [first.name, str(own / second.name)]
    fit_record = json.loads((tmp_path / "run" / "fit.json").read_text())
    assert fit_record["data"]["positions_in_shards"] == sum(len(load_positions(d)[0]) for d in (stock, own))
    assert main([*args, "--steps", "9", "--resume"]) == 0
    assert json.loads((tmp_path / "run" / "fit-state.json").read_text())["step"] == 9


def test_strength_table_plays_the_issues_pairings(tmp_path: Path) -> None:
    from conceptcoach.cli.training import strength_match_args

    maia = tmp_path / "maia-1900.pb.gz"
    with_maia = strength_match_args(tmp_path / "models", tmp_path / "m", 1.0, 2, maia)
    pairs = [(a[0], a[1], a[a.index("--games") + 1]) for a in with_maia]
    teacher = tmp_path / "models" / "teacher.safetensors"
    assert pairs == [(f"net:{teacher}:1", f"lc0:{maia}:1", "100"), (f"net:{teacher}:200", f"lc0:{maia}:1", "100"),
                     (f"net:{teacher}:800", "sf:2000", "40"),
                     (f"net:{teacher}:100", f"net:{tmp_path / 'models' / 'weaker.safetensors'}:100", "100")]
    assert with_maia[1][-1].endswith("teacher@200-vs-maia1900@1.pgn")
    without = strength_match_args(tmp_path / "models", tmp_path / "m", 0.5, 2, None)
    assert not any(a[1].startswith("lc0:") for a in without)
    assert {a[1] for a in without} >= {"sf:1350", "sf:1500", "sf:2000"}
    assert [a[a.index("--games") + 1] for a in without][:1] == ["50"]


def test_log_samples_fit_reads_off_where_a_target_is_reached() -> None:
    import math

    from conceptcoach.training.curves import fit_log_samples

    # Points exactly on figure = 0.1 + 0.02 ln(samples): the line is recovered.
    points = [(s, 0.1 + 0.02 * math.log(s)) for s in (8e5, 5.6e6, 1.3e7)]
    fit = fit_log_samples(points)
    assert fit.a == pytest.approx(0.1) and fit.b == pytest.approx(0.02)
    assert fit.samples_for(0.45) == pytest.approx(math.exp(0.35 / 0.02))
    assert fit.at(fit.samples_for(0.4) or 0) == pytest.approx(0.4)
    assert fit_log_samples([(1e6, 0.3), (1e7, 0.3)]).samples_for(0.45) is None  # flat: never
    with pytest.raises(ValueError):
        fit_log_samples([(1e6, 0.3), (1e6, 0.31)])
