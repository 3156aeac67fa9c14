"""The spectrogram pane: one image per shown take, in dB mapped to 8 bits (an hour of speech is
~46 MB). Images are computed a chunk at a time within a small budget per repaint tick, for the takes
in view only, so neither a long render nor opening an hour of takes ever stalls the window."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from studio.models.selection import Selection
from studio.models.timeline import Segment, Timeline
from studio.views.time_pane import TimePane

BUDGET_SECONDS = 0.004  # spectrogram work per repaint tick; the rest waits for the next tick
CHUNK_FRAMES = 150  # 1.5 s of audio per step (~1.5 ms): the budget is overshot by at most one step
N_FFT = 512
BINS = N_FFT // 4  # neighbouring FFT bins are averaged in pairs: half the memory, plenty for a view
HOP_SECONDS = 0.01
FLOOR_DB = -80.0
_WINDOW = np.hanning(N_FFT).astype(np.float32)


def spectrogram_u8(audio: np.ndarray, sample_rate: int, first_frame: int = 0,
                   max_frames: int | None = None) -> np.ndarray:
    """audio [n] -> uint8 [BINS, frames] (one frame per 10 ms): 0 = FLOOR_DB, 255 = 0 dB.

    Only whole frames are computed, from ``first_frame`` on (at most ``max_frames`` of them), so a
    growing buffer can be extended and a long one computed in steps.
    """
    hop = max(1, int(sample_rate * HOP_SECONDS))
    x = np.asarray(audio, dtype=np.float32)
    frames = max(0, 1 + (len(x) - N_FFT) // hop) - first_frame
    if max_frames is not None:
        frames = min(frames, max_frames)
    if frames <= 0:
        return np.zeros((BINS, 0), dtype=np.uint8)
    idx = np.arange(N_FFT)[None, :] + hop * (first_frame + np.arange(frames))[:, None]
    spec = np.abs(np.fft.rfft(x[idx] * _WINDOW, axis=1))  # (frames, N_FFT / 2 + 1)
    spec = 0.5 * (spec[:, 0:N_FFT // 2:2] + spec[:, 1:N_FFT // 2:2])  # (frames, BINS)
    db = 20 * np.log10(np.maximum(spec * (4.0 / N_FFT), 1e-6))
    return ((np.clip(db, FLOOR_DB, 0.0) - FLOOR_DB) * (255.0 / -FLOOR_DB)).astype(np.uint8).T


def total_frames(n_samples: int, sample_rate: int) -> int:
    hop = max(1, int(sample_rate * HOP_SECONDS))
    return max(0, 1 + (n_samples - N_FFT) // hop)


class _TakeImage:
    """One take's image and how far it has been computed."""

    def __init__(self, view: "SpectrogramView") -> None:
        self.source: object = None
        self.generation = -1
        self.columns = np.zeros((BINS, 0), dtype=np.uint8)
        self.placed: QtCore.QRectF | None = None
        self.item = pg.ImageItem(axisOrder="row-major")
        self.item.setColorMap(view.cmap)
        self.item.setLevels((0, 255))
        view.addItem(self.item)

    def reset(self, source: object, generation: int) -> None:
        self.source, self.generation = source, generation
        self.columns = np.zeros((BINS, 0), dtype=np.uint8)
        self.item.clear()
        self.placed = None

    def missing(self) -> int:
        return total_frames(len(self.source.audio), self.source.sample_rate) - self.columns.shape[1]

    def extend(self) -> None:
        src = self.source
        more = spectrogram_u8(src.audio, src.sample_rate, self.columns.shape[1], CHUNK_FRAMES)
        self.columns = np.concatenate([self.columns, more], axis=1)
        self.item.setImage(self.columns, autoLevels=False)
        self.placed = None


class SpectrogramView(TimePane):
    def __init__(self, timeline: Timeline, selection: Selection, parent=None) -> None:
        super().__init__(timeline, selection, "spectrogram", parent)
        self.setLabel("left", "kHz")
        self.hideAxis("bottom")  # the latent pane below carries the time axis (and an axis costs ~1 ms a paint)
        self.cmap = pg.colormap.get("inferno")
        self._images: dict[str, _TakeImage] = {}  # paragraph id -> its shown take's image
        self.setYRange(0.0, 8.0, padding=0.0)

    def set_colormap(self, name: str) -> None:
        self.cmap = pg.colormap.get(name)
        for img in self._images.values():
            img.item.setColorMap(self.cmap)

    def image_of(self, pid: str) -> np.ndarray | None:
        img = self._images.get(pid)
        return None if img is None or not img.columns.shape[1] else img.columns

    @property
    def complete(self) -> bool:
        """Every shown take's image is computed to its end, from the take the timeline shows now
        (a finished render replaces its live source; until the next tick the image is stale)."""
        segs = self.timeline.segments
        if len(self._images) != len(segs):
            return False
        for seg in segs:
            img = self._images.get(seg.paragraph_id)
            if (img is None or img.source is not seg.source
                    or img.generation != getattr(seg.source, "generation", 0) or img.missing() != 0):
                return False
        return True

    def repaint_content(self) -> None:
        segs = {s.paragraph_id: s for s in self.timeline.segments}
        for pid in list(self._images):
            if pid not in segs:
                self.removeItem(self._images.pop(pid).item)
        t0, t1 = self.view_span()
        deadline = time.perf_counter() + BUDGET_SECONDS
        top = 8.0
        for pid, seg in segs.items():
            img = self._images.get(pid)
            if img is None:
                img = self._images[pid] = _TakeImage(self)
            gen = getattr(seg.source, "generation", 0)
            if img.source is not seg.source or img.generation != gen or img.missing() < 0:
                img.reset(seg.source, gen)
            visible = bool(seg.end >= t0 and seg.start <= t1)
            while visible and img.missing() > 0:
                if time.perf_counter() > deadline:
                    self._seen = None  # out of time: the next tick goes on
                    break
                img.extend()
            if img.item.isVisible() != visible:
                img.item.setVisible(visible)  # off-screen images are not painted at all
            self._place(seg, img)
            top = max(top, seg.source.sample_rate / 2000)
        self.vb.setLimits(yMin=0.0, yMax=top)

    @staticmethod
    def _place(seg: Segment, img: _TakeImage) -> None:
        """Move a take's image to its segment (segments after a growing render move right)."""
        if img.columns.shape[1]:
            rect = QtCore.QRectF(seg.start, 0.0, img.columns.shape[1] * HOP_SECONDS, seg.source.sample_rate / 2000)
            if img.placed != rect:  # moving an image is not free: only when it moved
                img.placed = rect
                img.item.setRect(rect)
