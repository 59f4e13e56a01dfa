"""Results: the chosen session's pre-test beside Maia's prediction at the player's rating."""

from __future__ import annotations

from conceptcoach.desktop.screens.results_data import prediction_text
from conceptcoach.study.prediction import Prediction


def test_prediction_text_scores_beside_maia_and_says_why_when_missing() -> None:
    preds = [Prediction(1, 4, 4, 2, 1.6, 1500), Prediction(2, 3, 2, 1, None, 1500),
             Prediction(None, 2, 2, 1, 0.9, 1500)]
    text = prediction_text(preds, {1: "Forks", 2: "Pins"})
    assert "Maia at 1500" in text
    assert "Forks: 2 of 4 found; Maia at 1500: 1.6 (40%)" in text
    assert "Pins: 1 of 3 found (2 answered); no human-model figures for these items" in text
    assert "Control items: 1 of 2 found; Maia at 1500: 0.9 (45%)" in text


def test_prediction_text_without_rating_or_items() -> None:
    assert prediction_text([], {}) == ""
    text = prediction_text([Prediction(1, 4, 4, 2, None, None)], {1: "Forks"})
    assert "no rating" in text
