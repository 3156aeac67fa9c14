"""Subtitles from the timeline: one cue per paragraph, long paragraphs split at sentence ends with
times shared out by length (SRT and WebVTT)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from studio.models.timeline import Timeline

MAX_CUE_CHARS = 84  # two lines of 42, the common broadcast limit
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def _pieces(text: str) -> list[str]:
    """Sentences, merged while they fit in one cue."""
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        if pieces and len(pieces[-1]) + 1 + len(sentence) <= MAX_CUE_CHARS:
            pieces[-1] += " " + sentence
        else:
            pieces.append(sentence)
    return pieces


def cues(timeline: Timeline, offset: float = 0.0, until: float | None = None) -> list[Cue]:
    """Cues of the segments in [offset, until), with times relative to ``offset``."""
    out = []
    for seg in timeline.segments:
        if seg.start < offset - 1e-6 or (until is not None and seg.start >= until - 1e-6):
            continue
        text = timeline.project.paragraph(seg.paragraph_id).spoken_text
        pieces = _pieces(text)
        total = sum(len(p) for p in pieces)
        t = seg.start
        for piece in pieces:
            end = t + seg.duration * len(piece) / total
            out.append(Cue(t - offset, end - offset, piece))
            t = end
    return out


def _stamp(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def to_srt(items: list[Cue]) -> str:
    return "".join(f"{i}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{c.text}\n\n"
                   for i, c in enumerate(items, start=1))


def to_vtt(items: list[Cue]) -> str:
    return "WEBVTT\n\n" + "".join(f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{c.text}\n\n" for c in items)
