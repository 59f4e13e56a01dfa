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
    # What the teacher issue asks to be measured, at full size: the raw policy and
    # MCTS-200 against Maia-1900's raw policy, MCTS-800 against Stockfish at UCI_Elo 2000.
    for a, b, minimum in (("teacher@policy", "maia-1900@policy", 100), ("teacher@200sims", "maia-1900@policy", 100),
                          ("teacher@800sims", "stockfish-elo2000@0.1s", 40)):
        assert sizes.get((a, b), 0) >= minimum, (a, b, sizes.get((a, b)))
    # The weaker network's gap to the teacher is a measured match, kept with its games.
    ladder = json.loads((MODELS / "ladder.json").read_text())
    weaker = ladder["shipped"]["weaker"]
    played = [m for m in ladder["weaker_matches"] if m["checkpoint"] == weaker["source"]]
    assert played and played[0]["text"] == weaker["vs_teacher"]
    weaker_name = Path(weaker["source"]).name.removesuffix(".safetensors")
    assert any(b == f"{weaker_name}@policy" and n >= 40 for (_, b), n in sizes.items()), sizes


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
    for name in ("quality-v3-6x64.json", "quality-v4-6x64.json"):
        quality = json.loads((TRAINING / name).read_text())
        assert len(quality["rows"]) == quality["shares"]["positions"] == 200
        assert f"within 50 cp of the best {quality['shares']['within_50cp']:.1%}" in readme, name
