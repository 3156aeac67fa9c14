"""Choosing the reference segment: the best 5-15 s cut at pauses, or the user's own selection checked.

Everything here counts 20 ms frames (clip_level.FRAME_SECONDS) of the joined audio.
"""

from __future__ import annotations

import math

import numpy as np

from engine.voices.clip_analysis import PAUSE_FRAMES, runs
from engine.voices.clip_level import FRAME_SECONDS
from engine.voices.clip_types import ClipError

EDGE_FRAMES = 10  # a segment starts/ends at most 0.2 s away from its speech, inside a pause


def _cut_points(speech: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frames where a segment may start and end: inside pauses, close to the speech. (int [S], int [E])."""
    pauses = [(int(a), int(b)) for a, b in runs(~speech) if b - a >= PAUSE_FRAMES or a == 0 or b == len(speech)]
    starts = {0} | {max(a, b - EDGE_FRAMES) for a, b in pauses if b < len(speech)}
    ends = {len(speech)} | {min(b, a + EDGE_FRAMES) for a, b in pauses if a > 0}
    return np.array(sorted(starts)), np.array(sorted(ends))


def best_segment(worth: np.ndarray, speech: np.ndarray, min_frames: int, max_frames: int) -> tuple[int, int]:
    """The [start, end) frames with the most worth, min_frames..max_frames long, cut inside pauses.

    worth: float [F], per frame how much it is worth in a reference (0 for no speech, 1 for clean speech,
    less for clipped or noisy speech); speech: bool [F]. Audio shorter than max_frames is taken whole;
    speech with no usable pauses falls back to the best max_frames window.
    """
    n = len(worth)
    if n <= max_frames:
        return 0, n
    total = np.concatenate([[0.0], np.cumsum(worth, dtype=np.float64)])
    starts, ends = _cut_points(speech)
    best, best_score = None, -1.0
    for s in starts:
        lo, hi = np.searchsorted(ends, s + min_frames), np.searchsorted(ends, s + max_frames, side="right")
        if lo >= hi:
            continue
        scores = total[ends[lo:hi]] - total[s]
        k = int(np.argmax(scores))
        if scores[k] > best_score + 1e-9:
            best, best_score = (int(s), int(ends[lo + k])), float(scores[k])
    if best is None:
        s = int(np.argmax(total[max_frames:] - total[:-max_frames]))
        best = (s, s + max_frames)
    return best


def keep_around(segment: tuple[int, int], n_frames: int, keep_frames: int) -> tuple[int, int]:
    """A [start, end) window of keep_frames frames (within [0, n_frames)) centred on segment."""
    if n_frames <= keep_frames:
        return 0, n_frames
    centre = (segment[0] + segment[1]) // 2
    start = min(max(0, centre - keep_frames // 2), n_frames - keep_frames)
    return start, start + keep_frames


def check_selection(selection: tuple[float, float], seconds: float, min_seconds: float,
                    max_seconds: float) -> tuple[float, float]:
    """The user's (start, end) in seconds, checked against audio ``seconds`` long; ClipError saying what is off."""
    try:
        start, end = (float(v) for v in selection)
    except (TypeError, ValueError):
        raise ClipError(f"the selection must be two times in seconds (start, end), got {selection!r}") from None
    if not (math.isfinite(start) and math.isfinite(end)):
        raise ClipError(f"the selection {start}-{end} s is not a pair of finite times")
    if end <= start:
        raise ClipError(f"the selection ends ({end:.2f} s) before it starts ({start:.2f} s); drag from left to right")
    if seconds < min_seconds:
        raise ClipError(f"the audio is only {seconds:.1f} s long, so no {min_seconds:g} s selection fits; "
                        "add more clips")
    slack = FRAME_SECONDS  # a selection dragged to the very edge may overshoot by a rounding step
    if start < -slack or end > seconds + slack:
        raise ClipError(f"the selection {start:.2f}-{end:.2f} s lies outside the audio (0-{seconds:.2f} s); "
                        "choose a range inside it")
    start, end = max(0.0, start), min(seconds, end)
    length = end - start
    if length < min_seconds - 1e-6:
        raise ClipError(f"the selection is {length:.1f} s long; choose at least {min_seconds:g} s "
                        f"(at most {max_seconds:g} s)")
    if length > max_seconds + 1e-6:
        raise ClipError(f"the selection is {length:.1f} s long; choose at most {max_seconds:g} s "
                        f"(at least {min_seconds:g} s)")
    return start, end
