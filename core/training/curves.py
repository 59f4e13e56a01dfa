"""What a fit's curve says about more samples: a figure against log(samples seen).

The issue asks, where the hardware cannot reach a goal, what the curve says more data
or compute would reach. Held-out agreement grows roughly linearly in the logarithm of
the samples seen over the range measured here; this fits ``figure = a + b ln(samples)``
by least squares to end-of-schedule points (each after its learning-rate decay, so the
points are comparable) and reads off where a target would be reached. It is an
extrapolation with the caveat written beside it wherever it is shown: a power law in
samples bends over, and more distinct data is folded into the same axis.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from conceptcoach.engine.checkpoint import read_info


@dataclass(frozen=True)
class LogFit:
    """``figure = a + b ln(samples)``."""

    a: float
    b: float

    def at(self, samples: float) -> float:
        return self.a + self.b * math.log(samples)

    def samples_for(self, target: float) -> float | None:
        """Samples at which the line reaches ``target``; None if it never does (b <= 0)."""
        if self.b <= 0:
            return None
        return math.exp((target - self.a) / self.b)


def fit_log_samples(points: Sequence[tuple[float, float]]) -> LogFit:
    """Least-squares line through (ln samples, figure). Needs two distinct sample counts.

    >>> fit = fit_log_samples([(1e6, 0.30), (1e7, 0.40)])
    >>> round(fit.at(1e8), 3), round(fit.samples_for(0.45) / 1e7, 2)
    (0.5, 3.16)
    """
    if len({s for s, _ in points}) < 2 or any(s <= 0 for s, _ in points):
        raise ValueError("a curve needs at least two positive, distinct sample counts")
    xs = [math.log(s) for s, _ in points]
    ys = [y for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return LogFit(a=my - b * mx, b=b)


def samples_seen(checkpoint: str | os.PathLike[str]) -> int:
    """Training samples behind a checkpoint, counting the fits it was continued from.

    A fit started with ``--init-from`` records its own samples only; the curve's axis is
    every sample the weights have seen, so the chain of ``init_from`` checkpoints is
    followed back to a fit from scratch. A missing link raises FileNotFoundError (the
    figure would be wrong, not approximate).
    """
    total = 0
    seen: set[Path] = set()
    path: Path | None = Path(checkpoint)
    while path is not None:
        resolved = path.resolve()
        if resolved in seen:
            raise ValueError(f"{checkpoint}: its init_from chain loops at {path}")
        seen.add(resolved)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: a checkpoint in the init_from chain of {checkpoint} is missing")
        extra = read_info(path).extra
        total += int(extra.get("samples", 0))
        init = extra.get("fit", {}).get("init_from")
        path = Path(init) if init else None
    return total
