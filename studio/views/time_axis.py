"""The shared time ruler under the panes: clock labels (1:05, 12:30.5) at 1-2-5 steps.

pyqtgraph's general axis spends ~3 ms of every pan measuring and formatting its ticks; this one
knows its labels are clock times and builds the same draw specs directly.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6 import QtCore, QtGui

MIN_LABEL_PIXELS = 90  # major ticks (the labelled ones) at least this far apart
MAJOR_TICK, MINOR_TICK = 6, 3  # pixels
WIDTH_CACHE = 2048  # label widths remembered


def nice_step(seconds: float) -> float:
    """The smallest step from 1, 2, 5 x 10^n and 15/30 s, 1/2/5/10/15/30 min, 1 h that is >= seconds."""
    clock = [15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0]
    if seconds > 10.0:
        return next((c for c in clock if c >= seconds), 3600.0 * math.ceil(seconds / 3600.0))
    power = 10.0 ** math.floor(math.log10(max(seconds, 1e-6)))
    return next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= seconds * (1 - 1e-9))


def minor_step(major: float) -> float:
    """Unlabelled ticks between two labelled ones."""
    clock = {15.0: 5.0, 30.0: 10.0, 60.0: 15.0, 120.0: 30.0, 300.0: 60.0, 600.0: 120.0, 900.0: 300.0,
             1800.0: 300.0, 3600.0: 600.0}
    if major in clock or major > 3600.0:
        return clock.get(major, major / 4)
    mantissa = major / 10.0 ** math.floor(math.log10(major) + 1e-9)
    return major / (2 if round(mantissa) == 2 else 5)


def clock_label(seconds: float, step: float) -> str:
    """Seconds -> "m:ss" (or "h:mm:ss"), with as many decimals as the step needs."""
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    sign = "-" if seconds < 0 else ""
    s = round(abs(seconds), decimals)
    hours, rest = divmod(s, 3600)
    minutes, secs = divmod(rest, 60)
    width = 2 + (decimals + 1 if decimals else 0)
    sec = f"{secs:0{width}.{decimals}f}"
    return f"{sign}{int(hours)}:{int(minutes):02d}:{sec}" if hours else f"{sign}{int(minutes)}:{sec}"


class TimeAxis(pg.AxisItem):
    def __init__(self) -> None:
        super().__init__("bottom")
        self._widths: dict[str, float] = {}
        self.setHeight(QtGui.QFontMetrics(QtGui.QFont()).height() + MAJOR_TICK + 6)

    def _text_width(self, p: QtGui.QPainter, text: str) -> float:
        if text not in self._widths:
            if len(self._widths) >= WIDTH_CACHE:  # every zoom level brings new labels: keep it bounded
                self._widths.clear()
            self._widths[text] = p.fontMetrics().horizontalAdvance(text) + 4
        return self._widths[text]

    def generateDrawSpecs(self, p: QtGui.QPainter):  # noqa: N802 (pyqtgraph's name)
        bounds = self.mapRectFromParent(self.geometry())
        t0, t1 = self.range
        if bounds.width() <= 0 or not t1 > t0:
            return None
        scale = bounds.width() / (t1 - t0)
        major = nice_step(MIN_LABEL_PIXELS / scale)
        minor = minor_step(major)
        pen, top = self.pen(), bounds.top()
        axis = (pen, QtCore.QPointF(bounds.left(), top), QtCore.QPointF(bounds.right(), top))
        ticks, texts = [], []
        height = p.fontMetrics().height()
        for i in range(math.ceil(t0 / minor), math.floor(t1 / minor) + 1):
            v = i * minor
            x = bounds.left() + (v - t0) * scale
            is_major = abs(v / major - round(v / major)) < 1e-6
            ticks.append((pen, QtCore.QPointF(x, top), QtCore.QPointF(x, top + (MAJOR_TICK if is_major else MINOR_TICK))))
            if is_major:
                label = clock_label(v, major)
                w = self._text_width(p, label)
                left = min(max(x - w / 2, bounds.left()), bounds.right() - w)  # the end labels stay whole
                texts.append((QtCore.QRectF(left, top + MAJOR_TICK + 1, w, height),
                              QtCore.Qt.AlignHCenter | QtCore.Qt.AlignTop, label))
        return axis, ticks, texts
