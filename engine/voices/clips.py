"""Reference clips for a voice preset: read any clip, clean it, say plainly what is wrong, pick 5-15 s.

prepare_reference() runs, per clip: decode and mix to mono (clip_read), measure clipping at the source
rate (clip_level), resample with soxr HQ, trim leading/trailing silence, normalise to -23 LUFS with a
-1 dBFS peak ceiling, analyse speech/noise/music (clip_analysis); then it joins the clips with 0.3 s
gaps, picks the best segment (clip_select), keeps at most 5 min around it, and checks for several
speakers (clip_speakers, when resemblyzer is installed).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import soxr

from engine.voices.clip_analysis import ClipAnalysis, analyse
from engine.voices.clip_level import (
    FRAME_SECONDS,
    SILENT_DB,
    flat_top_frames,
    hop,
    normalise_loudness,
    trim_silence,
)
from engine.voices.clip_read import MAX_SECONDS, probe, read_clip
from engine.voices.clip_select import best_segment, check_selection, keep_around
from engine.voices.clip_speakers import find_speaker_split
from engine.voices.clip_types import ClipError, ClipIssue, ClipSource, PreparedReference

__all__ = ["ClipError", "ClipIssue", "ClipSource", "PreparedReference", "prepare_reference", "read_clip"]

GAP_FRAMES = 15  # 0.3 s of silence between joined clips
KEEP_SECONDS = 300.0  # longer input keeps only the 5 min around the chosen segment
LOW_RATE = 16000
CLIPPED_SHARE = 0.001  # 0.1% of samples in flat tops
NOISY_SNR_DB = 20.0
MUSIC_TONAL_SHARE = 0.2  # of the sounding frames; speech measures < 0.05, chords ~0.9
BLOCKING_SPEECH_SECONDS = 3.0
WANTED_SPEECH_SECONDS = 5.0


@dataclass(frozen=True)
class _Clip:
    """One clip made ready: audio float32 [F * hop] at the target rate; clipped float32 [F], the share of
    flat-top samples in each frame; clipped_share over the whole file; peak of the source in full scale."""

    source: ClipSource
    audio: np.ndarray
    clipped: np.ndarray
    clipped_share: float
    peak: float
    analysis: ClipAnalysis

    @property
    def tonal_share(self) -> float:
        """Share of the sounding frames that hold steady notes."""
        sounding = int(self.analysis.sounding.sum())
        return float(self.analysis.tonal.sum()) / sounding if sounding else 0.0

    @property
    def music(self) -> bool:
        """Does the clip sound like music or singing? A simple heuristic, stated honestly.

        How: a frame is "tonal" when its harmonic fine structure (spectral peaks at 100-2000 Hz) is
        still in place 0.24 s later. Speech glides in pitch and changes vowel several times a second,
        so few of its frames are (measured: flite voices 0-2%, synthetic speech up to 4%); held chords
        are (88%). The clip is flagged when at least MUSIC_TONAL_SHARE of its sounding frames are.
        Quiet pauses did not help: fluent or noisy speech has none either.
        Limits: music well under the voice passes unnoticed (flite speech over chords 19 dB under it
        measured 13%; 11 dB under it, 28%, is flagged); drums and other unpitched sounds are not
        recognised as music; long sung or held vowels, or a steady hum, may be flagged.
        """
        return self.tonal_share >= MUSIC_TONAL_SHARE


def _frames_on_grid(values: np.ndarray, from_rate: int, to_rate: int, first: int, n: int) -> np.ndarray:
    """Per-frame values of the source's 20 ms grid read at frames first..first+n of the target's grid."""
    if len(values) == 0:
        return np.zeros(n, dtype=np.float32)
    times = (first + np.arange(n) + 0.5) * hop(to_rate) / to_rate
    return values[np.minimum((times * from_rate / hop(from_rate)).astype(int), len(values) - 1)]


def _prepare_clip(path: str | os.PathLike[str], sample_rate: int) -> _Clip:
    audio, source = read_clip(path)
    flat, peak = flat_top_frames(audio, source.sample_rate)
    if source.sample_rate != sample_rate:
        audio = soxr.resample(audio, source.sample_rate, sample_rate, quality="HQ")  # float32 in, float32 out
    trimmed = trim_silence(audio, sample_rate)
    if trimmed is None:
        raise ClipError(f"{source.path.name} is silent (nothing louder than {SILENT_DB:.0f} dBFS); check that the "
                        "microphone was on and not muted, and record again")
    audio, first = trimmed
    audio = normalise_loudness(audio, sample_rate)
    clipped = _frames_on_grid(flat, source.sample_rate, sample_rate, first, len(audio) // hop(sample_rate))
    share = float(flat.mean()) if len(flat) else 0.0
    return _Clip(source, audio, clipped, share, peak, analyse(audio, sample_rate))


def _clip_issues(clip: _Clip) -> list[ClipIssue]:
    """Warnings about one clip: low sample rate, clipping, music, noise."""
    name, issues = clip.source.path.name, []
    if clip.source.sample_rate < LOW_RATE:
        issues.append(ClipIssue("low_sample_rate", f"{name} is recorded at {clip.source.sample_rate / 1000:g} kHz: "
                                "the voice will sound muffled",
                                "use a recording at 16 kHz or more (44.1 or 48 kHz is best)"))
    if clip.clipped_share >= CLIPPED_SHARE:
        where = ("at full scale" if clip.peak >= 0.99 else
                 f"at {20 * np.log10(clip.peak):.0f} dBFS, so it was clipped before its level was lowered")
        issues.append(ClipIssue("clipping", f"{clip.clipped_share:.1%} of the samples in {name} are clipped "
                                f"(flat tops {where})",
                                "record again with the input gain lower (loudest parts around -6 dBFS)"))
    if clip.music:
        issues.append(ClipIssue("music", f"{name} sounds like music or singing: {clip.tonal_share:.0%} of it holds "
                                "steady notes, which speech does not",
                                "use a clip of plain speech with nothing playing behind it"))
    elif clip.analysis.snr_db < NOISY_SNR_DB:  # for music, the "noise" is the music itself
        issues.append(ClipIssue("noise", f"{name} is noisy: the speech is only about {clip.analysis.snr_db:.0f} dB "
                                "above the background", "record in a quiet room, closer to the microphone, or "
                                "clean the clip with noise reduction first"))
    return issues


def _worth(clip: _Clip) -> np.ndarray:
    """How much each frame of a clip is worth in the reference: float32 [F], 0 (no speech) .. 1 (clean)."""
    a = clip.analysis
    worth = a.speech * np.clip(a.snr_db / 30.0, 0.3, 1.0) * np.where(clip.clipped > 0, 0.2, 1.0)
    return (worth * (0.3 if clip.music else 1.0)).astype(np.float32)


def _join(clips: Sequence[_Clip], sample_rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(audio float32 [n], speech bool [F], worth float32 [F]) of the clips joined with 0.3 s gaps."""
    if len(clips) == 1:
        return clips[0].audio, clips[0].analysis.speech, _worth(clips[0])
    gap = GAP_FRAMES * hop(sample_rate)
    audio, speech, worth = [], [], []
    for i, clip in enumerate(clips):
        if i:
            audio.append(np.zeros(gap, dtype=np.float32))
            speech.append(np.zeros(GAP_FRAMES, dtype=bool))
            worth.append(np.zeros(GAP_FRAMES, dtype=np.float32))
        audio.append(clip.audio)
        speech.append(clip.analysis.speech)
        worth.append(_worth(clip))
    return np.concatenate(audio), np.concatenate(speech), np.concatenate(worth)


def _speech_issue(seconds: float, selected: bool) -> ClipIssue | None:
    where = " in the selection" if selected else ""
    if seconds < BLOCKING_SPEECH_SECONDS:
        return ClipIssue("too_little_speech", f"only {seconds:.1f} s of speech was found{where}; a voice needs at "
                         f"least {BLOCKING_SPEECH_SECONDS:g} s", "add clips with more speech: 5-15 s of one person "
                         "talking, with no music", blocking=True)
    if seconds < WANTED_SPEECH_SECONDS:
        return ClipIssue("too_little_speech", f"only {seconds:.1f} s of speech{where}; 5-15 s gives a closer "
                         "likeness", "add another clip of the same speaker, or select a part with more speech")
    return None


def _checked_paths(paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str], sample_rate: int,
                   min_seconds: float, max_seconds: float) -> list[str | os.PathLike[str]]:
    """The clip paths as a list, after every file's header and the total length were checked."""
    if sample_rate <= 0 or not 0 < min_seconds <= max_seconds:
        raise ValueError(f"need sample_rate > 0 and 0 < min_seconds <= max_seconds, got {sample_rate}, "
                         f"{min_seconds}, {max_seconds}")
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not paths:
        raise ClipError("no clips were given; add at least one recording of the speaker")
    total = sum(probe(p).seconds for p in paths)  # every file's problem before any decoding
    if total > MAX_SECONDS:
        raise ClipError(f"the clips hold {total / 60:.0f} min of audio together; the limit is {MAX_SECONDS // 60} "
                        "min: use fewer or shorter clips")
    return paths


def prepare_reference(paths: Sequence[str | os.PathLike[str]], sample_rate: int, *,
                      selection: tuple[float, float] | None = None, min_seconds: float = 5.0,
                      max_seconds: float = 15.0) -> PreparedReference:
    """Read, clean and check reference clips; choose the segment to encode as a voice prompt.

    paths: one or more audio files of the same speaker. sample_rate: the rate of the result (the
    codec's). selection: (start, end) seconds within the returned ``full`` (as shown on a waveform of
    an earlier call with the same clips); None picks the segment with the most clean speech,
    min_seconds..max_seconds long, cut inside pauses.
    Raises ClipError (naming the file) for a clip that cannot be used at all, or a selection that does
    not fit; everything else comes back as issues, blocking or not.
    """
    clips = [_prepare_clip(p, sample_rate) for p in _checked_paths(paths, sample_rate, min_seconds, max_seconds)]
    issues = [issue for clip in clips for issue in _clip_issues(clip)]
    full, speech, worth = _join(clips, sample_rate)
    h = hop(sample_rate)
    segment = best_segment(worth, speech, round(min_seconds / FRAME_SECONDS), round(max_seconds / FRAME_SECONDS))
    keep = keep_around(segment, len(speech), round(KEEP_SECONDS / FRAME_SECONDS))
    if keep != (0, len(speech)):
        issues.append(ClipIssue("trimmed_long", f"the clips hold {len(full) / sample_rate / 60:.1f} min of audio; "
                                f"only the {KEEP_SECONDS / 60:g} min around the best part are kept",
                                "to use another part, cut it out of the recording and add it as a clip"))
        full, speech = full[keep[0] * h: keep[1] * h], speech[keep[0]:keep[1]]
        segment = (segment[0] - keep[0], segment[1] - keep[0])
    if selection is None:
        seconds = (segment[0] * FRAME_SECONDS, segment[1] * FRAME_SECONDS)
    else:
        seconds = check_selection(selection, len(full) / sample_rate, min_seconds, max_seconds)
    first, last = int(seconds[0] / FRAME_SECONDS), int(np.ceil(seconds[1] / FRAME_SECONDS))
    speech_seconds = float(speech[first:last].sum()) * FRAME_SECONDS
    if (issue := _speech_issue(speech_seconds, selection is not None)) is not None:
        issues.append(issue)
    if (split := find_speaker_split(full, sample_rate, speech)) is not None:
        issues.append(ClipIssue("several_speakers", f"the clips seem to hold more than one voice: about "
                                f"{split.minority_share:.0%} of the speech sounds like a different person",
                                "use clips of one speaker only, or select a part with just that voice"))
    return PreparedReference(full=full, sample_rate=sample_rate, segment=seconds, issues=tuple(issues),
                             sources=tuple(c.source for c in clips), speech_seconds=speech_seconds)
