"""More speakers from the teachers: WORLD-domain pitch scaling, vocal-tract (formant) warping and
tempo change of a clip, resynthesised to audio (pyworld, modified-BSD licence)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.codec.world import F0_CEIL, F0_FLOOR, FRAME_PERIOD_MS, SAMPLE_RATE


@dataclass(frozen=True)
class Warp:
    """pitch: f0 factor; formant: spectral-envelope frequency factor (>1 = shorter vocal tract);
    tempo: speed factor (>1 = faster, durations divided by it)."""

    pitch: float
    formant: float
    tempo: float


def _warp_envelope(sp: np.ndarray, alpha: float) -> np.ndarray:
    """sp [T, bins] -> envelope whose features sit at alpha times their frequency."""
    bins = np.arange(sp.shape[1], dtype=np.float64)
    src = np.clip(bins / alpha, 0, sp.shape[1] - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, sp.shape[1] - 1)
    frac = src - lo
    return np.exp((1 - frac) * np.log(sp[:, lo] + 1e-12) + frac * np.log(sp[:, hi] + 1e-12))


def _resample_frames(x: np.ndarray, n: int) -> np.ndarray:
    """Linear interpolation of rows [T, ...] onto n rows."""
    src = np.linspace(0, len(x) - 1, n)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, len(x) - 1)
    frac = (src - lo)[:, None]
    return (1 - frac) * x[lo] + frac * x[hi]


def apply_warp(audio: np.ndarray, warp: Warp) -> np.ndarray:
    """16 kHz mono audio -> the same words as another speaker (float32, 16 kHz)."""
    import pyworld as pw

    x = np.ascontiguousarray(audio, dtype=np.float64)
    f0, t = pw.dio(x, SAMPLE_RATE, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_PERIOD_MS)
    f0 = pw.stonemask(x, f0, t, SAMPLE_RATE)
    sp = pw.cheaptrick(x, f0, t, SAMPLE_RATE)
    ap = pw.d4c(x, f0, t, SAMPLE_RATE)
    sp = _warp_envelope(sp, warp.formant)
    f0 = f0 * warp.pitch
    n = max(2, int(round(len(f0) / warp.tempo)))
    voiced = _resample_frames((f0 > 0).astype(np.float64)[:, None], n)[:, 0] > 0.5
    idx = np.arange(len(f0))
    lf0 = np.log(np.interp(idx, idx[f0 > 0], f0[f0 > 0])) if (f0 > 0).any() else np.zeros(len(f0))
    lf0 = _resample_frames(lf0[:, None], n)[:, 0]
    f0 = np.where(voiced, np.exp(lf0), 0.0)
    sp = np.exp(_resample_frames(np.log(sp + 1e-12), n))
    ap = _resample_frames(ap, n)
    y = pw.synthesize(np.ascontiguousarray(f0), np.ascontiguousarray(sp), np.ascontiguousarray(ap),
                      SAMPLE_RATE, frame_period=FRAME_PERIOD_MS)
    return np.clip(y, -1.0, 1.0).astype(np.float32)
