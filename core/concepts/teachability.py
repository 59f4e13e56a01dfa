"""Teachability (METHOD.md section 4): can a student network learn a concept from
its prototypes?

The teacher's policy on a prototype is its MCTS visit distribution (what the
teacher plays, and what a person is scored against). A fresh copy of the student
is trained to imitate it on the train prototypes by minimising KL(teacher ||
student) (Adam, lr 1e-4, 5 epochs by default; illegal moves masked with a large
negative logit and batch-mean reduction, so no NaN appears where both sides are
masked), then its top-1 agreement with the teacher's move is measured on the test
prototypes. The baseline is the same student taught on as many random machine
positions and tested on the same prototypes; the concept is teachable when its
gain over that baseline exceeds a threshold.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import chess
import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from conceptcoach.engine.encoding import NUM_MOVES, encode_board, legal_move_indices, move_to_index
from conceptcoach.engine.network import PolicyValueNet, masked_log_softmax


@dataclass(frozen=True)
class TeachParams:
    lr: float = 1e-4
    epochs: int = 5
    batch_size: int = 16
    max_student_agreement: float = 0.2  # the student must not know the concept yet
    gain_threshold: float = 0.05  # over the random-positions baseline
    train_fraction: float = 0.8  # split by game
    min_prototypes: int = 10

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Example:
    """One position with the teacher's MCTS policy."""

    fen: str
    visits: dict[str, float]  # UCI -> visit count
    best_move: str
    game_key: str


@dataclass
class Batch:
    planes: npt.NDArray[np.float32]
    target: npt.NDArray[np.float32]  # (n, 4672) teacher probabilities, 0 off the legal moves
    legal: npt.NDArray[np.bool_]
    best: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.best)


def encode_examples(examples: Sequence[Example]) -> Batch:
    n = len(examples)
    planes = np.zeros((n, 21, 8, 8), np.float32)
    target = np.zeros((n, NUM_MOVES), np.float32)
    legal = np.zeros((n, NUM_MOVES), bool)
    best = np.zeros(n, np.int64)
    for i, ex in enumerate(examples):
        board = chess.Board(ex.fen)
        encode_board(board, planes[i])
        _, idx = legal_move_indices(board)
        legal[i, idx] = True
        total = float(sum(ex.visits.values()))
        for uci, count in ex.visits.items():
            target[i, move_to_index(board, chess.Move.from_uci(uci))] = count / total if total else 0.0
        best[i] = move_to_index(board, chess.Move.from_uci(ex.best_move))
    return Batch(planes, target, legal, best)


def top1_agreement(net: PolicyValueNet, batch: Batch) -> float:
    """Fraction of positions where the network's best legal move is the teacher's move."""
    if len(batch) == 0:
        return float("nan")
    net.eval()
    with torch.inference_mode():
        logits, _, _ = net(torch.from_numpy(batch.planes))
        logits = logits.masked_fill(~torch.from_numpy(batch.legal), -1e9)
        pred = logits.argmax(dim=1).numpy()
    return float(np.mean(pred == batch.best))


def teach(student: PolicyValueNet, batch: Batch, params: TeachParams, seed: int) -> PolicyValueNet:
    """A trained copy of ``student`` (the original is left untouched)."""
    net = copy.deepcopy(student)
    # Batch-norm statistics stay the student's: a few prototypes must not redefine them.
    net.eval()
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=params.lr)
    planes = torch.from_numpy(batch.planes)
    target = torch.from_numpy(batch.target)
    legal = torch.from_numpy(batch.legal)
    n = len(batch)
    for _ in range(params.epochs):
        order = torch.randperm(n, generator=gen)
        for start in range(0, n, params.batch_size):
            idx = order[start : start + params.batch_size]
            logits, _, _ = net(planes[idx])
            log_q = masked_log_softmax(logits, legal[idx])
            loss = F.kl_div(log_q, target[idx], reduction="batchmean")
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net.eval()


def split_by_game(examples: Sequence[Example], fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """Train/test split by game (all prototypes of one game fall on the same side)."""
    games = sorted({e.game_key for e in examples})
    rng = np.random.default_rng(seed)
    rng.shuffle(games)
    n_train = max(1, min(len(games) - 1, int(round(fraction * len(games))))) if len(games) > 1 else len(games)
    train_games = set(games[:n_train])
    return [e for e in examples if e.game_key in train_games], [e for e in examples if e.game_key not in train_games]


def choose_student(
    students: Sequence[tuple[str, PolicyValueNet]], prototypes: Batch, max_agreement: float
) -> tuple[str, PolicyValueNet, float] | None:
    """The latest student (``students`` ordered earliest first) whose top-1 agreement
    with the teacher on the prototypes is below ``max_agreement``."""
    for name, net in reversed(students):
        agreement = top1_agreement(net, prototypes)
        if agreement < max_agreement:
            return name, net, agreement
    return None


def evaluate(
    student_name: str,
    student: PolicyValueNet,
    prototypes: Sequence[Example],
    random_pool: Sequence[Example],
    params: TeachParams,
    seed: int,
) -> dict[str, Any]:
    """Teach one concept and its random-positions baseline; returns the figures."""
    train, test = split_by_game(prototypes, params.train_fraction, seed)
    if len(prototypes) < params.min_prototypes or not train or not test:
        return {"teachable": False, "reason": f"{len(prototypes)} prototypes (need {params.min_prototypes}, "
                "split over at least two games)", "prototypes": len(prototypes)}
    test_games = {e.game_key for e in test}
    rng = np.random.default_rng(seed)
    eligible = [e for e in random_pool if e.game_key not in test_games]
    pick = rng.choice(len(eligible), size=min(len(train), len(eligible)), replace=False)
    random_train = [eligible[int(i)] for i in pick]
    test_batch = encode_examples(test)
    before = top1_agreement(student, test_batch)
    taught = teach(student, encode_examples(train), params, seed)
    after = top1_agreement(taught, test_batch)
    baseline_net = teach(student, encode_examples(random_train), params, seed)
    baseline = top1_agreement(baseline_net, test_batch)
    gain = after - baseline
    return {
        "student": student_name, "train": len(train), "test": len(test), "prototypes": len(prototypes),
        "agreement_before": before, "agreement_after": after, "baseline_random_positions": baseline,
        "gain": gain, "teachable": bool(gain > params.gain_threshold),
    }
