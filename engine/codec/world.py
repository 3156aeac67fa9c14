"""WORLD vocoder features: the acoustic target of the built-in codec's decoder.

A learned decoder that predicts vocoder parameters, rendered by WORLD (pyworld, MIT/modified-BSD),
trains in minutes and sounds natural at 16 kHz. Measured here on flite speech at 16 kHz, analysis ->
synthesis scores PESQ-WB 2.4-2.8 / STOI 0.98 at a 5 ms frame period, and the 40-dim coded envelope
loses nothing measurable (docs/codec.md).

Features per 5 ms frame, float32 [T, 43]:
  0      log f0 (Hz), linearly interpolated through unvoiced frames
  1      voicing (1 voiced, 0 unvoiced)
  2..41  coded spectral envelope (pyworld.code_spectral_envelope, 40 dims)
  42     coded aperiodicity (1 band at 16 kHz)
"""

from __future__ import annotations

import warnings

import numpy as np

SAMPLE_RATE = 16_000
FRAME_PERIOD_MS = 5.0
HOP = int(SAMPLE_RATE * FRAME_PERIOD_MS / 1000)  # 80 samples
ENVELOPE_DIMS = 40
FEATURE_DIM = 2 + ENVELOPE_DIMS + 1
F0_FLOOR, F0_CEIL = 60.0, 500.0
UNVOICED_PULSE_HZ = 500.0  # WORLD's kDefaultF0: its pulse rate where a step is unvoiced


def _pw():
    # imported on first use so that importing the engine stays cheap
    try:
        with warnings.catch_warnings():  # setuptools 80's "pkg_resources is deprecated", on every `timbre say`
            warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
            import pyworld
    except ModuleNotFoundError as e:
        if e.name != "pkg_resources":
            raise
        _provide_pkg_resources()
        import pyworld
    return pyworld


def _provide_pkg_resources() -> None:
    """pyworld's __init__ only asks pkg_resources for its own version; setuptools >= 81 and the frozen
    app have no pkg_resources, so answer that one call from importlib.metadata."""
    import importlib.metadata
    import sys
    import types

    def get_distribution(name: str) -> types.SimpleNamespace:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "unknown"
        return types.SimpleNamespace(project_name=name, version=version)

    shim = types.ModuleType("pkg_resources", "importlib.metadata answering pyworld's version lookup")
    shim.get_distribution = get_distribution  # type: ignore[attr-defined]
    sys.modules["pkg_resources"] = shim


def load_vocoder() -> None:
    """Import the WORLD library now (a model load does this, so a render does not pay for it)."""
    _pw()


def analyze(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float audio [n] at 16 kHz -> features [ceil(n / 80), 43] float32."""
    if sample_rate != SAMPLE_RATE:
        raise ValueError(f"WORLD features are defined at {SAMPLE_RATE} Hz, got {sample_rate}")
    pw = _pw()
    x = np.ascontiguousarray(audio, dtype=np.float64)
    n_frames = -(-len(x) // HOP)
    f0, t = pw.dio(x, SAMPLE_RATE, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_PERIOD_MS)
    f0 = pw.stonemask(x, f0, t, SAMPLE_RATE)
    sp = pw.cheaptrick(x, f0, t, SAMPLE_RATE)
    ap = pw.d4c(x, f0, t, SAMPLE_RATE)
    csp = pw.code_spectral_envelope(sp, SAMPLE_RATE, ENVELOPE_DIMS)
    cap = pw.code_aperiodicity(ap, SAMPLE_RATE)
    voiced = f0 > 0
    lf0 = np.zeros_like(f0)
    if voiced.any():
        idx = np.arange(len(f0))
        lf0 = np.interp(idx, idx[voiced], np.log(f0[voiced]))
    else:
        lf0[:] = np.log(120.0)
    feats = np.concatenate([lf0[:, None], voiced[:, None].astype(np.float64), csp, cap], axis=1)
    feats = _fit(feats, n_frames)
    return feats.astype(np.float32)


def _fit(feats: np.ndarray, n: int) -> np.ndarray:
    """Pad (repeating the last frame) or cut to exactly n frames."""
    if len(feats) >= n:
        return feats[:n]
    return np.concatenate([feats, np.repeat(feats[-1:], n - len(feats), axis=0)])


def f0_hz(feats: np.ndarray) -> np.ndarray:
    """Features [T, 43] -> the f0 [T] float64 that WORLD renders: Hz where voiced, 0 where not."""
    f = np.asarray(feats, dtype=np.float64)
    return np.where(f[:, 1] > 0.5, np.exp(np.clip(f[:, 0], np.log(F0_FLOOR), np.log(F0_CEIL))), 0.0)


def pulse_phase(f0: np.ndarray) -> np.ndarray:
    """f0 [T] (Hz, 0 = unvoiced, T >= 2) -> WORLD's running pulse phase [T * 80] float64 (radians).

    The same sum WORLD's synthesis makes: f0 interpolated linearly to every sample (the last step
    extrapolated), 500 Hz where the interpolated voicing is under one half; a pulse sits wherever the
    phase passes a multiple of 2 pi. Streaming uses it to keep the pulse train whole across chunks."""
    t = len(f0)
    step_times = np.arange(t + 1) * (FRAME_PERIOD_MS / 1000.0)
    voiced = (f0 != 0).astype(np.float64)
    coarse_f0 = np.append(f0, 2 * f0[-1] - f0[-2])
    coarse_vuv = np.append(voiced, 2 * voiced[-1] - voiced[-2])
    times = np.arange(t * HOP) / SAMPLE_RATE
    f = np.interp(times, step_times, coarse_f0)
    f = np.where(np.interp(times, step_times, coarse_vuv) > 0.5, f, UNVOICED_PULSE_HZ)
    return np.cumsum(2.0 * np.pi * f / SAMPLE_RATE)


def synthesize(feats: np.ndarray) -> np.ndarray:
    """Features [T, 43] -> float32 audio [T * 80] at 16 kHz."""
    pw = _pw()
    f = np.asarray(feats, dtype=np.float64)
    fft = pw.get_cheaptrick_fft_size(SAMPLE_RATE)
    f0 = f0_hz(f)
    sp = pw.decode_spectral_envelope(np.ascontiguousarray(f[:, 2:2 + ENVELOPE_DIMS]), SAMPLE_RATE, fft)
    cap = np.clip(f[:, 2 + ENVELOPE_DIMS:], None, 0.0)  # coded aperiodicity is in dB, <= 0
    ap = pw.decode_aperiodicity(np.ascontiguousarray(cap), SAMPLE_RATE, fft)
    y = pw.synthesize(np.ascontiguousarray(f0), sp, ap, SAMPLE_RATE, frame_period=FRAME_PERIOD_MS)
    n = len(f) * HOP
    y = y[:n] if len(y) >= n else np.pad(y, (0, n - len(y)))
    return np.clip(y, -1.0, 1.0).astype(np.float32)
