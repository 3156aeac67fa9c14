"""The script on one time axis: each rendered paragraph's shown take, in order, with a pause between.

The shown take of a paragraph is the render in flight when it is rendering, else its chosen take.
Every pane (waveform, spectrogram, latents, paragraph lane) and the transport read positions here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import soxr

from engine.api import FRAME_SECONDS, Frame
from studio.models.live import LiveRender
from studio.models.observable import Emitter
from studio.models.peaks import PeakPyramid
from studio.models.project import Project

DEFAULT_GAP = 0.3  # seconds of silence between paragraphs
DEFAULT_CHAPTER_GAP = 1.5  # and before the first paragraph of a new chapter


class Source(Protocol):
    """What a segment shows: a Take or the LiveRender (audio float32 [n] at sample_rate)."""

    audio: np.ndarray
    sample_rate: int

    @property
    def peaks(self) -> PeakPyramid: ...


@dataclass(frozen=True)
class Segment:
    paragraph_id: str
    number: int  # 1-based paragraph number in the script
    start: float  # seconds on the timeline
    source: object  # a Take or the LiveRender
    live: bool

    @property
    def frames(self) -> list[Frame] | tuple[Frame, ...]:
        return self.source.frames

    @property
    def duration(self) -> float:
        return len(self.source.audio) / self.source.sample_rate

    @property
    def end(self) -> float:
        return self.start + self.duration

    def frame_start(self, index: int) -> float:
        return self.start + index * FRAME_SECONDS


@dataclass(frozen=True)
class Chapter:
    title: str
    heading_id: str  # the heading paragraph
    start: float  # seconds on the timeline


class Timeline:
    """Events: ``changed()`` when the layout or a shown take changes (not on every live chunk:
    views poll ``live_version`` on their timers to follow a render); ``gaps_changed()`` when a pause
    between paragraphs or before a chapter changes (the project saves them)."""

    def __init__(self, project: Project, live: LiveRender, sample_rate: int = 16_000, gap: float = DEFAULT_GAP,
                 chapter_gap: float = DEFAULT_CHAPTER_GAP):
        self.project, self.live = project, live
        self.sample_rate, self.gap, self.chapter_gap = sample_rate, gap, chapter_gap
        self.changed, self.gaps_changed = Emitter(), Emitter()
        self._segments: list[Segment] | None = None
        self._chapters: list[Chapter] = []
        self.version = 0  # increments on every change, live growth included
        for em in (project.structure_changed, project.takes_changed, project.text_changed,
                   project.voices_changed, project.defaults_changed, live.started, live.ended):
            em.connect(lambda *a: self.invalidate())
        live.grew.connect(self._on_live_grew)

    def invalidate(self) -> None:
        self._segments = None
        self.version += 1
        self.changed.emit()

    def _on_live_grew(self) -> None:
        self._segments = None  # later segments move as the live one grows
        self.version += 1

    def set_gap(self, seconds: float, chapter_seconds: float | None = None) -> None:
        before = (self.gap, self.chapter_gap)
        self.gap = max(0.0, float(seconds))
        if chapter_seconds is not None:
            self.chapter_gap = max(0.0, float(chapter_seconds))
        if (self.gap, self.chapter_gap) != before:
            self.invalidate()
            self.gaps_changed.emit()

    # ---- layout -------------------------------------------------------------------------------

    @property
    def segments(self) -> list[Segment]:
        if self._segments is None:
            segs, chapters, t, new_chapter = [], [], 0.0, False
            for number, p in enumerate(self.project.paragraphs, start=1):
                if p.heading is not None:
                    chapters.append([p.heading, p.id, None])
                    new_chapter = True
                    continue
                live = self.live.paragraph_id == p.id
                source = self.live if live else p.current
                if source is None or (not live and len(source.audio) == 0):
                    continue
                if segs:
                    t += self.chapter_gap if new_chapter else self.gap
                new_chapter = False
                seg = Segment(p.id, number, t, source, live)
                segs.append(seg)
                for c in chapters:
                    if c[2] is None:
                        c[2] = t  # a chapter starts with its first rendered paragraph
                t = seg.end
            self._segments = segs
            self._chapters = [Chapter(title, pid, start) for title, pid, start in chapters if start is not None]
        return self._segments

    @property
    def chapters(self) -> list["Chapter"]:
        """The headings that have rendered speech after them, with where that speech starts."""
        self.segments  # noqa: B018 (lays out chapters too)
        return self._chapters

    @property
    def duration(self) -> float:
        segs = self.segments
        return segs[-1].end if segs else 0.0

    def segment_of(self, pid: str) -> Segment | None:
        return next((s for s in self.segments if s.paragraph_id == pid), None)

    def segment_at(self, t: float) -> Segment | None:
        return next((s for s in self.segments if s.start <= t < s.end), None)

    def frame_at(self, t: float) -> tuple[Segment, Frame] | None:
        seg = self.segment_at(t)
        if seg is None:
            return None
        i = int((t - seg.start) / FRAME_SECONDS)
        frames = seg.frames
        return (seg, frames[i]) if 0 <= i < len(frames) else None

    # ---- audio --------------------------------------------------------------------------------

    def envelope(self, t0: float, t1: float, max_points: int) -> tuple[np.ndarray, np.ndarray]:
        """Peak envelope of every segment inside [t0, t1] as (times, values); NaN separates segments."""
        segs = [s for s in self.segments if s.end > t0 and s.start < t1]
        if not segs:
            return np.zeros(0), np.zeros(0, np.float32)
        span = max(t1 - t0, 1e-9)
        xs, ys = [], []
        for s in segs:
            sr = s.source.sample_rate
            a, b = max(t0, s.start) - s.start, min(t1, s.end) - s.start
            points = max(8, int(max_points * (b - a) / span))
            pos, values = s.source.peaks.envelope(int(a * sr), int(np.ceil(b * sr)) + 1, points)
            xs += [s.start + pos / sr, [np.nan]]
            ys += [values, [np.nan]]
        return np.concatenate(xs[:-1]), np.concatenate(ys[:-1]).astype(np.float32)

    def audio(self, t0: float = 0.0, t1: float | None = None) -> np.ndarray:
        """The timeline's samples from t0 to t1 at ``sample_rate``, with silence in the gaps."""
        t1 = self.duration if t1 is None else min(t1, self.duration)
        sr = self.sample_rate
        n = max(0, int(round((t1 - t0) * sr)))
        out = np.zeros(n, dtype=np.float32)
        for s in self.segments:
            if s.end <= t0 or s.start >= t1:
                continue
            x = np.asarray(s.source.audio, dtype=np.float32)
            if s.source.sample_rate != sr:
                x = soxr.resample(x, s.source.sample_rate, sr).astype(np.float32)
            src0 = max(0, int(round((t0 - s.start) * sr)))
            dst0 = max(0, int(round((s.start - t0) * sr)))
            count = min(len(x) - src0, n - dst0)
            if count > 0:
                out[dst0:dst0 + count] = x[src0:src0 + count]
        return out
