"""One render of one paragraph (a take): what was asked, what came back, how to reproduce it."""

from __future__ import annotations

import datetime as _dt
import uuid
from dataclasses import dataclass, field

import numpy as np

from engine import __version__
from engine.api import Done, Frame, SamplingParams
from studio.models.peaks import PeakPyramid
from studio.models.wording import count_of

PCM_24_SCALE = float(2**23)


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def to_pcm24_grid(audio: np.ndarray) -> np.ndarray:
    """float32 audio rounded to the 24-bit grid, so a FLAC (PCM_24) copy reloads bit for bit."""
    x = np.clip(np.asarray(audio, dtype=np.float64), -1.0, 1.0 - 1.0 / PCM_24_SCALE)
    return (np.round(x * PCM_24_SCALE) / PCM_24_SCALE).astype(np.float32)


@dataclass(eq=False)  # identity: a take is one object, however alike two renders are
class Take:
    """One render of one paragraph: what was asked, what came back, and how to reproduce it.

    audio: float32 mono [n] at ``sample_rate``; frames: the engine's records, in order.
    """

    id: str
    paragraph_id: str
    number: int
    text: str
    voice: str
    params: SamplingParams
    seed: int
    model: str
    model_hash: str
    frames: tuple[Frame, ...]
    audio: np.ndarray
    sample_rate: int
    elapsed: float
    first_audio_latency: float
    created: str = field(default_factory=lambda: _dt.datetime.now().isoformat(timespec="seconds"))
    engine_version: str = __version__
    _peaks: PeakPyramid | None = field(default=None, repr=False)

    @classmethod
    def from_done(cls, paragraph_id: str, number: int, done: Done) -> "Take":
        return cls(new_id(), paragraph_id, number, done.request.text, done.request.voice, done.request.params,
                   done.seed, done.model, done.model_hash, done.frames, to_pcm24_grid(done.audio),
                   done.sample_rate, done.elapsed, done.first_audio_latency)

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    @property
    def label(self) -> str:
        p = self.params
        return (f"take {self.number} · seed {self.seed} · {count_of(p.steps, 'step')} · α {p.guidance:g} · "
                f"{self.duration:.2f} s")

    @property
    def peaks(self) -> PeakPyramid:
        if self._peaks is None:
            self._peaks = PeakPyramid(self.audio)
        return self._peaks

    def metadata(self) -> dict:
        """What a take's exported files record (JSON-able)."""
        p = self.params
        return {"take": self.id, "paragraph": self.paragraph_id, "number": self.number, "text": self.text,
                "voice": self.voice, "seed": self.seed, "model": self.model, "model_hash": self.model_hash,
                "sample_rate": self.sample_rate, "engine_version": self.engine_version, "created": self.created,
                "params": {"steps": p.steps, "guidance": p.guidance, "temperature": p.temperature,
                           "semantic_temperature": p.semantic_temperature, "semantic_top_k": p.semantic_top_k,
                           "max_seconds": p.max_seconds}}
