"""How far a voice match should stretch the decoded features' spread (docs/voices.md).

For each cap on the ratio of spreads (``engine.codec.voice_match.SCALE_RANGE``'s upper end; "off": no
match), the built-in voices piper joe, flite kal16 and flite slt are refitted on their corpus clips as at
export and render `timbre eval`'s held-out sentences at seed 0: joe all 30 (similarity to its reference
clip, WER, DNSMOS of the first 15) and the pangram at seeds 0-9 (WER), kal16 and slt 15 (similarity).
The frames are the same under every cap; only their rendering changes.

    .venv/bin/python scripts/voice_match_cap.py --data data/corpus10 off 1.0 1.25 1.5 2.0   # ~4 min a cap
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

import engine.codec.voice_match as voice_match
from engine.engine import Engine, EngineConfig
from engine.train import metrics
from engine.train.corpus import load_clips
from engine.train.export import MATCH_CLIPS, longest_clips, reference_clips, voice_name
from engine.train.renders import clip_audio, render_at_defaults

PANGRAM = "The quick brown fox jumps over the lazy dog."
READERS = {"piper-joe": 30, "flite-kal16": 15, "flite-slt": 15}


def fitted(codec, clips: dict[str, list], cap: float) -> dict[str, voice_match.VoiceMatch | None]:
    """Each reader's match with the spread ratio capped at ``cap``."""
    bounds = (min(voice_match.SCALE_RANGE[0], cap), cap)
    return {spk: voice_match.match_features(codec, [c.features for c in clips[spk]], bounds) for spk in READERS}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("caps", nargs="+", help="spread ratio caps, or 'off'")
    p.add_argument("--data", type=Path, default=Path("data/corpus10"))
    p.add_argument("--model", default="assets/timbre-mini")
    args = p.parse_args(argv)

    engine = Engine(EngineConfig(model=args.model, device="cpu"))
    engine.load()
    model = engine.model
    held: dict[str, dict[int, str]] = {}
    for c in load_clips(args.data, "eval", exclude_held_out=False):
        held.setdefault(c.meta["speaker"], {})[c.meta["sentence"]] = c.meta["spoken"]
    texts = {spk: [t for _, t in sorted(held[spk].items())][:n] for spk, n in READERS.items()}
    refs = reference_clips(args.data)
    references = {spk: metrics.speaker_embedding(clip_audio(args.data, refs[spk])) for spk in READERS}
    clips = longest_clips(args.data, MATCH_CLIPS)

    for cap in args.caps:
        matches = {spk: None for spk in READERS} if cap == "off" else fitted(model.codec, clips, float(cap))
        row: dict[str, dict[str, float]] = {}
        for spk, lines in texts.items():
            voice = voice_name(spk)
            model.voice_matches.pop(voice, None)
            if matches[spk] is not None:
                model.voice_matches[voice] = matches[spk]
            audio = [render_at_defaults(engine, t, voice).audio for t in lines]
            row[spk] = {"similarity": float(np.mean([metrics.cosine(metrics.speaker_embedding(a), references[spk])
                                                    for a in audio]))}
            if spk == "piper-joe":
                pangram = [render_at_defaults(engine, PANGRAM, voice, seed=s).audio for s in range(10)]
                row[spk] |= {"wer": metrics.wer(lines, [metrics.transcribe(a) for a in audio]),
                             "pangram_wer": metrics.wer([PANGRAM] * 10, [metrics.transcribe(a) for a in pangram]),
                             "dnsmos": float(np.mean([metrics.dnsmos(a) for a in audio[:15]]))}
        print(cap, json.dumps({spk: {k: round(v, 3) for k, v in r.items()} for spk, r in row.items()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
