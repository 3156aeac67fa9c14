"""The latent timeline at 12.5 Hz: for every shown take, a semantic-token lane above a K x frames
acoustic heatmap, an end-of-speech marker, and the selected frame outlined. Both are drawn as one
screen-sized picture of the visible range (see ``viewport``).

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
from studio.views.time_axis import TimeAxis
from studio.views.time_pane import TimePane
from studio.views.viewport import ViewportImage, locate_columns, pack_rgba, pixel_times, rgba, rgba_lut

LANE_GAP, LANE_ROWS = 0.25, 1.5  # the semantic lane sits this far above the heatmap, this tall (rows)
_GOLDEN = 0.618033988749895
END_PIXEL = rgba(224, 80, 80)
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


class _TakeLatents:
    """One shown take's frames as arrays, and what they were made from (to skip needless work)."""

    def __init__(self, k: int) -> None:
        self.source: object = None
        self.generation = -1
        self.n_frames = 0
        self.has_end = False
        self.acoustic = np.zeros((k, 0), dtype=np.float32)  # (K, speech frames)
        self.colours = np.zeros(0, dtype=np.uint32)  # (speech frames,) RGBA pixels of the semantic ids

    def update(self, seg: Segment) -> None:
        src, gen, frames = seg.source, getattr(seg.source, "generation", 0), seg.frames
        if self.source is src and self.generation == gen and self.n_frames == len(frames):
            return
        speech = [f for f in frames if not f.end_of_speech]
        self.source, self.generation, self.n_frames = src, gen, len(frames)
        self.has_end = bool(frames) and frames[-1].end_of_speech
        if speech:
            self.acoustic = np.stack([f.acoustic for f in speech]).T.astype(np.float32)
            self.colours = pack_rgba(np.concatenate([token_colours([f.semantic_id for f in speech]),
                                                     np.full((len(speech), 1), 255, np.uint8)], axis=1))
        else:
            self.acoustic = np.zeros((self.acoustic.shape[0], 0), dtype=np.float32)
            self.colours = np.zeros(0, dtype=np.uint32)


class LatentView(TimePane):
    frame_hovered = QtCore.Signal(object)  # (paragraph id, frame index) or None

    def __init__(self, timeline: Timeline, selection: Selection, parent=None) -> None:
        super().__init__(timeline, selection, "latents", parent)
        self.setLabel("left", "acoustic dim")
        self.setAxisItems({"bottom": TimeAxis()})
        self.k = 8
        self.levels = (-1.0, 1.0)
        self.cmap = pg.colormap.get("viridis")
        self._lut = rgba_lut(self.cmap)
        self._takes: dict[str, _TakeLatents] = {}  # paragraph id -> its shown take's frames
        self._version = -1  # the timeline version the takes' arrays are from
        self._refresh([])
        self.heat, self.lane = ViewportImage(self), ViewportImage(self)
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
        self._version = -1  # the arrays are padded or cut to K rows
        self._seen = None

    def set_colormap(self, name: str) -> None:
        self.cmap = pg.colormap.get(name)
        self._lut = rgba_lut(self.cmap)
        self._seen = None

    def set_levels(self, lo: float, hi: float) -> None:
        if hi <= lo:
            raise ValueError("the colour range's top must be above its bottom")
        self.levels = (lo, hi)
        self._seen = None

    def heatmap_of(self, pid: str) -> np.ndarray | None:
        """The heatmap of a paragraph's shown take: float32 [K, frames]."""
        take = self._takes.get(pid)
        return None if take is None or not take.acoustic.shape[1] else take.acoustic

    @property
    def frames_shown(self) -> int:
        return sum(take.n_frames for take in self._takes.values())

    # ---- painting -------------------------------------------------------------------------------

    def needs_repaint(self) -> tuple:
        return (*super().needs_repaint(), self.selection.frame)

    def repaint_content(self) -> None:
        segs = self.timeline.segments
        if self._version != self.timeline.version:  # takes changed or grew: refresh their arrays
            self._version = self.timeline.version
            self._refresh(segs)
        t0, t1 = self.view_span()
        width = max(int(self.vb.width()), 1)
        heat, lane = self.heat.blank(self.k, width), self.lane.blank(1, width)
        pixels, cols = locate_columns(pixel_times(t0, t1, width), self._starts, self._counts, FRAME_SECONDS)
        lo, hi = self.levels
        shade = np.clip((self._acoustic[:, cols] - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)
        heat[:, pixels] = self._lut[shade]
        lane[0, pixels] = self._colours[cols]
        for end in self._ends:  # the end-of-speech markers: dashed red columns
            x = int((end - t0) / (t1 - t0) * width)
            if 0 <= x < width:
                heat[::2, x] = lane[:, x] = END_PIXEL
        self.heat.show(heat, t0, t1, 0.0, self.k)
        self.lane.show(lane, t0, t1, self.k + LANE_GAP, LANE_ROWS)
        self.hint.setVisible(not segs)
        if not segs:
            self.hint.setPos((t0 + t1) / 2, (self.k + LANE_ROWS) / 2)
        self._show_selected_frame()

    def _refresh(self, segs: list[Segment]) -> None:
        """Every shown take's frames, laid end to end in one array (a picture of any view is then
        one gather, whether it shows one take or an hour of them)."""
        shown = {s.paragraph_id for s in segs}
        self._takes = {pid: take for pid, take in self._takes.items() if pid in shown}
        for seg in segs:
            self._takes.setdefault(seg.paragraph_id, _TakeLatents(self.k)).update(seg)
        takes = [self._takes[s.paragraph_id] for s in segs]
        k = self.k
        self._starts = np.array([s.start for s in segs], dtype=np.float64)
        self._counts = np.array([t.acoustic.shape[1] for t in takes], dtype=np.int64)
        self._acoustic = np.concatenate([np.zeros((k, 0), np.float32)]
                                        + [np.pad(t.acoustic[:k], ((0, max(0, k - t.acoustic.shape[0])), (0, 0)))
                                           for t in takes], axis=1)
        self._colours = np.concatenate([np.zeros(0, np.uint32)] + [t.colours for t in takes])
        self._ends = [s.start + n * FRAME_SECONDS for s, t, n in zip(segs, takes, self._counts) if t.has_end]

    def end_markers(self) -> list[float]:
        """Where each shown take's end-of-speech marker is, in timeline seconds."""
        return list(self._ends)

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
