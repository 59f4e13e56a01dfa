"""Small plots drawn with QPainter: a concept's novelty curve and teachability bars, and
learning gains with their intervals.

QPainter rather than matplotlib: these draw in well under a millisecond, follow the
window's palette and scale, and keep a 300 ms import off the GUI thread. Every plot
shows a sentence instead of empty axes when it has nothing to draw.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

HUMAN_COLOUR = "#d9822b"
MACHINE_COLOUR = "#2b6cb0"
# Combined alignment flags, built once: PySide6 creates a new enum member the first time
# two flags are or-ed, which is slow enough to show up in a paint event.
_RIGHT_MIDDLE = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CENTER_WRAP = int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap)
_HCENTER = int(Qt.AlignmentFlag.AlignHCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft)
_RIGHT = int(Qt.AlignmentFlag.AlignRight)
BAR_COLOURS = ("#9aa5b1", "#2f855a", "#d69e2e", "#a0aec0")
CONTROL_COLOUR = "#718096"
GAIN_COLOUR = "#2f855a"
LOSS_COLOUR = "#c53030"


class _Plot(QWidget):
    """Common frame: a title, a plot rectangle and an empty-state message."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.empty_message = "nothing to show"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumHeight(150)

    def sizeHint(self) -> QSize:
        return QSize(320, 190)

    def _text_colour(self) -> QColor:
        return self.palette().windowText().color()

    def _muted(self) -> QColor:
        c = self._text_colour()
        c.setAlphaF(0.55)
        return c

    def _begin(self) -> tuple[QPainter, QRectF]:
        """Paint the title (wrapped onto a second line when the plot is narrow, never cut)
        and return the painter and the rectangle left under it."""
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(self.font())
        font.setBold(True)
        p.setFont(font)
        p.setPen(self._text_colour())
        fm = QFontMetricsF(font)
        lines = wrap_text(fm, self.title, self.width(), max_lines=2)
        for i, line in enumerate(lines):
            p.drawText(QRectF(0, i * fm.height(), self.width(), fm.height()), _LEFT, line)
        top = len(lines) * fm.height() + 4
        p.setFont(self.font())
        return p, QRectF(0, top, self.width(), self.height() - top)

    def _empty(self, p: QPainter, area: QRectF) -> None:
        p.setPen(self._muted())
        p.drawText(area, _CENTER_WRAP, self.empty_message)


def wrap_text(fm: QFontMetricsF, text: str, width: float, max_lines: int = 2) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width``; the last allowed line
    is elided when the text needs more."""
    words = text.split()
    lines: list[str] = []
    current = ""
    for i, word in enumerate(words):
        trial = f"{current} {word}" if current else word
        if fm.horizontalAdvance(trial) <= width or not current:
            current = trial
            continue
        lines.append(current)
        current = word
        if len(lines) == max_lines - 1:
            current = " ".join(words[i:])
            break
    if current:
        lines.append(current)
    return [fm.elidedText(line, Qt.TextElideMode.ElideRight, width) for line in lines[:max_lines]]


def spaced_labels(positions: Sequence[float], widths: Sequence[float], gap: float = 6.0) -> list[int]:
    """Indices of the axis labels to draw so none overlaps the one before; the last label
    is always drawn (the one before it gives way). ``positions`` are label centres."""
    keep: list[int] = []
    right_edge = float("-inf")
    for i, (x, w) in enumerate(zip(positions, widths, strict=True)):
        if x - w / 2 >= right_edge + gap:
            keep.append(i)
            right_edge = x + w / 2
    last = len(positions) - 1
    if last >= 0 and (not keep or keep[-1] != last):
        x, w = positions[last], widths[last]
        while keep and positions[keep[-1]] + widths[keep[-1]] / 2 + gap > x - w / 2:
            keep.pop()
        keep.append(last)
    return keep


@dataclass(frozen=True)
class _Series:
    label: str
    xs: list[float]
    ys: list[float]
    colour: str


class NoveltyPlot(_Plot):
    """L_h(k) and L_a(k): how badly the human and the machine bases of size k rebuild the
    concept vector. A concept is novel when the machine curve stays below the human one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Novelty: error rebuilding it from k basis vectors", parent)
        self._series: list[_Series] = []
        self._verdict = ""
        self._window: list[bool] = []  # per k: compared (True) or too small/large to say anything
        self.empty_message = "No novelty figures: this concept did not reach the novelty filter."

    def set_curve(self, curve: Mapping[str, Any] | None) -> None:
        self._series = []
        self._verdict = ""
        self._window = []
        self.setToolTip("")  # no tooltip left over from the previous concept
        if curve and curve.get("k") and curve.get("human") and curve.get("machine"):
            ks = [math.log2(max(1.0, float(k))) for k in curve["k"]]
            self._series = [
                _Series("human games", ks, [float(v) for v in curve["human"]], HUMAN_COLOUR),
                _Series("machine games", ks, [float(v) for v in curve["machine"]], MACHINE_COLOUR),
            ]
            corpus = curve.get("corpus", "")
            window = curve.get("informative")
            if isinstance(window, list) and len(window) == len(ks) and not all(window):
                self._window = [bool(w) for w in window]
                self.setToolTip("Shaded: basis sizes where neither basis explains 1% of the concept "
                                "(or both explain it all); the curves are not compared there.")
            where = "every compared k" if self._window else "every k"
            if curve.get("novel"):
                self._verdict = f"novel against {corpus}: machine basis closer at {where}"
            else:
                self._verdict = f"not novel against {corpus}: a human basis explains it as well"
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p, area = self._begin()
        if not self._series:
            self._empty(p, area)
            return
        fm = QFontMetricsF(self.font())
        legend_w = sum(28 + fm.horizontalAdvance(s.label) for s in self._series)
        # The verdict goes beside the legend when it fits, else on (up to two) lines of its own.
        verdict_below = legend_w + 8 + fm.horizontalAdvance(self._verdict) > area.width()
        verdict = wrap_text(fm, self._verdict, area.width(), max_lines=2) if verdict_below else []
        plot = area.adjusted(fm.horizontalAdvance("0.00") + 10, 4, -8, -((2 + len(verdict)) * fm.height() + 10))
        xs = [x for s in self._series for x in s.xs]
        ys = [y for s in self._series for y in s.ys]
        x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
        y0, y1 = 0.0, max(ys) * 1.05 if max(ys) > 0 else 1.0

        def to_point(x: float, y: float) -> QPointF:
            return QPointF(plot.left() + (x - x0) / (x1 - x0) * plot.width(),
                           plot.bottom() - (y - y0) / (y1 - y0) * plot.height())

        if self._window:
            # Grey bands over the sizes left out of the comparison, from midpoint to midpoint.
            xs0 = self._series[0].xs
            shade = QColor(self._muted())
            shade.setAlpha(40)
            for i, compared in enumerate(self._window):
                if compared:
                    continue
                left = to_point((xs0[i - 1] + xs0[i]) / 2 if i > 0 else xs0[i], y0).x()
                right = to_point((xs0[i] + xs0[i + 1]) / 2 if i + 1 < len(xs0) else xs0[i], y0).x()
                p.fillRect(QRectF(left, plot.top(), max(1.0, right - left), plot.height()), shade)
        p.setPen(QPen(self._muted(), 1))
        p.drawLine(plot.bottomLeft(), plot.bottomRight())
        p.drawLine(plot.bottomLeft(), plot.topLeft())
        for frac in (0.0, 0.5, 1.0):
            y = y0 + frac * (y1 - y0)
            pt = to_point(x0, y)
            p.drawText(QRectF(area.left(), pt.y() - fm.height() / 2, plot.left() - area.left() - 4, fm.height()),
                       _RIGHT_MIDDLE, f"{y:.2f}")
        labels = [str(int(round(2**x))) for x in self._series[0].xs]
        centres = [to_point(x, y0).x() for x in self._series[0].xs]
        for i in spaced_labels(centres, [fm.horizontalAdvance(t) for t in labels]):
            w = fm.horizontalAdvance(labels[i]) + 2
            left = min(max(area.left(), centres[i] - w / 2), area.right() - w)  # the end labels stay whole
            p.drawText(QRectF(left, plot.bottom() + 2, w, fm.height()), _HCENTER, labels[i])
        for s in self._series:
            path = QPainterPath()
            for i, (x, y) in enumerate(zip(s.xs, s.ys, strict=True)):
                pt = to_point(x, y)
                if i == 0:
                    path.moveTo(pt)
                else:
                    path.lineTo(pt)
            p.setPen(QPen(QColor(s.colour), 2.2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(path)
            p.setBrush(QColor(s.colour))
            for x, y in zip(s.xs, s.ys, strict=True):
                p.drawEllipse(to_point(x, y), 2.8, 2.8)
        # Legend and verdict under the axis labels.
        legend_y = plot.bottom() + fm.height() + 6
        x = plot.left() if legend_w <= area.right() - plot.left() else area.left()
        for s in self._series:
            p.setPen(QPen(QColor(s.colour), 3))
            p.drawLine(QPointF(x, legend_y + fm.height() / 2), QPointF(x + 16, legend_y + fm.height() / 2))
            p.setPen(self._text_colour())
            p.drawText(QPointF(x + 20, legend_y + fm.ascent()), s.label)
            x += 28 + fm.horizontalAdvance(s.label)
        p.setPen(self._muted())
        if verdict_below:
            for k, line in enumerate(verdict):
                p.drawText(QRectF(area.left(), legend_y + (k + 1) * fm.height() + 2, area.width(), fm.height()),
                           _LEFT, line)
        else:
            p.drawText(QRectF(x + 8, legend_y, max(0.0, area.right() - x - 8), fm.height()), _RIGHT, self._verdict)


class TeachabilityBars(_Plot):
    """Top-1 agreement with the teacher on held-out prototypes: the student before and
    after being taught the concept, and the two baselines taught the same way."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Teachability: a student's agreement with the teacher", parent)
        self._bars: list[tuple[str, float]] = []
        self._caption = ""
        self.empty_message = "No teachability figures: this concept was not taken to a student."

    def set_figures(self, teach: Mapping[str, Any] | None, random_vector: Mapping[str, Any] | None = None) -> None:
        self._bars = []
        self._caption = ""
        self.setToolTip("")  # no tooltip left over from the previous concept
        if teach and "agreement_after" in teach:
            self._bars = [
                ("before", float(teach.get("agreement_before", 0.0))),
                ("taught", float(teach["agreement_after"])),
                ("random positions", float(teach.get("baseline_random_positions", 0.0))),
            ]
            if random_vector and "agreement_after" in random_vector:
                self._bars.append(("random vector", float(random_vector["agreement_after"])))
            gain = float(teach.get("gain", self._bars[1][1] - self._bars[2][1]))
            self._caption = (f"gain over random positions {gain:+.2f} with {teach.get('student', 'a student')}"
                             f" ({teach.get('train', '?')} train / {teach.get('test', '?')} test)")
            tip = self._caption
            if random_vector and "agreement_after" not in random_vector and random_vector.get("reason"):
                # The random-vector baseline at this layer could not be taught at all:
                # say so instead of leaving its bar out silently.
                tip += f"\nRandom concept vector at this layer: not taught ({random_vector['reason']})."
            self.setToolTip(tip)
        elif teach and teach.get("reason"):
            self.empty_message = f"Not taught: {teach['reason']}."
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p, area = self._begin()
        if not self._bars:
            self._empty(p, area)
            return
        fm = QFontMetricsF(self.font())
        slot_w = (area.width() - fm.horizontalAdvance("100%") - 14) / len(self._bars)
        label_lines = [wrap_text(fm, label, slot_w - 4, max_lines=2) for label, _v in self._bars]
        n_label = max(len(lines) for lines in label_lines)
        caption = wrap_text(fm, self._caption, area.width(), max_lines=2)
        plot = area.adjusted(fm.horizontalAdvance("100%") + 8, fm.height() + 4, -6,
                             -((n_label + len(caption)) * fm.height() + 8))
        p.setPen(QPen(self._muted(), 1))
        p.drawLine(plot.bottomLeft(), plot.bottomRight())
        for frac in (0.0, 0.5, 1.0):
            y = plot.bottom() - frac * plot.height()
            p.drawText(QRectF(area.left(), y - fm.height() / 2, plot.left() - area.left() - 4, fm.height()),
                       _RIGHT_MIDDLE, f"{int(frac * 100)}%")
        slot = plot.width() / len(self._bars)
        for i, (_label, value) in enumerate(self._bars):
            value = min(1.0, max(0.0, value))
            bar = QRectF(plot.left() + i * slot + slot * 0.18, plot.bottom() - value * plot.height(),
                         slot * 0.64, value * plot.height())
            p.fillRect(bar, QColor(BAR_COLOURS[i % len(BAR_COLOURS)]))
            p.setPen(self._text_colour())
            p.drawText(QRectF(bar.left() - 10, bar.top() - fm.height() - 1, bar.width() + 20, fm.height()),
                       _HCENTER, f"{value:.0%}")
            for k, line in enumerate(label_lines[i]):
                p.drawText(QRectF(plot.left() + i * slot, plot.bottom() + 2 + k * fm.height(), slot, fm.height()),
                           _HCENTER, line)
        p.setPen(self._muted())
        for k, line in enumerate(caption):
            p.drawText(QRectF(area.left(), plot.bottom() + (n_label + k) * fm.height() + 6, area.width(), fm.height()),
                       _LEFT, line)


@dataclass(frozen=True)
class GainRow:
    """One line of a gain plot: a concept (or the control items) with its gain and interval,
    in positions per concept (or as a fraction, whatever the caller passes consistently)."""

    label: str
    gain: float
    low: float
    high: float
    control: bool = False


class GainPlot(_Plot):
    """Learning gain per concept (post-test minus pre-test) with its 95% interval."""

    def __init__(self, title: str = "Learning gain per concept (95% interval)", parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self._rows: list[GainRow] = []
        self.unit = ""
        self.empty_message = "No gains yet: finish a session's post-test to see them."

    def set_rows(self, rows: Sequence[GainRow], unit: str = "") -> None:
        self._rows = list(rows)
        self.unit = unit
        self.setMinimumHeight(max(150, 40 + 26 * len(self._rows)))
        self.updateGeometry()
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p, area = self._begin()
        if not self._rows:
            self._empty(p, area)
            return
        fm = QFontMetricsF(self.font())
        label_w = min(area.width() * 0.4, max(fm.horizontalAdvance(r.label) for r in self._rows) + 12)
        plot = area.adjusted(label_w, 4, -10, -(fm.height() + 6))
        lo = min(0.0, *(r.low for r in self._rows))
        hi = max(0.0, *(r.high for r in self._rows))
        span = max(hi - lo, 1e-9)
        lo, hi = lo - span * 0.08, hi + span * 0.08

        def xpos(v: float) -> float:
            return plot.left() + (v - lo) / (hi - lo) * plot.width()

        p.setPen(QPen(self._muted(), 1, Qt.PenStyle.DashLine))
        p.drawLine(QPointF(xpos(0), plot.top()), QPointF(xpos(0), plot.bottom()))
        p.setPen(QPen(self._muted(), 1))
        p.drawLine(plot.bottomLeft(), plot.bottomRight())
        for v in (lo + span * 0.08, 0.0, hi - span * 0.08):
            p.drawText(QRectF(xpos(v) - 30, plot.bottom() + 2, 60, fm.height()), _HCENTER,
                       f"{v:+.2f}{self.unit}")
        row_h = plot.height() / len(self._rows)
        for i, r in enumerate(self._rows):
            y = plot.top() + (i + 0.5) * row_h
            p.setPen(self._text_colour() if not r.control else self._muted())
            p.drawText(QRectF(area.left(), y - fm.height() / 2, label_w - 8, fm.height()),
                       _RIGHT_MIDDLE,
                       fm.elidedText(r.label, Qt.TextElideMode.ElideRight, label_w - 8))
            colour = QColor(CONTROL_COLOUR if r.control else (GAIN_COLOUR if r.gain >= 0 else LOSS_COLOUR))
            p.setPen(QPen(colour, 2.4))
            p.drawLine(QPointF(xpos(r.low), y), QPointF(xpos(r.high), y))
            p.drawLine(QPointF(xpos(r.low), y - 5), QPointF(xpos(r.low), y + 5))
            p.drawLine(QPointF(xpos(r.high), y - 5), QPointF(xpos(r.high), y + 5))
            p.setBrush(colour)
            p.drawEllipse(QPointF(xpos(r.gain), y), 5, 5)


PRE_COLOUR = "#d9822b"
POST_COLOUR = "#2f855a"


@dataclass(frozen=True)
class ProgressPoint:
    """One session on the progress plot: its label (a date) and its scores (0..1, None: no
    answer in that phase yet)."""

    label: str
    pre: float | None
    post: float | None


class ProgressPlot(_Plot):
    """Pre-test and post-test score per session, oldest first: what the player found
    before and after studying, session after session."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Pre- and post-test score per session (share of the teacher's moves found)", parent)
        self._points: list[ProgressPoint] = []
        self.empty_message = "No test answers yet: a session's pre-test and post-test scores appear here."
        self.setMinimumHeight(200)

    def sizeHint(self) -> QSize:
        return QSize(420, 230)

    def set_points(self, points: Sequence[ProgressPoint]) -> None:
        self._points = list(points)
        self.update()

    @property
    def points(self) -> list[ProgressPoint]:
        return list(self._points)

    def paintEvent(self, event: QPaintEvent) -> None:
        p, area = self._begin()
        if not self._points:
            self._empty(p, area)
            return
        fm = QFontMetricsF(self.font())
        legend_h = fm.height() + 6
        plot = area.adjusted(fm.horizontalAdvance("100%") + 10, fm.height() / 2 + 2, -12,
                             -(fm.height() + 6 + legend_h))
        n = len(self._points)

        def xpos(i: int) -> float:
            return plot.center().x() if n == 1 else plot.left() + 12 + i * (plot.width() - 24) / (n - 1)

        def ypos(v: float) -> float:
            return plot.bottom() - v * plot.height()

        p.setPen(QPen(self._muted(), 1))
        p.drawLine(plot.bottomLeft(), plot.bottomRight())
        grid = QColor(self._muted())
        grid.setAlpha(50)
        for frac in (0.0, 0.5, 1.0):
            y = ypos(frac)
            if frac > 0:
                p.setPen(QPen(grid, 1, Qt.PenStyle.DotLine))
                p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            p.setPen(self._muted())
            p.drawText(QRectF(area.left(), y - fm.height() / 2, plot.left() - area.left() - 4, fm.height()),
                       _RIGHT_MIDDLE, f"{int(frac * 100)}%")
        labels = [pt.label for pt in self._points]
        centres = [xpos(i) for i in range(n)]
        p.setPen(self._text_colour())
        for i in spaced_labels(centres, [fm.horizontalAdvance(t) for t in labels]):
            w = fm.horizontalAdvance(labels[i]) + 2
            left = min(max(area.left(), centres[i] - w / 2), area.right() - w)
            p.drawText(QRectF(left, plot.bottom() + 3, w, fm.height()), _HCENTER, labels[i])
        # Within a session, a faint bar from the pre-test score to the post-test score: the gain.
        bar = QColor(POST_COLOUR)
        bar.setAlpha(70)
        p.setPen(QPen(bar, 6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
        for i, pt in enumerate(self._points):
            if pt.pre is not None and pt.post is not None and pt.pre != pt.post:
                p.drawLine(QPointF(xpos(i), ypos(pt.pre)), QPointF(xpos(i), ypos(pt.post)))
        for key, colour, style in (("pre", PRE_COLOUR, Qt.PenStyle.DashLine), ("post", POST_COLOUR,
                                                                               Qt.PenStyle.SolidLine)):
            pts = [(i, getattr(pt, key)) for i, pt in enumerate(self._points) if getattr(pt, key) is not None]
            if not pts:
                continue
            path = QPainterPath()
            for k, (i, v) in enumerate(pts):
                point = QPointF(xpos(i), ypos(v))
                if k == 0:
                    path.moveTo(point)
                else:
                    path.lineTo(point)
            p.setPen(QPen(QColor(colour), 2.2, style))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(path)
            p.setPen(QPen(QColor(colour), 2))
            p.setBrush(QColor(colour) if key == "post" else self.palette().base().color())
            for i, v in pts:
                p.drawEllipse(QPointF(xpos(i), ypos(v)), 4, 4)
        # Legend under the dates.
        y = plot.bottom() + fm.height() + 8
        x = plot.left()
        for text, colour, style in (("pre-test", PRE_COLOUR, Qt.PenStyle.DashLine),
                                    ("post-test", POST_COLOUR, Qt.PenStyle.SolidLine)):
            p.setPen(QPen(QColor(colour), 2.5, style))
            p.drawLine(QPointF(x, y + fm.height() / 2), QPointF(x + 20, y + fm.height() / 2))
            p.setPen(self._text_colour())
            p.drawText(QPointF(x + 24, y + fm.ascent()), text)
            x += 40 + fm.horizontalAdvance(text)
