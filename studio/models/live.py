"""The render in flight: frames and audio as they stream in from the engine thread.

Audio lives in a growable buffer (chunks append in amortised O(1)); views read it on their repaint
timer, not on every chunk.
"""

from __future__ import annotations

import numpy as np

from engine.api import AudioChunk, Frame, Progress, Started
from studio.models.observable import Emitter
from studio.models.peaks import PeakPyramid


class AudioBuffer:
    """float32 mono samples [n], written at arbitrary offsets (chunks arrive in order)."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._data = np.zeros(capacity, dtype=np.float32)
        self.length = 0

    def clear(self) -> None:
        self.length = 0

    def write(self, samples: np.ndarray, start: int) -> None:
        end = start + len(samples)
        if end > len(self._data):
            grown = np.zeros(max(end, 2 * len(self._data)), dtype=np.float32)
            grown[: self.length] = self._data[: self.length]
            self._data = grown
        self._data[start:end] = samples
        self.length = max(self.length, end)

    @property
    def samples(self) -> np.ndarray:
        """The filled part, float32 [length] (a view: copy it before keeping it)."""
        return self._data[: self.length]


class LiveRender:
    """Which paragraph is rendering and what has arrived so far.

    Events: ``started(pid)``, ``grew()`` (frames or audio arrived), ``progress(pid, frames, max, elapsed)``,
    ``ended(pid)``.
    """

    def __init__(self) -> None:
        self.paragraph_id: str | None = None
        self.frames: list[Frame] = []
        self.buffer = AudioBuffer()
        self.sample_rate = 16_000
        self.max_frames = 0
        self.generation = 0  # increments with every render, so caches of the last one are not reused
        self.started = Emitter()
        self.grew = Emitter()
        self.progress = Emitter()
        self.ended = Emitter()
        self._peaks: PeakPyramid | None = None
        self._peaks_len = -1

    @property
    def active(self) -> bool:
        return self.paragraph_id is not None

    def begin(self, pid: str, started: Started, sample_rate: int) -> None:
        self.paragraph_id = pid
        self.generation += 1
        self.frames = []
        self.buffer.clear()
        self.sample_rate, self.max_frames = sample_rate, started.max_frames
        self._peaks_len = -1
        self.started.emit(pid)

    def add_frame(self, frame: Frame) -> None:
        self.frames.append(frame)
        self.grew.emit()

    def add_audio(self, chunk: AudioChunk) -> None:
        self.buffer.write(chunk.samples, chunk.start)
        self.grew.emit()

    def set_progress(self, p: Progress) -> None:
        if self.paragraph_id is not None:
            self.progress.emit(self.paragraph_id, p.frames, p.max_frames, p.elapsed)

    def end(self) -> None:
        pid, self.paragraph_id = self.paragraph_id, None
        self.frames = []
        self.buffer.clear()
        if pid is not None:
            self.ended.emit(pid)

    # the same read interface as a Take, so the timeline treats both alike
    @property
    def audio(self) -> np.ndarray:
        return self.buffer.samples

    @property
    def peaks(self) -> PeakPyramid:
        if self._peaks is None or self._peaks_len != self.buffer.length:
            self._peaks = PeakPyramid(self.buffer.samples.copy())
            self._peaks_len = self.buffer.length
        return self._peaks
