"""Choose each built-in voice's prompt clip by how well the model reads with it.

A built-in voice is exported with the first REF_FRAMES frames of its speaker's longest training clip as
its prompt. That clip sets the voice, but also how well the model reads: on unseen sentences flite slt
read at WER 0.442 from its longest clip and 0.393 from its fourth longest, at the same similarity
(docs/timbre-mini.md). So `timbre train voices --choose-prompts N` lets the model read validation
sentences (``VALIDATION_SEED``'s template sentences, none in the corpus or the measuring sets of
``engine.train.unseen``) with each candidate prompt, the current one and the speaker's N longest clips,
and keeps the one read with the fewest word errors among those that sound most like the voice and cleanest
(``pick``). The voice match is fitted on the speaker's clips, not the prompt, and stays.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.train.errors import TrainingError

if TYPE_CHECKING:
    import torch

VALIDATION_SEED = 2026
SIMILARITY_SLACK = 0.02
DNSMOS_SLACK = 0.10
WER_MARGIN = 0.01
SEEDS = (0, 1)


@dataclass(frozen=True)
class PromptTrial:
    """How the model read the validation sentences with one candidate prompt: from the training clip
    ``clip`` (``current``: the voice's prompt before the choice)."""

    clip: str
    seconds: float
    text: str
    current: bool
    wer: float
    similarity: float
    dnsmos: float


def pick(trials: list[PromptTrial]) -> int:
    """The index of the chosen trial: among the trials that sound most like the voice (similarity within
    SIMILARITY_SLACK of the best) and, of those, cleanest (DNSMOS within DNSMOS_SLACK of their best), the one
    with the fewest word errors. The current prompt, if among them, stays unless another reads at least
    WER_MARGIN better (less is within what another set of sentences moves). Measured on the smoke corpus: a
    prompt of one frame held reads best of all (WER 0.02 against 0.25) and sounds like nobody (similarity
    0.53 against 0.89), which is why the voice is judged first."""
    top = max(t.similarity for t in trials)
    voiced = [i for i, t in enumerate(trials) if t.similarity >= top - SIMILARITY_SLACK]
    cleanest = max(trials[i].dnsmos for i in voiced)
    fair = [i for i in voiced if trials[i].dnsmos >= cleanest - DNSMOS_SLACK]
    best = min(fair, key=lambda i: trials[i].wer)
    now = next(i for i, t in enumerate(trials) if t.current)
    return now if now in fair and trials[now].wer - trials[best].wer < WER_MARGIN else best


def choose_prompts(folder: Path, data: Path, speakers: list[str] | None = None, candidates: int = 5,
                   sentences: int = 30, log=print) -> dict[str, list[PromptTrial]]:
    """Choose the prompt of each voice of the model ``folder`` made from ``speakers`` (default: every unwarped
    training speaker of the corpus ``data``) among its current prompt and the speaker's ``candidates`` longest
    clips, reading ``sentences`` validation sentences at SEEDS with each; rewrite the voice files whose choice
    changed (their codes and the clip's name; the match stays). Returns each speaker's trials, chosen one
    marked by ``pick``."""
    from safetensors.torch import load_file

    from engine.codec.voice_match import VoiceMatch
    from engine.engine import Engine, EngineConfig
    from engine.model_files import VOICES_DIR, voice_prompt_clip, write_voice
    from engine.train.export import MATCH_CLIPS, clip_codes, longest_clips, voice_name
    from engine.train.metrics import speaker_embedding
    from engine.train.renders import clip_audio, render_at_defaults
    from engine.train.scoring import Scorer
    from engine.train.unseen import MEASURE_SENTENCES, unseen_sentences

    if not 1 <= candidates <= MATCH_CLIPS:
        raise TrainingError(f"--choose-prompts takes 1 to {MATCH_CLIPS} clips, not {candidates}")
    clips = longest_clips(data, MATCH_CLIPS)
    speakers = speakers or sorted(clips)
    for s in speakers:
        if s not in clips:
            raise TrainingError(f"{s} is not an unwarped training speaker of {data} ({', '.join(sorted(clips))})")
        if not (folder / VOICES_DIR / f"{voice_name(s)}.safetensors").is_file():
            raise TrainingError(f"{folder} has no voice {voice_name(s)!r} for {s}")
    texts = unseen_sentences(data, sentences, VALIDATION_SEED, avoid=unseen_sentences(data, MEASURE_SENTENCES))
    engine = Engine(EngineConfig(model=str(folder), device="cpu"))
    engine.load()
    codec = engine.model.codec
    pending = {}
    with Scorer() as scorer:
        for s in speakers:
            voice, path = voice_name(s), folder / VOICES_DIR / f"{voice_name(s)}.safetensors"
            source = voice_prompt_clip(path) or clips[s][0].name
            current = next((c for c in clips[s] if c.name == source), None)
            if current is None:
                raise TrainingError(f"voice {voice!r}'s prompt clip {source} is not among {s}'s {MATCH_CLIPS} "
                                    f"longest clips in {data}: give the corpus the model was exported from")
            shipped = engine.model.voices[voice]
            others = [c for c in clips[s][:candidates] if c.name != source]
            reference = speaker_embedding(clip_audio(data, clips[s][0].meta))  # the voice's yardstick, as in eval
            trials = []
            for clip in [current, *others]:
                codes = shipped if clip is current else clip_codes(codec, clip, len(shipped))
                engine.model.voices[voice] = codes
                takes = [render_at_defaults(engine, t, voice, seed=seed).audio for seed in SEEDS for t in texts]
                trials.append((clip, codes, scorer.score(takes, texts * len(SEEDS), reference)))
            engine.model.voices[voice] = shipped
            pending[s] = (path, trials)
            log(f"{s}: {len(trials)} prompts x {len(texts) * len(SEEDS)} takes rendered")
        chosen = {}
        for s, (path, trials) in pending.items():
            rows = [PromptTrial(c.name, round(c.meta["seconds"], 2), c.meta["spoken"], i == 0,
                                **{k: round(v, 4) for k, v in p.result().items()})
                    for i, (c, _, p) in enumerate(trials)]
            best = pick(rows)
            chosen[s] = rows
            for i, r in enumerate(rows):
                mark, now = "*" if i == best else " ", ", current" if r.current else ""
                log(f"  {s} {mark} {r.clip} ({r.seconds:.1f} s{now}): WER {r.wer:.3f}, "
                    f"similarity {r.similarity:.3f}, DNSMOS {r.dnsmos:.2f}")
            if best:
                clip, codes, _ = trials[best]
                longest = clip.name == clips[s][0].name
                for twin in _same_voice(path, trials[0][1]):
                    write_voice(twin, codes, VoiceMatch.from_tensors(load_file(str(twin))),
                                None if longest else clip.name)
                log(f"{s}: prompt now from {clip.name} (WER {rows[0].wer:.3f} -> {rows[best].wer:.3f})")
    return chosen


def _same_voice(path: Path, codes: torch.Tensor) -> list[Path]:
    """The voice file ``path`` and the model's ``default`` voice when that is a copy of it (a model whose
    corpus has no piper joe, such as an own-voice fine-tune, exports its first voice as ``default`` too)."""
    import torch
    from safetensors.torch import load_file

    default = path.with_name("default.safetensors")
    twin = default != path and default.is_file() and torch.equal(load_file(str(default))["codes"].long(), codes)
    return [path, default] if twin else [path]


def trials_json(chosen: dict[str, list[PromptTrial]]) -> dict:
    """The choice as a JSON-ready report (format 1): per speaker its trials and the index chosen."""
    return {"format_version": 1, "validation_seed": VALIDATION_SEED, "seeds": list(SEEDS),
            "similarity_slack": SIMILARITY_SLACK, "dnsmos_slack": DNSMOS_SLACK, "wer_margin": WER_MARGIN,
            "speakers": {s: {"chosen": pick(rows), "trials": [asdict(r) for r in rows]} for s, rows in chosen.items()}}

