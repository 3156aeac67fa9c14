"""The latent timeline at 12.5 Hz: for every shown take, a semantic-token lane above a K x frames
acoustic heatmap, an end-of-speech marker, and the selected frame outlined.

Frame i of a take covers [start + i * 80 ms, start + (i + 1) * 80 ms) on the shared time axis.
"""

from __future__ import annotations

import colorsys

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from engine.api import FRAME_SECONDS
from studio.models.selection import Selection
from studio.models.timeline import Segment, Timeline
from studio.views.time_pane import TimePane

LANE_GAP, LANE_ROWS = 0.25, 1.5  # the semantic lane sits this far above the heatmap, this tall (rows)
_GOLDEN = 0.618033988749895
COLORMAPS = ("viridis", "magma", "inferno", "plasma", "cividis", "CET-D1")


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


class LatentView(TimePane):
    frame_hovered = QtCore.Signal(object)  # (paragraph id, frame index) or None

    def __init__(self, timeline: Timeline, selection: Selection, parent=None) -> None:
        super().__init__(timeline, selection, "latents", parent)
        self.setLabel("left", "acoustic dim")
        self.setLabel("bottom", "time", units="s")
        self.k = 8
        self.levels = (-1.0, 1.0)
        self.cmap = pg.colormap.get("viridis")
        # pid -> (source, generation, frames drawn, heatmap, lane, end marker)
        self._items: dict[str, list] = {}
        self.frame_box = QtWidgets.QGraphicsRectItem()
        self.frame_box.setPen(pg.mkPen("#ffffff", width=2))
        self.frame_box.setZValue(60)
        self.frame_box.setVisible(False)
        self.addItem(self.frame_box, ignoreBounds=True)
        self.hint = pg.TextItem("Render to see each 80 ms frame: semantic token above, acoustic values below",
                                color="#8a9a9a", anchor=(0.5, 0.5))
        self.addItem(self.hint, ignoreBounds=True)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.set_acoustic_dim(8)

    # ---- controls -------------------------------------------------------------------------------

    def set_acoustic_dim(self, k: int) -> None:
        """Lay out K acoustic rows plus the semantic lane."""
        self.k = k
        self.setYRange(0.0, k + LANE_GAP + LANE_ROWS, padding=0.02)
        step = max(1, k // 8)
        ticks = [(i + 0.5, str(i)) for i in range(0, k, step)] + [(k + LANE_GAP + LANE_ROWS / 2, "sem")]
        self.getAxis("left").setTicks([ticks, []])
        self._seen = None

    def set_colormap(self, name: str) -> None:
        self.cmap = pg.colormap.get(name)
        for entry in self._items.values():
            entry[3].setColorMap(self.cmap)

    def set_levels(self, lo: float, hi: float) -> None:
        if hi <= lo:
            raise ValueError("the colour range's top must be above its bottom")
        self.levels = (lo, hi)
        for entry in self._items.values():
            entry[3].setLevels(self.levels)

    def heatmap_of(self, pid: str) -> np.ndarray | None:
        """The drawn heatmap of a paragraph's shown take: float32 [K, frames]."""
        entry = self._items.get(pid)
        return None if entry is None else entry[3].image

    @property
    def frames_shown(self) -> int:
        return sum(e[2] for e in self._items.values())

    # ---- painting -------------------------------------------------------------------------------

    def needs_repaint(self) -> tuple:
        f = self.selection.frame
        return (self.timeline.version, f)

    def repaint_content(self) -> None:
        segs = {s.paragraph_id: s for s in self.timeline.segments}
        for pid in list(self._items):
            if pid not in segs:
                for item in self._items.pop(pid)[3:]:
                    self.removeItem(item)
        for seg in segs.values():
            self._show(seg)
        self.hint.setVisible(not segs)
        if not segs:
            t0, t1 = self.view_span()
            self.hint.setPos((t0 + t1) / 2, (self.k + LANE_ROWS) / 2)
        self._show_selected_frame()

    def _show(self, seg: Segment) -> None:
        entry = self._items.get(seg.paragraph_id)
        if entry is None:
            heat, lane = pg.ImageItem(axisOrder="row-major"), pg.ImageItem(axisOrder="row-major")
            heat.setColorMap(self.cmap)
            end = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#e05050", width=2, style=QtCore.Qt.DashLine))
            for item in (heat, lane, end):
                self.addItem(item, ignoreBounds=item is end)
            entry = [None, -1, -1, heat, lane, end]
            self._items[seg.paragraph_id] = entry
        src, gen = seg.source, getattr(seg.source, "generation", 0)
        frames = seg.frames
        speech = [f for f in frames if not f.end_of_speech]
        heat, lane, end = entry[3], entry[4], entry[5]
        if entry[0] is not src or entry[1] != gen or entry[2] != len(frames):
            entry[:3] = [src, gen, len(frames)]
            if speech:
                heat.setImage(np.stack([f.acoustic for f in speech]).T.astype(np.float32), autoLevels=False,
                              levels=self.levels)
                lane.setImage(token_colours([f.semantic_id for f in speech])[None], autoLevels=False)
            else:
                heat.clear()
                lane.clear()
        width = len(speech) * FRAME_SECONDS
        if speech:
            heat.setRect(QtCore.QRectF(seg.start, 0.0, width, self.k))
            lane.setRect(QtCore.QRectF(seg.start, self.k + LANE_GAP, width, LANE_ROWS))
        has_end = bool(frames) and frames[-1].end_of_speech
        end.setVisible(has_end)
        if has_end:
            end.setValue(seg.start + width)

    def _show_selected_frame(self) -> None:
        ref = self.selection.frame
        seg = self.timeline.segment_of(ref.paragraph_id) if ref else None
        visible = seg is not None and 0 <= ref.index < len(seg.frames)
        self.frame_box.setVisible(visible)
        if visible:
            self.frame_box.setRect(QtCore.QRectF(seg.frame_start(ref.index), 0.0, FRAME_SECONDS,
                                                 self.k + LANE_GAP + LANE_ROWS))

    def _on_mouse_moved(self, pos) -> None:
        if not self.sceneBoundingRect().contains(pos):
            return
        hit = self.timeline.frame_at(self.vb.mapSceneToView(pos).x())
        self.frame_hovered.emit(None if hit is None else (hit[0].paragraph_id, hit[1].index))
