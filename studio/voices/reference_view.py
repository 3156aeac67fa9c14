"""The prepared reference as a waveform, with the 5-15 s segment the prompt is made from as a region
the user can move and resize."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from studio.models.peaks import PeakPyramid

MAX_POINTS = 4000


class ReferenceView(pg.PlotWidget):
    """``segment_edited(t0, t1)`` fires when the user finishes moving or resizing the region
    (never for ``show_reference``)."""

    segment_edited = QtCore.Signal(float, float)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("reference_view")
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setMouseEnabled(x=False, y=False)
        self.setLabel("bottom", "seconds")
        self.setYRange(-1.0, 1.0, padding=0.02)
        self.setMinimumHeight(140)
        self.curve = self.plot(pen=pg.mkPen("#4aa3df", width=1))
        self.region = pg.LinearRegionItem(orientation="vertical", brush=pg.mkBrush(240, 160, 48, 60),
                                          pen=pg.mkPen("#f0a030", width=2))
        self.region.setZValue(10)
        self.region.hide()
        self.addItem(self.region)
        self.duration = 0.0
        self.region.sigRegionChangeFinished.connect(self._on_region)

    def show_reference(self, audio: np.ndarray, sample_rate: int, segment: tuple[float, float]) -> None:
        """audio: float32 [n] at sample_rate; segment: (start, end) seconds, shown as the region."""
        n = len(audio)
        self.duration = n / sample_rate
        x, y = PeakPyramid(audio).envelope(0, n, MAX_POINTS)
        self.curve.setData(x / sample_rate, y)
        self.setXRange(0.0, max(self.duration, 0.1), padding=0.01)
        with QtCore.QSignalBlocker(self.region):
            self.region.setBounds((0.0, self.duration))
            self.region.setRegion(segment)
        self.region.show()

    def clear_reference(self) -> None:
        self.curve.setData([], [])
        self.region.hide()
        self.duration = 0.0

    @property
    def segment(self) -> tuple[float, float]:
        t0, t1 = self.region.getRegion()
        return float(t0), float(t1)

    def set_segment(self, t0: float, t1: float) -> None:
        """Move the region as a user would (emits ``segment_edited``)."""
        self.region.setRegion((t0, t1))  # setRegion emits sigRegionChangeFinished too

    def _on_region(self) -> None:
        self.segment_edited.emit(*self.segment)
