"""Per-frame analysis of one clip: where the speech is, how noisy it is, and whether it sounds like music.

All frames are the 20 ms frames of clip_level.hop(). Spectral features come from a 64 ms Hann window
every 20 ms on a copy decimated to 8 kHz (voice energy lies below 4 kHz, and it keeps long clips cheap).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import soxr
from numpy.lib.stride_tricks import sliding_window_view

from engine.voices.clip_level import FRAME_SECONDS, SILENT_DB, frame_energy_db

ANALYSIS_RATE = 8000
WINDOW = 512  # 64 ms at 8 kHz: 15.6 Hz bins resolve the harmonics of a voice
FRAME_HOP = round(ANALYSIS_RATE * FRAME_SECONDS)  # 160
CHUNK_FRAMES = 2048
SPEECH_ABOVE_NOISE_DB = 6.0
SPEECH_BELOW_PEAK_DB = 45.0
NOISY_FLATNESS = 0.35  # spectral flatness above this, near the noise floor, is noise rather than speech
SOUNDING_BELOW_LEVEL_DB = 30.0
CLEAR_ABOVE_NOISE_DB = 12.0  # frames this far above the floor count as speech whatever their spectrum
FILL_GAP_FRAMES = 5  # speech gaps up to 0.1 s are closures within a word, not pauses
MIN_SPEECH_FRAMES = 3  # speech shorter than 60 ms is a click
PAUSE_FRAMES = 8  # a pause lasts at least 0.16 s
TONAL_LAG_FRAMES = 12  # 0.24 s: a sung or played note is still there; a spoken vowel has moved on
TONAL_SIMILARITY = 0.6
FINE_BAND_HZ = (100.0, 2000.0)


@dataclass(frozen=True)
class ClipAnalysis:
    """What one clip's frames hold.

    energy_db: float32 [F] dBFS; speech: bool [F]; tonal: bool [F], a sounding frame whose harmonic
    fine structure is still there 0.24 s later; noise_db / level_db: the 10th / 95th percentile frame
    energy (noise floor and loud-speech level).
    """

    energy_db: np.ndarray
    speech: np.ndarray
    tonal: np.ndarray
    noise_db: float
    level_db: float

    @property
    def snr_db(self) -> float:
        """Loud speech over the noise floor, in dB (a clip without pauses reads lower than it is)."""
        return self.level_db - self.noise_db

    @property
    def speech_seconds(self) -> float:
        return float(self.speech.sum()) * FRAME_SECONDS

    @property
    def sounding(self) -> np.ndarray:
        """bool [F]: frames within 30 dB of the loud level (speech, music, loud noise, anything)."""
        return sounding(self.energy_db, self.level_db)


def sounding(energy_db: np.ndarray, level_db: float) -> np.ndarray:
    """bool [F]: frames within SOUNDING_BELOW_LEVEL_DB of the loud level and above SILENT_DB."""
    return (energy_db > level_db - SOUNDING_BELOW_LEVEL_DB) & (energy_db > SILENT_DB)


def runs(mask: np.ndarray) -> np.ndarray:
    """(start, end) frame index pairs of the True runs of a bool [F] mask: int [R, 2], end exclusive."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)], axis=1)


def _smooth_speech(raw: np.ndarray) -> np.ndarray:
    """Fill short gaps inside words, then drop blips: bool [F] -> bool [F]."""
    speech = raw.copy()
    for start, end in runs(~speech):
        if end - start <= FILL_GAP_FRAMES and start > 0 and end < len(speech):
            speech[start:end] = True
    for start, end in runs(speech):
        if end - start < MIN_SPEECH_FRAMES:
            speech[start:end] = False
    return speech


def _spectral_frames(audio: np.ndarray, sample_rate: int, n_frames: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first frame, power spectra float32 [c, WINDOW // 2 + 1]) for chunks of the 20 ms frames."""
    x = soxr.resample(audio, sample_rate, ANALYSIS_RATE, quality="MQ") if sample_rate != ANALYSIS_RATE else audio
    pad_left = (WINDOW - FRAME_HOP) // 2  # centre each window on its frame
    need = n_frames * FRAME_HOP + WINDOW
    x = np.pad(x[: need - pad_left], (pad_left, max(0, need - pad_left - len(x))))  # float32 from soxr
    framed = sliding_window_view(x, WINDOW)[::FRAME_HOP][:n_frames]  # [F, WINDOW], a view
    window = np.hanning(WINDOW).astype(np.float32)
    for f0 in range(0, n_frames, CHUNK_FRAMES):
        spec = np.fft.rfft(framed[f0:f0 + CHUNK_FRAMES] * window, axis=1)
        yield f0, (spec.real ** 2 + spec.imag ** 2).astype(np.float32)


def _flatness(power: np.ndarray) -> np.ndarray:
    """Spectral flatness over 100-3800 Hz (geometric / arithmetic mean): float32 [c]; white noise ~0.56."""
    bins = slice(int(100 * WINDOW / ANALYSIS_RATE), int(3800 * WINDOW / ANALYSIS_RATE))
    p = power[:, bins] + 1e-12
    return np.exp(np.mean(np.log(p), axis=1)) / np.mean(p, axis=1)


def _fine_structure(power: np.ndarray) -> np.ndarray:
    """Harmonic fine structure: the log spectrum over FINE_BAND_HZ minus its 5-bin moving average, each
    frame normalised to zero mean and unit length: float32 [c, bins]. Peaks at the partials, flat for noise."""
    lo, hi = (int(f * WINDOW / ANALYSIS_RATE) for f in FINE_BAND_HZ)
    logp = np.log(power[:, lo - 2: hi + 2] + 1e-10)
    csum = np.cumsum(np.pad(logp, ((0, 0), (1, 0))), axis=1)
    smooth = (csum[:, 5:] - csum[:, :-5]) / 5  # [c, hi - lo]
    fine = logp[:, 2:-2] - smooth
    fine -= fine.mean(axis=1, keepdims=True)
    return fine / (np.linalg.norm(fine, axis=1, keepdims=True) + 1e-9)


def analyse(audio: np.ndarray, sample_rate: int) -> ClipAnalysis:
    """Analyse float32 [n] mono audio (already trimmed and levelled) frame by frame.

    Speech (an energy + spectral VAD): a frame over the noise floor (10th percentile energy) by 6 dB
    and within 45 dB of the loud level, which is either 12 dB over the floor or not noise-flat in
    spectrum; gaps up to 0.1 s are filled and blips under 60 ms dropped. The SNR is the 95th minus
    the 10th percentile energy, so it needs some pauses (or quiet syllables) to see the background.
    """
    energy = frame_energy_db(audio, sample_rate)
    n_frames = len(energy)
    flatness = np.empty(n_frames, dtype=np.float32)
    fine = None
    for f0, power in _spectral_frames(audio, sample_rate, n_frames):
        flatness[f0:f0 + len(power)] = _flatness(power)
        chunk = _fine_structure(power)
        if fine is None:
            fine = np.empty((n_frames, chunk.shape[1]), dtype=np.float32)
        fine[f0:f0 + len(power)] = chunk
    noise_db, level_db = (float(v) for v in np.percentile(energy, [10, 95])) if n_frames else (0.0, 0.0)
    above = energy - noise_db
    raw = (above > SPEECH_ABOVE_NOISE_DB) & (energy > level_db - SPEECH_BELOW_PEAK_DB)
    raw &= (flatness < NOISY_FLATNESS) | (above > CLEAR_ABOVE_NOISE_DB)
    loud = sounding(energy, level_db)
    tonal = np.zeros(n_frames, dtype=bool)
    if fine is not None and n_frames > TONAL_LAG_FRAMES:
        similar = np.einsum("ij,ij->i", fine[:-TONAL_LAG_FRAMES], fine[TONAL_LAG_FRAMES:]) > TONAL_SIMILARITY
        tonal[:-TONAL_LAG_FRAMES] = similar & loud[:-TONAL_LAG_FRAMES] & loud[TONAL_LAG_FRAMES:]
    return ClipAnalysis(energy, _smooth_speech(raw), tonal, noise_db, level_db)
