"""The waveform pane: a peak envelope of the visible range only, read from each take's pyramid."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

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
        self.curve = self.plot(pen=pg.mkPen("#4aa3df", width=1), connect="finite")
        self.hint = pg.TextItem("Write a script and press Render (Ctrl+Return)", color="#8a9a9a", anchor=(0.5, 0.5))
        self.addItem(self.hint, ignoreBounds=True)
        self.setXRange(0.0, 1.0, padding=0.0)

    @property
    def points_shown(self) -> int:
        x, _ = self.curve.getData()
        return 0 if x is None else int(np.isfinite(x).sum())

    def envelope(self) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.curve.getData()
        if x is None:
            return np.zeros(0), np.zeros(0)
        keep = np.isfinite(x)
        return x[keep], y[keep]

    def repaint_content(self) -> None:
        t0, t1 = self.view_span()
        width = max(int(self.vb.width()), 200)
        x, y = self.timeline.envelope(t0, t1, 2 * width)
        self.curve.setData(x, y)
        empty = self.timeline.duration == 0
        self.hint.setVisible(empty)
        if empty:
            self.hint.setPos((t0 + t1) / 2, 0.0)
