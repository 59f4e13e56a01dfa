"""lc0 weight files (``.pb.gz``): read, check the family, decode the layers, fold batch norm.

A file is a gzip of the protobuf message ``Net`` from lc0's ``proto/net.proto``. This
module knows that schema's field numbers, refuses every family it cannot run (attention
bodies, ONNX, canonicalised or hectoply inputs, Mish) with :class:`Lc0FormatError`, and
returns plain float32 arrays with each convolution's batch norm already folded in, so
the torch model in :mod:`conceptcoach.engine.lc0.model` is only convolutions, linear
layers and activations. Nothing is unpickled: the file is bytes, numbers and strings.

Supported: the classical residual family (``NETWORK_CLASSICAL``, ``NETWORK_SE`` and their
``_WITH_HEADFORMAT`` forms), input format 1, ReLU, squeeze-excitation or not, a
convolutional or classical (fully connected) policy head, a WDL or classical value head,
an optional moves-left head, and every ``Layer`` encoding (LINEAR16, FLOAT16, BFLOAT16,
FLOAT32).
"""

from __future__ import annotations

import gzip
import hashlib
import math
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from conceptcoach.engine.lc0.proto import (
    Fields,
    ProtoDecodeError,
    decode_message,
    first_float,
    first_int,
    first_message,
    first_view,
    repeated_messages,
)

Array = npt.NDArray[np.float32]

MAGIC = 0x1C0
"""``Net.magic``: every lc0 protobuf network starts with it."""

BN_EPSILON = 1e-5
"""lc0 stores batch-norm variances (the field is misnamed ``bn_stddivs``) and adds this."""

# --- field numbers of lc0's proto/net.proto -------------------------------------------
# Net
NET_MAGIC, NET_LICENSE, NET_MIN_VERSION, NET_FORMAT, NET_WEIGHTS, NET_ONNX = 1, 2, 3, 4, 10, 11
# Format
FORMAT_WEIGHTS_ENCODING, FORMAT_NETWORK_FORMAT = 1, 2
# NetworkFormat
NF_INPUT, NF_OUTPUT, NF_NETWORK, NF_POLICY, NF_VALUE, NF_MOVES_LEFT = 1, 2, 3, 4, 5, 6
NF_DEFAULT_ACTIVATION = 7
# Weights
W_INPUT, W_RESIDUAL, W_POLICY, W_IP_POL_W, W_IP_POL_B = 1, 2, 3, 4, 5
W_VALUE, W_IP1_VAL_W, W_IP1_VAL_B, W_IP2_VAL_W, W_IP2_VAL_B = 6, 7, 8, 9, 10
W_POLICY1 = 11
W_MOVES_LEFT, W_IP1_MOV_W, W_IP1_MOV_B, W_IP2_MOV_W, W_IP2_MOV_B = 12, 13, 14, 15, 16
W_IP2_POL_W, W_POL_ENCODER, W_ENCODER, W_VALUE_HEADS, W_POLICY_HEADS = 17, 21, 27, 44, 45
# Weights.Layer
L_MIN, L_MAX, L_PARAMS, L_ENCODING = 1, 2, 3, 4
# Weights.ConvBlock
CB_WEIGHTS, CB_BIASES, CB_BN_MEANS, CB_BN_STDDIVS, CB_BN_GAMMAS, CB_BN_BETAS = 1, 2, 3, 4, 5, 6
# Weights.Residual and Weights.SEunit
RES_CONV1, RES_CONV2, RES_SE = 1, 2, 3
SE_W1, SE_B1, SE_W2, SE_B2 = 1, 2, 3, 4

# --- enums ----------------------------------------------------------------------------
ENC_UNKNOWN, ENC_LINEAR16, ENC_FLOAT16, ENC_BFLOAT16, ENC_FLOAT32 = 0, 1, 2, 3, 4
LAYER_ENCODINGS = {0: "LINEAR16", 1: "LINEAR16", 2: "FLOAT16", 3: "BFLOAT16", 4: "FLOAT32"}

INPUT_FORMATS = {
    0: "INPUT_UNKNOWN",
    1: "INPUT_CLASSICAL_112_PLANE",
    2: "INPUT_112_WITH_CASTLING_PLANE",
    3: "INPUT_112_WITH_CANONICALIZATION",
    4: "INPUT_112_WITH_CANONICALIZATION_HECTOPLIES",
    132: "INPUT_112_WITH_CANONICALIZATION_HECTOPLIES_ARMAGEDDON",
    5: "INPUT_112_WITH_CANONICALIZATION_V2",
    133: "INPUT_112_WITH_CANONICALIZATION_V2_ARMAGEDDON",
}
NETWORKS = {
    0: "NETWORK_UNKNOWN",
    1: "NETWORK_CLASSICAL",
    2: "NETWORK_SE",
    3: "NETWORK_CLASSICAL_WITH_HEADFORMAT",
    4: "NETWORK_SE_WITH_HEADFORMAT",
    5: "NETWORK_ONNX",
    6: "NETWORK_ATTENTIONBODY_WITH_HEADFORMAT",
    7: "NETWORK_ATTENTIONBODY_WITH_MULTIHEADFORMAT",
    134: "NETWORK_AB_LEGACY_WITH_MULTIHEADFORMAT",
}
INPUT_CLASSICAL_112_PLANE = 1
OUTPUT_WDL = 2
NETWORK_CLASSICAL, NETWORK_SE = 1, 2
NETWORK_CLASSICAL_WITH_HEADFORMAT, NETWORK_SE_WITH_HEADFORMAT = 3, 4
NETWORK_ONNX = 5
ATTENTION_NETWORKS = (6, 7, 134)
POLICY_UNKNOWN, POLICY_CLASSICAL, POLICY_CONVOLUTION, POLICY_ATTENTION = 0, 1, 2, 3
VALUE_UNKNOWN, VALUE_CLASSICAL, VALUE_WDL, VALUE_PARAM = 0, 1, 2, 3
MOVES_LEFT_V1 = 1
DEFAULT_ACTIVATION_MISH = 1

SUPPORTED = (
    "supported: lc0 residual networks (NETWORK_CLASSICAL, NETWORK_SE, "
    "NETWORK_CLASSICAL_WITH_HEADFORMAT, NETWORK_SE_WITH_HEADFORMAT) with input format 1 "
    "(INPUT_CLASSICAL_112_PLANE), ReLU activations, a convolutional or classical policy "
    "head, a WDL or classical value head and an optional moves-left head, stored as a "
    "gzipped protobuf (.pb.gz)"
)


class Lc0FormatError(ValueError):
    """A file that is not an lc0 network this loader can run. The message names the
    file, what it is, and what is supported."""


def _refuse(path: Path | str, what: str) -> Lc0FormatError:
    return Lc0FormatError(f"{path}: {what}; {SUPPORTED}")


PolicyKind = Literal["convolution", "classical"]
ValueKind = Literal["wdl", "classical"]


@dataclass(frozen=True)
class Lc0Info:
    """What an lc0 network file is: its family, shape and provenance."""

    path: str
    sha256: str
    network: str  # NetworkFormat.NetworkStructure name, e.g. NETWORK_SE_WITH_HEADFORMAT
    input_format: int
    blocks: int
    filters: int
    se: bool
    se_channels: int  # 0 without squeeze-excitation
    policy: PolicyKind
    value: ValueKind
    moves_left: bool
    encodings: tuple[str, ...]  # the Layer encodings met in the file, sorted
    min_version: str
    license: str
    family: str = "lc0"

    @property
    def input_format_name(self) -> str:
        return INPUT_FORMATS.get(self.input_format, f"input format {self.input_format}")

    def layer_names(self) -> list[str]:
        """Names whose activations the network can return: ``stem`` (after the input
        convolution) and ``block0`` .. ``block{n-1}`` (after each residual block)."""
        return ["stem", *(f"block{i}" for i in range(self.blocks))]


@dataclass(frozen=True)
class Conv:
    """A convolution with its batch norm folded in: ``weight`` (out, in, k, k), ``bias`` (out,)."""

    weight: Array
    bias: Array


@dataclass(frozen=True)
class Dense:
    """A fully connected layer: ``weight`` (out, in), ``bias`` (out,)."""

    weight: Array
    bias: Array


@dataclass(frozen=True)
class SqueezeExcitation:
    """``fc1`` (se, C) and ``fc2`` (2C, se): the second gives a scale (through a sigmoid)
    and a bias for each channel."""

    fc1: Dense
    fc2: Dense


@dataclass(frozen=True)
class Residual:
    conv1: Conv
    conv2: Conv
    se: SqueezeExcitation | None


@dataclass(frozen=True)
class Lc0Weights:
    """Every layer of a supported network, float32, batch norm folded."""

    info: Lc0Info
    input: Conv
    residual: tuple[Residual, ...]
    policy1: Conv | None  # convolutional policy head: 3x3 conv (+ReLU) ...
    policy: Conv  # ... then 3x3 conv to 80 planes; classical head: 1x1 conv (+ReLU) ...
    ip_pol: Dense | None  # ... then a linear layer to 1858 moves
    value: Conv
    ip1_val: Dense
    ip2_val: Dense  # 3 outputs (W, D, L logits) or 1 (tanh value)
    moves_left: Conv | None
    ip1_mov: Dense | None
    ip2_mov: Dense | None


# --------------------------------------------------------------------------- decoding


class _Decoder:
    """Decodes the layers of one file, remembering the encodings met and where it is
    (for error messages)."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self.encodings: set[str] = set()

    def fail(self, where: str, what: str) -> Lc0FormatError:
        return Lc0FormatError(
            f"{self.path}: {where}: {what}; the file is damaged or not a network this loader "
            f"reads ({SUPPORTED})"
        )

    def layer(self, fields: Fields | None, where: str) -> Array:
        """A ``Weights.Layer`` as a flat float32 array (empty when absent)."""
        if fields is None:
            return np.zeros(0, dtype=np.float32)
        params = first_view(fields, L_PARAMS)
        raw = b"" if params is None else params
        encoding = first_int(fields, L_ENCODING, ENC_UNKNOWN)
        if encoding not in LAYER_ENCODINGS:
            raise self.fail(where, f"unknown Layer encoding {encoding}")
        size = 4 if encoding == ENC_FLOAT32 else 2
        if len(raw) % size:
            raise self.fail(where, f"{len(raw)} bytes is not a whole number of {size}-byte values")
        self.encodings.add(LAYER_ENCODINGS[encoding])
        if encoding == ENC_FLOAT32:
            return np.frombuffer(raw, dtype="<f4").astype(np.float32)
        if encoding == ENC_FLOAT16:
            return np.frombuffer(raw, dtype="<f2").astype(np.float32)
        words = np.frombuffer(raw, dtype="<u2")
        if encoding == ENC_BFLOAT16:
            # bfloat16 is the top half of a float32.
            return (words.astype(np.uint32) << 16).view(np.float32)
        # LINEAR16 (also what a Layer without an encoding field means): evenly spaced
        # between min_val and max_val, computed in float32 in lc0's order of operations.
        low = np.float32(first_float(fields, L_MIN))
        span = np.float32(first_float(fields, L_MAX)) - low
        return words.astype(np.float32) / np.float32(0xFFFF) * span + low

    def dense(self, w: Fields | None, b: Fields | None, inputs: int, where: str) -> Dense:
        weight = self.layer(w, where + " weights")
        bias = self.layer(b, where + " biases")
        if not bias.size or weight.size != bias.size * inputs:
            raise self.fail(
                where, f"{weight.size} weights and {bias.size} biases do not fit {inputs} inputs"
            )
        return Dense(weight.reshape(bias.size, inputs), bias)

    def conv(self, block: Fields | None, inputs: int, where: str) -> Conv:
        """A ``Weights.ConvBlock`` with batch norm folded into the weights and biases."""
        if block is None:
            raise self.fail(where, "missing")
        weight = self.layer(first_message(block, CB_WEIGHTS), where + " weights")
        biases = self.layer(first_message(block, CB_BIASES), where + " biases")
        means = self.layer(first_message(block, CB_BN_MEANS), where + " bn_means")
        variances = self.layer(first_message(block, CB_BN_STDDIVS), where + " bn_stddivs")
        gammas = self.layer(first_message(block, CB_BN_GAMMAS), where + " bn_gammas")
        betas = self.layer(first_message(block, CB_BN_BETAS), where + " bn_betas")
        outputs = means.size or biases.size
        if not outputs or not weight.size or weight.size % (outputs * inputs):
            raise self.fail(
                where, f"{weight.size} weights do not fit {outputs} outputs x {inputs} inputs"
            )
        k = math.isqrt(weight.size // (outputs * inputs))
        if k * k * outputs * inputs != weight.size:
            raise self.fail(where, f"{weight.size} weights are not a square kernel")
        w = weight.reshape(outputs, inputs, k, k)
        bias = biases if biases.size else np.zeros(outputs, dtype=np.float32)
        if means.size:
            # Old files have no gammas/betas: batch norm without a learned affine part.
            gammas = gammas if gammas.size else np.ones(outputs, dtype=np.float32)
            betas = betas if betas.size else np.zeros(outputs, dtype=np.float32)
            for name, arr in (
                ("bias", bias),
                ("variance", variances),
                ("gamma", gammas),
                ("beta", betas),
            ):
                if arr.size != outputs:
                    raise self.fail(
                        where, f"{arr.size} batch-norm {name} values for {outputs} channels"
                    )
            scale = gammas / np.sqrt(variances + np.float32(BN_EPSILON))
            w = w * scale[:, None, None, None]
            bias = (bias - means) * scale + betas
        elif bias.size != outputs:
            raise self.fail(where, f"{bias.size} biases for {outputs} channels")
        return Conv(np.ascontiguousarray(w, dtype=np.float32), bias.astype(np.float32))


def _version(fields: Fields | None) -> str:
    if fields is None:
        return "0.0.0"
    return ".".join(str(first_int(fields, n)) for n in (1, 2, 3))


def read_gzip(path: Path | str, data: bytes) -> bytes:
    """The decompressed bytes of a ``.pb.gz`` file, or :class:`Lc0FormatError`."""
    if data[:2] != b"\x1f\x8b":
        raise _refuse(path, "not a gzip file, so not an lc0 .pb.gz network")
    try:
        return gzip.decompress(data)
    except EOFError as exc:
        raise _refuse(path, f"a truncated gzip file ({exc}): download it again") from exc
    except (OSError, zlib.error) as exc:
        raise _refuse(path, f"a damaged gzip file ({exc})") from exc


def parse_weights(path: Path | str, data: bytes) -> Lc0Weights:
    """Decode the bytes of a ``.pb.gz`` file (as read from ``path``, which only names it
    in messages). Raises :class:`Lc0FormatError` for anything but a supported network."""
    sha256 = hashlib.sha256(data).hexdigest()
    raw = read_gzip(path, data)
    try:
        net = decode_message(raw)
        magic = first_int(net, NET_MAGIC)
    except ProtoDecodeError as exc:
        raise _refuse(path, f"a gzip file that holds no protobuf message ({exc})") from exc
    if magic != MAGIC:
        raise _refuse(path, f"not an lc0 network (magic {magic:#x}, expected {MAGIC:#x})")
    try:
        return _parse_net(path, sha256, net)
    except ProtoDecodeError as exc:
        raise _refuse(path, f"an lc0 network whose protobuf is damaged ({exc})") from exc


def _parse_net(path: Path | str, sha256: str, net: Fields) -> Lc0Weights:
    fmt = first_message(net, NET_FORMAT) or {}
    weights_encoding = first_int(fmt, FORMAT_WEIGHTS_ENCODING, ENC_LINEAR16)
    if weights_encoding not in (ENC_UNKNOWN, ENC_LINEAR16):
        raise _refuse(path, f"an lc0 network with file-wide weights encoding {weights_encoding}")
    nf = first_message(fmt, FORMAT_NETWORK_FORMAT)
    if nf is None:
        # lc0: files older than NetworkFormat are classical input/output/network.
        nf = {}
        input_format, output, network = INPUT_CLASSICAL_112_PLANE, 1, NETWORK_CLASSICAL
    else:
        input_format = first_int(nf, NF_INPUT)
        output = first_int(nf, NF_OUTPUT)
        network = first_int(nf, NF_NETWORK)
    policy_format = first_int(nf, NF_POLICY)
    value_format = first_int(nf, NF_VALUE)
    weights = first_message(net, NET_WEIGHTS)
    name = NETWORKS.get(network, f"network structure {network}")

    # The family checks, most specific first: each names what the file is.
    if NET_ONNX in net or network == NETWORK_ONNX:
        raise _refuse(path, "an lc0 ONNX network (NETWORK_ONNX)")
    if weights is None:
        raise _refuse(path, "an lc0 file without weights")
    if network in ATTENTION_NETWORKS or W_ENCODER in weights:
        raise _refuse(path, f"an lc0 attention-body (transformer) network ({name})")
    if W_VALUE_HEADS in weights or W_POLICY_HEADS in weights:
        raise _refuse(path, f"an lc0 multi-head network ({name})")
    if network not in (
        NETWORK_CLASSICAL,
        NETWORK_SE,
        NETWORK_CLASSICAL_WITH_HEADFORMAT,
        NETWORK_SE_WITH_HEADFORMAT,
    ):
        raise _refuse(path, f"an lc0 network of unknown structure ({name})")
    if input_format != INPUT_CLASSICAL_112_PLANE:
        fmt_name = INPUT_FORMATS.get(input_format, "unknown")
        raise _refuse(path, f"an lc0 {name} network with input format {input_format} ({fmt_name})")
    if first_int(nf, NF_DEFAULT_ACTIVATION) == DEFAULT_ACTIVATION_MISH:
        raise _refuse(path, f"an lc0 {name} network with Mish activations")
    if policy_format == POLICY_ATTENTION or W_POL_ENCODER in weights or W_IP2_POL_W in weights:
        raise _refuse(path, f"an lc0 {name} network with an attention policy head")
    if value_format == VALUE_PARAM:
        raise _refuse(path, f"an lc0 {name} network with a VALUE_PARAM value head")
    if W_RESIDUAL not in weights:
        raise _refuse(path, f"an lc0 {name} network without a residual tower")

    d = _Decoder(path)
    input_conv = d.conv(first_message(weights, W_INPUT), 112, "input convolution")
    filters = input_conv.weight.shape[0]
    blocks: list[Residual] = []
    for i, res in enumerate(repeated_messages(weights, W_RESIDUAL)):
        conv1 = d.conv(first_message(res, RES_CONV1), filters, f"residual block {i} conv1")
        conv2 = d.conv(first_message(res, RES_CONV2), filters, f"residual block {i} conv2")
        for conv, which in ((conv1, "conv1"), (conv2, "conv2")):
            if conv.weight.shape != (filters, filters, 3, 3):
                raise d.fail(
                    f"residual block {i} {which}",
                    f"shape {conv.weight.shape}, expected 3x3 {filters}->{filters}",
                )
        se_fields = first_message(res, RES_SE)
        se = None
        if se_fields is not None:
            fc1 = d.dense(
                first_message(se_fields, SE_W1),
                first_message(se_fields, SE_B1),
                filters,
                f"residual block {i} SE fc1",
            )
            fc2 = d.dense(
                first_message(se_fields, SE_W2),
                first_message(se_fields, SE_B2),
                fc1.bias.size,
                f"residual block {i} SE fc2",
            )
            if fc2.bias.size != 2 * filters:
                raise d.fail(
                    f"residual block {i} SE fc2", f"{fc2.bias.size} outputs, expected {2 * filters}"
                )
            se = SqueezeExcitation(fc1, fc2)
        blocks.append(Residual(conv1, conv2, se))
    with_se = [b.se is not None for b in blocks]
    if any(with_se) and not all(with_se):
        raise d.fail("residual tower", "squeeze-excitation in some blocks only")

    # Policy head: the format says which, or (unknown format) the weights do.
    if policy_format == POLICY_CONVOLUTION or (
        policy_format == POLICY_UNKNOWN and W_POLICY1 in weights
    ):
        policy_kind: PolicyKind = "convolution"
        policy1 = d.conv(first_message(weights, W_POLICY1), filters, "policy1 convolution")
        policy = d.conv(
            first_message(weights, W_POLICY), policy1.weight.shape[0], "policy convolution"
        )
        if policy.weight.shape[0] != 80:
            raise d.fail("policy convolution", f"{policy.weight.shape[0]} planes, expected 80")
        ip_pol = None
    else:
        policy_kind = "classical"
        policy1 = None
        policy = d.conv(first_message(weights, W_POLICY), filters, "policy convolution")
        ip_pol = d.dense(
            first_message(weights, W_IP_POL_W),
            first_message(weights, W_IP_POL_B),
            policy.weight.shape[0] * 64,
            "policy linear layer",
        )
        if ip_pol.bias.size != 1858:
            raise d.fail("policy linear layer", f"{ip_pol.bias.size} outputs, expected 1858")

    value = d.conv(first_message(weights, W_VALUE), filters, "value convolution")
    ip1_val = d.dense(
        first_message(weights, W_IP1_VAL_W),
        first_message(weights, W_IP1_VAL_B),
        value.weight.shape[0] * 64,
        "value linear layer 1",
    )
    ip2_val = d.dense(
        first_message(weights, W_IP2_VAL_W),
        first_message(weights, W_IP2_VAL_B),
        ip1_val.bias.size,
        "value linear layer 2",
    )
    wdl = value_format == VALUE_WDL or (value_format == VALUE_UNKNOWN and output == OUTPUT_WDL)
    if ip2_val.bias.size != (3 if wdl else 1):
        raise d.fail(
            "value linear layer 2",
            f"{ip2_val.bias.size} outputs for a {'WDL' if wdl else 'classical'} value head",
        )

    moves_left = ip1_mov = ip2_mov = None
    if first_int(nf, NF_MOVES_LEFT) == MOVES_LEFT_V1:
        moves_left = d.conv(first_message(weights, W_MOVES_LEFT), filters, "moves-left convolution")
        ip1_mov = d.dense(
            first_message(weights, W_IP1_MOV_W),
            first_message(weights, W_IP1_MOV_B),
            moves_left.weight.shape[0] * 64,
            "moves-left linear layer 1",
        )
        ip2_mov = d.dense(
            first_message(weights, W_IP2_MOV_W),
            first_message(weights, W_IP2_MOV_B),
            ip1_mov.bias.size,
            "moves-left linear layer 2",
        )

    license_view = first_view(net, NET_LICENSE)
    info = Lc0Info(
        path=str(path),
        sha256=sha256,
        network=name,
        input_format=input_format,
        blocks=len(blocks),
        filters=filters,
        se=bool(with_se) and all(with_se),
        se_channels=blocks[0].se.fc1.bias.size if blocks and blocks[0].se else 0,
        policy=policy_kind,
        value="wdl" if wdl else "classical",
        moves_left=moves_left is not None,
        encodings=tuple(sorted(d.encodings)),
        min_version=_version(first_message(net, NET_MIN_VERSION)),
        license="" if license_view is None else license_view.tobytes().decode("utf-8", "replace"),
    )
    return Lc0Weights(
        info=info,
        input=input_conv,
        residual=tuple(blocks),
        policy1=policy1,
        policy=policy,
        ip_pol=ip_pol,
        value=value,
        ip1_val=ip1_val,
        ip2_val=ip2_val,
        moves_left=moves_left,
        ip1_mov=ip1_mov,
        ip2_mov=ip2_mov,
    )


def read_weights(path: Path | str) -> Lc0Weights:
    """Read and decode an lc0 ``.pb.gz`` file.

    Raises :class:`Lc0FormatError` (a ``ValueError``) for a file that is not a supported
    lc0 network, and ``OSError`` when it cannot be read."""
    return parse_weights(path, Path(path).read_bytes())
