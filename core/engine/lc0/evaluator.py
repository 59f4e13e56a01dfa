"""An lc0 network behind the one search interface (:class:`~conceptcoach.engine.network.Evaluator`):
its 112-plane encoding with history, its 1858-move policy, a value W - L, and the
activations of ``stem`` and ``block0`` .. ``block{n-1}``.

What the registry keeps of an lc0 file (:func:`describe_lc0`) is read here too, so the
engine's ``networks`` module never looks inside a ``.pb.gz``.

>>> ev = lc0_evaluator("maia-1900.pb.gz")  # doctest: +SKIP
>>> board = chess.Board()
>>> logits, values = ev(ev.encode_batch([board]))  # doctest: +SKIP
>>> moves, idx = ev.legal(board)  # doctest: +SKIP
>>> moves[int(logits[0][idx].argmax())].uci()  # doctest: +SKIP
'e2e4'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import chess
import numpy as np
import numpy.typing as npt
import torch
from conceptcoach.engine.lc0.model import Lc0Network, load_lc0
from conceptcoach.engine.lc0.planes import NUM_PLANES, HistoryCache, encode_lc0
from conceptcoach.engine.lc0.policy_map import NUM_MOVES, legal_policy_indices
from conceptcoach.engine.lc0.weights import Lc0Info, read_weights
from conceptcoach.engine.network import Evaluator

#: Maia files are named for the Lichess rating whose moves they predict.
MAIA_NAME = re.compile(r"maia[-_]?(\d{3,4})", re.IGNORECASE)


def maia_rating(name: str) -> int | None:
    """The rating in a Maia network's name ('maia-1900' -> 1900), or None.

    >>> maia_rating("maia-1100.pb.gz"), maia_rating("teacher")
    (1100, None)
    """
    found = MAIA_NAME.search(Path(name).name)
    return int(found.group(1)) if found else None


class Lc0Evaluator(Evaluator):
    """Batched CPU inference of an lc0 network, with our Evaluator's methods.

    :meth:`encode` reads the board's move stack for the seven earlier positions lc0 sees,
    so pass the board of the game (or a copy that keeps its stack), not one set up from
    a FEN, wherever the history is known. The value is W - L of the WDL head (W - L of a
    classical head's tanh value), from the side to move's view."""

    family = "lc0"

    def __init__(self, net: Lc0Network, threads: int | None = None) -> None:
        if threads is not None:
            torch.set_num_threads(threads)
        self.net = net.eval()
        self.info: Lc0Info = net.info
        self.width = net.info.filters * 64
        # Each earlier position's share of the history planes, worked out once per
        # position while the game's saved states live (searches encode every leaf).
        self.history = HistoryCache()

    def encode(self, board: chess.Board) -> npt.NDArray[np.float32]:
        return encode_lc0(board, self.history)

    def encode_batch(self, boards: Sequence[chess.Board]) -> npt.NDArray[np.float32]:
        out = np.empty((len(boards), NUM_PLANES, 8, 8), dtype=np.float32)
        for i, board in enumerate(boards):
            encode_lc0(board, self.history, out=out[i])
        return out

    def legal(self, board: chess.Board) -> tuple[list[chess.Move], npt.NDArray[np.int64]]:
        return legal_policy_indices(board)

    def layer_names(self) -> list[str]:
        return self.info.layer_names()

    def _forward(
        self, x: torch.Tensor, capture: Sequence[str]
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        logits, wdl, acts = self.net(x, capture=capture)
        return logits, wdl[:, 0] - wdl[:, 2], acts

    def wdl(self, planes: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Win, draw and loss probabilities (B, 3) for the side to move."""
        with torch.inference_mode():
            _, wdl, _ = self.net(torch.from_numpy(planes))
        return np.asarray(wdl.numpy(), dtype=np.float32)


def lc0_evaluator(path: str | Path, threads: int | None = None) -> Lc0Evaluator:
    """Load an lc0 ``.pb.gz`` network for search, analysis and discovery. Raises
    :class:`~conceptcoach.engine.lc0.weights.Lc0FormatError` (a ``ValueError`` naming the
    file) for a file this reader cannot run, ``OSError`` when it cannot be read."""
    return Lc0Evaluator(load_lc0(path), threads=threads)


def describe_lc0(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(architecture, metadata) of an lc0 network file, as the registry keeps them.

    The architecture has ``blocks`` and ``channels`` (lc0's filters) like ours, plus
    lc0's own fields; the metadata says where the file came from, and for a Maia
    network (by its name, e.g. ``maia-1900.pb.gz``) the rating it models. Raises
    :class:`~conceptcoach.engine.lc0.weights.Lc0FormatError` (a ``ValueError`` naming
    the file) for a file that is not a supported lc0 network."""
    info = read_weights(path).info
    architecture: dict[str, Any] = {
        "blocks": info.blocks,
        "channels": info.filters,
        "filters": info.filters,
        "se": info.se,
        "se_channels": info.se_channels,
        "input_planes": NUM_PLANES,
        "input_format": info.input_format_name,
        "policy": info.policy,
        "policy_moves": NUM_MOVES,
        "value": info.value,
        "moves_left": info.moves_left,
        "network": info.network,
    }
    metadata: dict[str, Any] = {
        "format": "lc0 protobuf (.pb.gz)",
        "encodings": list(info.encodings),
        "min_version": info.min_version,
        "license": info.license,
        "file": Path(path).name,
    }
    rating = maia_rating(Path(path).name)
    if rating is not None:
        metadata["rating"] = rating
        metadata["model_of"] = f"human players rated about {rating} (Maia)"
    return architecture, metadata
