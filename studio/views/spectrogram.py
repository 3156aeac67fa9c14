"""The spectrogram pane: one image per shown take, computed once per take (and while streaming,
for the growing render), in dB mapped to 8 bits so an hour of speech stays small in memory."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from studio.models.selection import Selection
from studio.models.timeline import Segment, Timeline
from studio.views.time_pane import TimePane

N_FFT = 512
HOP_SECONDS = 0.01
FLOOR_DB = -80.0


def spectrogram_u8(audio: np.ndarray, sample_rate: int, first_frame: int = 0) -> np.ndarray:
    """audio [n] -> uint8 [bins, frames] (N_FFT // 2 + 1 bins, one frame per 10 ms): 0 = FLOOR_DB, 255 = 0 dB.

    Only whole frames are computed, so a growing buffer can be extended from ``first_frame`` on.
    """
    hop = max(1, int(sample_rate * HOP_SECONDS))
    x = np.asarray(audio, dtype=np.float32)
    frames = max(0, 1 + (len(x) - N_FFT) // hop) - first_frame
    if frames <= 0:
        return np.zeros((N_FFT // 2 + 1, 0), dtype=np.uint8)
    idx = np.arange(N_FFT)[None, :] + hop * (first_frame + np.arange(frames))[:, None]
    spec = np.abs(np.fft.rfft(x[idx] * np.hanning(N_FFT).astype(np.float32), axis=1))  # (frames, bins)
    db = 20 * np.log10(np.maximum(spec / (N_FFT / 4), 1e-6))
    return ((np.clip(db, FLOOR_DB, 0.0) - FLOOR_DB) * (255.0 / -FLOOR_DB)).astype(np.uint8).T


class SpectrogramView(TimePane):
    def __init__(self, timeline: Timeline, selection: Selection, parent=None) -> None:
        super().__init__(timeline, selection, "spectrogram", parent)
        self.setLabel("left", "kHz")
        self._images: dict[str, tuple[tuple, int, pg.ImageItem]] = {}  # pid -> ((source, generation), length, item)
        self._cmap = pg.colormap.get("inferno")
        self.setYRange(0.0, 8.0, padding=0.0)

    def set_colormap(self, name: str) -> None:
        self._cmap = pg.colormap.get(name)
        for _, _, item in self._images.values():
            item.setColorMap(self._cmap)

    def image_of(self, pid: str) -> np.ndarray | None:
        entry = self._images.get(pid)
        return None if entry is None else entry[2].image

    def repaint_content(self) -> None:
        segs = {s.paragraph_id: s for s in self.timeline.segments}
        for pid in list(self._images):
            if pid not in segs:
                self.removeItem(self._images.pop(pid)[2])
        top = 8.0
        for pid, seg in segs.items():
            self._show(seg)
            top = max(top, seg.source.sample_rate / 2000)
        self.vb.setLimits(yMin=0.0, yMax=top)

    def _show(self, seg: Segment) -> None:
        src, n = seg.source, len(seg.source.audio)
        key = (src, getattr(src, "generation", 0))
        entry = self._images.get(seg.paragraph_id)
        if entry is None:
            item = pg.ImageItem(axisOrder="row-major")
            item.setColorMap(self._cmap)
            item.setLevels((0, 255))
            self.addItem(item)
        else:
            item = entry[2]
        same = entry is not None and entry[0][0] is src and entry[0][1] == key[1]
        if not same or entry[1] != n:
            old = item.image if same and entry[1] < n else None
            if old is not None:  # a growing render: compute only the new frames
                image = np.concatenate([old, spectrogram_u8(src.audio, src.sample_rate, old.shape[1])], axis=1)
            else:
                image = spectrogram_u8(src.audio, src.sample_rate)
            if image.shape[1]:
                item.setImage(image, autoLevels=False)
            else:
                item.clear()
            self._images[seg.paragraph_id] = (key, n, item)
        if item.image is not None:
            frames = item.image.shape[1]
            item.setRect(QtCore.QRectF(seg.start, 0.0, frames * HOP_SECONDS, src.sample_rate / 2000))
