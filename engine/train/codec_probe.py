"""``timbre codec-probe``: which part of a WORLD codec's round trip loses the sound.

For held-out clips of every unwarped speaker, the round trip's WORLD features are rendered as they
come out of the decoder and again with one group put back from the original clip (log f0 + voicing,
the coded spectral envelope, the aperiodicity); the envelope made right only in its means over each
80 ms frame, or over each 20 ms (which time resolution the codec loses); also the decode of the
encoder's latent without quantisation, and WORLD analysis -> synthesis alone. Each is scored against
the original clip with PESQ-WB, STOI and speaker similarity. A variant that scores near WORLD alone
names the group the codec loses; an unquantised latent that scores like the round trip says the
quantiser is not what loses it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from engine.atomic import write_text_atomic
from engine.codec import world
from engine.codec.interface import AudioCodec
from engine.codec.voxtral_codec import VoxtralCodec
from engine.model_files import file_hash
from engine.train import metrics
from engine.train.codec_train import CODEC_CONFIG, CODEC_FILE, load_trained_codec
from engine.train.corpus import load_clips
from engine.train.errors import TrainingError
from engine.train.renders import clip_audio
from engine.train.scoring import Scorer

GROUPS = {"f0 + voicing": slice(0, 2), "envelope": slice(2, 2 + world.ENVELOPE_DIMS),
          "aperiodicity": slice(2 + world.ENVELOPE_DIMS, world.FEATURE_DIM)}
RESOLUTIONS = {"80 ms": 16, "20 ms": 4}  # the envelope's error put back as means over this many 5 ms steps
VARIANTS = ("round trip", "unquantised latent", *(f"true {g}" for g in GROUPS),
            *(f"envelope right per {r}" for r in RESOLUTIONS), "WORLD alone")
SCORES = ("pesq", "stoi", "similarity")


@torch.inference_mode()
def probe_features(codec: AudioCodec, features: np.ndarray) -> dict[str, np.ndarray]:
    """A clip's WORLD features [n, 43] -> each of VARIANTS' features [n, 43]."""
    model, n = codec.codec, len(features)
    latent = model.encode_steps(codec.feature_steps(features))  # (1, semantic_dim + K, T)
    sd = model.cfg.semantic_dim

    def decoded(z: torch.Tensor) -> np.ndarray:
        return model.decode_latent(z)[0].T.cpu().numpy()[:n]

    # the quantiser bounds the acoustic values with tanh before rounding them to levels
    unquantised = torch.cat([latent[:, :sd], torch.tanh(latent[:, sd:])], dim=1)
    round_trip = decoded(model.quantizer.decode(model.quantizer.encode(latent)))
    out = {"round trip": round_trip, "unquantised latent": decoded(unquantised)}
    for group, cols in GROUPS.items():
        mixed = round_trip.copy()
        mixed[:, cols] = features[:, cols]
        out[f"true {group}"] = mixed
    envelope = GROUPS["envelope"]
    envelope_error = features[:, envelope] - round_trip[:, envelope]
    for resolution, steps in RESOLUTIONS.items():
        mixed = round_trip.copy()
        mixed[:, envelope] += block_means(envelope_error, steps)
        out[f"envelope right per {resolution}"] = mixed
    out["WORLD alone"] = np.asarray(features, dtype=np.float32)
    return out


def block_means(x: np.ndarray, steps: int) -> np.ndarray:
    """x [n, d] -> each run of ``steps`` rows replaced by its mean [n, d]: what is right at that time
    resolution (16 steps: one 80 ms codec frame)."""
    out = np.empty_like(x)
    for start in range(0, len(x), steps):
        out[start:start + steps] = x[start:start + steps].mean(0)
    return out


def variant_scores(original: np.ndarray, features: np.ndarray, embedding: np.ndarray) -> dict[str, float]:
    """WORLD renders ``features`` [n, 43]; PESQ-WB and STOI against ``original`` [m], and speaker similarity
    to its ``embedding`` [256] (embedded once for all of its variants)."""
    rendered = world.synthesize(features)[: len(original)]
    pesq, stoi = metrics.pesq_stoi(original, rendered)
    return {"pesq": pesq, "stoi": stoi, "similarity": metrics.similarity_to(rendered, embedding)}


def load_codec(model: str | None) -> tuple[VoxtralCodec, str, str]:
    """The codec of a model (built-in name or folder; None: the default model) or of a codec training
    run folder (to probe a codec before a TTS is trained on it) -> (codec, name, weights hash)."""
    if model is not None and (Path(model) / CODEC_CONFIG).is_file():
        return load_trained_codec(Path(model)), Path(model).name, file_hash(Path(model) / CODEC_FILE)
    from engine.engine import Engine, EngineConfig

    engine = Engine(EngineConfig(model=model, device="cpu"))
    info = engine.load()
    return engine.model.codec, info.name, info.model_hash


def probe(model: str | None, data: Path, clips: int = 8, workers: int | None = None,
          log: Callable[[str], None] = print) -> dict:
    """Score every variant on the first ``clips`` held-out clips of each unwarped speaker."""
    model_codec, codec_name, weights_hash = load_codec(model)
    if model_codec.cfg.io != "world":
        raise TrainingError(f"{codec_name}'s codec decodes waveforms, not WORLD features: there is nothing to probe")
    codec = AudioCodec(model_codec, torch.device("cpu"))
    by_speaker: dict[str, list] = {}
    for c in sorted(load_clips(data, "eval", exclude_held_out=False), key=lambda c: c.meta["sentence"]):
        if c.meta["warp"] is None:
            by_speaker.setdefault(c.meta["speaker"], []).append(c.meta)
    pending: dict[str, dict[str, list]] = {}
    with Scorer(workers) as scorer:
        for spk, metas in sorted(by_speaker.items()):
            for m in metas[:clips]:
                audio = clip_audio(data, m)
                embedding = metrics.speaker_embedding(audio)
                for name, feats in probe_features(codec, world.analyze(audio)).items():
                    pending.setdefault(spk, {}).setdefault(name, []).append(
                        scorer.pool.submit(variant_scores, audio, feats, embedding))
        speakers = {spk: {name: _means([f.result() for f in fs]) for name, fs in rows.items()}
                    for spk, rows in pending.items()}
    report = {"model": codec_name, "model_hash": weights_hash, "clips_per_speaker": clips, "speakers": speakers,
              "all": {name: {k: float(np.mean([s[name][k] for s in speakers.values()])) for k in SCORES}
                      for name in VARIANTS},
              "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    log(render_probe_markdown(report))
    return report


def _means(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: float(np.mean([r[k] for r in rows])) for k in SCORES}


def render_probe_markdown(r: dict) -> str:
    """One table per score: speakers down, variants across (the mean over speakers last)."""
    lines = [f"# Codec probe of {r['model']} ({r['model_hash']}), {r['clips_per_speaker']} held-out clips per speaker",
             "", "Each column renders the codec's round trip with one part put back from the original clip; "
             "a column near WORLD alone names the part the codec loses.", ""]
    for score, title in zip(SCORES, ("PESQ-WB", "STOI", "similarity to the original clip")):
        digits = 2 if score == "pesq" else 3
        lines += [f"## {title}", "", "| speaker | " + " | ".join(VARIANTS) + " |", "|---" * (len(VARIANTS) + 1) + "|"]
        for spk, row in [*r["speakers"].items(), ("mean", r["all"])]:
            lines.append(f"| {spk} | " + " | ".join(f"{row[v][score]:.{digits}f}" for v in VARIANTS) + " |")
        lines.append("")
    return "\n".join(lines)


def write_probe(report: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "report.json", json.dumps(report, indent=1))
    write_text_atomic(out / "report.md", render_probe_markdown(report))
