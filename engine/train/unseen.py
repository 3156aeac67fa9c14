"""Sentences a corpus does not hold, to measure or choose with, away from `timbre eval`'s held-out ones.

They come from the corpus generator's templates (`engine/train/texts.py`) at a seed of their own, keep to
words the lexicon has, and are spelled out as spoken. The measuring sets of `scripts/unseen_sentences.py`
(A, B) and `scripts/teacher_gap.py` (C) are the first 240 of MEASURE_SEED; anything chosen by the model's
own readings (a voice's prompt clip, `engine.train.prompt_choice`) is chosen on other sentences, so those
sets stay a fair measure of it.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

MEASURE_SEED = 777
MEASURE_SENTENCES = 240  # sets A, B and C


def unseen_sentences(data: Path, count: int, seed: int = MEASURE_SEED, avoid: Collection[str] = ()) -> list[str]:
    """The first ``count`` template sentences of ``seed`` that the lexicon covers and neither the corpus
    ``data`` nor ``avoid`` (spoken forms) holds, spelled out as spoken."""
    from engine.phonemes import Lexicon
    from engine.text_normalize import spell_out
    from engine.train.data import lexicon_path
    from engine.train.errors import TrainingError
    from engine.train.texts import generated_sentences, in_lexicon

    manifest = json.loads((data / "manifest.json").read_text())
    seen = {c["text"].lower() for c in manifest["clips"]}
    avoided = {a.lower() for a in avoid}
    lexicon = Lexicon.read(lexicon_path())
    out: list[str] = []
    for text, _ in generated_sentences(count * 20, seed):
        if text.lower() not in seen and in_lexicon(text, lexicon):
            seen.add(text.lower())
            spoken = spell_out(text)
            if spoken.lower() not in avoided:
                out.append(spoken)
        if len(out) == count:
            return out
    raise TrainingError(f"only {len(out)} template sentences of seed {seed} are new to {data}; {count} asked for")
