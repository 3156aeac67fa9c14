"""Could a richer per-voice correction than the voice match recover what the codec loses? (docs/codec.md)

The voice match (`engine.codec.voice_match`) moves each WORLD feature by its own mean and spread. Here a
per-voice ridge regression is fitted instead, on paired steps: the codec's round trip of the voice's
MATCH_CLIPS longest training clips (every feature at steps t-2..t+2) -> the clips' true features (as a
residual, voicing left alone); and the regression followed by the match's moment rescaling. The built-in
speakers are fitted on their corpus clips, the held-out voice (flite rms) on one clip as a clone would be.
Each variant renders the round trip of held-out clips, scored against the clip: PESQ-WB, STOI and
similarity to the clip itself.

    .venv/bin/python scripts/feature_regression.py --data data/corpus10 [--clips 6] [--ridge 10]   # ~4 min on 2 cores
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from engine.codec import world
from engine.codec.voice_match import match_features, moment_match, round_trip_features, voiced_statistics
from engine.codec.voxtral_codec import VoxtralCodec
from engine.engine import Engine, EngineConfig
from engine.train import metrics
from engine.train.corpus import load_clips
from engine.train.export import MATCH_CLIPS, longest_clips
from engine.train.renders import clip_audio

LAGS = (-2, -1, 0, 1, 2)  # 5 ms steps of context each side
SPEAKERS = ("piper-joe", "flite-kal16", "flite-slt", "flite-awb", "flite-rms")
Correction = Callable[[np.ndarray], np.ndarray]


def lagged(x: np.ndarray) -> np.ndarray:
    """Features [n, 43] -> [n, 43 * len(LAGS) + 1]: each step with its neighbours (edges repeated) and a 1."""
    n = len(x)
    cols = [x[np.clip(np.arange(n) + lag, 0, n - 1)] for lag in LAGS]
    return np.concatenate([*cols, np.ones((n, 1), x.dtype)], axis=1)


def fit_regression(decoded: list[np.ndarray], true: list[np.ndarray], ridge: float) -> Correction:
    """Ridge regression of the residual true - decoded on the standardised lagged decoded features; the
    penalty is ``ridge`` per thousand steps, the intercept unpenalised, voicing (column 1) never moved."""
    x = np.concatenate([lagged(d) for d in decoded]).astype(np.float64)
    y = np.concatenate(true).astype(np.float64) - np.concatenate(decoded)
    mean, std = x.mean(0), x.std(0) + 1e-6
    mean[-1], std[-1] = 0.0, 1.0
    xs = (x - mean) / std
    penalty = np.full(x.shape[1], ridge * len(x) / 1000)
    penalty[-1] = 0.0
    weights = np.linalg.solve(xs.T @ xs + np.diag(penalty), xs.T @ y)
    weights[:, 1] = 0.0
    return lambda d: (d + ((lagged(d) - mean) / std) @ weights).astype(np.float32)


def with_moments(correct: Correction, decoded: list[np.ndarray], true: list[np.ndarray]) -> Correction:
    """``correct`` followed by the voice match's per-feature rescaling of its output onto the true voiced
    mean and spread."""
    match = moment_match(voiced_statistics(np.concatenate(true)),
                         voiced_statistics(np.concatenate([correct(d) for d in decoded])))
    return lambda d: match.apply(correct(d))


def corrections(codec: VoxtralCodec, fit: list[np.ndarray], ridge: float) -> dict[str, Correction]:
    decoded = [round_trip_features(codec, f) for f in fit]
    match = match_features(codec, fit)
    regression = fit_regression(decoded, fit, ridge)
    return {"round trip": lambda d: d, "voice match": match.apply if match else lambda d: d,
            "regression": regression, "regression + moments": with_moments(regression, decoded, fit)}


def scores(audio: np.ndarray, features: np.ndarray, embedding: np.ndarray) -> tuple[float, float, float]:
    rendered = world.synthesize(features)[: len(audio)]
    pesq, stoi = metrics.pesq_stoi(audio, rendered)
    return pesq, stoi, metrics.similarity_to(rendered, embedding)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("data/corpus10"))
    p.add_argument("--model", default="assets/timbre-mini")
    p.add_argument("--clips", type=int, default=6, help="held-out clips scored per speaker")
    p.add_argument("--ridge", type=float, default=10.0)
    args = p.parse_args(argv)

    engine = Engine(EngineConfig(model=args.model, device="cpu"))
    engine.load()
    codec = engine.model.codec
    train = longest_clips(args.data, MATCH_CLIPS)
    held: dict[str, list] = {}
    for c in sorted(load_clips(args.data, "eval", exclude_held_out=False), key=lambda c: c.meta["sentence"]):
        if c.meta["warp"] is None:
            held.setdefault(c.meta["speaker"], []).append(c)
    table: dict[str, dict[str, np.ndarray]] = {}
    with ProcessPoolExecutor(2) as pool:
        for spk in SPEAKERS:
            if spk in train:
                fit, test = [c.features for c in train[spk]], held[spk][:args.clips]
            else:  # a held-out voice: one clip, as a clone has
                fit, test = [held[spk][0].features], held[spk][1:1 + args.clips]
            variants = corrections(codec, fit, args.ridge)
            pending: dict[str, list] = {name: [] for name in variants}
            for c in test:
                audio = clip_audio(args.data, c.meta)
                embedding = metrics.speaker_embedding(audio)
                decoded = round_trip_features(codec, world.analyze(audio))
                for name, correct in variants.items():
                    pending[name].append(pool.submit(scores, audio, correct(decoded), embedding))
            table[spk] = {name: np.mean([f.result() for f in fs], axis=0) for name, fs in pending.items()}
    print(f"| speaker | {' | '.join(table[SPEAKERS[0]])} |  (PESQ-WB / STOI / similarity to the clip)")
    for spk in (*SPEAKERS, "mean"):
        rows = table[spk] if spk != "mean" else {k: np.mean([table[s][k] for s in SPEAKERS], 0)
                                                  for k in table[SPEAKERS[0]]}
        print(f"| {spk} | " + " | ".join(f"{v[0]:.2f} / {v[1]:.3f} / {v[2]:.3f}" for v in rows.values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
