"""``timbre train data``: the corpus. Teachers read sentences; clips are resampled to 16 kHz,
trimmed, levelled, optionally warped into new speakers, force-aligned and analysed into WORLD
features. Work is split into shards written atomically, so an interrupted run resumes.

Layout of ``--out``:
  manifest.json        format_version, voices (licences), speakers, sentences and every clip
  audio/<clip>.flac    16 kHz mono
  shards/NNNN.json     the shard's clips (what manifest.json gathers)
  shards/NNNN.safetensors  "<clip>" -> WORLD features float32 [steps, 43] (5 ms steps)
"""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from safetensors.numpy import save_file

from engine.atomic import write_atomic, write_text_atomic
from engine.codec import world
from engine.phonemes import Lexicon, spoken_words
from engine.train.augment import Warp, apply_warp
from engine.train.corpus import PLAN_NAME, plan_extra_sentences
from engine.train.errors import TrainingError
from engine.train.progress import Progress
from engine.train.teachers import VOICES, synthesize
from engine.train.texts import Sentence, build_extra_sentences, build_sentences

CORPUS_FORMAT_VERSION = 1
SR = world.SAMPLE_RATE
FEATURE = {"kind": "world", "step_ms": world.FRAME_PERIOD_MS, "dim": world.FEATURE_DIM}  # in every manifest


@dataclass(frozen=True)
class Speaker:
    name: str
    voice: str  # teacher voice
    warp: Warp | None = None


@dataclass(frozen=True)
class Plan:
    """How many training clips each speaker reads; every speaker also reads the eval sentences."""

    counts: dict[str, int] = field(default_factory=lambda: {
        "piper-joe": 1500, "flite-slt": 500, "flite-awb": 500, "flite-kal16": 500,
        "espeak-en-us": 250, "espeak-en-us-f3": 250, "espeak-en-gb-rp-m3": 250,
        "espeak-en-gb-scotland-f4": 250, "espeak-en-gb-f2": 250,
        "piper-joe~a": 250, "piper-joe~b": 250, "flite-slt~a": 250, "flite-awb~a": 250,
        "flite-kal16~a": 250, "espeak-en-us~a": 250,
    })
    held_out_speakers: tuple[str, ...] = ("flite-rms",)
    eval_sentences: int = 30
    shard_size: int = 100
    n_generated: int = 3000
    seed: int = 0
    extra_sentences: int = 0  # from the extra pool, each read once by a training speaker (more distinct text)

    def scaled(self, scale: float) -> "Plan":
        counts = {k: max(1, int(round(v * scale))) for k, v in self.counts.items()}
        return replace(self, counts=counts)


WARPS = {
    "a": {"piper-joe": Warp(1.35, 1.12, 1.05), "flite-slt": Warp(0.75, 0.9, 1.0), "flite-awb": Warp(1.25, 1.08, 1.1),
          "flite-kal16": Warp(1.2, 1.1, 0.9), "espeak-en-us": Warp(1.6, 1.15, 1.0)},
    "b": {"piper-joe": Warp(0.85, 0.93, 0.95)},
}


def speaker(name: str) -> Speaker:
    if "~" in name:
        base, tag = name.split("~", 1)
        return Speaker(name, base, WARPS[tag][base])
    if name not in VOICES:
        raise ValueError(f"unknown voice {name!r}")
    return Speaker(name, name)


@dataclass(frozen=True)
class Job:
    clip: str
    speaker: str
    sentence: int
    split: str  # train | eval


def plan_jobs(plan: Plan, n_sentences: int) -> list[list[Job]]:
    """Shards of jobs; each shard holds one speaker (piper reads a whole shard in one process).

    Sentences ``n_sentences`` onwards are the extra pool: each is read once, by a training speaker drawn
    in proportion to the counts, in shards after the base ones (so adding them changes no base shard)."""
    r = random.Random(plan.seed)
    train_ids = list(range(plan.eval_sentences, n_sentences))
    shards: list[list[Job]] = []
    speakers = list(plan.counts) + list(plan.held_out_speakers)
    for spk in speakers:
        jobs = [Job(f"{spk}-eval-{i:03d}", spk, i, "eval") for i in range(plan.eval_sentences)]
        if spk in plan.counts:
            picks = r.sample(train_ids, min(plan.counts[spk], len(train_ids)))
            jobs += [Job(f"{spk}-{k:05d}", spk, s, "train") for k, s in enumerate(picks)]
        shards += _in_shards(jobs, plan.shard_size)
    if plan.extra_sentences:
        readers = random.Random(plan.seed + 1).choices(list(plan.counts), list(plan.counts.values()),
                                                       k=plan.extra_sentences)
        for spk in plan.counts:
            ids = [n_sentences + i for i, who in enumerate(readers) if who == spk]
            shards += _in_shards([Job(f"{spk}-x{k:05d}", spk, s, "train") for k, s in enumerate(ids)], plan.shard_size)
    return shards


def _in_shards(jobs: list[Job], size: int) -> list[list[Job]]:
    return [jobs[i:i + size] for i in range(0, len(jobs), size)]


def trim_and_level(audio: np.ndarray, margin: float = 0.05, rms_db: float = -20.0) -> np.ndarray:
    """Cut leading/trailing silence (40 dB below the loudest 10 ms) and level to ``rms_db``."""
    hop = SR // 100
    n = len(audio) // hop
    if n == 0:
        return audio
    rms = np.sqrt(np.mean(audio[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-12)
    active = np.nonzero(rms > rms.max() * 10 ** (-40 / 20))[0]
    m = int(margin * SR)
    a = audio[max(0, active[0] * hop - m): min(len(audio), (active[-1] + 1) * hop + m)]
    level = np.sqrt(np.mean(a[np.abs(a) > 0.01 * np.abs(a).max()] ** 2) + 1e-12)
    a = a * (10 ** (rms_db / 20) / level)
    peak = np.abs(a).max()
    return (a * (0.95 / peak) if peak > 0.95 else a).astype(np.float32)


def corpus_clip(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Speech [n] at any rate as the corpus keeps it: resampled to 16 kHz [m], trimmed and levelled."""
    return trim_and_level(soxr.resample(audio, sample_rate, SR).astype(np.float32) if sample_rate != SR else audio)


def run_shard(out: Path, index: int, jobs: list[Job], sentences: list[Sentence], seed: int) -> int:
    """Make one shard; returns how many clips it kept (failed alignments are dropped)."""
    from engine.train.align import Aligner, AlignmentError

    spk = speaker(jobs[0].speaker)
    r = random.Random(seed * 100_003 + index)
    length_scale = r.uniform(0.9, 1.15) if VOICES[spk.voice].engine == "piper" else 1.0
    texts = [sentences[j.sentence].spoken for j in jobs]
    audios = synthesize(VOICES[spk.voice], texts, length_scale)
    aligner = Aligner()
    clips, feats = [], {}
    for job, (audio, sr) in zip(jobs, audios):
        a = corpus_clip(audio, sr)
        if spk.warp is not None:
            a = trim_and_level(apply_warp(a, spk.warp))
        s = sentences[job.sentence]
        try:
            timing, feats[job.clip] = analysed_clip(out, job.clip, a, s.spoken, aligner)
        except AlignmentError:
            continue
        clips.append({
            "clip": job.clip, "speaker": spk.name, "voice": spk.voice, "split": job.split,
            "warp": asdict(spk.warp) if spk.warp else None, "length_scale": round(length_scale, 3),
            "sentence": job.sentence, "text": s.text, "spoken": s.spoken, "source": s.source,
            "text_licence": s.licence, "voice_licence": VOICES[spk.voice].licence, **timing,
        })
    write_shard(out, index, clips, feats)
    return len(clips)


def analysed_clip(out: Path, name: str, audio: np.ndarray, spoken: str, aligner) -> tuple[dict, np.ndarray]:
    """A trimmed, levelled 16 kHz clip [n] that says ``spoken`` -> (its clip fields: audio path, seconds,
    aligned units and their durations, feature steps; its WORLD features [steps, 43]), and its audio written
    to ``audio/<name>.flac``. Raises AlignmentError when the aligner cannot follow the text."""
    from engine.train.align import units_and_durations

    units, durs = units_and_durations(spoken, aligner.segments(audio, spoken_words(spoken)), len(audio) // (SR // 100))
    feats = world.analyze(audio)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    write_atomic(out / "audio" / f"{name}.flac", lambda p: sf.write(str(p), audio, SR, format="FLAC"))
    return {"audio": f"audio/{name}.flac", "seconds": round(len(audio) / SR, 3), "units": units,
            "durations_10ms": durs, "steps": int(len(feats))}, feats


def write_shard(out: Path, index: int, clips: list[dict], feats: dict[str, np.ndarray]) -> None:
    """``shards/NNNN.json`` (the clips' fields) and ``shards/NNNN.safetensors`` (their features), atomically;
    the JSON last, since a shard counts as made once it is there."""
    shards = out / "shards"
    if feats:
        write_atomic(shards / f"{index:04d}.safetensors",
                     lambda p: save_file(feats, str(p), metadata={"format_version": str(CORPUS_FORMAT_VERSION)}))
    write_text_atomic(shards / f"{index:04d}.json", json.dumps({"format_version": CORPUS_FORMAT_VERSION,
                                                                "clips": clips}))


def lexicon_path() -> Path:
    """The CMU dictionary that ships with pocketsphinx (the aligner's own)."""
    import pocketsphinx

    return Path(pocketsphinx.__file__).parent / "model" / "en-us" / "cmudict-en-us.dict"


def _keep_creation_time(path: Path, manifest: dict) -> dict:
    """The manifest with the existing one's ``created`` time if nothing else in it changed: finishing a
    finished corpus is not a new corpus (the model card shows this date)."""
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return manifest
    same = json.loads(json.dumps({**manifest, "created": None})) == {**old, "created": None}
    return {**manifest, "created": old["created"]} if same and "created" in old else manifest


def make_corpus(out: Path, plan: Plan, workers: int = 2, log=print) -> dict:
    """Build (or finish) the corpus in ``out``; returns the manifest."""
    if out.exists() and not out.is_dir():
        raise TrainingError(f"{out} is a file: --out must be a new folder or a corpus to finish")
    if out.is_dir() and not (out / PLAN_NAME).is_file() and any(out.iterdir()):
        raise TrainingError(f"{out} holds other files and no corpus: --out must be a new or empty folder, or a "
                            "corpus to finish")
    had = plan_extra_sentences(out)  # dropping them would drop their clips from the manifest
    if had > plan.extra_sentences:
        raise TrainingError(f"{out} was made with --extra-sentences {had}; pass it again to finish or rebuild "
                            "this corpus, or use a new --out")
    out.mkdir(parents=True, exist_ok=True)
    (out / "shards").mkdir(exist_ok=True)
    for name in list(plan.counts) + list(plan.held_out_speakers):
        if not VOICES[speaker(name).voice].available():
            raise TrainingError(f"teacher for {name} is not installed (see scripts/setup.sh and the train extra)")
    lexicon = Lexicon.read(lexicon_path())
    sentences = build_sentences(lexicon, plan.n_generated, plan.seed)
    shards = plan_jobs(plan, len(sentences))
    if plan.extra_sentences:
        extra = build_extra_sentences(lexicon, sentences, plan.seed)
        if len(extra) < plan.extra_sentences:
            raise TrainingError(f"the extra text pool has {len(extra)} sentences, fewer than the "
                                f"{plan.extra_sentences} asked for (are fortunes and manpages installed?)")
        sentences += extra[: plan.extra_sentences]
    write_text_atomic(out / PLAN_NAME, json.dumps({"format_version": CORPUS_FORMAT_VERSION, **asdict(plan)}, indent=1))
    todo = [i for i in range(len(shards)) if not (out / "shards" / f"{i:04d}.json").is_file()]
    log(f"corpus: {len(sentences)} sentences, {sum(map(len, shards))} clips in {len(shards)} shards; "
        f"{len(todo)} shards to make")
    progress = Progress(len(shards), log, start=len(shards) - len(todo))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [(i, pool.submit(run_shard, out, i, shards[i], sentences, plan.seed)) for i in todo]
        for i, f in futures:
            kept = f.result()
            progress.step(1, f"shard {i:04d}: {kept}/{len(shards[i])} clips")
    clips = []
    for i in range(len(shards)):
        clips += json.loads((out / "shards" / f"{i:04d}.json").read_text())["clips"]
    used = sorted({c["voice"] for c in clips})
    manifest = {
        "format_version": CORPUS_FORMAT_VERSION, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sample_rate": SR, "feature": FEATURE,
        "plan": {**asdict(plan)}, "held_out_speakers": list(plan.held_out_speakers),
        "voices": {v: {"engine": VOICES[v].engine, "arg": VOICES[v].arg, "licence": VOICES[v].licence} for v in used},
        "sentences": [asdict(s) for s in sentences[: plan.eval_sentences]],
        "clips": clips,
    }
    manifest = _keep_creation_time(out / "manifest.json", manifest)
    write_text_atomic(out / "manifest.json", json.dumps(manifest, indent=1))
    hours = sum(c["seconds"] for c in clips) / 3600
    log(f"corpus: {len(clips)} clips, {hours:.2f} h of audio -> {out / 'manifest.json'}")
    return manifest
