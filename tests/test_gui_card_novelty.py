"""Concept card: the behavioural novelty verdict beside the latent one, and the verified quiz items."""

from __future__ import annotations

from types import SimpleNamespace

from conceptcoach.desktop.screens.concept_card import behavioural_text, verified_text


def test_behavioural_text() -> None:
    figs = {"behavioural_novelty": {"rating": 1900, "mean_find": 0.234, "rare": 0.2, "novel": False,
                                    "by_rating": {"1100": 0.1, "1900": 0.234}}}
    text = behavioural_text(figs)
    assert "players rated 1900 find its answers 23% of the time (novel below 20%)" in text
    assert "not novel" in text
    figs["behavioural_novelty"].update(mean_find=0.12, novel=True)
    assert "12% of the time" in behavioural_text(figs) and "<b>novel</b>" in behavioural_text(figs)
    assert behavioural_text({}) == "" and behavioural_text(None) == ""


def test_verified_text() -> None:
    p = lambda v: SimpleNamespace(verification=v)  # noqa: E731
    assert verified_text([]) == "Quiz items: unverified"
    assert verified_text([p(None), p(None)]) == "Quiz items: unverified"
    assert verified_text([p({"quiz_item": True}), p({"quiz_item": False}), p(None)]) == \
        "Quiz items: 1 of 3 prototypes verified"
