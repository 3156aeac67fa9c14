"""The latent timeline at 12.5 Hz: a semantic-token lane above an acoustic heatmap (K x frames).

Frame i covers [i * 80 ms, (i + 1) * 80 ms) on the shared time axis. Hovering a frame emits its index.
"""

from __future__ import annotations

import colorsys

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from engine.api import FRAME_SECONDS
from studio.models.take import TakeModel
from studio.views.waveform import AXIS_WIDTH

REPAINT_MS = 33
LANE_ROWS = 1.5  # height of the semantic lane, in heatmap rows
_GOLDEN = 0.618033988749895


def _palette(n: int = 4096) -> np.ndarray:
    """n colours whose hues step by the golden ratio, so neighbouring ids look far apart."""
    hues = (np.arange(n) * _GOLDEN) % 1.0
    return (np.array([colorsys.hsv_to_rgb(h, 0.7, 0.92) for h in hues]) * 255).astype(np.uint8)


_PALETTE = _palette()


def token_colours(ids: np.ndarray) -> np.ndarray:
    """Semantic ids [n] -> uint8 RGB [n, 3]; END (-1) is grey."""
    ids = np.asarray(ids, dtype=np.int64)
    rgb = _PALETTE[ids % len(_PALETTE)].copy()
    rgb[ids < 0] = 110
    return rgb


class LatentView(pg.PlotWidget):
    """Heatmap of ``take``'s acoustic values (levels -1..1) with the semantic lane on top."""

    frame_hovered = QtCore.Signal(int)  # frame index, -1 when the cursor leaves the frames

    def __init__(self, take: TakeModel, parent=None) -> None:
        super().__init__(parent)
        self.take = take
        self.setObjectName("latents")
        self.setMenuEnabled(False)
        self.setLabel("left", "acoustic dim")
        self.setLabel("bottom", "time", units="s")
        self.getViewBox().setMouseEnabled(x=True, y=False)
        self.getViewBox().setLimits(xMin=0.0)
        self.heatmap = pg.ImageItem(axisOrder="row-major")
        self.heatmap.setColorMap(pg.colormap.get("viridis"))
        self.heatmap.setLevels((-1.0, 1.0))
        self.lane = pg.ImageItem(axisOrder="row-major")
        self.addItem(self.heatmap)
        self.addItem(self.lane)
        self.end_marker = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#e05050", width=2,
                                                                                 style=QtCore.Qt.DashLine))
        self.end_marker.setVisible(False)
        self.addItem(self.end_marker)
        self._shown_frames = -1
        self._ticks_for = -1
        self.getAxis("left").setWidth(AXIS_WIDTH)
        self.hint = pg.TextItem("Render to see each 80 ms frame: semantic token above, acoustic values below",
                                color="#9aa", anchor=(0.5, 0.5))
        self.addItem(self.hint, ignoreBounds=True)
        self.set_acoustic_dim(8)
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(REPAINT_MS)
        self._timer.timeout.connect(self._repaint)
        self._timer.start()
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        take.reset.connect(self._on_reset)

    @property
    def frames_shown(self) -> int:
        return max(self._shown_frames, 0)

    def image(self) -> np.ndarray | None:
        """The heatmap as drawn: float32 [K, frames] (row-major: rows are acoustic dims)."""
        return self.heatmap.image

    def set_acoustic_dim(self, k: int) -> None:
        """Lay out the rows for K acoustic dims plus the semantic lane (before any frame arrives too)."""
        self.setYRange(0.0, k + 0.25 + LANE_ROWS, padding=0.02)
        if self._ticks_for != k:
            self._ticks_for = k
            step = max(1, k // 8)
            ticks = [(i + 0.5, str(i)) for i in range(0, k, step)] + [(k + 0.25 + LANE_ROWS / 2, "sem")]
            self.getAxis("left").setTicks([ticks, []])
        self.hint.setPos(0.5, (k + LANE_ROWS) / 2)

    def _on_reset(self) -> None:
        self._shown_frames = -1
        self.heatmap.clear()
        self.lane.clear()
        self.hint.setVisible(True)
        self.end_marker.setVisible(False)

    def _repaint(self) -> None:
        take = self.take
        n = len(take.frames)
        if n == self._shown_frames:
            return
        self._shown_frames = n
        speech = take.speech_frames()
        if not speech:
            return
        k = take.acoustic_dim
        acoustic = take.acoustic_matrix()  # (frames, K)
        self.heatmap.setImage(acoustic.T, autoLevels=False)  # (K, frames)
        self.heatmap.setRect(QtCore.QRectF(0.0, 0.0, len(speech) * FRAME_SECONDS, k))
        ids = np.array([f.semantic_id for f in speech])
        self.lane.setImage(token_colours(ids)[None], autoLevels=False)  # (1, frames, 3)
        self.lane.setRect(QtCore.QRectF(0.0, k + 0.25, len(speech) * FRAME_SECONDS, LANE_ROWS))
        self.set_acoustic_dim(k)
        self.hint.setVisible(False)
        end = next((f for f in take.frames if f.end_of_speech), None)
        self.end_marker.setVisible(end is not None)
        if end is not None:
            self.end_marker.setValue(end.time)

    def _on_mouse_moved(self, pos) -> None:
        vb = self.getViewBox()
        if not self.sceneBoundingRect().contains(pos):
            return
        point = vb.mapSceneToView(pos)
        frame = self.take.frame_at(point.x())
        self.frame_hovered.emit(frame.index if frame is not None else -1)
