"""The lc0 loader: real Maia networks against lc0's own output, the move and plane
encodings, refusal of other families, and synthetic networks in every Layer encoding."""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chess
import numpy as np
import numpy.typing as npt
import pytest
import torch
import torch.nn.functional as F
from conceptcoach.engine.lc0 import (
    Lc0FormatError,
    Lc0Network,
    encode_lc0,
    evaluate_board,
    legal_policy_indices,
    load_lc0,
    move_to_policy_index,
    policy_index,
)
from conceptcoach.engine.lc0.policy_map import conv_policy_gather
from conceptcoach.engine.lc0.proto import (
    ProtoDecodeError,
    decode_message,
    field_bytes,
    field_fixed32,
    field_float,
    field_varint,
    first_bytes,
    first_float,
    first_int,
    first_message,
    packed_varints,
    reencode,
    repeated_varints,
)

LC0_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lc0"
LADDER = [1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800]
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def lc0_data() -> Path:
    if not (LC0_DATA / "maia-1900.pb.gz").is_file():
        pytest.skip(
            f"lc0 test networks missing: {LC0_DATA} (shared data is cloned beside the repo)"
        )
    return LC0_DATA


@pytest.fixture(scope="module")
def maia1900(lc0_data: Path) -> Lc0Network:
    return load_lc0(lc0_data / "maia-1900.pb.gz")


@pytest.fixture(scope="module")
def reference(lc0_data: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((lc0_data / "maia1900_reference.json").read_text())
    return data


def _board(position: dict[str, Any]) -> chess.Board:
    board = chess.Board(position["fen"])
    for uci in position["moves"]:
        board.push_uci(uci)
    return board


def _softmax(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    e = np.exp(x - x.max())
    return e / e.sum()


# ------------------------------------------------------------------ real networks


def test_matches_lc0_on_every_reference_position(
    maia1900: Lc0Network, reference: dict[str, Any]
) -> None:
    assert reference["sha256"] == maia1900.info.sha256
    positions = reference["positions"]
    assert len(positions) == 21
    worst = {"p": 0.0, "q": 0.0, "d": 0.0}
    for i, position in enumerate(positions):
        board = _board(position)
        logits, wdl = evaluate_board(maia1900, board)
        expected = position["policy_logits"]
        assert set(logits) == set(expected), f"position {i}: legal moves differ"
        moves = sorted(expected)
        ours = _softmax(np.array([logits[m] for m in moves], dtype=np.float64))
        theirs = _softmax(np.array([expected[m] for m in moves], dtype=np.float64))
        errors = {
            "p": float(np.abs(ours - theirs).max()),
            "q": abs(float(wdl[0] - wdl[2]) - position["q"]),
            "d": abs(float(wdl[1]) - position["d"]),
        }
        for key, err in errors.items():
            assert err < TOLERANCE, (
                f"position {i} ({position['fen']} {position['moves']}): {key} off by {err}"
            )
            worst[key] = max(worst[key], err)
    print("max differences against lc0:", worst)


def test_batched_forward_and_named_activations(
    maia1900: Lc0Network, reference: dict[str, Any]
) -> None:
    boards = [_board(p) for p in reference["positions"]]
    planes = torch.from_numpy(np.stack([encode_lc0(b) for b in boards]))
    names = maia1900.layer_names()
    assert names == ["stem"] + [f"block{i}" for i in range(6)]
    with torch.inference_mode():
        logits, wdl, acts = maia1900(planes, capture=names)
        single, _, _ = maia1900(planes[3:4])
    assert logits.shape == (21, 1858) and wdl.shape == (21, 3)
    assert torch.allclose(wdl.sum(1), torch.ones(21))
    assert set(acts) == set(names)
    assert all(a.shape == (21, 64, 8, 8) for a in acts.values())
    assert (acts["block5"] >= 0).all()  # after the block's ReLU
    assert torch.allclose(single[0], logits[3], atol=1e-5)
    with pytest.raises(KeyError, match="block6"):
        maia1900(planes[:1], capture=["block6"])
    with pytest.raises(ValueError, match="112"):
        maia1900(torch.zeros(1, 21, 8, 8))


@pytest.mark.parametrize("rating", LADDER)
def test_maia_ladder_loads(lc0_data: Path, rating: int) -> None:
    path = lc0_data / f"maia-{rating}.pb.gz"
    net = load_lc0(path)
    info = net.info
    assert (info.blocks, info.filters, info.se, info.se_channels) == (6, 64, True, 8)
    assert (info.policy, info.value, info.moves_left) == ("convolution", "wdl", False)
    assert info.input_format == 1 and info.input_format_name == "INPUT_CLASSICAL_112_PLANE"
    assert info.network == "NETWORK_SE_WITH_HEADFORMAT" and info.encodings == ("LINEAR16",)
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert not net.training
    logits, wdl = evaluate_board(net, chess.Board())
    assert len(logits) == 20 and abs(float(wdl.sum()) - 1) < 1e-5
    # Humans of every rating open with a centre pawn far more often than with a rook pawn.
    assert max(logits["e2e4"], logits["d2d4"]) > logits["a2a4"] + 1


# ------------------------------------------------------------------ moves and planes


def test_policy_index_order_and_conv_map() -> None:
    moves = policy_index()
    assert len(moves) == 1858 == len(set(moves))
    assert moves[:2] == ["a1b1", "a1c1"] and moves[23] == "b1a1"
    assert moves[1791:1794] == ["h8g8", "a7a8q", "a7a8r"] and moves[-1] == "h7h8b"
    gather = conv_policy_gather()
    assert len(set(gather.tolist())) == 1858 and gather.max() < 80 * 64
    plane_square = {
        "e2e4": (1, chess.E2),  # north, two squares
        "g1f3": (63, chess.G1),  # the eighth knight plane: one left, two up
        "a7a8": (0, chess.A7),  # north one square (also the knight promotion)
        "a7a8r": (67, chess.A7),  # promotions: direction N, piece r
        "a7b8q": (72, chess.A7),  # direction NE, piece q
    }
    for move, (plane, square) in plane_square.items():
        assert gather[moves.index(move)] == plane * 64 + square, move


def test_move_to_policy_index_mirrors_castles_and_promotes() -> None:
    index = {m: i for i, m in enumerate(policy_index())}
    board = chess.Board("r3k2r/1P6/8/8/8/8/6p1/R3K2R w KQkq - 0 1")
    assert move_to_policy_index(board, chess.Move.from_uci("e1g1")) == index["e1h1"]
    assert move_to_policy_index(board, chess.Move.from_uci("e1c1")) == index["e1a1"]
    assert move_to_policy_index(board, chess.Move.from_uci("b7a8q")) == index["b7a8q"]
    assert move_to_policy_index(board, chess.Move.from_uci("b7b8n")) == index["b7b8"]
    board.turn = chess.BLACK
    assert move_to_policy_index(board, chess.Move.from_uci("e8g8")) == index["e1h1"]
    assert move_to_policy_index(board, chess.Move.from_uci("e8c8")) == index["e1a1"]
    assert move_to_policy_index(board, chess.Move.from_uci("g2h1r")) == index["g7h8r"]
    moves, indices = legal_policy_indices(board)
    assert len(moves) == len(set(indices.tolist())) == board.legal_moves.count()


def test_planes_for_start_position_and_black_to_move() -> None:
    planes = encode_lc0(chess.Board())
    assert planes.shape == (112, 8, 8) and planes.dtype == np.float32
    assert planes[0, 1].tolist() == [1.0] * 8 and planes[0].sum() == 8  # our pawns, rank 2
    assert planes[11, 7, 4] == 1 and planes[11].sum() == 1  # their king on e8
    assert planes[13:104].sum() == 0  # the standard start has no history to repeat
    assert (planes[104:108] == 1).all() and planes[108].sum() == 0
    assert planes[109].sum() == 0 and planes[110].sum() == 0 and (planes[111] == 1).all()

    board = chess.Board("8/8/4k3/8/2K5/8/3Q4/8 b - - 37 80")
    planes = encode_lc0(board)
    assert planes[5, 7 - 5, 4] == 1  # our (Black's) king on e6, mirrored to e3
    assert planes[11, 7 - 3, 2] == 1 and planes[10, 7 - 1, 3] == 1  # their king c4, queen d2
    assert (planes[108] == 1).all() and (planes[109] == 37).all()
    assert planes[104:108].sum() == 0
    # A root set up from a FEN is repeated into all seven unknown history slots.
    for slot in range(1, 8):
        assert np.array_equal(planes[13 * slot : 13 * slot + 12], planes[:12])


def test_repetition_plane_and_played_history() -> None:
    board = chess.Board()
    for uci in ["g1f3", "g8f6", "f3g1", "f6g8"]:
        board.push_uci(uci)
    planes = encode_lc0(board)
    assert (planes[12] == 1).all()  # the start position again
    assert planes[13 + 12].sum() == 0 and (planes[2 * 13 + 12] == 0).all()
    assert planes[13 * 4 + 12].sum() == 0  # slot 4 is the first occurrence
    assert planes[13 * 5 : 104].sum() == 0  # before the start: nothing
    # Slot 1 (after f3g1, Black to move then) drawn from White's view: Black's knight on f6.
    assert planes[13 + 7, 5, 5] == 1


# ------------------------------------------------------------------ refusals


def _net_with_format(data: bytes, **network_format: int) -> bytes:
    """The real file's Net with its NetworkFormat fields replaced (same weights)."""
    net = decode_message(gzip.decompress(data))
    fmt = first_message(net, 4) or {}
    nf = first_message(fmt, 2) or {}
    numbers = {
        "input": 1,
        "output": 2,
        "network": 3,
        "policy": 4,
        "value": 5,
        "default_activation": 7,
    }
    for name, value in network_format.items():
        nf[numbers[name]] = [(0, value)]
    fmt[2] = [(2, memoryview(reencode(nf)))]
    net[4] = [(2, memoryview(reencode(fmt)))]
    return gzip.compress(reencode(net), compresslevel=1)


@pytest.mark.parametrize(
    ("changes", "family"),
    [
        (
            {"network": 6},
            "attention-body (transformer) network (NETWORK_ATTENTIONBODY_WITH_HEADFORMAT)",
        ),
        ({"network": 7}, "NETWORK_ATTENTIONBODY_WITH_MULTIHEADFORMAT"),
        ({"network": 5}, "ONNX"),
        ({"input": 2}, "input format 2 (INPUT_112_WITH_CASTLING_PLANE)"),
        ({"input": 3}, "input format 3 (INPUT_112_WITH_CANONICALIZATION)"),
        ({"input": 4}, "INPUT_112_WITH_CANONICALIZATION_HECTOPLIES"),
        ({"default_activation": 1}, "Mish"),
        ({"policy": 3}, "attention policy head"),
    ],
)
def test_refuses_other_families(
    lc0_data: Path, tmp_path: Path, changes: dict[str, int], family: str
) -> None:
    path = tmp_path / "other-family.pb.gz"
    path.write_bytes(_net_with_format((lc0_data / "maia-1900.pb.gz").read_bytes(), **changes))
    with pytest.raises(Lc0FormatError) as err:
        load_lc0(path)
    message = str(err.value)
    assert str(path) in message and family in message
    assert "supported: lc0 residual networks" in message and "INPUT_CLASSICAL_112_PLANE" in message


def test_unchanged_reencoding_still_loads(lc0_data: Path, tmp_path: Path) -> None:
    # Guards the refusal test above: the re-encoding itself keeps a loadable network.
    path = tmp_path / "same.pb.gz"
    path.write_bytes(_net_with_format((lc0_data / "maia-1900.pb.gz").read_bytes(), input=1))
    assert load_lc0(path).info.blocks == 6


def test_refuses_damaged_and_foreign_files(lc0_data: Path, tmp_path: Path) -> None:
    real = (lc0_data / "maia-1900.pb.gz").read_bytes()
    rng = np.random.default_rng(7)
    cases = {
        "truncated.pb.gz": (real[: len(real) // 2], "truncated gzip"),
        "plain.pb.gz": (b"This is a text file, not a network.\n", "not a gzip file"),
        "noise.pb.gz": (gzip.compress(rng.bytes(4096)), "holds no protobuf message"),
        "other-proto.pb.gz": (
            gzip.compress(field_varint(1, 7) + field_bytes(2, b"x")),
            "not an lc0 network",
        ),
        "empty.pb.gz": (b"", "not a gzip file"),
    }
    for name, (data, what) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(Lc0FormatError) as err:
            load_lc0(path)
        message = str(err.value)
        assert str(path) in message and what in message, message
        assert "supported" in message


# ------------------------------------------------------------------ protobuf


def test_proto_round_trip_and_errors() -> None:
    msg = (
        field_fixed32(1, 0x1C0)
        + field_float(2, 1.5)
        + field_bytes(3, b"abc")
        + field_bytes(5, packed_varints([1, 300, 70000]))
        + field_varint(5, 9)
        + field_varint(6, 2**40)
    )
    fields = decode_message(msg)
    assert first_int(fields, 1) == 0x1C0 and first_float(fields, 2) == 1.5
    assert first_bytes(fields, 3) == b"abc" and repeated_varints(fields, 5) == [1, 300, 70000, 9]
    assert first_int(fields, 6) == 2**40 and first_int(fields, 99, default=4) == 4
    assert reencode(fields) == msg
    with pytest.raises(ProtoDecodeError):
        decode_message(msg[:-3])
    with pytest.raises(ProtoDecodeError):
        decode_message(field_bytes(3, b"abcdef")[:5])


# ------------------------------------------------------------------ synthetic networks


ENCODINGS = ("LINEAR16", "FLOAT16", "BFLOAT16", "FLOAT32")


def _quantise(
    values: npt.NDArray[np.float64], encoding: str
) -> tuple[bytes, npt.NDArray[np.float64]]:
    """A Layer message for ``values`` and the values the file then holds exactly."""
    flat = values.ravel()
    if encoding == "FLOAT32":
        held = flat.astype(np.float32)
        return field_bytes(3, held.astype("<f4").tobytes()) + field_varint(4, 4), held.astype(
            np.float64
        )
    if encoding == "FLOAT16":
        held16 = flat.astype(np.float16)
        return field_bytes(3, held16.astype("<f2").tobytes()) + field_varint(4, 2), held16.astype(
            np.float64
        )
    if encoding == "BFLOAT16":
        top = (flat.astype(np.float32).view(np.uint32) >> 16).astype("<u2")
        held = (top.astype(np.uint32) << 16).view(np.float32)
        return field_bytes(3, top.tobytes()) + field_varint(4, 3), held.astype(np.float64)
    low, high = float(np.float32(flat.min())), float(np.float32(flat.max()))
    span = (high - low) or 1.0  # a one-value layer: every word 0 means min_val
    words = np.round((flat - low) / span * 0xFFFF).astype("<u2")
    held64 = words / 0xFFFF * (high - low) + low
    # No encoding field: LINEAR16 is what an lc0 Layer without one means.
    return field_float(1, low) + field_float(2, high) + field_bytes(3, words.tobytes()), held64


@dataclass
class _Builder:
    """Writes a synthetic Net and keeps the parameter values the file holds."""

    encoding: str
    rng: np.random.Generator
    held: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)

    def layer(
        self, name: str, shape: tuple[int, ...], scale: float = 0.3, low: float = -1.0
    ) -> bytes:
        values = self.rng.uniform(low, 1.0, size=shape) * scale
        blob, held = _quantise(values, self.encoding)
        self.held[name] = held.reshape(shape)
        return blob

    def conv(self, name: str, out: int, inputs: int, k: int, bn: bool = True) -> bytes:
        msg = field_bytes(
            1, self.layer(name + ".w", (out, inputs, k, k), 1.0 / np.sqrt(inputs * k * k))
        )
        msg += field_bytes(2, self.layer(name + ".b", (out,), 0.1))
        if bn:
            msg += field_bytes(3, self.layer(name + ".mean", (out,), 0.1))
            msg += field_bytes(4, self.layer(name + ".var", (out,), 1.0, low=0.3))
            msg += field_bytes(5, self.layer(name + ".gamma", (out,), 1.0, low=0.5))
            msg += field_bytes(6, self.layer(name + ".beta", (out,), 0.1))
        return msg

    def dense(self, name: str, out: int, inputs: int) -> tuple[bytes, bytes]:
        return self.layer(name + ".w", (out, inputs), 1.0 / np.sqrt(inputs)), self.layer(
            name + ".b", (out,), 0.1
        )


def _synthetic_net(
    b: _Builder,
    *,
    filters: int,
    blocks: int,
    se: int,
    conv_policy: bool,
    wdl: bool,
    mlh: bool,
    network_format: bool = True,
) -> bytes:
    weights = field_bytes(1, b.conv("input", filters, 112, 3))
    for i in range(blocks):
        res = field_bytes(1, b.conv(f"res{i}.conv1", filters, filters, 3))
        res += field_bytes(2, b.conv(f"res{i}.conv2", filters, filters, 3))
        if se:
            w1, b1 = b.dense(f"res{i}.se1", se, filters)
            w2, b2 = b.dense(f"res{i}.se2", 2 * filters, se)
            res += field_bytes(
                3, field_bytes(1, w1) + field_bytes(2, b1) + field_bytes(3, w2) + field_bytes(4, b2)
            )
        weights += field_bytes(2, res)
    if conv_policy:
        weights += field_bytes(11, b.conv("policy1", filters, filters, 3))
        weights += field_bytes(3, b.conv("policy", 80, filters, 3, bn=False))
    else:
        weights += field_bytes(3, b.conv("policy", 4, filters, 1))
        w, bias = b.dense("ip_pol", 1858, 4 * 64)
        weights += field_bytes(4, w) + field_bytes(5, bias)
    weights += field_bytes(6, b.conv("value", 2, filters, 1))
    w1, b1 = b.dense("ip1_val", 16, 2 * 64)
    w2, b2 = b.dense("ip2_val", 3 if wdl else 1, 16)
    weights += field_bytes(7, w1) + field_bytes(8, b1) + field_bytes(9, w2) + field_bytes(10, b2)
    if mlh:
        weights += field_bytes(12, b.conv("mlh", 2, filters, 1))
        w1, b1 = b.dense("ip1_mov", 8, 2 * 64)
        w2, b2 = b.dense("ip2_mov", 1, 8)
        weights += (
            field_bytes(13, w1) + field_bytes(14, b1) + field_bytes(15, w2) + field_bytes(16, b2)
        )
    fmt = field_varint(1, 1)  # weights_encoding LINEAR16: Layers override it
    if network_format:
        nf = field_varint(1, 1) + field_varint(2, 2 if wdl else 1) + field_varint(3, 4 if se else 3)
        nf += field_varint(4, 2 if conv_policy else 1) + field_varint(5, 2 if wdl else 1)
        nf += field_varint(6, 1 if mlh else 0)
        fmt += field_bytes(2, nf)
    version = field_varint(1, 0) + field_varint(2, 21) + field_varint(3, 0)
    net = field_fixed32(1, 0x1C0) + field_bytes(2, b"test") + field_bytes(3, version)
    net += field_bytes(4, fmt) + field_bytes(10, weights)
    return gzip.compress(net, compresslevel=1)


def _reference_forward(
    p: dict[str, npt.NDArray[np.float64]],
    x: torch.Tensor,
    *,
    blocks: int,
    se: bool,
    conv_policy: bool,
    wdl: bool,
    mlh: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """The network written out directly from the file's values, batch norm unfolded, in float64."""
    t = {k: torch.from_numpy(v) for k, v in p.items()}

    def conv(name: str, h: torch.Tensor, relu: bool = True) -> torch.Tensor:
        w = t[name + ".w"]
        y = F.conv2d(h, w, t[name + ".b"], padding=w.shape[-1] // 2)
        if name + ".mean" in t:
            y = F.batch_norm(
                y,
                t[name + ".mean"],
                t[name + ".var"],
                t[name + ".gamma"],
                t[name + ".beta"],
                eps=1e-5,
            )
        return F.relu(y) if relu else y

    def dense(name: str, h: torch.Tensor) -> torch.Tensor:
        return h @ t[name + ".w"].T + t[name + ".b"]

    h = conv("input", x)
    for i in range(blocks):
        y = conv(f"res{i}.conv2", conv(f"res{i}.conv1", h), relu=False)
        if se:
            s = dense(f"res{i}.se2", F.relu(dense(f"res{i}.se1", y.mean(dim=(2, 3)))))
            gamma, beta = s.chunk(2, dim=1)
            y = torch.sigmoid(gamma)[:, :, None, None] * y + beta[:, :, None, None]
        h = F.relu(h + y)
    if conv_policy:
        out = conv("policy", conv("policy1", h), relu=False).flatten(1)
        logits = out[:, torch.from_numpy(conv_policy_gather())]
    else:
        logits = dense("ip_pol", conv("policy", h).flatten(1))
    v = dense("ip2_val", F.relu(dense("ip1_val", conv("value", h).flatten(1))))
    if wdl:
        probs = torch.softmax(v, dim=1)
    else:
        q = torch.tanh(v[:, 0])
        probs = torch.stack([(1 + q) / 2, torch.zeros_like(q), (1 - q) / 2], dim=1)
    m = None
    if mlh:
        m = F.relu(dense("ip2_mov", F.relu(dense("ip1_mov", conv("mlh", h).flatten(1)))))[:, 0]
    return logits, probs, m


ARCHITECTURES = {
    "se-conv-wdl-mlh": {"se": 4, "conv_policy": True, "wdl": True, "mlh": True},
    "plain-classical-classical": {"se": 0, "conv_policy": False, "wdl": False, "mlh": False},
}


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_synthetic_networks_match_a_direct_forward(
    tmp_path: Path, encoding: str, arch: str
) -> None:
    kind = ARCHITECTURES[arch]
    builder = _Builder(encoding, np.random.default_rng(11))
    path = tmp_path / f"{arch}-{encoding}.pb.gz"
    path.write_bytes(_synthetic_net(builder, filters=8, blocks=2, **kind))  # type: ignore[arg-type]
    net = load_lc0(path)
    info = net.info
    assert info.encodings == (encoding,)
    assert (info.blocks, info.filters, info.se, info.se_channels) == (
        2,
        8,
        bool(kind["se"]),
        kind["se"],
    )
    assert info.policy == ("convolution" if kind["conv_policy"] else "classical")
    assert info.value == ("wdl" if kind["wdl"] else "classical")
    assert (
        info.moves_left == kind["mlh"] and info.license == "test" and info.min_version == "0.21.0"
    )

    boards = [
        chess.Board(),
        chess.Board("r3k2r/pppq1ppp/2np1n2/2b1p1B1/2B1P1b1/2NP1N2/PPPQ1PPP/R3K2R b KQkq - 5 8"),
    ]
    x = torch.from_numpy(np.stack([encode_lc0(b) for b in boards]))
    with torch.inference_mode():
        logits, wdl, _ = net(x)
        expected_logits, expected_wdl, expected_m = _reference_forward(
            builder.held,
            x.double(),
            blocks=2,
            se=bool(kind["se"]),
            conv_policy=bool(kind["conv_policy"]),
            wdl=bool(kind["wdl"]),
            mlh=bool(kind["mlh"]),
        )
    assert torch.allclose(logits.double(), expected_logits, atol=TOLERANCE)
    assert torch.allclose(wdl.double(), expected_wdl, atol=TOLERANCE)
    if expected_m is not None:
        with torch.inference_mode():
            assert torch.allclose(net.moves_left(x).double(), expected_m, atol=TOLERANCE)
    else:
        with pytest.raises(ValueError, match="no moves-left head"):
            net.moves_left(x)
    legal, _ = evaluate_board(net, boards[1])
    assert "e8c8" in legal and "e8g8" in legal


def test_file_without_network_format_is_classical(tmp_path: Path) -> None:
    # lc0: a file older than NetworkFormat is classical input, output and structure.
    builder = _Builder("FLOAT32", np.random.default_rng(3))
    path = tmp_path / "old.pb.gz"
    data = _synthetic_net(
        builder,
        filters=8,
        blocks=1,
        se=0,
        conv_policy=False,
        wdl=False,
        mlh=False,
        network_format=False,
    )
    path.write_bytes(data)
    info = load_lc0(path).info
    assert (info.network, info.policy, info.value, info.input_format) == (
        "NETWORK_CLASSICAL",
        "classical",
        "classical",
        1,
    )
