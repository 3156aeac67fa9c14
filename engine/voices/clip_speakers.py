"""Do the clips hold more than one voice? Speaker embeddings (resemblyzer, optional) of 1.5 s windows.

Only runs when resemblyzer is installed (the ``train`` extra); otherwise the check is skipped silently.
resemblyzer (and through it torch) is imported on first use, never when this module is imported.
The mel spectrogram is computed here in numpy with the same settings as resemblyzer's librosa call
(16 kHz, 25 ms Hann window, 10 ms hop, 40 Slaney mel bands, power 2), which spares the seconds
librosa's first import costs.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import soxr

from engine.voices.clip_level import FRAME_SECONDS

log = logging.getLogger(__name__)

RATE = 16000
N_FFT = 400  # 25 ms
MEL_HOP = 160  # 10 ms
N_MELS = 40
WINDOW_SECONDS = 1.5
MIN_SPEECH_SHARE = 0.6  # a window counts when this much of it is speech
MAX_WINDOWS = 16  # spread over the audio: enough to see two voices, cheap on a CPU
MIN_WINDOWS = 4
MIN_GROUP_SHARE = 0.2  # the smaller voice must fill at least this share of the windows
SPLIT_SIMILARITY = 0.78  # centroids less alike than this are different voices (same real voice: > 0.83)
MIN_TURN_WINDOWS = 2.5  # people speak in turns: a group's windows come in runs, 2.5 windows (3.75 s) on average


@dataclass(frozen=True)
class SpeakerSplit:
    """Two groups of windows that sound like different people."""

    windows: int
    minority_share: float  # share of windows in the smaller group
    similarity: float  # cosine similarity of the two groups' mean embeddings


def _mel_filters() -> np.ndarray:
    """Slaney-scale, Slaney-normalised triangular mel filters: float64 [N_MELS, N_FFT // 2 + 1]."""
    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        f = np.asarray(f, dtype=np.float64)
        log_part = 15.0 + np.log(np.maximum(f, 1000.0) / 1000.0) / (np.log(6.4) / 27.0)
        return np.where(f >= 1000.0, log_part, f / (200.0 / 3))

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0))
        return np.where(m >= 15.0, log_part, m * (200.0 / 3))

    fft_hz = np.linspace(0, RATE / 2, N_FFT // 2 + 1)
    mel_hz = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(RATE / 2), N_MELS + 2))
    ramps = mel_hz[:, None] - fft_hz[None, :]
    widths = np.diff(mel_hz)
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    filters = np.maximum(0.0, np.minimum(lower, upper))
    return filters * (2.0 / (mel_hz[2:] - mel_hz[:-2]))[:, None]


def mel_spectrogram(audio16k: np.ndarray) -> np.ndarray:
    """float32 [n] at 16 kHz -> mel power spectrogram float32 [1 + n // MEL_HOP, N_MELS] (centred frames)."""
    x = np.pad(audio16k.astype(np.float32), N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::MEL_HOP]  # [T, N_FFT]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)  # periodic Hann
    spec = np.fft.rfft(frames * window, axis=1)
    power = spec.real ** 2 + spec.imag ** 2  # [T, N_FFT // 2 + 1]
    return (power @ _mel_filters().T).astype(np.float32)


@functools.cache
def _encoder() -> Any | None:
    """resemblyzer's VoiceEncoder on the CPU, or None when it is not installed or fails to load."""
    if importlib.util.find_spec("resemblyzer") is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pkg_resources and scipy deprecations inside resemblyzer
            from resemblyzer import VoiceEncoder
            return VoiceEncoder("cpu", verbose=False)
    except (ImportError, OSError, RuntimeError) as e:  # an optional check must not break clip preparation
        log.info("speaker check skipped: resemblyzer failed to load (%s)", e)
        return None


def _window_starts(speech: np.ndarray) -> np.ndarray:
    """Start frames (20 ms frames) of non-overlapping 1.5 s windows that are mostly speech: int [W]."""
    size = round(WINDOW_SECONDS / FRAME_SECONDS)
    n = len(speech) // size
    share = speech[: n * size].reshape(n, size).mean(axis=1) if n else np.zeros(0)
    starts = np.flatnonzero(share >= MIN_SPEECH_SHARE) * size
    if len(starts) > MAX_WINDOWS:
        starts = starts[np.linspace(0, len(starts) - 1, MAX_WINDOWS).round().astype(int)]
    return starts


def _embed(encoder: Any, mel: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """L2-normalised embeddings float32 [W, 256] of 1.5 s mel windows starting at 20 ms frames ``starts``."""
    import torch  # resemblyzer's model is a torch module; torch is only loaded when the check runs

    size = round(WINDOW_SECONDS * RATE / MEL_HOP)
    first = (starts * round(FRAME_SECONDS * RATE / MEL_HOP)).astype(int)
    first = first[first + size <= len(mel)]
    batch = np.stack([mel[f:f + size] for f in first])  # [W, 150, 40]
    # One thread: the batch is small (~0.1 s of work), and a spinning thread pool on a busy CPU was
    # measured taking 1-7 s for it. Restored after, since the engine thread owns the setting.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            return encoder(torch.from_numpy(batch)).numpy()
    finally:
        torch.set_num_threads(threads)


def _two_groups(emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2-means on the unit sphere seeded by the least alike pair: (bool [W] group, centroids [2, D])."""
    sim = emb @ emb.T
    i, j = np.unravel_index(np.argmin(sim), sim.shape)
    centroids = emb[[i, j]]
    for _ in range(10):
        group = (emb @ centroids.T).argmax(axis=1).astype(bool)
        if group.all() or not group.any():
            break
        centroids = np.stack([emb[~group].mean(axis=0), emb[group].mean(axis=0)])
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    return group, centroids


def find_speaker_split(audio: np.ndarray, sample_rate: int, speech: np.ndarray) -> SpeakerSplit | None:
    """A SpeakerSplit when the speech falls into two clearly different voices, else None.

    Up to MAX_WINDOWS 1.5 s windows that are mostly speech are embedded and split in two (2-means on
    cosine similarity). It is a split of voices when the two groups' mean embeddings are less alike than
    SPLIT_SIMILARITY, the smaller group holds at least MIN_GROUP_SHARE of the windows, and the groups
    come in turns rather than alternating window by window (which is one voice's own variety).
    Measured with flite voices: same voice 0.83-0.96, two voices 0.53-0.77. Limits: two similar voices
    (same sex, accent, microphone) can read as one; a voice under very different recording conditions
    can read as two; overlapping talk is not separated.

    audio: float32 [n] at sample_rate; speech: bool [F] per 20 ms frame. None also when resemblyzer is
    missing or there are fewer than MIN_WINDOWS windows of speech (too little to judge).
    """
    starts = _window_starts(speech)
    if len(starts) < MIN_WINDOWS or (encoder := _encoder()) is None:
        return None
    audio16k = soxr.resample(audio, sample_rate, RATE) if sample_rate != RATE else audio
    emb = _embed(encoder, mel_spectrogram(audio16k), starts)
    group, centroids = _two_groups(emb)
    minority = min(int(group.sum()), int((~group).sum()))
    similarity = float(centroids[0] @ centroids[1])
    turns = 1 + int(np.count_nonzero(group[1:] != group[:-1]))
    if minority < 2 or minority < MIN_GROUP_SHARE * len(emb) or similarity >= SPLIT_SIMILARITY:
        return None
    if len(emb) / turns < MIN_TURN_WINDOWS:  # windows scattered back and forth: one voice's own variety
        return None
    return SpeakerSplit(windows=len(emb), minority_share=minority / len(emb), similarity=similarity)
