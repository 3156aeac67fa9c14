"""Export a whole episode: the timeline's audio at a chosen rate and depth, loudness-normalised for
the whole episode, with chapter markers, subtitles and (optionally) one file per chapter.

Files written next to the main one (``episode.flac``):
    episode.chapters.txt        "HH:MM:SS.mmm Title" lines (also embedded in FLAC/WAV)
    episode.srt / episode.vtt   subtitles
    episode-01-intro.flac …     per-chapter files, each with its own subtitles
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from engine.api import EngineError
from engine.atomic import write_atomic, write_text_atomic
from studio import subtitles
from studio.audio_tags import clock, write_flac_chapters, write_wav_chapters
from studio.loudness import LoudnessReport, normalize
from studio.models.timeline import Timeline

FORMATS = {".wav": "WAV", ".flac": "FLAC", ".mp3": "MP3"}
SUBTYPES = {("WAV", 16): "PCM_16", ("WAV", 24): "PCM_24", ("FLAC", 16): "PCM_16", ("FLAC", 24): "PCM_24",
            ("MP3", 16): "MPEG_LAYER_III", ("MP3", 24): "MPEG_LAYER_III"}
LOUDNESS_TARGETS = {"podcast (-16 LUFS)": -16.0, "broadcast (-23 LUFS, EBU R128)": -23.0}


@dataclass
class ExportOptions:
    path: Path
    sample_rate: int | None = None  # None: the model's own rate
    bit_depth: int = 16
    target_lufs: float | None = -16.0  # None: leave the level alone
    ceiling_db: float = -1.0  # true-peak limit
    chapters: bool = True
    subtitle_formats: tuple[str, ...] = ("srt", "vtt")
    per_chapter: bool = False


@dataclass
class ExportResult:
    files: list[Path] = field(default_factory=list)
    loudness: LoudnessReport | None = None
    duration: float = 0.0


def mp3_supported() -> bool:
    return "MP3" in sf.available_formats()


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "chapter"


def _write_audio(path: Path, audio: np.ndarray, sr: int, fmt: str, depth: int) -> None:
    if fmt == "MP3" and not mp3_supported():
        raise EngineError("this system's libsndfile cannot write MP3: choose WAV or FLAC")
    data = np.clip(audio, -1.0, 1.0)
    write_atomic(path, lambda p: sf.write(str(p), data, sr, format=fmt, subtype=SUBTYPES[(fmt, depth)]))


def _embed_chapters(path: Path, fmt: str, marks: list[tuple[float, str]], sr: int) -> None:
    if not marks:
        return
    if fmt == "FLAC":
        write_flac_chapters(path, marks)
    elif fmt == "WAV":
        write_wav_chapters(path, marks, sr)
    # MP3: the .chapters.txt beside it (ID3 chapter frames are not written)


def export_episode(timeline: Timeline, options: ExportOptions) -> ExportResult:
    """Write the episode and its companions; every file is written atomically."""
    path = Path(options.path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise EngineError(f"cannot write {path.name}: use .wav, .flac or .mp3")
    if options.bit_depth not in (16, 24):
        raise EngineError("bit depth must be 16 or 24")
    if timeline.duration <= 0:
        raise EngineError("nothing to export yet: render the script first")
    native = timeline.sample_rate
    audio = timeline.audio()
    sr = options.sample_rate or native
    if sr != native:
        audio = soxr.resample(audio, native, sr, quality="HQ").astype(np.float32)
    result = ExportResult(duration=len(audio) / sr)
    if options.target_lufs is not None:
        audio, result.loudness = normalize(audio, sr, options.target_lufs, options.ceiling_db)
    chapters = timeline.chapters if options.chapters else []
    marks = [(c.start, c.title) for c in chapters]
    _write_audio(path, audio, sr, fmt, options.bit_depth)
    _embed_chapters(path, fmt, marks, sr)
    result.files.append(path)
    stem = path.with_suffix("")
    if marks:
        result.files.append(write_text_atomic(stem.with_suffix(".chapters.txt"),
                                              "".join(f"{clock(t)} {title}\n" for t, title in marks)))
    for kind in options.subtitle_formats:
        text = subtitles.to_srt(subtitles.cues(timeline)) if kind == "srt" else subtitles.to_vtt(subtitles.cues(timeline))
        result.files.append(write_text_atomic(stem.with_suffix(f".{kind}"), text))
    if options.per_chapter and chapters:
        bounds = [c.start for c in chapters] + [timeline.duration]
        if bounds[0] > 0:  # speech before the first heading is a chapter of its own
            bounds.insert(0, 0.0)
            titles = ["opening"] + [c.title for c in chapters]
        else:
            titles = [c.title for c in chapters]
        for i, (t0, t1, title) in enumerate(zip(bounds, bounds[1:], titles), start=1):
            part = path.with_name(f"{stem.name}-{i:02d}-{_slug(title)}{path.suffix}")
            _write_audio(part, audio[int(round(t0 * sr)):int(round(t1 * sr))], sr, fmt, options.bit_depth)
            result.files.append(part)
            for kind in options.subtitle_formats:
                items = subtitles.cues(timeline, t0, t1)
                text = subtitles.to_srt(items) if kind == "srt" else subtitles.to_vtt(items)
                result.files.append(write_text_atomic(part.with_suffix(f".{kind}"), text))
    return result
