"""Min/max (peak) decimation of audio for the visible range only (numpy, no Qt)."""

from __future__ import annotations

import numpy as np


def peak_envelope(samples: np.ndarray, sample_rate: int, t0: float, t1: float,
                  max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """The part of ``samples`` [n] between t0 and t1 seconds as at most ``max_points`` points.

    Short spans come back sample by sample. Longer spans are cut into max_points // 2 bins whose
    minimum and maximum are interleaved, so every peak stays visible at any zoom. Returns
    (times in seconds, values), both float [m].
    """
    n = len(samples)
    i0 = min(max(int(np.floor(t0 * sample_rate)), 0), n)
    i1 = min(max(int(np.ceil(t1 * sample_rate)) + 1, i0), n)
    seg = samples[i0:i1]
    if len(seg) <= max(max_points, 2):
        return (i0 + np.arange(len(seg))) / sample_rate, np.asarray(seg, dtype=np.float32)
    bins = max(1, max_points // 2)
    per = -(-len(seg) // bins)
    starts = np.arange(0, len(seg), per)
    lo = np.minimum.reduceat(seg, starts)
    hi = np.maximum.reduceat(seg, starts)
    offsets = np.minimum(np.repeat(starts, 2) + np.tile([0, per // 2], len(starts)), len(seg) - 1)
    times = (i0 + offsets) / sample_rate
    values = np.empty(2 * len(starts), dtype=np.float32)
    values[0::2], values[1::2] = lo, hi
    return times, values
