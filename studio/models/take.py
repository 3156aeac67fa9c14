"""The take on screen: frames and audio as they stream in from the engine, and the render's state.

Audio lives in a growable buffer so streaming chunks append in O(1) amortised time; views read
``audio`` (a view of the filled part) on their repaint timer rather than on every chunk.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from engine.api import FRAME_RATE, AudioChunk, Done, Frame, Progress, Started
from studio.models.observable import Emitter


class RenderState(enum.Enum):
    EMPTY = "empty"
    RENDERING = "rendering"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(frozen=True)
class TakeInfo:
    """What a finished take records (shown after every render)."""

    text: str
    voice: str
    seed: int
    model: str
    model_hash: str
    elapsed: float
    first_audio_latency: float
    seconds: float

    @property
    def real_time_factor(self) -> float:
        return self.elapsed / self.seconds if self.seconds > 0 else float("inf")


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


class TakeModel:
    """Events: ``reset()``, ``frames_added(first_new_index)``, ``audio_added(n_samples)``,
    ``progress(frames, max_frames, elapsed)``, ``state_changed(state)``."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.audio = AudioBuffer()
        self.sample_rate = 16_000
        self.acoustic_dim = 0
        self.state = RenderState.EMPTY
        self.message = ""
        self.info: TakeInfo | None = None
        self.max_frames = 0
        self.reset = Emitter()
        self.frames_added = Emitter()
        self.audio_added = Emitter()
        self.progress = Emitter()
        self.state_changed = Emitter()

    # ---- written by the window from engine events ---------------------------------------------

    def begin(self, started: Started, sample_rate: int, acoustic_dim: int) -> None:
        self.frames.clear()
        self.audio.clear()
        self.sample_rate, self.acoustic_dim = sample_rate, acoustic_dim
        self.info, self.message, self.max_frames = None, "", started.max_frames
        self.reset.emit()
        self._set_state(RenderState.RENDERING)

    def add_frame(self, frame: Frame) -> None:
        self.frames.append(frame)
        self.frames_added.emit(len(self.frames) - 1)

    def add_audio(self, chunk: AudioChunk) -> None:
        self.audio.write(chunk.samples, chunk.start)
        self.audio_added.emit(len(chunk.samples))

    def set_progress(self, p: Progress) -> None:
        self.progress.emit(p.frames, p.max_frames, p.elapsed)

    def finish(self, done: Done) -> None:
        # Done carries the whole take: make the model equal it even if a chunk was dropped.
        self.frames = list(done.frames)
        self.audio.clear()
        self.audio.write(done.audio, 0)
        self.sample_rate = done.sample_rate
        self.info = TakeInfo(done.request.text, done.request.voice, done.seed, done.model, done.model_hash,
                             done.elapsed, done.first_audio_latency, len(done.audio) / done.sample_rate)
        self._set_state(RenderState.DONE)

    def fail(self, message: str, cancelled: bool) -> None:
        self.message = message
        self._set_state(RenderState.CANCELLED if cancelled else RenderState.FAILED)

    # ---- read by views --------------------------------------------------------------------------

    @property
    def duration(self) -> float:
        return self.audio.length / self.sample_rate

    def speech_frames(self) -> list[Frame]:
        return [f for f in self.frames if not f.end_of_speech]

    def acoustic_matrix(self) -> np.ndarray:
        """float32 [frames, K] of the speech frames' acoustic values (empty [0, K] before any)."""
        speech = self.speech_frames()
        if not speech:
            return np.zeros((0, self.acoustic_dim), dtype=np.float32)
        return np.stack([f.acoustic for f in speech]).astype(np.float32)

    def frame_at(self, seconds: float) -> Frame | None:
        i = int(seconds * FRAME_RATE)
        return self.frames[i] if 0 <= i < len(self.frames) and seconds >= 0 else None

    def _set_state(self, state: RenderState) -> None:
        self.state = state
        self.state_changed.emit(state)
