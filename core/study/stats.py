"""Learning-gain statistics, recomputed from the attempt log alone (METHOD.md section 7).

The unit of analysis is one concept in one session (one player): its pre-test score
and post-test score (share of the teacher's moves found), and the gain = post - pre.
Gains are reported as fractions and in positions (fraction x positions per phase, so
"+0.85 of 4"). Across units:

* the mean gain with a seeded percentile bootstrap 95% interval (units resampled);
* a paired test of post against pre: Wilcoxon signed-rank (scipy) and a sign-flip
  permutation test on the gains (exact up to 16 units, seeded Monte Carlo above);
* control items (``is_control``) are pooled per session into one control unit; the
  net gain is the mean concept gain minus the mean control gain, with its own
  bootstrap interval (concept and control units resampled independently).

Only ``pre`` and ``post`` attempts count; a unit needs at least one answer in each.
Every function takes plain records and returns dataclasses; nothing is cached.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt
import sqlite_utils

EXACT_PERMUTATION_MAX = 16


class AttemptLike(Protocol):
    """The fields of an attempt the statistics read (an ``Attempt`` or a CSV row)."""

    @property
    def session_id(self) -> int: ...
    @property
    def player_id(self) -> int: ...
    @property
    def phase(self) -> str: ...
    @property
    def concept_id(self) -> int | None: ...
    @property
    def is_control(self) -> bool: ...
    @property
    def correct(self) -> bool: ...


@dataclass(frozen=True)
class UnitGain:
    """One concept (or the pooled control items) in one session."""

    session_id: int
    player_id: int
    concept_id: int | None  # None for the pooled control unit
    is_control: bool
    n_pre: int
    pre_correct: int
    n_post: int
    post_correct: int

    @property
    def pre_score(self) -> float:
        return self.pre_correct / self.n_pre

    @property
    def post_score(self) -> float:
        return self.post_correct / self.n_post

    @property
    def gain(self) -> float:
        return self.post_score - self.pre_score

    @property
    def per_phase(self) -> float:
        return (self.n_pre + self.n_post) / 2

    @property
    def gain_positions(self) -> float:
        return self.gain * self.per_phase


@dataclass(frozen=True)
class GainSummary:
    n_units: int
    pre_rate: float  # pooled share correct in the pre-test
    post_rate: float
    mean_gain: float  # mean over units, fraction
    mean_gain_positions: float  # mean over units, positions out of per_phase
    per_phase: float  # mean positions per phase
    se_positions: float | None  # standard error of the mean (sample sd / sqrt(n))
    ci_low: float | None  # bootstrap 95% interval of mean_gain_positions
    ci_high: float | None
    wilcoxon_p: float | None  # post vs pre, two-sided
    permutation_p: float | None  # sign-flip test on the gains, two-sided
    permutation_exact: bool


@dataclass(frozen=True)
class GainReport:
    units: list[UnitGain]
    overall: GainSummary | None  # concept units
    control: GainSummary | None  # pooled control units
    net_gain: float | None  # fraction: concept gain - control gain
    net_gain_positions: float | None  # in positions per concept
    net_ci_low: float | None
    net_ci_high: float | None
    by_concept: dict[int, GainSummary] = field(default_factory=dict)
    by_player: dict[int, GainSummary] = field(default_factory=dict)
    by_session: dict[int, GainSummary] = field(default_factory=dict)
    seed: int = 0
    n_boot: int = 10_000


def unit_gains(attempts: Iterable[AttemptLike]) -> list[UnitGain]:
    """Group test answers into units; units lacking a pre or a post answer are left out."""
    acc: dict[tuple[int, int, int | None, bool], list[int]] = {}
    for a in attempts:
        if a.phase not in ("pre", "post"):
            continue
        control = bool(a.is_control)
        key = (int(a.session_id), int(a.player_id), None if control else a.concept_id, control)
        cell = acc.setdefault(key, [0, 0, 0, 0])
        off = 0 if a.phase == "pre" else 2
        cell[off] += 1
        cell[off + 1] += int(bool(a.correct))
    units = [UnitGain(s, p, c, ctl, v[0], v[1], v[2], v[3]) for (s, p, c, ctl), v in acc.items() if v[0] and v[2]]
    return sorted(units, key=lambda u: (u.session_id, u.is_control, u.concept_id or 0))


def bootstrap_mean_ci(values: npt.ArrayLike, rng: np.random.Generator, n_boot: int = 10_000,
                      level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("no values to bootstrap")
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    means = x[idx].mean(axis=1)
    alpha = (1 - level) / 2
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def sign_flip_test(diffs: npt.ArrayLike, rng: np.random.Generator, n_perm: int = 20_000) -> tuple[float, bool]:
    """Two-sided paired permutation test of mean(diffs) = 0; returns (p, exact)."""
    d = np.asarray(diffs, dtype=float)
    n = d.size
    observed = abs(d.mean())
    tol = 1e-12
    if n <= EXACT_PERMUTATION_MAX:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
        means = np.abs((signs * d).mean(axis=1))
        return float(np.mean(means >= observed - tol)), True
    signs = rng.choice((1.0, -1.0), size=(n_perm, n))
    means = np.abs((signs * d).mean(axis=1))
    # Counting the observed arrangement keeps a Monte Carlo p-value valid (never 0).
    return float((np.sum(means >= observed - tol) + 1) / (n_perm + 1)), False


def average_ranks(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """1-based ranks with ties given their average rank (scipy's ``rankdata`` default)."""
    x = np.asarray(values, dtype=float)
    order = np.argsort(x, kind="mergesort")
    sx = x[order]
    ranks = np.empty(x.size, dtype=float)
    i = 0
    while i < x.size:
        j = i
        while j + 1 < x.size and sx[j + 1] == sx[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def wilcoxon_p(diffs: npt.ArrayLike) -> float | None:
    """Two-sided Wilcoxon signed-rank p-value (zeros dropped, tied ranks averaged).

    Up to 16 non-zero differences the null distribution is enumerated exactly over all
    sign patterns of the (tied) ranks, which is what scipy's permutation method computes
    but about a hundred times faster; above that, scipy's normal approximation.
    None when every difference is zero.
    """
    d = np.asarray(diffs, dtype=float)
    d = d[np.abs(d) > 1e-12]
    n = d.size
    if n == 0:
        return None
    if n > EXACT_PERMUTATION_MAX:
        # Imported here: scipy.stats takes over a second to import, and an import in a
        # worker thread holds the GUI thread up (the exact path needs numpy only).
        from scipy import stats as sps

        return float(sps.wilcoxon(d, method="approx").pvalue)
    ranks = average_ranks(np.abs(d))
    observed = float(ranks[d > 0].sum())
    signs = np.array(list(itertools.product((0.0, 1.0), repeat=n)))
    w = signs @ ranks
    centre = ranks.sum() / 2
    tol = 1e-9
    return float(min(1.0, np.mean(np.abs(w - centre) >= abs(observed - centre) - tol)))


def summarize(units: Sequence[UnitGain], *, seed: int = 0, n_boot: int = 10_000) -> GainSummary:
    """Summary of a set of units (see the module docstring)."""
    if not units:
        raise ValueError("no units with both a pre-test and a post-test answer")
    rng = np.random.default_rng(seed)
    gains_pos = np.array([u.gain_positions for u in units])
    pre = np.array([u.pre_score for u in units])
    post = np.array([u.post_score for u in units])
    n = len(units)
    se = float(gains_pos.std(ddof=1) / np.sqrt(n)) if n > 1 else None
    lo, hi = bootstrap_mean_ci(gains_pos, rng, n_boot) if n > 1 else (None, None)
    wil = wilcoxon_p(post - pre) if n > 1 else None
    perm, exact = sign_flip_test(post - pre, rng) if n > 1 else (None, False)
    return GainSummary(
        n_units=n,
        pre_rate=sum(u.pre_correct for u in units) / sum(u.n_pre for u in units),
        post_rate=sum(u.post_correct for u in units) / sum(u.n_post for u in units),
        mean_gain=float((post - pre).mean()),
        mean_gain_positions=float(gains_pos.mean()),
        per_phase=float(np.mean([u.per_phase for u in units])),
        se_positions=se, ci_low=lo, ci_high=hi, wilcoxon_p=wil, permutation_p=perm, permutation_exact=exact,
    )


def compute_gains(attempts: Iterable[AttemptLike], *, seed: int = 0, n_boot: int = 10_000) -> GainReport:
    """The full report from attempt records (an ``Attempt`` list, or rows read back from
    a CSV export). Deterministic for a given ``seed``."""
    units = unit_gains(attempts)
    concept_units = [u for u in units if not u.is_control]
    control_units = [u for u in units if u.is_control]
    overall = summarize(concept_units, seed=seed, n_boot=n_boot) if concept_units else None
    control = summarize(control_units, seed=seed, n_boot=n_boot) if control_units else None
    net = net_pos = net_lo = net_hi = None
    if overall is not None and control is not None:
        net = overall.mean_gain - control.mean_gain
        net_pos = net * overall.per_phase
        if len(concept_units) > 1 and len(control_units) > 1:
            rng = np.random.default_rng([seed, 1])
            g = np.array([u.gain for u in concept_units])
            c = np.array([u.gain for u in control_units])
            diffs = (g[rng.integers(0, g.size, (n_boot, g.size))].mean(axis=1)
                     - c[rng.integers(0, c.size, (n_boot, c.size))].mean(axis=1)) * overall.per_phase
            net_lo, net_hi = float(np.quantile(diffs, 0.025)), float(np.quantile(diffs, 0.975))

    def group(key: str) -> dict[int, GainSummary]:
        keys = sorted({getattr(u, key) for u in concept_units})
        return {k: summarize([u for u in concept_units if getattr(u, key) == k], seed=seed, n_boot=n_boot)
                for k in keys}

    return GainReport(units, overall, control, net, net_pos, net_lo, net_hi, group("concept_id"),
                      group("player_id"), group("session_id"), seed, n_boot)


def gain_report(
    db: sqlite_utils.Database,
    *,
    session_ids: Sequence[int] | None = None,
    player_ids: Sequence[int] | None = None,
    seed: int = 0,
    n_boot: int = 10_000,
) -> GainReport:
    """:func:`compute_gains` over the attempt log of the store, optionally filtered."""
    from conceptcoach.store.attempts import list_attempts

    attempts = list_attempts(db, session_ids=session_ids, player_ids=player_ids, phases=("pre", "post"))
    return compute_gains(attempts, seed=seed, n_boot=n_boot)


# ----- progress over time ------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionScores:
    """A player's test scores in one session: over its concept positions (``concept_id``
    None) or over one concept's. A score is the share of the teacher's moves found;
    None where the phase has no answer yet. Control positions are left out."""

    session_id: int
    when: str  # time of the session's first test answer (ISO, UTC)
    concept_id: int | None
    n_pre: int
    pre_correct: int
    n_post: int
    post_correct: int

    @property
    def pre_score(self) -> float | None:
        return self.pre_correct / self.n_pre if self.n_pre else None

    @property
    def post_score(self) -> float | None:
        return self.post_correct / self.n_post if self.n_post else None


def scores_over_time(attempts: Iterable[AttemptLike]) -> list[SessionScores]:
    """Pre-test and post-test scores per session, oldest session first: for each session
    one row over all its concepts (``concept_id`` None), then one per concept. Sessions
    with a pre-test only (still running) are included, their post score None."""
    first: dict[int, str] = {}
    cells: dict[tuple[int, int | None], list[int]] = {}
    for a in attempts:
        if a.phase not in ("pre", "post") or a.is_control:
            continue
        sid = int(a.session_id)
        when = str(getattr(a, "answered_at", "") or "")
        if sid not in first or (when and when < first[sid]):
            first[sid] = when
        off = 0 if a.phase == "pre" else 2
        keys = [(sid, None)] if a.concept_id is None else [(sid, None), (sid, a.concept_id)]
        for key in keys:
            cell = cells.setdefault(key, [0, 0, 0, 0])
            cell[off] += 1
            cell[off + 1] += int(bool(a.correct))
    order = sorted(first, key=lambda s: (first[s], s))
    out: list[SessionScores] = []
    for sid in order:
        keys = [(sid, None)] + sorted((k for k in cells if k[0] == sid and k[1] is not None),
                                      key=lambda k: k[1] or 0)
        out.extend(SessionScores(sid, first[sid], cid, *cells[(sid, cid)]) for _, cid in keys)
    return out


def player_progress(db: sqlite_utils.Database, player_id: int) -> list[SessionScores]:
    """:func:`scores_over_time` of one player, from the store's attempt log."""
    from conceptcoach.store.attempts import list_attempts

    return scores_over_time(list_attempts(db, player_ids=[player_id], phases=("pre", "post")))
