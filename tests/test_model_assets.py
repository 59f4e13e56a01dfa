"""The strength evidence shipped with the bundled network: the PGN of every match
game in assets/models/matches, checked against the summaries and the model card."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import chess.pgn
import pytest
from conceptcoach.training.match import a_points

MODELS = Path(__file__).resolve().parents[1] / "assets" / "models"
MATCHES = MODELS / "matches"


@pytest.mark.slow
def test_every_match_game_is_legal_and_the_summaries_and_card_agree(
        legal_games: Callable[[str], list[chess.pgn.Game]]) -> None:
    summaries = sorted(MATCHES.glob("*.pgn.json"))
    assert summaries, f"no match summaries in {MATCHES}"
    card = (MODELS / "MODEL_CARD.md").read_text()
    sizes: dict[tuple[str, str], int] = {}
    for summary_path in summaries:
        summary = json.loads(summary_path.read_text())
        pgn = summary_path.with_name(summary_path.name.replace(".pgn.json", ".pgn.gz"))
        games = legal_games(gzip.decompress(pgn.read_bytes()).decode("utf-8"))
        assert len(games) == summary["result"]["games"]
        assert len({g.headers["Round"] for g in games}) == len(games)  # no game twice
        points = sum(a_points(g.headers["White"], g.headers["Result"], summary["a"]) for g in games)
        assert points / len(games) == pytest.approx(summary["result"]["score"], abs=1e-9)
        sizes[(summary["a"], summary["b"])] = len(games)
        if not summary_path.name.startswith("ladder-"):
            assert f"| {summary['a']} | {summary['b']} | {len(games)} (" in card
    # What the network issue asks to be measured, at full size.
    for a, levels, minimum in (("teacher@policy", 2, 100), ("teacher@100sims", 2, 100), ("teacher@800sims", 1, 40)):
        played = [n for (pa, pb), n in sizes.items() if pa == a and pb.startswith("stockfish-elo")]
        assert len(played) >= levels and min(played) >= minimum, (a, played)
    assert sizes.get(("teacher@100sims", "weaker@100sims"), 0) >= 40


TRAINING = Path(__file__).resolve().parents[1] / "docs" / "training"


@pytest.mark.slow
def test_training_records_agree_with_their_games_and_readme(
        legal_games: Callable[[str], list[chess.pgn.Game]]) -> None:
    # docs/training records every fit towards the next teacher: each match summary is
    # what its PGN says, and the README's figures are the records' own.
    readme = (TRAINING / "README.md").read_text()
    summaries = sorted((TRAINING / "matches").glob("*.pgn.json"))
    assert summaries
    for summary_path in summaries:
        summary = json.loads(summary_path.read_text())
        pgn = summary_path.with_name(summary_path.name.replace(".pgn.json", ".pgn.gz"))
        games = legal_games(gzip.decompress(pgn.read_bytes()).decode("utf-8"))
        r = summary["result"]
        assert len(games) == r["games"]
        points = sum(a_points(g.headers["White"], g.headers["Result"], summary["a"]) for g in games)
        assert points / len(games) == pytest.approx(r["score"], abs=1e-9)
        assert f"+{r['wins']} ={r['draws']} -{r['losses']}, score {r['score']:.3f}" in readme, summary_path.name
    for run in sorted((TRAINING / "runs").iterdir()):
        log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line.strip()]
        fit = json.loads((run / "fit.json").read_text())
        assert log and log[-1]["step"] == fit["config"]["steps"]  # every run's whole curve
        assert f"{log[-1]['samples']:,}" in readme, run.name
    quality = json.loads((TRAINING / "quality-v3-6x64.json").read_text())
    assert len(quality["rows"]) == quality["shares"]["positions"] == 200
    assert f"within 50 cp of the best {quality['shares']['within_50cp']:.1%}" in readme
