"""Does a built-in voice read better with its prompt taken from another of its clips?

A built-in voice's prompt is the first REF_FRAMES frames of its speaker's longest training clip
(`engine.train.export.speaker_references`). Here the voice reads unseen sentences (`unseen_sentences.py`'s
set A or B) with its prompt taken in turn from each of the speaker's ``--clips`` longest clips; its voice
match stays the built-in one, so only the prompt changes (the longest clip's row is the shipped prompt).
Per clip: WER, similarity to the voice's reference clip (the longest, as everywhere else), DNSMOS.

    .venv/bin/python scripts/prompt_clips.py --data data/corpus10 --voice flite-slt [--set B]
        [--sentences 20] [--clips 5] [--json OUT.json]      # ~6 min for 5 clips x 20 sentences x 2 seeds

Measured on 2026-12-08 in docs/timbre-mini.md ("One voice loses words beyond its codec").
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.engine import Engine, EngineConfig
from engine.train.export import longest_clips, voice_name
from engine.train.metrics import speaker_embedding
from engine.train.renders import clip_audio, clip_prompt, render_at_defaults
from engine.train.scoring import Scorer

sys.path.insert(0, str(Path(__file__).parent))
from unseen_sentences import SETS, unseen_sentences  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("data/corpus10"))
    p.add_argument("--model", help="model name or folder (default: the built-in model)")
    p.add_argument("--voice", default="flite-slt", help="a training speaker of the corpus, e.g. piper-joe")
    p.add_argument("--set", choices=sorted(SETS), default="A")
    p.add_argument("--sentences", type=int, default=20, help="the first N sentences of the set")
    p.add_argument("--clips", type=int, default=5, help="the speaker's N longest clips, longest first")
    p.add_argument("--json", type=Path, help="write the figures here too")
    args = p.parse_args(argv)

    engine = Engine(EngineConfig(model=args.model, device="cpu"))
    engine.load()
    start, stop, seeds = SETS[args.set]
    texts = unseen_sentences(args.data, stop)[start:start + args.sentences]
    candidates = longest_clips(args.data, args.clips).get(args.voice)
    if not candidates:
        p.error(f"{args.voice} is not a training speaker of {args.data}")
    voice = voice_name(args.voice)
    reference = speaker_embedding(clip_audio(args.data, candidates[0].meta))

    rows = []
    with Scorer() as scorer:
        pending = []
        built_in = engine.model.voices[voice]
        for i, clip in enumerate(candidates):
            # the longest clip keeps the shipped prompt (made from the corpus's features at export)
            engine.model.voices[voice] = built_in if i == 0 else clip_prompt(engine, clip_audio(args.data, clip.meta))
            takes = [render_at_defaults(engine, t, voice, seed=s).audio for s in seeds for t in texts]
            pending.append((clip.meta, scorer.score(takes, texts * len(seeds), reference)))
        print("| clip | seconds | WER | similarity | DNSMOS | text |\n|---|---|---|---|---|---|")
        for meta, scores in pending:
            r = scores.result()
            rows.append({"clip": meta["clip"], "seconds": meta["seconds"], "text": meta["text"], **r})
            print(f"| {meta['clip']} | {meta['seconds']:.1f} | {r['wer']:.3f} | {r['similarity']:.3f} | "
                  f"{r['dnsmos']:.2f} | {meta['text'][:60]} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"voice": args.voice, "set": args.set, "sentences": args.sentences,
                                         "clips": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
