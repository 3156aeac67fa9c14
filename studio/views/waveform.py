"""The waveform pane: a peak envelope recomputed for the visible range, repainted on a timer."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from studio.models.take import TakeModel
from studio.views.envelope import peak_envelope

REPAINT_MS = 33  # ~30 Hz: streaming chunks only mark the view dirty
AXIS_WIDTH = 56  # the same left-axis width on every pane keeps their time axes aligned


class WaveformView(pg.PlotWidget):
    """Shows ``take.audio``; ``playhead`` follows the transport. Shares its x axis (seconds)."""

    def __init__(self, take: TakeModel, parent=None) -> None:
        super().__init__(parent)
        self.take = take
        self.setObjectName("waveform")
        self.setMenuEnabled(False)
        self.setLabel("left", "amplitude")
        self.getAxis("left").setWidth(AXIS_WIDTH)
        self.showGrid(x=True, y=False, alpha=0.2)
        self.setYRange(-1.0, 1.0)
        self.getViewBox().setMouseEnabled(x=True, y=False)
        self.getViewBox().setLimits(xMin=0.0, yMin=-1.05, yMax=1.05)
        self.curve = self.plot(pen=pg.mkPen("#4aa3df", width=1))
        self.playhead = pg.InfiniteLine(0.0, angle=90, movable=False, pen=pg.mkPen("#f0a030", width=2))
        self.playhead.setVisible(False)
        self.addItem(self.playhead)
        self.hint = pg.TextItem("Write a script and press Render (Ctrl+Return)", color="#9aa", anchor=(0.5, 0.5))
        self.hint.setPos(0.5, 0.0)
        self.addItem(self.hint, ignoreBounds=True)
        self.setXRange(0.0, 1.0, padding=0.0)
        self._dirty = False
        self._follow = True  # widen the view while a render streams in
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(REPAINT_MS)
        self._timer.timeout.connect(self._repaint)
        self._timer.start()
        self.getViewBox().sigXRangeChanged.connect(self._mark_dirty)
        take.reset.connect(self._on_reset)
        take.audio_added.connect(lambda n: self._mark_dirty())
        take.state_changed.connect(lambda s: self._mark_dirty())

    @property
    def points_shown(self) -> int:
        x, _ = self.curve.getData()
        return 0 if x is None else len(x)

    def set_playhead(self, seconds: float | None) -> None:
        self.playhead.setVisible(seconds is not None)
        if seconds is not None:
            self.playhead.setValue(seconds)

    def _on_reset(self) -> None:
        self._follow = True
        self.curve.setData([], [])
        self._mark_dirty()

    def _mark_dirty(self, *args) -> None:
        self._dirty = True

    def _repaint(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        take = self.take
        duration = take.duration
        vb = self.getViewBox()
        if self._follow and duration > 0:
            vb.setXRange(0.0, max(duration, 0.5), padding=0.0)  # linked panes follow
        (t0, t1), _ = vb.viewRange()
        width = max(int(vb.width()), 200)
        x, y = peak_envelope(take.audio.samples, take.sample_rate, t0, t1, 2 * width)
        self.hint.setVisible(take.audio.length == 0)
        self.curve.setData(x, y) if len(x) else self.curve.setData([], [])

    def user_zoomed(self) -> None:
        """Stop auto-fitting once the user zooms or pans."""
        self._follow = False

    def wheelEvent(self, ev) -> None:  # noqa: N802 (Qt name)
        self.user_zoomed()
        super().wheelEvent(ev)

    def mousePressEvent(self, ev) -> None:  # noqa: N802
        self.user_zoomed()
        super().mousePressEvent(ev)

    def envelope(self) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.curve.getData()
        return (np.zeros(0), np.zeros(0)) if x is None else (x, y)
