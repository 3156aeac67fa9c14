"""Does a voice match cost the default voice words? A larger, paired test than voice_match_cap.py's.

The match only changes how the decoder's features are rendered, not the frames, so each take is drawn
once (the default voice, the model's default settings) and its codes decoded under every cap ("off": no
match; a number: the spread ratio's upper bound, as in voice_match_cap.py), the voice's match refitted on
its corpus clips as at export. Every rendering is transcribed by pocketsphinx, so the caps are compared on
the same takes: WER, the per-take difference against the first cap with a 95 % bootstrap interval over
sentences, similarity to the voice's reference clip and DNSMOS. Sentences: set C, template sentences
121-240 of unseen_sentences.py's seed (never used to choose anything), at seeds 4 and 5; and five
pangrams at seeds 0-19 (the fox sentence is `make say`'s check).

    .venv/bin/python scripts/voice_match_words.py --data data/corpus10 off 1.25 2.0   # ~30 min on 2 cores
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from engine.codec.interface import AudioCodec
from engine.codec.voice_match import SCALE_RANGE, match_features
from engine.engine import Engine, EngineConfig
from engine.train import metrics
from engine.train.export import DEFAULT_SPEAKER, MATCH_CLIPS, longest_clips, reference_clips
from engine.train.renders import clip_audio, render_at_defaults
from engine.train.scoring import Scorer

sys.path.insert(0, str(Path(__file__).parent))
from unseen_sentences import unseen_sentences  # noqa: E402

SET_C = (120, 240)
SEEDS = (4, 5)
PANGRAMS = ("The quick brown fox jumps over the lazy dog.",
            "Pack my box with five dozen liquor jugs.",
            "How vexingly quick daft zebras jump.",
            "The five boxing wizards jump quickly.",
            "Sphinx of black quartz, judge my vow.")
PANGRAM_SEEDS = range(20)
BOOTSTRAP = 2000


def errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(word errors, reference words) of one transcript, as metrics.wer counts them."""
    counted = metrics.word_errors(reference, hypothesis)
    return counted.errors, counted.words


def paired_interval(base: np.ndarray, other: np.ndarray, words: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """95 % bootstrap interval of WER(other) - WER(base) over takes; arrays [takes] of error and word counts."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(words), (BOOTSTRAP, len(words)))
    diff = (other[idx].sum(1) - base[idx].sum(1)) / words[idx].sum(1)
    return float(np.percentile(diff, 2.5)), float(np.percentile(diff, 97.5))


def paired_row(base: np.ndarray, errors_: np.ndarray, words: np.ndarray, scored: list) -> dict:
    """WER of one rendering of the takes, its difference from the ``base`` rendering's with a 95 % paired
    interval, and its mean similarity and DNSMOS; arrays [takes] of error and word counts, ``scored``
    the takes' Scorer futures."""
    return {"wer": float(errors_.sum() / words.sum()),
            "wer_minus_base": float((errors_.sum() - base.sum()) / words.sum()),
            "interval_95": paired_interval(base, errors_, words),
            "similarity": float(np.mean([f.result()["similarity"] for f in scored])),
            "dnsmos": float(np.mean([f.result()["dnsmos"] for f in scored]))}


def described(row: dict) -> str:
    """A ``paired_row`` in one line."""
    lo, hi = row["interval_95"]
    return (f"WER {row['wer']:.3f} ({row['wer_minus_base']:+.3f}, 95 % [{lo:+.3f}, {hi:+.3f}]), "
            f"similarity {row['similarity']:.3f}, DNSMOS {row['dnsmos']:.2f}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("caps", nargs="+", help="spread ratio caps, or 'off'")
    p.add_argument("--data", type=Path, default=Path("data/corpus10"))
    p.add_argument("--model", default="assets/timbre-mini")
    p.add_argument("--json", type=Path, help="write the figures here too")
    args = p.parse_args(argv)

    engine = Engine(EngineConfig(model=args.model, device="cpu", voice_match=False))
    engine.load()
    codec = AudioCodec(engine.model.codec, engine.device)
    clips = [c.features for c in longest_clips(args.data, MATCH_CLIPS)[DEFAULT_SPEAKER]]
    matches = {cap: None if cap == "off" else match_features(engine.model.codec, clips,
                                                            (min(SCALE_RANGE[0], float(cap)), float(cap)))
               for cap in args.caps}
    reference = metrics.speaker_embedding(clip_audio(args.data, reference_clips(args.data)[DEFAULT_SPEAKER]))
    sentences = unseen_sentences(args.data, SET_C[1])[SET_C[0]:]
    takes = {"set C": [(t, s) for s in SEEDS for t in sentences],
             "pangrams": [(t, s) for t in PANGRAMS for s in PANGRAM_SEEDS]}
    report: dict[str, dict] = {}
    with Scorer() as scorer:
        pending: dict[str, dict[str, list]] = {name: {cap: [] for cap in args.caps} for name in takes}
        for name, items in takes.items():
            for i, (text, seed) in enumerate(items):
                done = render_at_defaults(engine, text, "default", seed=seed)
                codes = np.stack([f.codes for f in done.frames if not f.end_of_speech])
                for cap, match in matches.items():
                    pending[name][cap] += scorer.clips([codec.decode(codes, match)], reference)
                if i % 40 == 39:
                    print(f"{name}: {i + 1}/{len(items)} takes drawn", flush=True)
        for name, items in takes.items():
            counts = {cap: np.array([errors(t, f.result()["transcript"]) for (t, _), f in zip(items, fs)])
                      for cap, fs in pending[name].items()}
            words = counts[args.caps[0]][:, 1]
            base = counts[args.caps[0]][:, 0]
            rows = {}
            for cap, fs in pending[name].items():
                e = counts[cap][:, 0]
                rows[cap] = paired_row(base, e, words, fs)
                rows[cap]["takes_at_most_two_errors"] = int((e <= 2).sum())
                if name == "pangrams":
                    fox = e[:len(PANGRAM_SEEDS)]
                    rows[cap]["fox_takes_at_most_two_errors"] = int((fox <= 2).sum())
            report[name] = {"takes": len(items), "rows": rows}
            print(f"\n{name} ({len(items)} takes of the default voice, paired against cap {args.caps[0]})")
            for cap, r in rows.items():
                extra = f", fox <= 2 errors {r['fox_takes_at_most_two_errors']}/20" if name == "pangrams" else ""
                print(f"  {cap:>5}: {described(r)}, takes <= 2 errors {r['takes_at_most_two_errors']}{extra}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
