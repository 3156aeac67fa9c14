"""Levels of a clip: 20 ms frame energies, silence trimming, loudness normalisation, clipping (flat tops)."""

from __future__ import annotations

import warnings

import numpy as np
import pyloudnorm

FRAME_SECONDS = 0.02
FLOOR_DB = -120.0  # energy of digital silence, so that logs stay finite
SILENT_DB = -70.0  # a clip whose loudest 20 ms frame is quieter than this is silent
TRIM_BELOW_PEAK_DB = 40.0  # leading/trailing frames this far under the loudest frame are silence
TRIM_MARGIN_FRAMES = 5  # 0.1 s of the silence is kept at each end
TARGET_LUFS = -23.0  # EBU R128
PEAK_CEILING_DB = -1.0  # the gain never lifts a sample peak above this
BS1770_MIN_SECONDS = 0.4  # one gating block
LOUDNESS_PIECES = 12  # long clips are measured on this many evenly spaced pieces ...
LOUDNESS_PIECE_SECONDS = 5.0  # ... this long each (a minute in all), not on every sample
CLIP_MIN_PEAK = 0.1  # flat tops quieter than -20 dBFS are not counted as clipping
CLIP_TOLERANCE = 1e-4  # relative to the peak: samples this close to it sit "at" the peak


def hop(sample_rate: int) -> int:
    """Samples per 20 ms analysis frame."""
    return max(1, round(sample_rate * FRAME_SECONDS))


def frame_energy_db(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mean-square energy in dBFS per 20 ms frame: float32 [len(audio) // hop]; floor FLOOR_DB.

    A full-scale sine reads -3 dB.
    """
    h = hop(sample_rate)
    frames = audio[: len(audio) // h * h].reshape(-1, h)  # [F, hop]
    power = np.einsum("ij,ij->i", frames, frames) / h
    return (10 * np.log10(np.maximum(power, 10 ** (FLOOR_DB / 10)))).astype(np.float32)


def trim_silence(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, int] | None:
    """Cut leading and trailing silence, keeping 0.1 s of it at each end.

    audio: float32 [n]. Returns (float32 [F' * hop], first kept frame) cut at frame boundaries, or None
    when the clip is silent (its loudest frame is under SILENT_DB).
    """
    energy = frame_energy_db(audio, sample_rate)
    if len(energy) == 0 or energy.max() < SILENT_DB:
        return None
    loud = np.flatnonzero(energy > energy.max() - TRIM_BELOW_PEAK_DB)
    first = max(0, int(loud[0]) - TRIM_MARGIN_FRAMES)
    last = min(len(energy), int(loud[-1]) + 1 + TRIM_MARGIN_FRAMES)
    h = hop(sample_rate)
    return audio[first * h: last * h], first


def _loudness_sample(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """audio itself, or for long audio LOUDNESS_PIECES evenly spaced pieces of it joined: float32 [m]."""
    piece = int(LOUDNESS_PIECE_SECONDS * sample_rate)
    if len(audio) <= 2 * LOUDNESS_PIECES * piece:
        return audio
    starts = np.linspace(0, len(audio) - piece, LOUDNESS_PIECES).astype(int)
    return np.concatenate([audio[s:s + piece] for s in starts])


def loudness_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (ITU-R BS.1770, gated) of float32 [n] audio.

    Audio over two minutes is measured on a one-minute sample of evenly spaced pieces (the gain for a
    voice reference needs no more precision, and it keeps a 20 min clip fast and small in memory).
    Audio shorter than one 400 ms block, or quieter than the absolute gate, falls back to the RMS
    level (dBFS) of its frames within 40 dB of the loudest, which reads close to LUFS for speech.
    """
    audio = _loudness_sample(audio, sample_rate)
    if len(audio) >= BS1770_MIN_SECONDS * sample_rate:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyloudnorm warns about clipping, which is reported elsewhere
            lufs = pyloudnorm.Meter(sample_rate).integrated_loudness(audio.astype(np.float64))
        if np.isfinite(lufs):
            return float(lufs)
    energy = frame_energy_db(audio, sample_rate)
    active = energy[energy > energy.max() - TRIM_BELOW_PEAK_DB]
    return float(10 * np.log10(np.mean(10 ** (active / 10)))) if len(active) else FLOOR_DB


def normalise_loudness(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Gain float32 [n] audio to TARGET_LUFS, but never past a sample peak of PEAK_CEILING_DB.

    A plain gain, no limiter: a very peaky clip ends up quieter than the target rather than distorted.
    """
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    if peak <= 0:
        return audio
    gain_db = min(TARGET_LUFS - loudness_lufs(audio, sample_rate), PEAK_CEILING_DB - 20 * np.log10(peak))
    return np.multiply(audio, np.float32(10 ** (gain_db / 20)), dtype=np.float32)


def flat_top_frames(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, float]:
    """Clipping per 20 ms frame: (fraction of flat-top samples, float32 [len(audio) // hop]; the peak).

    A flat-top sample sits at the clip's peak level (within CLIP_TOLERANCE) next to another one that does:
    hard clipping at full scale, or audio clipped before its level was lowered. A natural peak is one
    sample; a clipped one is a run. Works in chunks so a long clip needs no large temporaries.
    """
    h = hop(sample_rate)
    n_frames = len(audio) // h
    peak = max(float(audio.max()), -float(audio.min())) if len(audio) else 0.0
    out = np.zeros(n_frames, dtype=np.float32)
    if peak < CLIP_MIN_PEAK or n_frames == 0:
        return out, peak
    level = peak * (1 - CLIP_TOLERANCE)
    chunk_frames = 4096
    for f0 in range(0, n_frames, chunk_frames):
        f1 = min(n_frames, f0 + chunk_frames)
        near = np.abs(audio[f0 * h: f1 * h]) >= level
        flat = near.copy()
        flat[1:-1] &= near[:-2] | near[2:]
        flat[0] &= near[1] if len(near) > 1 else False
        flat[-1] &= near[-2] if len(near) > 1 else False
        out[f0:f1] = flat.reshape(-1, h).mean(axis=1)
    return out, peak
