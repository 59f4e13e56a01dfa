"""Concept vectors by convex optimisation (METHOD.md section 3).

Given the difference vectors of one program, ``D`` (m x d, row i = z+_i - z-_i),
find the sparsest direction that separates every pair with margin 1::

    minimise ||v||_1   subject to   D v >= 1              (optionally D v + s >= 1, s >= 0,
                                                            with C * sum(s) added)

Two solvers reach the same optimum:

* :func:`solve_reference` is the plain cvxpy formulation (``cp.norm1``) solved by
  cvxpy's default solver. It is the definition, and the benchmark's baseline.
* :func:`solve_fast` solves the split LP (v = p - n, p, n >= 0) by column
  generation with HiGHS dual simplex. A program has tens of constraints and
  thousands of variables, and an optimal vertex has at most m non-zeros, so only a
  few hundred columns ever matter: we solve the LP on a small set of columns, price
  every column with the row duals y (a column j may enter while |D[:, j] . y| > 1),
  add the most violated ones and re-solve warm. When no column prices out, y is
  feasible for the full dual (max 1'y, |D'y| <= 1, y >= 0), so the restricted
  optimum is the full optimum. Internally the rows carry a slack with a large
  penalty so the restricted LP is always feasible; if slack remains at the end, the
  full LP is solved directly to tell an infeasible program from a huge optimum.

Every result is checked against the constraints it claims to satisfy: a program
whose solution violates a constraint by more than ``VIOLATION_TOL`` or whose
duality gap is not closed is *doubtful*; infeasible and doubtful programs are
reported with their status and never pass as solved.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: A solution that misses a margin by more than this is numerically doubtful.
VIOLATION_TOL = 1e-6
#: Relative gap between primal and dual objectives accepted as closed.
GAP_TOL = 1e-6
#: Internal slack penalty of the fast path; an optimum this large is not a concept.
BIG_PENALTY = 1e6
#: Non-zero threshold when counting the support of a vector.
ZERO_TOL = 1e-9

STATUSES = ("optimal", "slack", "infeasible", "doubtful", "empty")


@dataclass
class SolveResult:
    """One program's outcome.

    ``status``: ``optimal`` (every margin met), ``slack`` (solved with the slack
    penalty and some slack used), ``infeasible``, ``doubtful`` (the solver's answer
    fails our own check) or ``empty`` (no constraints). Only ``optimal`` and
    ``slack`` results have a usable ``vector``.
    """

    status: str
    vector: FloatArray | None
    objective: float  # ||v||_1 (+ C * sum(slack) with slack)
    l1: float
    slack_total: float
    max_violation: float  # max over rows of (1 - (D v)_i - s_i), 0 when all met
    n_constraints: int
    nonzeros: int
    seconds: float
    solver: str
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in ("optimal", "slack")

    def figures(self) -> dict[str, Any]:
        """Plain figures to store with a concept."""
        return {
            "status": self.status, "objective": self.objective, "l1": self.l1,
            "slack_total": self.slack_total, "max_violation": self.max_violation,
            "n_constraints": self.n_constraints, "nonzeros": self.nonzeros,
            "solver": self.solver, "seconds": self.seconds, "message": self.message,
        }


def _as_matrix(D: npt.ArrayLike) -> FloatArray:
    M = np.asarray(D, dtype=np.float64)
    if M.ndim != 2:
        raise ValueError(f"the difference matrix must be 2-D (constraints x dimensions), got shape {M.shape}")
    if not np.all(np.isfinite(M)):
        raise ValueError("the difference matrix holds NaN or infinite values")
    return M


def _checked(
    D: FloatArray, v: FloatArray, slack: FloatArray | None, penalty: float | None,
    dual_objective: float | None, solver: str, seconds: float, extra: dict[str, Any] | None = None,
) -> SolveResult:
    """Classify a solver's answer by our own check of constraints and duality gap."""
    m = D.shape[0]
    s = np.zeros(m) if slack is None else np.maximum(slack, 0.0)
    margins = D @ v + s
    violation = float(max(0.0, np.max(1.0 - margins))) if m else 0.0
    l1 = float(np.abs(v).sum())
    slack_total = float(s.sum())
    objective = l1 + (float(penalty) * slack_total if penalty is not None else 0.0)
    status = "slack" if slack_total > VIOLATION_TOL else "optimal"
    message = ""
    if violation > VIOLATION_TOL:
        status, message = "doubtful", f"a constraint is violated by {violation:.3g}"
    elif dual_objective is not None and abs(objective - dual_objective) > GAP_TOL * max(1.0, abs(objective)):
        status = "doubtful"
        message = f"primal {objective:.9g} and dual {dual_objective:.9g} objectives disagree"
    return SolveResult(
        status=status, vector=v if status != "doubtful" else None, objective=objective, l1=l1,
        slack_total=slack_total, max_violation=violation, n_constraints=m,
        nonzeros=int(np.count_nonzero(np.abs(v) > ZERO_TOL)), seconds=seconds, solver=solver,
        message=message, extra=extra or {},
    )


def _trivial(D: FloatArray, solver: str, start: float) -> SolveResult | None:
    """Programs decided without a solver: no rows, or a row of zeros (two identical
    positions), which no direction can separate."""
    m, d = D.shape
    if m == 0:
        return SolveResult("empty", None, 0.0, 0.0, 0.0, 0.0, 0, 0, time.perf_counter() - start, solver,
                           "no constraints: nothing to separate")
    zero_rows = np.nonzero(np.max(np.abs(D), axis=1) <= 1e-12)[0]
    if zero_rows.size:
        return SolveResult("infeasible", None, float("inf"), float("inf"), 0.0, 1.0, m, 0,
                           time.perf_counter() - start, solver,
                           f"constraint {int(zero_rows[0])} compares two positions with identical activations")
    return None


def solve_reference(D: npt.ArrayLike, slack_penalty: float | None = None) -> SolveResult:
    """The plain cvxpy program (``cp.norm1``) with cvxpy's default solver."""
    import cvxpy as cp

    start = time.perf_counter()
    M = _as_matrix(D)
    trivial = _trivial(M, "cvxpy-default", start)
    if trivial is not None:
        return trivial
    m, d = M.shape
    v = cp.Variable(d)
    if slack_penalty is None:
        problem = cp.Problem(cp.Minimize(cp.norm1(v)), [M @ v >= 1])
        s_var = None
    else:
        s_var = cp.Variable(m, nonneg=True)
        problem = cp.Problem(cp.Minimize(cp.norm1(v) + slack_penalty * cp.sum(s_var)), [M @ v + s_var >= 1])
    try:
        problem.solve()
    except cp.SolverError as exc:
        return SolveResult("doubtful", None, float("nan"), float("nan"), 0.0, float("nan"), m, 0,
                           time.perf_counter() - start, "cvxpy-default", f"solver failed: {exc}")
    solver = f"cvxpy-{problem.solver_stats.solver_name}" if problem.solver_stats else "cvxpy-default"
    seconds = time.perf_counter() - start
    if problem.status in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE):
        return SolveResult("infeasible", None, float("inf"), float("inf"), 0.0, float("nan"), m, 0, seconds,
                           solver, f"cvxpy status {problem.status}")
    if problem.status != cp.OPTIMAL or v.value is None:
        return SolveResult("doubtful", None, float("nan"), float("nan"), 0.0, float("nan"), m, 0, seconds,
                           solver, f"cvxpy status {problem.status}")
    slack = np.asarray(s_var.value, dtype=np.float64) if s_var is not None else None
    return _checked(M, np.asarray(v.value, dtype=np.float64), slack, slack_penalty, None, solver, seconds)


class _ColumnLP:
    """The split LP on a growing set of columns, kept in one HiGHS model (warm re-solves)."""

    def __init__(self, D: FloatArray, penalty: float) -> None:
        import highspy

        self._highspy = highspy
        self.D = D
        m = D.shape[0]
        self.m = m
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("presolve", "off")  # tiny warm-started LPs: presolve costs more than it saves
        h.setOptionValue("solver", "simplex")
        inf = highspy.kHighsInf
        empty_i = np.zeros(0, np.int32)
        h.addRows(m, np.ones(m), np.full(m, inf), 0, empty_i, empty_i, np.zeros(0))
        rows = np.arange(m, dtype=np.int32)
        h.addCols(m, np.full(m, penalty), np.zeros(m), np.full(m, inf), m, rows, rows, np.ones(m))
        self.h = h
        self.blocks: list[npt.NDArray[np.int64]] = []
        self.in_model = np.zeros(D.shape[1], dtype=bool)

    def add(self, columns: npt.NDArray[np.int64]) -> None:
        k = len(columns)
        if k == 0:
            return
        sub = self.D[:, columns]
        values = np.concatenate([sub.T, -sub.T]).ravel()
        starts = np.arange(2 * k, dtype=np.int32) * self.m
        index = np.tile(np.arange(self.m, dtype=np.int32), 2 * k)
        self.h.addCols(2 * k, np.ones(2 * k), np.zeros(2 * k), np.full(2 * k, self._highspy.kHighsInf),
                       2 * k * self.m, starts, index, values)
        self.blocks.append(np.asarray(columns))
        self.in_model[columns] = True

    def run(self) -> str:
        self.h.run()
        return str(self.h.modelStatusToString(self.h.getModelStatus()))

    def duals(self) -> FloatArray:
        return np.asarray(self.h.getSolution().row_dual, dtype=np.float64)

    def primal(self) -> tuple[FloatArray, FloatArray]:
        x = np.asarray(self.h.getSolution().col_value, dtype=np.float64)
        v = np.zeros(self.D.shape[1])
        offset = self.m
        for cols in self.blocks:
            k = len(cols)
            v[cols] = x[offset : offset + k] - x[offset + k : offset + 2 * k]
            offset += 2 * k
        return v, x[: self.m]


def _full_lp_status(D: FloatArray) -> str:
    """HiGHS on the whole split LP without slack: the arbiter of infeasibility."""
    import highspy

    m, d = D.shape
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 2 * d, m
    lp.col_cost_ = np.ones(2 * d)
    lp.col_lower_ = np.zeros(2 * d)
    lp.col_upper_ = np.full(2 * d, highspy.kHighsInf)
    lp.row_lower_ = np.ones(m)
    lp.row_upper_ = np.full(m, highspy.kHighsInf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = (np.arange(2 * d + 1) * m).astype(np.int32)
    lp.a_matrix_.index_ = np.tile(np.arange(m, dtype=np.int32), 2 * d)
    lp.a_matrix_.value_ = np.concatenate([D.T, -D.T]).ravel()
    h.passModel(lp)
    h.run()
    return str(h.modelStatusToString(h.getModelStatus()))


def solve_fast(
    D: npt.ArrayLike,
    slack_penalty: float | None = None,
    initial_columns: int | None = None,
    columns_per_round: int | None = None,
    price_tol: float = 1e-9,
    max_rounds: int = 200,
) -> SolveResult:
    """The same program as :func:`solve_reference`, by column generation with HiGHS."""
    start = time.perf_counter()
    M = _as_matrix(D)
    trivial = _trivial(M, "highs-colgen", start)
    if trivial is not None:
        return trivial
    m, d = M.shape
    penalty = BIG_PENALTY if slack_penalty is None else float(slack_penalty)
    lp = _ColumnLP(M, penalty)
    # Start from the columns that best serve every row at once (pricing with y = 1).
    first = min(d, initial_columns or 2 * m)
    score = np.abs(M.sum(axis=0))
    lp.add(np.argpartition(-score, first - 1)[:first] if first < d else np.arange(d))
    per_round = columns_per_round or max(m, 16)
    rounds = 0
    status = ""
    y = np.zeros(m)
    while rounds < max_rounds:
        rounds += 1
        status = lp.run()
        if status != "Optimal":
            break
        y = lp.duals()
        price = np.abs(M.T @ y)
        price[lp.in_model] = 0.0
        entering = np.nonzero(price > 1.0 + price_tol)[0]
        if entering.size == 0:
            break
        if entering.size > per_round:
            entering = entering[np.argpartition(-price[entering], per_round - 1)[:per_round]]
        lp.add(entering)
    extra = {"rounds": rounds, "columns": int(lp.in_model.sum())}
    seconds = time.perf_counter() - start
    if status != "Optimal":
        return SolveResult("doubtful", None, float("nan"), float("nan"), 0.0, float("nan"), m, 0, seconds,
                           "highs-colgen", f"HiGHS status {status!r} on the restricted LP", extra)
    v, slack = lp.primal()
    if slack_penalty is None and slack.sum() > VIOLATION_TOL:
        # Slack left with the big internal penalty: infeasible, or an absurdly large optimum.
        full = _full_lp_status(M)
        seconds = time.perf_counter() - start
        if full == "Infeasible":
            return SolveResult("infeasible", None, float("inf"), float("inf"), 0.0, float("nan"), m, 0, seconds,
                               "highs-colgen", "no direction meets every margin (HiGHS: infeasible)", extra)
        return SolveResult("doubtful", None, float("nan"), float("nan"), 0.0, float("nan"), m, 0, seconds,
                           "highs-colgen", f"optimum beyond the internal penalty {BIG_PENALTY:g} ({full})", extra)
    dual_objective = float(y.sum())
    return _checked(M, v, slack if slack_penalty is not None else None, slack_penalty, dual_objective,
                    "highs-colgen", time.perf_counter() - start, extra)


def solve(D: npt.ArrayLike, method: str = "fast", slack_penalty: float | None = None) -> SolveResult:
    """Solve one program with ``method`` ``'fast'`` (default) or ``'reference'``."""
    if method == "fast":
        return solve_fast(D, slack_penalty=slack_penalty)
    if method == "reference":
        return solve_reference(D, slack_penalty=slack_penalty)
    raise ValueError(f"unknown discovery solver {method!r}; expected 'fast' or 'reference'")


def static_differences(
    positive: npt.NDArray[np.floating[Any]],
    negative: npt.NDArray[np.floating[Any]],
    pairs: int,
    rng: np.random.Generator,
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Rows z_pos - z_neg for ``pairs`` sampled (positive, negative) pairs, and the pairs."""
    if len(positive) == 0 or len(negative) == 0:
        raise ValueError("a static concept needs at least one positive and one negative position")
    i = rng.integers(0, len(positive), size=pairs)
    j = rng.integers(0, len(negative), size=pairs)
    return np.asarray(positive[i], np.float64) - np.asarray(negative[j], np.float64), np.stack([i, j], axis=1)


def pair_accuracy(
    vector: npt.NDArray[np.floating[Any]],
    positive: npt.NDArray[np.floating[Any]],
    negative: npt.NDArray[np.floating[Any]],
    pairs: int | None = None,
    rng: np.random.Generator | None = None,
) -> float:
    """Fraction of (positive, negative) pairs ordered correctly by the concept score
    (all pairs, or ``pairs`` sampled ones)."""
    sp = np.asarray(positive, np.float64) @ np.asarray(vector, np.float64)
    sn = np.asarray(negative, np.float64) @ np.asarray(vector, np.float64)
    if pairs is None:
        return float(np.mean(sp[:, None] > sn[None, :]))
    gen = rng or np.random.default_rng(0)
    return float(np.mean(sp[gen.integers(0, len(sp), pairs)] > sn[gen.integers(0, len(sn), pairs)]))
