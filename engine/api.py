"""Plain records shared by the engine, the CLI and the studio.

Nothing here imports torch, so the studio can use these types without paying the torch import and
without breaking the engine/studio boundary. Arrays are numpy.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Literal, Union

import numpy as np

FRAME_RATE = 12.5  # frames per second, fixed by the Voxtral codec family
FRAME_SECONDS = 1.0 / FRAME_RATE

MAX_TEXT_CHARS = 20_000
"""Longest text one request takes; longer text must be split into paragraphs by the caller."""


def fsq_values(levels: np.ndarray, n_levels: int) -> np.ndarray:
    """FSQ integer levels [...] (0..n_levels-1) -> the values in [-1, 1] they stand for (float32)."""
    return np.asarray(levels, dtype=np.float32) * (2.0 / (n_levels - 1)) - 1.0


class EngineError(Exception):
    """A request the engine cannot serve, with a message meant for the user."""


class Cancelled(EngineError):
    """The request was cancelled by its caller."""


@dataclass(frozen=True)
class SamplingParams:
    """How one frame is drawn.

    steps: Euler steps of the flow-matching ODE (1-32).
    guidance: classifier-free guidance alpha, ``v = a*v_cond + (1-a)*v_uncond`` (1.0 disables it).
    temperature: scale of the flow's start noise x0 ~ N(0, I) * temperature.
    semantic_temperature: 0 means greedy argmax for the semantic token, >0 samples.
    semantic_top_k: when sampling, keep the k most likely tokens (0 = all).
    seed: the generator seed; ``None`` means "draw one" (the drawn seed is always reported).
    max_seconds: hard cap on generated audio length.
    keep_trajectory: record the flow state after each ODE step in every frame.
    """

    steps: int = 8
    guidance: float = 1.2
    temperature: float = 1.0
    semantic_temperature: float = 0.0
    semantic_top_k: int = 0
    seed: int | None = None
    max_seconds: float = 30.0
    keep_trajectory: bool = True

    STEPS_RANGE = (1, 32)
    GUIDANCE_RANGE = (1.0, 3.0)
    TEMPERATURE_RANGE = (0.0, 2.0)
    MAX_SECONDS_RANGE = (0.08, 600.0)

    def validated(self) -> "SamplingParams":
        """Return self, or raise EngineError naming the first field out of range."""
        lo, hi = self.STEPS_RANGE
        if not isinstance(self.steps, int) or not lo <= self.steps <= hi:
            raise EngineError(f"steps must be a whole number from {lo} to {hi}, got {self.steps!r}")
        for name, (lo_f, hi_f) in (
            ("guidance", self.GUIDANCE_RANGE),
            ("temperature", self.TEMPERATURE_RANGE),
            ("max_seconds", self.MAX_SECONDS_RANGE),
        ):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not lo_f <= float(value) <= hi_f:
                raise EngineError(f"{name} must be from {lo_f} to {hi_f}, got {value!r}")
        if not 0.0 <= self.semantic_temperature <= 5.0:
            raise EngineError(f"semantic_temperature must be from 0 to 5, got {self.semantic_temperature!r}")
        if self.semantic_top_k < 0:
            raise EngineError(f"semantic_top_k must be 0 (all) or positive, got {self.semantic_top_k!r}")
        if self.seed is not None and not 0 <= self.seed < 2**63:
            raise EngineError(f"seed must be from 0 to 2**63-1, got {self.seed!r}")
        return self

    def with_seed(self, seed: int) -> "SamplingParams":
        return replace(self, seed=seed)


@dataclass(frozen=True)
class EngineConfig:
    """How the engine runs: which model, on which device, in which precision, with how many threads.

    model: a built-in model name or a model folder (None = the default built-in model).
    device: auto (CUDA when present), cpu, cuda or cuda:N. dtype: auto (bf16 on CUDA, fp32 on CPU),
    fp32, bf16 or fp16. threads: torch CPU threads (None = one fewer than the cores, at most 8; the spare
core decodes audio while the next frames generate). decode_context: frames of left
    context for streaming codec decode. cuda_graphs: replay the flow head from CUDA graphs on a GPU
    (False runs it eagerly, for comparison). voice_match: correct a WORLD codec's decoded features toward
    the voice's own clip (``engine.codec.voice_match``; False renders the decoder's features as they are).
    skip_phones: aligned-text models: let the text pointer jump over phones as its advance head says (by
    default it may jump over word boundaries and punctuation but stops on every phone for at least one
    frame: the head's jumps lost short vowels, "quick" heard as "poor"; ``engine.text_pointer``).
    """

    model: str | None = None
    device: str = "auto"
    dtype: str = "auto"
    threads: int | None = None
    decode_context: int = 25
    cuda_graphs: bool = True
    voice_match: bool = True
    skip_phones: bool = False


@dataclass(frozen=True)
class SynthesisRequest:
    """One render: text in one voice with one set of sampling parameters."""

    text: str
    voice: str = "default"
    params: SamplingParams = field(default_factory=SamplingParams)

    def validated(self) -> "SynthesisRequest":
        text = self.text.strip() if isinstance(self.text, str) else ""
        if not text:
            raise EngineError("the text is empty: type something to say")
        if len(text) > MAX_TEXT_CHARS:
            raise EngineError(
                f"the text has {len(text):,} characters; one render takes at most {MAX_TEXT_CHARS:,} "
                "(split it into paragraphs)"
            )
        self.params.validated()
        return replace(self, text=text)


@dataclass
class Frame:
    """One 80 ms frame as the model produced it.

    semantic_id: the semantic VQ code (0-based, specials removed), or -1 on the end-of-speech frame.
    acoustic: float32 [K], the flow's output before quantization (in [-1, 1] after clamping).
    codes: int64 [1 + K], the codes fed back and decoded (semantic id, then FSQ levels).
    trajectory: float32 [steps + 1, K], the flow state x_t at t = 0, 1/n, ..., 1 (None if not kept).
    unit: the text unit under an aligned-text model's pointer as the frame was drawn (a phone, ``_`` for
    a word boundary, or a punctuation mark); "" for models that read their text otherwise.
    """

    index: int
    semantic_id: int
    semantic_prob: float
    acoustic: np.ndarray
    codes: np.ndarray
    trajectory: np.ndarray | None = None
    end_of_speech: bool = False
    unit: str = ""

    @property
    def time(self) -> float:
        """Start time of the frame in seconds."""
        return self.index * FRAME_SECONDS


@dataclass(frozen=True)
class VoiceInfo:
    """A model's voice as the user picks it: name, language, gender and style (empty when none)."""

    name: str
    language: str = ""
    gender: str = ""
    style: str = ""


@dataclass(frozen=True)
class ModelInfo:
    """What the engine tells a caller about a loaded model."""

    name: str
    family: str
    model_hash: str
    sample_rate: int
    acoustic_dim: int
    semantic_size: int
    parameters: int
    device: str
    dtype: str
    trained: bool
    default_params: SamplingParams
    voices: tuple[str, ...]
    can_clone: bool
    note: str = ""
    acoustic_levels: int = 21
    unsupported: tuple[tuple[str, str], ...] = ()
    """Sampling parameters this model cannot honour, each with the reason (field name, reason)."""
    voice_details: tuple[VoiceInfo, ...] = ()
    """Language and gender per voice where the model knows them (the released Voxtral presets)."""


# ---- events: what a job yields ------------------------------------------------------------------


@dataclass(frozen=True)
class Loading:
    model: str
    device: str


@dataclass(frozen=True)
class Loaded:
    info: ModelInfo


@dataclass(frozen=True)
class Started:
    """Generation began; ``seed`` is the seed actually used (drawn when the request had none)."""

    request: SynthesisRequest
    seed: int
    max_frames: int


@dataclass(frozen=True)
class Progress:
    frames: int
    max_frames: int
    elapsed: float


@dataclass(frozen=True)
class FrameEvent:
    frame: Frame


@dataclass(frozen=True)
class AudioChunk:
    """float32 mono samples [n] at ``sample_rate``, starting at sample ``start``."""

    samples: np.ndarray
    start: int
    sample_rate: int


@dataclass(frozen=True)
class Done:
    """The finished take: all frames, the full waveform float32 [n], and timings."""

    request: SynthesisRequest
    seed: int
    frames: tuple[Frame, ...]
    audio: np.ndarray
    sample_rate: int
    model: str
    model_hash: str
    elapsed: float
    first_audio_latency: float


@dataclass(frozen=True)
class Failed:
    message: str
    cancelled: bool = False


Event = Union[Loading, Loaded, Started, Progress, FrameEvent, AudioChunk, Done, Failed]
EventKind = Literal["loading", "loaded", "started", "progress", "frame", "audio", "done", "failed"]


class CancelToken:
    """Set from any thread; the engine checks it between frames."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled")
