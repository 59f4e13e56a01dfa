"""PUCT Monte Carlo tree search with batched leaf evaluation and virtual loss.

Nodes hold their edges as small numpy arrays (moves, priors, visit counts, value
sums from the node's side to move); children are created lazily, the first time an
edge is followed, and a leaf's legal moves and priors are worked out only when a
playout first passes through it: the network's logits wait on the leaf until then, so
the many leaves visited once cost a terminal check and an encoding, not a full move
generation. Leaves are gathered in batches for the network, with virtual loss
so that one batch explores several lines; terminal positions (mate, stalemate,
repetition, fifty moves, insufficient material) are scored exactly and never sent
to the network.

The network is an :class:`~conceptcoach.engine.network.Evaluator` of either family:
positions are encoded and legal moves indexed through its ``encode`` and ``legal``
(a plain function of the planes falls back to our encoding). The search pushes moves
on a copy of the root board that keeps its move stack, so an lc0 network sees the
game's history at every node.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import chess
import numpy as np
import numpy.typing as npt
from conceptcoach.engine.encoding import encode_board, legal_move_indices
from conceptcoach.engine.repetition import repeated
from conceptcoach.engine.summary import TreeSummary, summarise

# python-chess's saved position: what ``Board.push`` puts on the board's stack and
# ``Board.pop`` restores.
_BoardState = chess._BoardState

# evaluate(planes (B, planes, 8, 8)) -> (policy logits (B, moves), values (B,))
EvaluateFn = Callable[
    [npt.NDArray[np.float32]], tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]
]
EncodeFn = Callable[[chess.Board], npt.NDArray[np.float32]]
LegalFn = Callable[[chess.Board], tuple[list[chess.Move], npt.NDArray[np.int64]]]
# A batch on its way to the network: each leaf's path from the root, and the leaf.
Pending = list[tuple[list[tuple["Node", int]], "Node"]]


@dataclass(frozen=True)
class SearchConfig:
    """Every knob of the search; recorded with each result it produces."""

    simulations: int = 800
    batch_size: int = 16
    c_puct: float = 1.8
    fpu_reduction: float = 0.25
    virtual_loss: float = 1.0
    dirichlet_alpha: float = 0.3
    dirichlet_epsilon: float = 0.25
    root_noise: bool = False
    twofold_draw: bool = True  # a position repeated inside the tree counts as a draw

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class Node:
    """A position in the tree. Edge statistics are from this node's side to move."""

    __slots__ = ("moves", "priors", "cp", "n", "w", "children", "visits", "value_sum", "terminal", "pending",
                 "logits", "state", "frontier")

    def __init__(self) -> None:
        self.moves: list[chess.Move] = []
        self.priors: npt.NDArray[np.float32] = np.zeros(0, np.float32)
        # Per-edge statistics as plain lists: a playout reads and updates single entries
        # at every level, which costs numpy several times what it costs a list.
        self.cp: list[float] = []  # c_puct * priors, for selection
        self.n: list[float] = []
        self.w: list[float] = []
        self.children: list[Node | None] = []
        self.visits = 0.0
        self.value_sum = 0.0  # from this node's side to move
        self.terminal: float | None = None  # exact value for the side to move, if decided
        self.pending = False  # waiting for the network in the current batch
        # The network's policy logits of an evaluated leaf whose moves are not generated yet.
        self.logits: npt.NDArray[np.float32] | None = None
        # The board's state in this position as python-chess saves it, so that later
        # descents restore it instead of replaying the move (see :func:`descend`).
        self.state: _BoardState | None = None
        # Edges from here on have never been selected and are in falling prior order, so
        # the best of them is the first (see :meth:`MCTS._select_edge`).
        self.frontier = 0

    @property
    def expanded(self) -> bool:
        return bool(self.moves) or self.terminal is not None

    def q(self) -> float:
        return self.value_sum / self.visits if self.visits > 0 else 0.0

    def child(self, move: chess.Move) -> Node | None:
        for i, m in enumerate(self.moves):
            if m == move:
                return self.children[i]
        return None


def terminal_value(board: chess.Board, moves: Sequence[chess.Move] | bool, in_tree: bool,
                   twofold: bool) -> float | None:
    """Exact value for the side to move if the game is over in ``board``, else None.
    ``moves``: the legal moves, or whether there is one."""
    if not moves:
        return -1.0 if board.is_check() else 0.0
    if board.halfmove_clock >= 100 or board.is_insufficient_material():
        return 0.0
    if board.halfmove_clock >= 4 and repeated(board, 2 if (in_tree and twofold) else 3):
        return 0.0
    return None


def descend(board: chess.Board, move: chess.Move, child: Node | None, state: _BoardState | None) -> None:
    """``board.push(move)`` along a tree edge from a node whose saved state is ``state``.

    A replayed push costs python-chess a dozen microseconds of bitboard updates, several
    times per playout; a child reached before kept its resulting state, so the board is
    restored from it instead. Either way the board's stack then holds the node's own
    state object, equal to what ``push`` would save (``pop`` undoes it all), so that
    lc0's history cache finds each earlier position of a leaf by that object."""
    if child is None or child.state is None or board.chess960:
        board.push(move)
        if state is not None:
            board._stack[-1] = state
        return
    board.move_stack.append(move)
    board._stack.append(state if state is not None else _BoardState(board))
    child.state.restore(board)


class MCTS:
    """Search from ``board``; call :meth:`run`, read :meth:`summary`, then :meth:`advance`
    to reuse the subtree of the move played."""

    def __init__(
        self,
        evaluate: EvaluateFn,
        board: chess.Board,
        config: SearchConfig | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.evaluate = evaluate
        # Our Evaluator and lc0's encode and index moves themselves; a bare function
        # of the planes is one of ours.
        self.encode: EncodeFn = getattr(evaluate, "encode", encode_board)
        self.legal: LegalFn = getattr(evaluate, "legal", legal_move_indices)
        self.config = config or SearchConfig()
        self.rng = rng or np.random.default_rng(0)
        self.board = board.copy()
        self.root = Node()
        self.evaluations = 0  # positions sent to the network
        self._noise_applied = False

    # -- expansion ---------------------------------------------------------
    def _prepare(self, node: Node, board: chess.Board, in_tree: bool) -> npt.NDArray[np.float32] | None:
        """Score a new leaf exactly if the game is over there; otherwise its planes for the
        network (its moves wait for :meth:`_expand`)."""
        has_move = any(True for _ in board.generate_legal_moves())
        node.terminal = terminal_value(board, has_move, in_tree, self.config.twofold_draw)
        if node.terminal is not None:
            return None
        return self.encode(board)

    def _expand(self, node: Node, board: chess.Board) -> None:
        """Legal moves and priors of an evaluated leaf (``board`` is its position), the
        first time a playout passes through it."""
        assert node.logits is not None
        moves, idx = self.legal(board)
        sel = node.logits[idx].astype(np.float64)
        # Edges in falling prior order (stable: ties keep move-generation order).
        order = np.argsort(-sel, kind="stable")
        node.moves = [moves[j] for j in order.tolist()]
        node.children = [None] * len(moves)
        p = np.exp(sel[order] - sel[order[0]]) if len(sel) else sel
        p /= p.sum()
        node.priors = p.astype(np.float32)
        node.cp = (self.config.c_puct * p).tolist()
        node.n = [0.0] * len(moves)
        node.w = [0.0] * len(moves)
        node.frontier = 0
        node.logits = None

    def _expand_root(self) -> None:
        root = self.root
        if root.expanded and (root.terminal is not None or root.priors.size):
            return
        if root.logits is not None:  # a leaf of the previous search, evaluated already
            self._expand(root, self.board)
            return
        planes = self._prepare(root, self.board, in_tree=False)
        if planes is None:
            return
        logits, values = self.evaluate(planes[None])
        self.evaluations += 1
        root.logits = logits[0]
        self._expand(root, self.board)
        root.visits = 1.0
        root.value_sum = float(values[0])

    def _apply_noise(self) -> None:
        root = self.root
        if not self.config.root_noise or self._noise_applied or root.terminal is not None or not root.moves:
            return
        noise = self.rng.dirichlet([self.config.dirichlet_alpha] * len(root.moves))
        eps = self.config.dirichlet_epsilon
        root.priors = ((1 - eps) * root.priors + eps * noise).astype(np.float32)
        root.cp = (self.config.c_puct * root.priors.astype(np.float64)).tolist()
        root.frontier = len(root.moves)  # the priors are no longer in order: score every edge
        self._noise_applied = True

    # -- selection and backup ---------------------------------------------
    def _select_edge(self, node: Node) -> int:
        """PUCT: argmax of Q + c_puct * P * sqrt(N) / (1 + n), unvisited edges at the
        parent's Q less the first-play reduction.

        Edges at and after ``node.frontier`` have never been selected and come in falling
        prior order, so they share one Q and n = 0 and the first of them scores highest:
        only edges up to the frontier are scored: below the root, a handful. This runs at
        every level of every playout."""
        k = min(node.frontier + 1, len(node.moves))
        sqrt_n = math.sqrt(node.visits)
        fpu = node.q() - self.config.fpu_reduction
        ns, ws, cps = node.n, node.w, node.cp
        best, i = -math.inf, 0
        for j in range(k):
            nj = ns[j]
            score = cps[j] * (sqrt_n / (1.0 + nj)) + (ws[j] / nj if nj > 0 else fpu)
            if score > best:
                best, i = score, j
        if i == node.frontier:
            node.frontier += 1
        return i

    def _backup(self, path: list[tuple[Node, int]], leaf: Node, value: float, vl: float) -> None:
        """``value`` is from the leaf's side to move; undoes ``vl`` virtual loss on the path."""
        leaf.visits += 1.0
        leaf.value_sum += value
        v = value
        for node, i in reversed(path):
            v = -v  # now from ``node``'s side to move
            node.n[i] += 1.0 - vl
            node.w[i] += v + vl
            node.visits += 1.0 - vl
            node.value_sum += v

    def _undo_virtual(self, path: list[tuple[Node, int]], vl: float) -> None:
        for node, i in path:
            node.n[i] -= vl
            node.w[i] += vl
            node.visits -= vl

    def run(self, simulations: int | None = None, should_stop: Callable[[], bool] | None = None) -> TreeSummary:
        """Run ``simulations`` playouts (default from the config) and summarise the tree."""
        cfg = self.config
        self._expand_root()
        self._apply_noise()
        if self.root.state is None:
            self.root.state = _BoardState(self.board)  # what push would save here
        target = simulations if simulations is not None else cfg.simulations
        if self.root.terminal is not None or target <= 0:
            return self.summary()
        shape = self.encode(self.board).shape
        planes = np.zeros((cfg.batch_size, *shape), np.float32)
        done = 0
        while done < target and self.root.terminal is None:
            if should_stop is not None and should_stop():
                break
            pending, backed_up = self._gather(planes, target - done)
            done += backed_up + len(pending)
            if pending:
                self._apply(pending, *self.evaluate(planes[: len(pending)]))
        return self.summary()

    def _gather(self, planes: npt.NDArray[np.float32], budget: int) -> tuple[Pending, int]:
        """Descend from the root up to ``batch_size`` times (at most ``budget`` playouts),
        writing new leaves' planes into ``planes``; terminal leaves are backed up at once.
        Returns the leaves waiting for the network and the number of terminal backups."""
        cfg = self.config
        board = self.board
        root = self.root
        vl = cfg.virtual_loss
        pending: Pending = []
        backed_up = 0
        collisions = 0
        while len(pending) < cfg.batch_size and backed_up + len(pending) < budget:
            node = root
            path: list[tuple[Node, int]] = []
            queued = False  # this descent added a new leaf to the batch
            while True:
                if node.terminal is not None:
                    break
                if node.logits is not None:
                    self._expand(node, board)
                i = self._select_edge(node)
                node.n[i] += vl
                node.w[i] -= vl
                node.visits += vl
                path.append((node, i))
                child = node.children[i]
                descend(board, node.moves[i], child, node.state)
                if child is None:
                    child = Node()
                    child.state = _BoardState(board)
                    node.children[i] = child
                    leaf_planes = self._prepare(child, board, in_tree=True)
                    if leaf_planes is not None:
                        planes[len(pending)] = leaf_planes
                        child.pending = True
                        pending.append((path, child))
                        queued = True
                    node = child
                    break
                node = child
                if node.pending:
                    break
            for _ in range(len(path)):
                board.pop()
            if node.pending and not queued:
                # Collision with a leaf already waiting for the network.
                self._undo_virtual(path, vl)
                collisions += 1
                if collisions > cfg.batch_size:
                    break
                continue
            if node.terminal is not None:
                self._backup(path, node, node.terminal, vl)
                backed_up += 1
        return pending, backed_up

    def _apply(self, pending: Pending, logits: npt.NDArray[np.float32], values: npt.NDArray[np.float32]) -> None:
        """Priors and values of a batch the network has evaluated, backed up its paths."""
        vl = self.config.virtual_loss
        self.evaluations += len(pending)
        for k, (path, leaf) in enumerate(pending):
            leaf.logits = logits[k]
            leaf.pending = False
            self._backup(path, leaf, float(values[k]), vl)

    def summary(self, depth: int = 10, value_gap: float = 0.20, visit_gap: float = 0.10,
                max_branches: int = 3, min_branch_visits: int = 2) -> TreeSummary:
        return summarise(self.board, self.root, depth=depth, value_gap=value_gap, visit_gap=visit_gap,
                         max_branches=max_branches, min_branch_visits=min_branch_visits)

    def best_move(self) -> chess.Move:
        if not self.root.moves:
            raise ValueError("no legal move: the game is over")
        return self.root.moves[int(np.argmax(self.root.n))]

    def sample_move(self, temperature: float) -> chess.Move:
        """A root move drawn with probability proportional to N^(1/temperature)."""
        if temperature <= 1e-6:
            return self.best_move()
        n = np.asarray(self.root.n) ** (1.0 / temperature)
        if n.sum() <= 0:
            return self.best_move()
        return self.root.moves[int(self.rng.choice(len(n), p=n / n.sum()))]

    def advance(self, move: chess.Move) -> None:
        """Play ``move`` and keep its subtree as the new root (tree reuse)."""
        child = self.root.child(move)
        self.board.push(move)
        keep = child is not None and child.terminal is None and (child.moves or child.logits is not None)
        self.root = child if keep and child is not None else Node()
        self._noise_applied = False
