"""Shared test helpers: real engine records built by hand (no engine run needed)."""

from __future__ import annotations

import numpy as np

from engine.api import Done, Frame, SamplingParams, SynthesisRequest

SR = 16_000


def make_frames(n: int, k: int = 4, end: bool = False, offset: float = 0.0) -> tuple[Frame, ...]:
    frames = [Frame(i, i % 7, 0.5, np.full(k, offset + i / 100, dtype=np.float32),
                    np.concatenate([[i % 7], np.full(k, 10)]).astype(np.int64),
                    np.linspace(-1, offset + i / 100, 3 * k).reshape(3, k).astype(np.float32)) for i in range(n)]
    if end:
        frames.append(Frame(n, -1, 0.9, np.zeros(k, np.float32), np.full(k + 1, -1, np.int64), None, True))
    return tuple(frames)


def make_done(text: str, seconds: float, seed: int = 1, value: float = 0.1, steps: int = 8) -> Done:
    """A finished render of ``seconds`` of constant-``value`` audio with matching frames."""
    n = int(round(seconds * 12.5))
    audio = np.full(n * 1280, value, dtype=np.float32)
    req = SynthesisRequest(text, params=SamplingParams(seed=seed, steps=steps))
    return Done(req, seed, make_frames(n, offset=value), audio, SR, "tiny-random", "0123456789abcdef", 0.1, 0.01)


def make_preset(library, info, name: str, frames: int = 40, seed: int = 0, **meta):
    """A real preset on disk in ``library`` for the loaded model ``info``: codes in the model's ranges
    (semantic id, then K acoustic levels) and a 1 s reference tone (no engine run needed)."""
    rng = np.random.default_rng(seed)
    codes = np.concatenate([rng.integers(0, info.semantic_size, (frames, 1)),
                            rng.integers(0, info.acoustic_levels, (frames, info.acoustic_dim))], axis=1)
    tone = (0.3 * np.sin(2 * np.pi * 220 * np.arange(info.sample_rate) / info.sample_rate)).astype(np.float32)
    return library.create(name, codes.astype(np.int32), tone, info.sample_rate, family=info.family,
                          model_hash=info.model_hash, **meta)
