"""Score a model on sentences it never saw, to choose a setting without choosing on `timbre eval`'s own.

Sentences come from the corpus generator's templates (`engine/train/texts.py`) with seed 777, none of
them in the corpus. Set A is sentences 1-60 at seeds 0 and 1, set B sentences 61-120 at seeds 2 and 3
(docs/sampling.md). Within a set the default voice reads the first 40, flite slt and kal16 the first 20,
and the held-out voice (flite rms) is cloned from one of its corpus clips for the first 15, next to the
default voice reading the same 15. WER from pocketsphinx, similarity from resemblyzer to each voice's
reference clip (the corpus clip its built-in voice was made from), DNSMOS overall.

    .venv/bin/python scripts/unseen_sentences.py --data data/corpus10 --set A [--no-voice-match]
        [--skip-phones] [--model DIR] [--steps N] [--guidance A] [--semantic-temperature T --top-k K] [--json OUT.json]

Needs the train extra and a corpus made by `timbre train data` (its reference clips and held-out voice).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from engine.api import ModelInfo, SamplingParams, SynthesisRequest
from engine.engine import Engine, EngineConfig
from engine.train.corpus import read_plan
from engine.train.export import reference_clips, voice_name
from engine.train.metrics import speaker_embedding
from engine.train.renders import clip_audio, install_clone
from engine.train.scoring import Scorer
from engine.train.unseen import unseen_sentences

SETS = {"A": (0, 60, (0, 1)), "B": (60, 120, (2, 3))}  # sentences [start, stop), seeds
READERS = {"piper-joe": 40, "flite-slt": 20, "flite-kal16": 20}  # voice -> sentences of the set it reads
CLONED = 15


def add_rendering_flags(p: argparse.ArgumentParser) -> None:
    """The flags every measuring script shares: how the engine renders, and where the figures go."""
    p.add_argument("--no-voice-match", action="store_true")
    p.add_argument("--skip-phones", action="store_true", help="let the text pointer jump over phones")
    p.add_argument("--json", type=Path, help="write the figures here too")


def loaded_engine(args: argparse.Namespace) -> tuple[Engine, ModelInfo]:
    """The CPU engine of ``args.model`` with ``add_rendering_flags``' settings, loaded."""
    engine = Engine(EngineConfig(model=args.model, device="cpu", voice_match=not args.no_voice_match,
                                 skip_phones=args.skip_phones))
    return engine, engine.load()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("data/corpus10"))
    p.add_argument("--model", help="model name or folder (default: the built-in model)")
    p.add_argument("--set", choices=sorted(SETS), default="A")
    p.add_argument("--steps", type=int, help="flow steps (default: the model's)")
    p.add_argument("--guidance", type=float, help="guidance (default: the model's)")
    p.add_argument("--semantic-temperature", type=float, default=0.0, help="0: greedy (the default)")
    p.add_argument("--top-k", type=int, default=0, help="semantic top-k when sampling (0: all)")
    add_rendering_flags(p)
    args = p.parse_args(argv)

    engine, info = loaded_engine(args)
    d = info.default_params
    start, stop, seeds = SETS[args.set]
    texts = unseen_sentences(args.data, stop)[start:stop]
    refs = reference_clips(args.data)

    def params(seed: int) -> SamplingParams:
        return SamplingParams(steps=args.steps or d.steps, guidance=args.guidance or d.guidance,
                              temperature=d.temperature, semantic_temperature=args.semantic_temperature,
                              semantic_top_k=args.top_k, seed=seed, max_seconds=20.0, keep_trajectory=False)

    def renders(voice: str, lines: list[str]) -> list[np.ndarray]:
        return [engine.render(SynthesisRequest(t, voice, params(s))).audio for s in seeds for t in lines]

    results: dict = {"model": info.model_hash, "set": args.set, "voice_match": not args.no_voice_match,
                     "skip_phones": args.skip_phones,
                     "steps": args.steps or d.steps, "guidance": args.guidance or d.guidance,
                     "semantic_temperature": args.semantic_temperature, "top_k": args.top_k, "voices": {}}
    with Scorer() as scorer:
        pending = {}
        for spk, n in READERS.items():
            reference = speaker_embedding(clip_audio(args.data, refs[spk]))
            pending[spk] = scorer.score(renders(voice_name(spk), texts[:n]), texts[:n] * len(seeds), reference)
        # cloning the held-out voice from its corpus clip of the last held-out sentence, as timbre eval does
        held_out = read_plan(args.data)["held_out_speakers"][0]
        manifest = json.loads((args.data / "manifest.json").read_text())
        clip_meta = max((c for c in manifest["clips"] if c["speaker"] == held_out), key=lambda c: c["sentence"])
        clip = clip_audio(args.data, clip_meta)
        install_clone(engine, clip)
        target = speaker_embedding(clip)
        lines = texts[:CLONED]
        clone = scorer.score(renders("clone", lines), lines * len(seeds), target)
        default = scorer.score(renders("default", lines), lines * len(seeds), target)
        for spk, scores in pending.items():
            results["voices"][spk] = scores.result()
        c, dflt = clone.result(), default.result()
        results["cloning"] = {"clone": c["similarity"], "default": dflt["similarity"],
                              "margin": c["similarity"] - dflt["similarity"], "clone_wer": c["wer"]}
    head = " | ".join(f"{k} {spk}" for spk in READERS for k in ("WER", "sim", "DNSMOS"))
    row = " | ".join(f"{v['wer']:.3f} | {v['similarity']:.3f} | {v['dnsmos']:.2f}" for v in results["voices"].values())
    print(f"| {head} | cloning margin |\n| {row} | {results['cloning']['margin']:+.3f} |")
    print(json.dumps(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
