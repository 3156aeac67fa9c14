"""What the clip pipeline hands back: the error, what was read, what is wrong, the prepared reference."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.api import EngineError

ISSUE_CODES = ("clipping", "noise", "too_little_speech", "music", "several_speakers", "low_sample_rate",
               "trimmed_long")


class ClipError(EngineError):
    """A clip that cannot be used at all (missing, not audio, corrupt, silent, too short or long).

    The message names the file and says what to do.
    """


@dataclass(frozen=True)
class ClipSource:
    """What was read from one file.

    subtype: libsndfile's sample format, e.g. "PCM_16", "PCM_24", "FLOAT", "VORBIS", "MPEG_LAYER_III".
    seconds: duration of the file.
    """

    path: Path
    sample_rate: int
    channels: int
    subtype: str
    seconds: float


@dataclass(frozen=True)
class ClipIssue:
    """Something the user should know about the clips, in plain words, with what to do about it.

    blocking: True when a voice must not be made from these clips (e.g. under 3 s of speech);
    False for a warning.
    """

    code: str
    message: str
    advice: str
    blocking: bool = False

    def __post_init__(self) -> None:
        if self.code not in ISSUE_CODES:
            raise ValueError(f"unknown clip issue code {self.code!r}")


@dataclass(frozen=True)
class PreparedReference:
    """Clips made ready to encode as a voice prompt.

    full: float32 [n] mono at ``sample_rate``: every clip with its leading/trailing silence cut, each
        loudness-normalised, joined with 0.3 s of silence (for long input, only the part kept; see the
        "trimmed_long" issue).
    segment: (start, end) seconds within ``full``: the 5-15 s used as the reference (picked
        automatically, or the user's selection).
    speech_seconds: seconds of speech inside ``segment``.
    """

    full: np.ndarray
    sample_rate: int
    segment: tuple[float, float]
    issues: tuple[ClipIssue, ...]
    sources: tuple[ClipSource, ...]
    speech_seconds: float

    @property
    def audio(self) -> np.ndarray:
        """The segment of ``full``: float32 [m]."""
        start, end = (round(s * self.sample_rate) for s in self.segment)
        return self.full[start:end]

    @property
    def blocking(self) -> tuple[ClipIssue, ...]:
        """The issues that forbid making a voice from these clips."""
        return tuple(i for i in self.issues if i.blocking)
