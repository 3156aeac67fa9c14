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


class _TakeItems:
    """The graphics of one shown take and what they were last drawn from (to skip needless work)."""

    def __init__(self, view: "LatentView") -> None:
        self.source: object = None
        self.generation = -1
        self.n_frames = self.n_speech = 0
        self.has_end = False
        self.visible = True
        self.placed: tuple[float, float, int] | None = None
        self.heat, self.lane = pg.ImageItem(axisOrder="row-major"), pg.ImageItem(axisOrder="row-major")
        self.heat.setColorMap(view.cmap)
        self.end = pg.InfiniteLine(angle=90, movable=False,
                                   pen=pg.mkPen("#e05050", width=2, style=QtCore.Qt.DashLine))
        self.end.setVisible(False)
        for item in (self.heat, self.lane, self.end):
            view.addItem(item, ignoreBounds=item is self.end)

    def graphics(self) -> tuple:
        return self.heat, self.lane, self.end


class LatentView(TimePane):
    frame_hovered = QtCore.Signal(object)  # (paragraph id, frame index) or None

    def __init__(self, timeline: Timeline, selection: Selection, parent=None) -> None:
        super().__init__(timeline, selection, "latents", parent)
        self.setLabel("left", "acoustic dim")
        self.setLabel("bottom", "time", units="s")
        self.k = 8
        self.levels = (-1.0, 1.0)
        self.cmap = pg.colormap.get("viridis")
        self._items: dict[str, _TakeItems] = {}  # paragraph id -> what shows its take
        self.frame_box = QtWidgets.QGraphicsRectItem()
        self.frame_box.setPen(pg.mkPen("#ff9f1c", width=2))
        self.frame_box.setBrush(pg.mkBrush(255, 255, 255, 70))
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
        for items in self._items.values():
            items.heat.setColorMap(self.cmap)

    def set_levels(self, lo: float, hi: float) -> None:
        if hi <= lo:
            raise ValueError("the colour range's top must be above its bottom")
        self.levels = (lo, hi)
        for items in self._items.values():
            items.heat.setLevels(self.levels)

    def heatmap_of(self, pid: str) -> np.ndarray | None:
        """The drawn heatmap of a paragraph's shown take: float32 [K, frames]."""
        items = self._items.get(pid)
        return None if items is None else items.heat.image

    @property
    def frames_shown(self) -> int:
        return sum(items.n_frames for items in self._items.values())

    # ---- painting -------------------------------------------------------------------------------

    def needs_repaint(self) -> tuple:
        return (self.timeline.version, self.selection.frame, self.view_span())

    def repaint_content(self) -> None:
        segs = {s.paragraph_id: s for s in self.timeline.segments}
        for pid in list(self._items):
            if pid not in segs:
                for item in self._items.pop(pid).graphics():
                    self.removeItem(item)
        t0, t1 = self.view_span()
        for seg in segs.values():
            self._show(seg)
            visible = bool(seg.end >= t0 and seg.start <= t1)
            items = self._items[seg.paragraph_id]
            if items.visible != visible:  # off-screen images are not painted at all
                items.visible = visible
                items.heat.setVisible(visible)
                items.lane.setVisible(visible)
        self.hint.setVisible(not segs)
        if not segs:
            t0, t1 = self.view_span()
            self.hint.setPos((t0 + t1) / 2, (self.k + LANE_ROWS) / 2)
        self._show_selected_frame()

    def _show(self, seg: Segment) -> None:
        items = self._items.get(seg.paragraph_id)
        if items is None:
            items = _TakeItems(self)
            self._items[seg.paragraph_id] = items
        src, gen, frames = seg.source, getattr(seg.source, "generation", 0), seg.frames
        if items.source is not src or items.generation != gen or items.n_frames != len(frames):
            speech = [f for f in frames if not f.end_of_speech]
            items.source, items.generation, items.n_frames, items.n_speech = src, gen, len(frames), len(speech)
            if speech:
                items.heat.setImage(np.stack([f.acoustic for f in speech]).T.astype(np.float32), autoLevels=False,
                                    levels=self.levels)
                items.lane.setImage(token_colours([f.semantic_id for f in speech])[None], autoLevels=False)
            else:
                items.heat.clear()
                items.lane.clear()
            items.has_end = bool(frames) and frames[-1].end_of_speech
            items.placed = None
        width = items.n_speech * FRAME_SECONDS
        placement = (seg.start, width, self.k)
        if items.placed != placement and items.n_speech:  # moving an image is not free: only when it moved
            items.placed = placement
            items.heat.setRect(QtCore.QRectF(seg.start, 0.0, width, self.k))
            items.lane.setRect(QtCore.QRectF(seg.start, self.k + LANE_GAP, width, LANE_ROWS))
            items.end.setValue(seg.start + width)
        items.end.setVisible(items.has_end)

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
