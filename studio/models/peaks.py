"""A min/max pyramid of an audio buffer, so a waveform of any length redraws in bounded time.

Level 0 holds the min and max of every ``BLOCK`` samples; each next level merges ``FAN`` blocks of
the one below. A view asks for at most N points over a range: short ranges get the samples, long
ones interleaved min/max bins read from the finest level that keeps the work near N.
"""

from __future__ import annotations

import numpy as np

BLOCK = 64
FAN = 8


def _minmax(lo: np.ndarray, hi: np.ndarray, group: int) -> tuple[np.ndarray, np.ndarray]:
    """Merge every ``group`` consecutive bins (the last group may be shorter)."""
    starts = np.arange(0, len(lo), group)
    return np.minimum.reduceat(lo, starts), np.maximum.reduceat(hi, starts)


def _interleave(lo: np.ndarray, hi: np.ndarray, first: float, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Bins of ``width`` samples starting at sample ``first`` -> (positions, min/max values) [2 * bins]."""
    pos = np.repeat(first + np.arange(len(lo), dtype=np.float64) * width, 2)
    pos[1::2] += width / 2
    values = np.empty(2 * len(lo), dtype=np.float32)
    values[0::2], values[1::2] = lo, hi
    return pos, values


class PeakPyramid:
    """samples: float32 [n]. Building costs one pass over the samples; memory ~ n / 32 floats."""

    def __init__(self, samples: np.ndarray) -> None:
        self.samples = np.asarray(samples, dtype=np.float32)
        self.levels: list[tuple[np.ndarray, np.ndarray]] = []
        if len(self.samples):
            lo, hi = _minmax(self.samples, self.samples, BLOCK)
            self.levels.append((lo, hi))
            while len(lo) > FAN:
                lo, hi = _minmax(lo, hi, FAN)
                self.levels.append((lo, hi))

    def envelope(self, i0: int, i1: int, max_points: int) -> tuple[np.ndarray, np.ndarray]:
        """Samples [i0, i1) as (sample positions float64, values float32), at most ~max_points points.

        Bins come from the pyramid, aligned to its blocks, so the first may start before i0.
        """
        n = len(self.samples)
        i0, i1 = max(0, min(i0, n)), max(0, min(i1, n))
        if i1 <= i0:
            return np.zeros(0), np.zeros(0, np.float32)
        if i1 - i0 <= max_points:
            return np.arange(i0, i1, dtype=np.float64), self.samples[i0:i1]
        bins = max(1, max_points // 2)
        ideal = (i1 - i0) / bins  # samples per bin
        if ideal < BLOCK:  # finer than the pyramid: bin the samples directly (a short span)
            per = int(np.ceil(ideal))
            lo, hi = _minmax(self.samples[i0:i1], self.samples[i0:i1], per)
            return _interleave(lo, hi, i0, per)
        level, size = 0, BLOCK
        while level + 1 < len(self.levels) and size * FAN <= ideal:
            level, size = level + 1, size * FAN
        b0, b1 = i0 // size, -(-i1 // size)
        lo, hi = self.levels[level][0][b0:b1], self.levels[level][1][b0:b1]
        group = int(np.ceil(len(lo) / bins))
        if group > 1:
            lo, hi = _minmax(lo, hi, group)
        return _interleave(lo, hi, b0 * size, size * group)
