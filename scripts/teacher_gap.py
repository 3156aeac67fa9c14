"""The issue's WER and DNSMOS goals on 120 unseen sentences, next to each teacher reading the same ones.

`timbre eval` compares each voice with its teacher on 30 held-out sentences at one seed, where one seed's
WER moves by +-0.07. Here every training voice (piper joe and the flite voices) reads set C, the template
sentences 121-240 of unseen_sentences.py's seed (never used to choose anything), at seeds 4 and 5 with the
model's default settings and voice match, and its teacher program reads the same sentences once (resampled
to 16 kHz, trimmed and levelled as the corpus's clips are). Per voice: WER of both, the gap (model minus
teacher; goal <= 0.10) with a 95 % bootstrap interval over sentences, similarity to the voice's reference
clip, DNSMOS of both.

    .venv/bin/python scripts/teacher_gap.py --data data/corpus10 [--voices piper-joe flite-slt]
        [--no-voice-match] [--json OUT.json]        # ~50 min on 2 cores for the four voices

Needs the train extra (pocketsphinx, resemblyzer, DNSMOS), the teacher programs, and a corpus made by
`timbre train data` (its reference clips and which sentences it holds).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from engine.train.data import corpus_clip
from engine.train.export import reference_clips, voice_name
from engine.train.metrics import speaker_embedding
from engine.train.renders import clip_audio, render_at_defaults
from engine.train.scoring import Scorer
from engine.train.teachers import VOICES, synthesize

sys.path.insert(0, str(Path(__file__).parent))
from unseen_sentences import add_rendering_flags, loaded_engine, unseen_sentences  # noqa: E402
from voice_match_words import SEEDS, SET_C, errors, paired_interval  # noqa: E402

TRAINING_VOICES = ("piper-joe", "flite-slt", "flite-kal16", "flite-awb")
GOAL_GAP = 0.10


def teacher_audio(voice: str, texts: list[str]) -> list[np.ndarray]:
    """The teacher program's reading of each text, as the corpus keeps it: [n] at 16 kHz, trimmed, levelled."""
    return [corpus_clip(audio, sr) for audio, sr in synthesize(VOICES[voice], texts)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("data/corpus10"))
    p.add_argument("--model", default="assets/timbre-mini")
    p.add_argument("--voices", nargs="+", default=list(TRAINING_VOICES), choices=TRAINING_VOICES)
    p.add_argument("--sentences", type=int, default=SET_C[1] - SET_C[0], help="the first N of set C (a quick look)")
    add_rendering_flags(p)
    args = p.parse_args(argv)

    engine, info = loaded_engine(args)
    texts = unseen_sentences(args.data, SET_C[1])[SET_C[0]:SET_C[0] + args.sentences]
    refs = reference_clips(args.data)
    report: dict = {"model": info.model_hash, "voice_match": not args.no_voice_match, "skip_phones": args.skip_phones,
                    "sentences": len(texts), "seeds": list(SEEDS), "voices": {}}
    with Scorer() as scorer:
        pending = {}
        for voice in args.voices:
            reference = speaker_embedding(clip_audio(args.data, refs[voice]))
            teacher = scorer.clips(teacher_audio(voice, texts), reference)
            model = {s: scorer.clips([render_at_defaults(engine, t, voice_name(voice), seed=s).audio for t in texts],
                                     reference) for s in SEEDS}
            pending[voice] = teacher, model
            print(f"{voice}: {len(texts)} teacher clips and {len(texts) * len(SEEDS)} takes rendered", flush=True)
        print("\n| voice | WER teacher | WER model | gap (95 %) | goal <= 0.10 | similarity teacher / model "
              "| DNSMOS teacher / model |\n|---|---|---|---|---|---|---|")
        for voice, (teacher, model) in pending.items():
            t_rows = [f.result() for f in teacher]
            m_rows = {s: [f.result() for f in fs] for s, fs in model.items()}
            t_counts = np.array([errors(t, r["transcript"]) for t, r in zip(texts, t_rows)])
            words = t_counts[:, 1]
            per_seed = {s: np.array([errors(t, r["transcript"])[0] for t, r in zip(texts, rows)])
                        for s, rows in m_rows.items()}  # [sentences] each
            m_errors = sum(per_seed.values())
            k = len(SEEDS)
            wer_t = float(t_counts[:, 0].sum() / words.sum())
            wer_m = float(m_errors.sum() / (k * words.sum()))
            lo, hi = paired_interval(k * t_counts[:, 0], m_errors, k * words)
            every = [r for rows in m_rows.values() for r in rows]
            row = {"wer_teacher": wer_t, "wer_model": wer_m, "gap": wer_m - wer_t, "gap_interval_95": (lo, hi),
                   "similarity_teacher": float(np.mean([r["similarity"] for r in t_rows])),
                   "similarity_model": float(np.mean([r["similarity"] for r in every])),
                   "dnsmos_teacher": float(np.mean([r["dnsmos"] for r in t_rows])),
                   "dnsmos_model": float(np.mean([r["dnsmos"] for r in every])),
                   "wer_model_per_seed": {str(s): float(e.sum() / words.sum()) for s, e in per_seed.items()}}
            report["voices"][voice] = row
            verdict = "met" if row["gap"] <= GOAL_GAP else "missed"
            print(f"| {voice} | {wer_t:.3f} | {wer_m:.3f} | {row['gap']:+.3f} [{lo:+.3f}, {hi:+.3f}] | {verdict} "
                  f"| {row['similarity_teacher']:.3f} / {row['similarity_model']:.3f} "
                  f"| {row['dnsmos_teacher']:.2f} / {row['dnsmos_model']:.2f} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
