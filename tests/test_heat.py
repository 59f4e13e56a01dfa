"""Concept heat: per-square contributions add up to the concept's score, in board squares."""

from __future__ import annotations

import chess
import numpy as np
from conceptcoach.concepts.heat import prototype_heats, square_heat
from conceptcoach.engine.encoding import encode_batch
from conceptcoach.engine.network import Evaluator, PolicyValueNet


def test_heat_sits_on_the_squares_the_vector_reads() -> None:
    channels = 4
    vector = np.zeros(channels * 64, np.float32)
    vector[1 * 64 + 0 * 8 + 4] = 2.0  # channel 1, row 0, column 4: e1 for White, e8 for Black
    activation = np.ones(channels * 64, np.float32)
    white = square_heat(vector, activation, white_to_move=True)
    black = square_heat(vector, activation, white_to_move=False)
    assert white[chess.E1] == 1.0 and sum(abs(h) for h in white) == 1.0
    assert black[chess.E8] == 1.0 and sum(abs(h) for h in black) == 1.0
    assert square_heat(np.zeros_like(vector), activation, True) == [0.0] * 64


def test_heat_is_proportional_to_the_score_contributions(tiny_net: PolicyValueNet) -> None:
    evaluator = Evaluator(tiny_net)
    fens = [chess.STARTING_FEN, "r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - 2 3"]
    rng = np.random.default_rng(0)
    vector = rng.normal(size=16 * 64).astype(np.float32)
    heats = prototype_heats(evaluator, vector, "block1", fens)
    acts = evaluator.activations(encode_batch([chess.Board(f) for f in fens]), ["block1"])["block1"]
    for heat, act in zip(heats, acts, strict=True):
        cells = (vector * act).reshape(16, 64).sum(axis=0)
        peak = np.abs(cells).max()
        # White to move: the plane cell index equals the square index.
        np.testing.assert_allclose(np.array(heat) * peak, cells, atol=1e-3 * peak)
