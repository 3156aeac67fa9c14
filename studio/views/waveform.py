"""The waveform pane: a peak envelope of the visible range only, read from each take's pyramid."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from studio.models.selection import Selection
from studio.models.timeline import Timeline
from studio.views.time_pane import TimePane


class WaveformView(TimePane):
    def __init__(self, timeline: Timeline, selection: Selection, parent=None) -> None:
        super().__init__(timeline, selection, "waveform", parent)
        self.setLabel("left", "amplitude")
        self.hideAxis("bottom")  # one time ruler, under the latent pane: each axis costs ~1 ms a redraw
        self.setYRange(-1.0, 1.0, padding=0.02)
        self.vb.setLimits(yMin=-1.05, yMax=1.05)
        self.curve = QtWidgets.QGraphicsPathItem()  # a plain Qt item: painted without Python
        pen = pg.mkPen("#4aa3df", width=1)
        pen.setCosmetic(True)
        self.curve.setPen(pen)
        self.addItem(self.curve, ignoreBounds=True)
        self._x, self._y = np.zeros(0), np.zeros(0, np.float32)
        self.hint = pg.TextItem("Write a script and press Render (Ctrl+Return)", color="#8a9a9a", anchor=(0.5, 0.5))
        self.addItem(self.hint, ignoreBounds=True)
        self.setXRange(0.0, 1.0, padding=0.0)

    @property
    def points_shown(self) -> int:
        return int(np.isfinite(self._x).sum())

    def envelope(self) -> tuple[np.ndarray, np.ndarray]:
        """The drawn envelope as (times, values), without the NaN breaks between takes."""
        keep = np.isfinite(self._x)
        return self._x[keep], self._y[keep]

    def repaint_content(self) -> None:
        t0, t1 = self.view_span()
        width = max(int(self.vb.width()), 200)
        self._x, self._y = self.timeline.envelope(t0, t1, 2 * width)
        self.curve.setPath(pg.arrayToQPath(self._x, self._y, connect="finite"))
        empty = self.timeline.duration == 0
        self.hint.setVisible(empty)
        if empty:
            self.hint.setPos((t0 + t1) / 2, 0.0)
