"""Loudness normalisation for whole episodes: ITU-R BS.1770 integrated loudness (pyloudnorm), true peak
from 4x oversampling, and a look-ahead limiter that holds the true peak under a ceiling.

Targets in common use: -16 LUFS for podcasts (Apple, Spotify), -23 LUFS for EBU R128 broadcast,
with a -1 dBTP ceiling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyloudnorm
import soxr
from scipy.ndimage import minimum_filter1d
from scipy.signal import lfilter

from engine.api import EngineError

OVERSAMPLE = 4
LOOKAHEAD_SECONDS = 0.005
RELEASE_SECONDS = 0.08
MIN_SECONDS = 0.5  # BS.1770 gates over 400 ms blocks: shorter audio has no integrated loudness


@dataclass(frozen=True)
class LoudnessReport:
    before_lufs: float
    after_lufs: float
    true_peak_db: float
    gain_db: float
    limited: bool


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float:
    if len(audio) < MIN_SECONDS * sample_rate:
        raise EngineError(f"loudness needs at least {MIN_SECONDS} s of audio")
    return float(pyloudnorm.Meter(sample_rate).integrated_loudness(np.asarray(audio, dtype=np.float64)))


def _oversampled_peaks(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """|x| after 4x oversampling, max-pooled back to one value per original sample."""
    up = soxr.resample(np.asarray(audio, dtype=np.float32), sample_rate, sample_rate * OVERSAMPLE, quality="HQ")
    n = min(len(audio), len(up) // OVERSAMPLE)
    peaks = np.abs(up[: n * OVERSAMPLE]).reshape(n, OVERSAMPLE).max(axis=1)
    return np.concatenate([peaks, np.abs(audio[n:])]) if n < len(audio) else peaks


def true_peak_db(audio: np.ndarray, sample_rate: int) -> float:
    peak = float(_oversampled_peaks(audio, sample_rate).max()) if len(audio) else 0.0
    return 20 * np.log10(max(peak, 1e-12))


def limit(audio: np.ndarray, sample_rate: int, ceiling_db: float) -> np.ndarray:
    """Reduce the gain around every (true) peak above the ceiling: look-ahead, hold, smooth release."""
    ceiling = 10 ** (ceiling_db / 20)
    need = np.minimum(1.0, ceiling / np.maximum(_oversampled_peaks(audio, sample_rate), 1e-12))
    window = max(1, int(LOOKAHEAD_SECONDS * sample_rate)) * 2 + 1
    gain = minimum_filter1d(need, size=window, mode="nearest")  # start reducing before the peak
    reduction = 1.0 - gain
    a = 1.0 - np.exp(-1.0 / (RELEASE_SECONDS * sample_rate))
    smooth = lfilter([a], [1.0, a - 1.0], reduction)  # one-pole release
    reduction = np.maximum(reduction, smooth)  # never less reduction than the peaks need
    return (audio * (1.0 - reduction)).astype(np.float32)


def normalize(audio: np.ndarray, sample_rate: int, target_lufs: float,
              ceiling_db: float = -1.0) -> tuple[np.ndarray, LoudnessReport]:
    """Gain to ``target_lufs``, limited to ``ceiling_db`` true peak; a few passes, since limiting
    lowers the loudness a little and the next pass's gain makes it up."""
    before = integrated_loudness(audio, sample_rate)
    if not np.isfinite(before):
        raise EngineError("the audio is silent: there is no loudness to normalise")
    y, limited, total_gain = np.asarray(audio, dtype=np.float32), False, 0.0
    for _ in range(6):
        gain_db = target_lufs - integrated_loudness(y, sample_rate)
        y = (y * 10 ** (gain_db / 20)).astype(np.float32)
        total_gain += gain_db
        if true_peak_db(y, sample_rate) > ceiling_db:
            y = limit(y, sample_rate, ceiling_db - 0.1)  # a margin for the gain of the next pass
            limited = True
        if abs(integrated_loudness(y, sample_rate) - target_lufs) <= 0.1 and true_peak_db(y, sample_rate) <= ceiling_db:
            break
    after = integrated_loudness(y, sample_rate)
    return y, LoudnessReport(before, after, true_peak_db(y, sample_rate), total_gain, limited)
