"""How a streamed rendering joins its chunks, against rendering the whole take at once.

The engine renders a take's WORLD features chunk by chunk as they are decoded (one frame, then four).
This script draws takes of the default voice (the shipped settings, its voice match on), decodes each
take's features once (the causal decoder gives a stream the same features), and renders them three
ways: whole (one WORLD call, as `decode_audio` does), "plain" chunks (each chunk rendered after 24 steps
of context, the join the engine used before `world_stream`), and the engine's join (`WorldStream`).

It reports, for each way: pocketsphinx WER with a 95 % paired bootstrap interval against the whole
rendering, DNSMOS and similarity to the voice's reference clip, how many fox-sentence takes have at most
two word errors (`make say`'s check), the energy around the seams relative to the whole rendering
(2.5 ms windows; 1.0 = no dip), and the step between the two samples of each seam over the sound's mean
step around it (a click is a large step). Sentences: the fox sentence at seeds 0-19 and the first 60 sentences
of set C (unseen_sentences.py) at seed 4.

    .venv/bin/python scripts/stream_joins.py --data data/corpus10   # ~15 min on 2 cores
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from engine.codec import world
from engine.codec.audio_stream import matched
from engine.codec.world_stream import CONTEXT, WorldStream
from engine.engine import CHUNK_FRAMES, FIRST_CHUNK_FRAMES, Engine, EngineConfig
from engine.train import metrics
from engine.train.corpus import STEPS_PER_FRAME
from engine.train.export import DEFAULT_SPEAKER, reference_clips
from engine.train.renders import clip_audio, render_at_defaults
from engine.train.scoring import Scorer

sys.path.insert(0, str(Path(__file__).parent))
from unseen_sentences import unseen_sentences  # noqa: E402
from voice_match_words import described, errors, paired_row  # noqa: E402

FOX = "The quick brown fox jumps over the lazy dog."
FOX_SEEDS = range(20)
SET_C_START, SET_C_COUNT, SET_C_SEED = 120, 60, 4
WINDOW = 40  # samples: 2.5 ms
WINDOWS = 8  # on each side of a seam


def chunk_sizes(steps: int) -> list[int]:
    """The engine's chunking of a take's feature steps: one frame, then CHUNK_FRAMES at a time."""
    sizes, first = [], FIRST_CHUNK_FRAMES * STEPS_PER_FRAME
    while sum(sizes) < steps:
        sizes.append(min(first if not sizes else CHUNK_FRAMES * STEPS_PER_FRAME, steps - sum(sizes)))
    return sizes


def plain_join(features: np.ndarray, sizes: list[int]) -> np.ndarray:
    """Each chunk rendered after CONTEXT steps of context, the context's audio dropped."""
    out, start = [], 0
    for n in sizes:
        lo = max(0, start - CONTEXT)
        out.append(world.synthesize(features[lo:start + n])[(start - lo) * world.HOP:])
        start += n
    return np.concatenate(out)


def engine_join(features: np.ndarray, sizes: list[int]) -> np.ndarray:
    stream, bounds = WorldStream(), np.cumsum([0] + sizes)
    return np.concatenate([stream.push(features[a:b]) for a, b in zip(bounds[:-1], bounds[1:])])


def seam_profile(whole: np.ndarray, joined: np.ndarray, sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Energy [2 * WINDOWS] of ``joined`` and of ``whole`` in 2.5 ms windows around every inner seam."""
    a, b = np.zeros(2 * WINDOWS), np.zeros(2 * WINDOWS)
    for seam in np.cumsum(sizes)[:-1] * world.HOP:
        if seam - WINDOWS * WINDOW < 0 or seam + WINDOWS * WINDOW > len(whole):
            continue
        for j in range(2 * WINDOWS):
            lo = seam + (j - WINDOWS) * WINDOW
            a[j] += np.sum(joined[lo:lo + WINDOW] ** 2)
            b[j] += np.sum(whole[lo:lo + WINDOW] ** 2)
    return a, b


def seam_steps(whole: np.ndarray, joined: np.ndarray, sizes: list[int]) -> list[float]:
    """At each inner seam, the step between its two samples over the whole rendering's mean step within
    12.5 ms (a click steps far more than the sound around it)."""
    out = []
    for seam in np.cumsum(sizes)[:-1] * world.HOP:
        if seam >= 200 and seam + 200 <= len(whole):
            around = np.mean(np.abs(np.diff(whole[seam - 200:seam + 200])))
            out.append(float(abs(joined[seam] - joined[seam - 1]) / (around + 1e-9)))
    return out


JOINS: dict[str, Callable[[np.ndarray, list[int]], np.ndarray] | None] = {
    "whole": None, "plain chunks": plain_join, "engine (world_stream)": engine_join}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("data/corpus10"))
    p.add_argument("--model", default="assets/timbre-mini")
    p.add_argument("--sentences", type=int, default=SET_C_COUNT, help="set C sentences to use")
    p.add_argument("--json", type=Path, help="write the figures here too")
    args = p.parse_args(argv)

    engine = Engine(EngineConfig(model=args.model, device="cpu"))
    engine.load()
    codec, match = engine.model.codec, engine.voice_match("default")
    reference = metrics.speaker_embedding(clip_audio(args.data, reference_clips(args.data)[DEFAULT_SPEAKER]))
    set_c = unseen_sentences(args.data, SET_C_START + args.sentences)[SET_C_START:]
    takes = [(FOX, s) for s in FOX_SEEDS] + [(t, SET_C_SEED) for t in set_c]
    pending: dict[str, list] = {name: [] for name in JOINS}
    energy = {name: np.zeros((2, 2 * WINDOWS)) for name in JOINS}
    steps: dict[str, list[float]] = {name: [] for name in JOINS}
    with Scorer() as scorer:
        for i, (text, seed) in enumerate(takes):
            done = render_at_defaults(engine, text, "default", seed=seed)
            codes = torch.from_numpy(np.stack([f.codes for f in done.frames if not f.end_of_speech]))
            with torch.inference_mode():
                features = codec.decode(codes.T[None].long())[0].T.float().numpy()
            features = matched(features, match)
            sizes = chunk_sizes(len(features))
            whole = world.synthesize(features)
            for name, join in JOINS.items():
                audio = whole if join is None else join(features, sizes)
                energy[name] += np.stack(seam_profile(whole, audio, sizes))
                steps[name] += seam_steps(whole, audio, sizes)
                pending[name] += scorer.clips([audio], reference)
            if i % 20 == 19:
                print(f"{i + 1}/{len(takes)} takes drawn", flush=True)
        counts = {name: np.array([errors(t, f.result()["transcript"]) for (t, _), f in zip(takes, fs)])
                  for name, fs in pending.items()}
        words, base = counts["whole"][:, 1], counts["whole"][:, 0]
        report = {}
        for name, fs in pending.items():
            e = counts[name][:, 0]
            ratio = energy[name][0] / np.maximum(energy[name][1], 1e-12)
            report[name] = paired_row(base, e, words, fs)
            report[name]["fox_takes_at_most_two_errors"] = int((e[:len(FOX_SEEDS)] <= 2).sum())
            report[name]["seam_energy_ratio"] = [round(float(r), 3) for r in ratio]
            report[name]["seam_step_median_p95_max"] = [round(float(np.percentile(steps[name], q)), 2)
                                                        for q in (50, 95, 100)]
    print(f"\n{len(takes)} takes of the default voice ({len(FOX_SEEDS)} fox, {len(set_c)} set C); seam windows "
          f"of 2.5 ms from -{WINDOWS * WINDOW / 16:.0f} ms to +{WINDOWS * WINDOW / 16:.0f} ms")
    for name, r in report.items():
        print(f"  {name:>22}: {described(r)}, fox <= 2 errors {r['fox_takes_at_most_two_errors']}/{len(FOX_SEEDS)}"
              f"\n{'':>26}seam energy / whole: {r['seam_energy_ratio']}"
              f"\n{'':>26}step across a seam / the sound's mean step there, median / 95th percentile / max: "
              f"{r['seam_step_median_p95_max']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
