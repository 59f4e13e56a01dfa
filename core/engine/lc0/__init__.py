"""Leela Chess Zero (lc0) networks in pure Python: read ``.pb.gz`` weights, encode
python-chess boards as lc0's 112 input planes, run the network with torch.

>>> net = load_lc0("maia-1900.pb.gz")  # doctest: +SKIP
>>> net.info.blocks, net.info.filters, net.info.policy, net.info.value  # doctest: +SKIP
(6, 64, 'convolution', 'wdl')
>>> logits, wdl = evaluate_board(net, chess.Board())  # doctest: +SKIP

Modules: :mod:`.proto` (protobuf wire format), :mod:`.weights` (the file, its family
checks, layer decoding), :mod:`.planes` (input encoding), :mod:`.policy_map` (the 1858
moves), :mod:`.model` (the torch network), :mod:`.evaluator` (the network behind the
search interface every family shares, and what the registry keeps of a file).
"""

from conceptcoach.engine.lc0.evaluator import (
    Lc0Evaluator,
    describe_lc0,
    lc0_evaluator,
    maia_rating,
)
from conceptcoach.engine.lc0.model import Lc0Network, evaluate_board, load_lc0
from conceptcoach.engine.lc0.planes import encode_lc0
from conceptcoach.engine.lc0.policy_map import (
    legal_policy_indices,
    move_to_policy_index,
    policy_index,
)
from conceptcoach.engine.lc0.weights import Lc0FormatError, Lc0Info, read_weights

__all__ = [
    "Lc0Evaluator",
    "Lc0FormatError",
    "Lc0Info",
    "Lc0Network",
    "describe_lc0",
    "encode_lc0",
    "evaluate_board",
    "lc0_evaluator",
    "legal_policy_indices",
    "load_lc0",
    "maia_rating",
    "move_to_policy_index",
    "policy_index",
    "read_weights",
]
