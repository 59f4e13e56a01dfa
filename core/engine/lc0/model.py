"""An lc0 residual network as a torch module, and evaluating a python-chess board with it.

The module is built from :class:`~conceptcoach.engine.lc0.weights.Lc0Weights` (batch
norm already folded), so it is plain convolutions, linear layers and ReLUs, float32,
in eval mode with gradients off. Activations are named like our own network's:
``stem`` after the input convolution, ``block0`` .. ``block{n-1}`` after each residual
block, each ``filters x 8 x 8``.

>>> net = load_lc0("maia-1900.pb.gz")  # doctest: +SKIP
>>> logits, wdl = evaluate_board(net, chess.Board())  # doctest: +SKIP
>>> max(logits, key=logits.get)  # doctest: +SKIP
'e2e4'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import chess
import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from conceptcoach.engine.lc0.planes import NUM_PLANES, encode_lc0
from conceptcoach.engine.lc0.policy_map import NUM_MOVES, conv_policy_gather, legal_policy_indices
from conceptcoach.engine.lc0.weights import Conv, Dense, Lc0Info, Lc0Weights, Residual, read_weights
from torch import nn


def _conv(layer: Conv) -> nn.Conv2d:
    out_ch, in_ch, k, _ = layer.weight.shape
    conv = nn.Conv2d(in_ch, out_ch, k, padding=k // 2, bias=True)
    conv.weight.data.copy_(torch.from_numpy(layer.weight))
    assert conv.bias is not None
    conv.bias.data.copy_(torch.from_numpy(layer.bias))
    return conv


def _linear(layer: Dense) -> nn.Linear:
    out_f, in_f = layer.weight.shape
    linear = nn.Linear(in_f, out_f)
    linear.weight.data.copy_(torch.from_numpy(layer.weight))
    linear.bias.data.copy_(torch.from_numpy(layer.bias))
    return linear


class SqueezeExcitation(nn.Module):
    """Per-channel scale and bias from the block's average activations:
    ``sigmoid(w) * x + b`` (the residual is added by the caller)."""

    def __init__(self, fc1: Dense, fc2: Dense) -> None:
        super().__init__()
        self.fc1 = _linear(fc1)
        self.fc2 = _linear(fc2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.mean(dim=(2, 3))
        scale, bias = self.fc2(F.relu(self.fc1(pooled))).chunk(2, dim=1)
        return torch.sigmoid(scale)[:, :, None, None] * x + bias[:, :, None, None]


class ResidualBlock(nn.Module):
    def __init__(self, weights: Residual) -> None:
        super().__init__()
        self.conv1 = _conv(weights.conv1)
        self.conv2 = _conv(weights.conv2)
        self.se = None if weights.se is None else SqueezeExcitation(weights.se.fc1, weights.se.fc2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(F.relu(self.conv1(x)))
        if self.se is not None:
            y = self.se(y)
        return F.relu(x + y)


class Lc0Network(nn.Module):
    """An lc0 residual network. ``forward`` takes (B, 112, 8, 8) planes from
    :func:`~conceptcoach.engine.lc0.planes.encode_lc0` and returns policy logits
    (B, 1858) in :func:`~conceptcoach.engine.lc0.policy_map.policy_index` order, W/D/L
    probabilities (B, 3), and the activations named in ``capture``."""

    gather: torch.Tensor

    def __init__(self, weights: Lc0Weights) -> None:
        super().__init__()
        self.info: Lc0Info = weights.info
        self.input_conv = _conv(weights.input)
        self.blocks = nn.ModuleList(ResidualBlock(r) for r in weights.residual)
        self.policy1 = None if weights.policy1 is None else _conv(weights.policy1)
        self.policy_conv = _conv(weights.policy)
        self.policy_fc = None if weights.ip_pol is None else _linear(weights.ip_pol)
        self.register_buffer("gather", torch.from_numpy(conv_policy_gather()), persistent=False)
        self.value_conv = _conv(weights.value)
        self.value_fc1 = _linear(weights.ip1_val)
        self.value_fc2 = _linear(weights.ip2_val)
        self.moves_left_conv = None if weights.moves_left is None else _conv(weights.moves_left)
        self.moves_left_fc1 = None if weights.ip1_mov is None else _linear(weights.ip1_mov)
        self.moves_left_fc2 = None if weights.ip2_mov is None else _linear(weights.ip2_mov)
        self.eval()
        self.requires_grad_(False)

    def layer_names(self) -> list[str]:
        """Names ``forward`` can capture: ``stem``, ``block0`` .. ``block{n-1}``."""
        return self.info.layer_names()

    def body(
        self, x: torch.Tensor, capture: Sequence[str] = ()
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The residual tower's output (B, filters, 8, 8) and the captured activations."""
        want = set(capture)
        unknown = want - set(self.layer_names())
        if unknown:
            raise KeyError(
                f"unknown layer(s) {sorted(unknown)}; this network has {self.layer_names()}"
            )
        if x.dim() != 4 or tuple(x.shape[1:]) != (NUM_PLANES, 8, 8):
            raise ValueError(
                f"expected planes of shape (B, {NUM_PLANES}, 8, 8), got {tuple(x.shape)}"
            )
        acts: dict[str, torch.Tensor] = {}
        h = F.relu(self.input_conv(x))
        if "stem" in want:
            acts["stem"] = h
        for i, block in enumerate(self.blocks):
            h = block(h)
            if f"block{i}" in want:
                acts[f"block{i}"] = h
        return h, acts

    def forward(
        self, x: torch.Tensor, capture: Sequence[str] = ()
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """Policy logits (B, 1858), W/D/L probabilities (B, 3), and the activations of
        the layers named in ``capture``. A classical (single-number) value head gives
        W = (1 + v) / 2, D = 0, L = (1 - v) / 2, so W - L is its value."""
        h, acts = self.body(x, capture)
        if self.policy1 is not None:
            p = self.policy_conv(F.relu(self.policy1(h))).flatten(1)
            logits = p.index_select(1, self.gather)
        else:
            assert self.policy_fc is not None
            logits = self.policy_fc(F.relu(self.policy_conv(h)).flatten(1))
        v = self.value_fc2(F.relu(self.value_fc1(F.relu(self.value_conv(h)).flatten(1))))
        if self.info.value == "wdl":
            wdl = torch.softmax(v, dim=1)
        else:
            q = torch.tanh(v[:, 0])
            wdl = torch.stack([(1 + q) / 2, torch.zeros_like(q), (1 - q) / 2], dim=1)
        return logits, wdl, acts

    def moves_left(self, x: torch.Tensor) -> torch.Tensor:
        """The moves-left head's estimate of the plies left (B,). Raises ``ValueError``
        for a network without one."""
        if (
            self.moves_left_conv is None
            or self.moves_left_fc1 is None
            or self.moves_left_fc2 is None
        ):
            raise ValueError(f"{self.info.path} has no moves-left head")
        h, _ = self.body(x)
        m = F.relu(self.moves_left_conv(h)).flatten(1)
        return F.relu(self.moves_left_fc2(F.relu(self.moves_left_fc1(m))))[:, 0]


def load_lc0(path: Path | str) -> Lc0Network:
    """Load an lc0 ``.pb.gz`` network as a torch module in eval mode.

    Raises :class:`~conceptcoach.engine.lc0.weights.Lc0FormatError` (a ``ValueError``)
    for a file that is not a supported lc0 network (attention bodies, input formats 2
    and later, Mish, ONNX, damaged or non-lc0 files); ``OSError`` if it cannot be read."""
    return Lc0Network(read_weights(path))


def evaluate_board(
    net: Lc0Network, board: chess.Board
) -> tuple[dict[str, float], npt.NDArray[np.float32]]:
    """lc0's raw policy logits for every legal move of ``board`` (keys in python-chess
    UCI, so O-O is e1g1) and its W/D/L probabilities (3,), from the side to move's view.
    History planes come from ``board.move_stack``. A position without legal moves gives
    an empty dict."""
    planes = torch.from_numpy(encode_lc0(board)[None])
    with torch.inference_mode():
        logits, wdl, _ = net(planes)
    moves, indices = legal_policy_indices(board)
    row = logits[0].numpy()
    assert row.shape == (NUM_MOVES,)
    return {m.uci(): float(row[i]) for m, i in zip(moves, indices, strict=True)}, wdl[
        0
    ].numpy().copy()
