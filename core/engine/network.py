"""The policy-value network: a residual tower on 8x8 planes with policy and value heads.

Layer names are what the concept code asks for: ``stem`` (after the input
convolution) and ``block0`` .. ``block{n-1}`` (after each residual block). Their
activations are ``channels x 8 x 8`` and are flattened to ``channels * 64`` numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import chess
import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from conceptcoach.engine.config import NetworkConfig
from conceptcoach.engine.encoding import (
    MOVE_PLANES,
    NUM_MOVES,
    encode_batch,
    encode_board,
    legal_move_indices,
)
from torch import nn


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(x + y)


class PolicyValueNet(nn.Module):
    """AlphaZero-style network. ``forward`` returns policy logits (B, 4672) and value (B,)."""

    def __init__(self, config: NetworkConfig | None = None) -> None:
        super().__init__()
        self.config = config or NetworkConfig()
        c = self.config.channels
        self.stem_conv = nn.Conv2d(self.config.input_planes, c, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(c)
        self.blocks = nn.ModuleList(ResidualBlock(c) for _ in range(self.config.blocks))
        self.policy_conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.policy_bn = nn.BatchNorm2d(c)
        self.policy_out = nn.Conv2d(c, MOVE_PLANES, 1)
        self.value_conv = nn.Conv2d(c, 8, 1, bias=False)
        self.value_bn = nn.BatchNorm2d(8)
        self.value_fc1 = nn.Linear(8 * 64, self.config.value_hidden)
        self.value_fc2 = nn.Linear(self.config.value_hidden, 1)

    def forward(
        self, x: torch.Tensor, capture: Sequence[str] = ()
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """Policy logits (B, 4672), value (B,) in [-1, 1], and the activations of the
        layers named in ``capture`` (B, channels, 8, 8)."""
        acts: dict[str, torch.Tensor] = {}
        want = set(capture)
        h = F.relu(self.stem_bn(self.stem_conv(x)))
        if "stem" in want:
            acts["stem"] = h
        for i, block in enumerate(self.blocks):
            h = block(h)
            name = f"block{i}"
            if name in want:
                acts[name] = h
        unknown = want - set(self.config.layer_names())
        if unknown:
            raise KeyError(f"unknown layer(s) {sorted(unknown)}; this network has {self.config.layer_names()}")
        p = F.relu(self.policy_bn(self.policy_conv(h)))
        logits = self.policy_out(p).flatten(1)  # (B, 73*64): index = plane * 64 + square
        v = F.relu(self.value_bn(self.value_conv(h))).flatten(1)
        v = torch.tanh(self.value_fc2(F.relu(self.value_fc1(v)))).squeeze(1)
        return logits, v, acts


class Evaluator:
    """Batched CPU inference of one of our networks (no gradients, eval mode), and the
    one interface search, analysis, discovery and heat use whatever the family.

    The methods that depend on the family: :meth:`encode` / :meth:`encode_batch`
    (board to input planes), :meth:`legal` (legal moves and their policy indices),
    :meth:`layer_names`. The rest is shared: :meth:`__call__` gives policy logits and
    a value in [-1, 1] for the side to move, :meth:`activations` the flattened
    activations of named layers. lc0 networks come as
    :class:`conceptcoach.engine.lc0.evaluator.Lc0Evaluator`, a subclass, from
    :func:`conceptcoach.engine.networks.load_evaluator`.

    >>> ev = Evaluator(PolicyValueNet())  # doctest: +SKIP
    >>> logits, values = ev(ev.encode_batch([chess.Board()]))  # doctest: +SKIP
    >>> moves, idx = ev.legal(chess.Board()); priors = logits[0][idx]  # doctest: +SKIP
    """

    #: The :class:`~conceptcoach.store.networks.NetworkFamily` value of the network.
    family = "ours"

    def __init__(self, net: PolicyValueNet, threads: int | None = None) -> None:
        if threads is not None:
            torch.set_num_threads(threads)
        self.net: nn.Module = net.eval()
        self.config = net.config
        self.width = net.config.channels * 64  # numbers per flattened activation

    # -- what depends on the family ---------------------------------------------------
    def encode(self, board: chess.Board) -> npt.NDArray[np.float32]:
        """The input planes of ``board`` (21 x 8 x 8 for ours; lc0 reads its move stack)."""
        return encode_board(board)

    def encode_batch(self, boards: Sequence[chess.Board]) -> npt.NDArray[np.float32]:
        """The input planes of several boards, stacked (B, planes, 8, 8)."""
        return encode_batch(list(boards))

    def legal(self, board: chess.Board) -> tuple[list[chess.Move], npt.NDArray[np.int64]]:
        """The legal moves of ``board`` and their indices in this network's policy."""
        return legal_move_indices(board)

    def layer_names(self) -> list[str]:
        """Layers :meth:`activations` can read: ``stem``, ``block0`` .. ``block{n-1}``."""
        return self.config.layer_names()

    def _forward(
        self, x: torch.Tensor, capture: Sequence[str]
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """Policy logits, values (B,) for the side to move, captured activations."""
        logits, value, acts = self.net(x, capture=capture)
        return logits, value, acts

    # -- shared ---------------------------------------------------------------------------
    def __call__(
        self, planes: npt.NDArray[np.float32]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Policy logits (B, moves) and values (B,) for a batch of encoded positions."""
        with torch.inference_mode():
            logits, value, _ = self._forward(torch.from_numpy(planes), ())
        return logits.numpy(), value.numpy()

    def activations(
        self, planes: npt.NDArray[np.float32], layers: Sequence[str], batch_size: int = 256
    ) -> dict[str, npt.NDArray[np.float32]]:
        """Flattened activations (B, channels*64) of each named layer."""
        chunks: dict[str, list[npt.NDArray[np.float32]]] = {name: [] for name in layers}
        with torch.inference_mode():
            for start in range(0, len(planes), batch_size):
                _, _, acts = self._forward(torch.from_numpy(planes[start : start + batch_size]), layers)
                for name in layers:
                    chunks[name].append(acts[name].flatten(1).numpy().copy())
        return {
            name: np.concatenate(parts) if parts else np.zeros((0, self.width), np.float32)
            for name, parts in chunks.items()
        }


def masked_log_softmax(logits: torch.Tensor, legal_mask: torch.Tensor) -> torch.Tensor:
    """Log-probabilities over legal moves only.

    Illegal moves get a large negative logit rather than -inf: with -inf, KL and
    cross-entropy turn NaN where both distributions are masked (METHOD.md pitfalls).
    """
    return F.log_softmax(logits.masked_fill(~legal_mask, -1e9), dim=-1)


__all__ = ["NUM_MOVES", "NetworkConfig", "PolicyValueNet", "Evaluator", "masked_log_softmax"]
