"""The frame inspector: one 80 ms frame's semantic token, the text unit it was drawn under, its
acoustic values and flow trajectory.

The trajectory plot draws, for each acoustic dimension, the flow state x_t after every Euler step
from the start noise (t = 0) to the value the frame kept (t = 1).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from engine.api import Frame, fsq_values
from studio.models.timeline import Segment


def unit_label(unit: str) -> str:
    """The header's words for the text unit a frame was drawn under ("" when the model reads no units)."""
    if not unit:
        return ""
    if unit == "_":
        return " · between words"
    return f" · phone {unit}" if unit.isalpha() else f" · at {unit!r}"


class FrameInspector(QtWidgets.QWidget):
    play_requested = QtCore.Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        top = QtWidgets.QHBoxLayout()
        self.header = QtWidgets.QLabel("Hover or click a frame in the latent timeline.", objectName="inspector_header")
        self.header.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.play_button = QtWidgets.QPushButton("Play frame", objectName="play_frame")
        self.play_button.setEnabled(False)
        self.play_button.clicked.connect(self.play_requested)
        top.addWidget(self.header, 1)
        top.addWidget(self.play_button)
        lay.addLayout(top)
        plots = QtWidgets.QHBoxLayout()
        self.values_plot = pg.PlotWidget(objectName="inspector_values")
        self.values_plot.setTitle("acoustic values (bars) and FSQ levels fed back (dots)", size="8pt")
        self.values_plot.setYRange(-1.05, 1.05)
        self.values_plot.setMenuEnabled(False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush="#4aa3df")
        self.dots = pg.ScatterPlotItem(size=7, brush="#f0a030", pen=None)
        self.values_plot.addItem(self.bars)
        self.values_plot.addItem(self.dots)
        self.trajectory_plot = pg.PlotWidget(objectName="inspector_trajectory")
        self.trajectory_plot.setTitle("flow trajectory x_t per dimension", size="8pt")
        self.trajectory_plot.setLabel("bottom", "t")
        self.trajectory_plot.setMenuEnabled(False)
        plots.addWidget(self.values_plot, 1)
        plots.addWidget(self.trajectory_plot, 2)
        lay.addLayout(plots, 1)
        self.frame: Frame | None = None
        self.acoustic_levels = 21  # the model's FSQ levels (set when it loads)
        self.curves: list[pg.PlotDataItem] = []

    def set_theme(self, theme: str) -> None:
        from studio.themes import style_pane

        for plot in (self.values_plot, self.trajectory_plot):
            style_pane(plot, theme)

    def show_frame(self, seg: Segment | None, frame: Frame | None) -> None:
        self.frame = frame
        self.play_button.setEnabled(frame is not None)
        if seg is None or frame is None:
            self.header.setText("Hover or click a frame in the latent timeline.")
            self.bars.setOpts(x=[], height=[])
            self.dots.setData([], [])
            self._draw_trajectory(None)
            return
        where = f"¶{seg.number} · frame {frame.index} · {frame.time:.2f} s (timeline {seg.frame_start(frame.index):.2f} s)"
        if frame.end_of_speech:
            self.header.setText(f"{where} · end of speech (p = {frame.semantic_prob:.2f})")
        else:
            self.header.setText(f"{where} · semantic {frame.semantic_id} (p = {frame.semantic_prob:.2f})"
                                f"{unit_label(frame.unit)}")
        k = len(frame.acoustic)
        self.bars.setOpts(x=np.arange(k), height=np.asarray(frame.acoustic, dtype=np.float32), width=0.7)
        if not frame.end_of_speech:
            self.dots.setData(np.arange(k), fsq_values(frame.codes[1:], self.acoustic_levels))
        else:
            self.dots.setData([], [])
        self._draw_trajectory(frame.trajectory)

    def _draw_trajectory(self, traj: np.ndarray | None) -> None:
        """traj: float32 [steps + 1, K] or None."""
        for c in self.curves:
            self.trajectory_plot.removeItem(c)
        self.curves = []
        if traj is None:
            return
        steps, k = traj.shape[0] - 1, traj.shape[1]
        t = np.linspace(0.0, 1.0, steps + 1)
        for d in range(k):
            pen = pg.mkPen(pg.intColor(d, hues=max(k, 2)), width=1.5)
            self.curves.append(self.trajectory_plot.plot(t, traj[:, d], pen=pen, symbol="o", symbolSize=4,
                                                          symbolBrush=pg.intColor(d, hues=max(k, 2))))
