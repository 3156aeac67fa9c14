"""Test audio for the clip pipeline: speech-like signals, chords, noise, clipping (numpy only).

Speech-like: a glottal pulse train with a moving pitch, shaped by three formant resonators that change
vowel every syllable, a syllable-rate envelope, unvoiced fricative bursts, and pauses between words.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

VOWELS = ((730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (570, 840, 2410))
BANDWIDTHS = (90, 110, 170)


def _resonator(x: np.ndarray, freq: float, bw: float, sr: int) -> np.ndarray:
    """Second-order formant resonator, unity gain at DC-ish (Klatt)."""
    r = np.exp(-np.pi * bw / sr)
    a1, a2 = -2 * r * np.cos(2 * np.pi * freq / sr), r * r
    return lfilter([1 + a1 + a2], [1, a1, a2], x)


def _syllable(rng: np.random.Generator, sr: int, f0: float) -> np.ndarray:
    """One consonant-vowel syllable, float64 [n] (about 0.15-0.3 s)."""
    n = int(sr * rng.uniform(0.15, 0.3))
    t = np.arange(n) / sr
    pitch = f0 * (1 + 0.12 * np.sin(2 * np.pi * rng.uniform(1, 3) * t + rng.uniform(0, 6))) * rng.uniform(0.9, 1.1)
    phase = np.cumsum(pitch / sr)
    pulses = np.diff(np.floor(phase), prepend=0.0)
    source = lfilter([1.0], [1, -1.9, 0.9025], pulses)  # glottal tilt (two poles at 0.95)
    voiced = sum(_resonator(source, f * rng.uniform(0.96, 1.04), b, sr) for f, b in zip(VOWELS[rng.integers(5)],
                                                                                        BANDWIDTHS))
    voiced = np.diff(voiced, prepend=0.0)  # lip radiation
    envelope = np.sin(np.pi * np.arange(n) / n) ** 0.7
    fricative = np.zeros(n)
    m = n // 4
    fricative[:m] = _resonator(rng.standard_normal(m), rng.uniform(3000, 6000) if sr > 13000 else 3000, 1500, sr)
    fricative[:m] *= np.hanning(m) * 0.3 * np.abs(voiced).max() / max(np.abs(fricative[:m]).max(), 1e-9)
    return voiced * envelope + fricative


def speech(seconds: float, sr: int = 16000, seed: int = 0, f0: float = 120.0, level: float = 0.3) -> np.ndarray:
    """Speech-like float32 [round(seconds * sr)] peaking at ``level``: words of 1-4 syllables, 0.15-0.5 s pauses."""
    rng = np.random.default_rng(seed)
    parts, total, target = [], 0, int(seconds * sr)
    while total < target:
        word = np.concatenate([_syllable(rng, sr, f0) for _ in range(rng.integers(1, 5))])
        pause = np.zeros(int(sr * rng.uniform(0.15, 0.5)))
        parts += [word, pause]
        total += len(word) + len(pause)
    x = np.concatenate(parts)[:target]
    return (x * (level / np.abs(x).max())).astype(np.float32)


def chords(seconds: float, sr: int = 16000, level: float = 0.3) -> np.ndarray:
    """Sustained major triads with harmonics (2 s each, no gaps): music-like, float32 [n]."""
    t = np.arange(int(seconds * sr)) / sr
    roots = (220.0, 261.6, 196.0, 246.9)
    x = np.zeros_like(t)
    for i, root in enumerate(roots * int(np.ceil(seconds / 2 / len(roots)) + 1)):
        on = (t >= 2 * i) & (t < 2 * i + 2)
        for ratio in (1.0, 1.26, 1.5):
            for h in (1, 2, 3, 4):
                x[on] += np.sin(2 * np.pi * root * ratio * h * t[on]) / h
    return (x * (level / np.abs(x).max())).astype(np.float32)


def add_noise(x: np.ndarray, snr_db: float, seed: int = 1) -> np.ndarray:
    """x plus white noise ``snr_db`` below the RMS of x's active part, float32 [n]."""
    active = x[np.abs(x) > 0.01 * np.abs(x).max()]
    noise_rms = np.sqrt(np.mean(active.astype(np.float64) ** 2)) * 10 ** (-snr_db / 20)
    return (x + noise_rms * np.random.default_rng(seed).standard_normal(len(x))).astype(np.float32)


def clip_hard(x: np.ndarray, gain: float = 6.0) -> np.ndarray:
    """x amplified by ``gain`` and hard-clipped at full scale, float32 [n]."""
    return np.clip(x * gain, -1.0, 1.0).astype(np.float32)
