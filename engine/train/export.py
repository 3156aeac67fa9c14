"""Write a trained model folder: config.json, model.safetensors (TTS + codec), voices/ (one per
training speaker, the default being piper-joe), lexicon.txt.gz (the phone tokenizer's dictionary)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from engine.atomic import write_atomic
from engine.codec.voxtral_codec import VoxtralCodec
from engine.config import ModelConfig
from engine.model_files import LEXICON_NAME, save_model
from engine.nn.tts_model import VoxtralTTS
from engine.phonemes import Lexicon
from engine.train.corpus import load_clips, read_plan
from engine.train.data import lexicon_path
from engine.train.sizes import SAMPLING
from engine.train.tts_train import REF_FRAMES

DEFAULT_SPEAKER = "piper-joe"
NOTE = "trained on teacher voices (flite, espeak-ng, piper joe); see MODEL_CARD.md"


def voice_name(speaker: str) -> str:
    return "default" if speaker == DEFAULT_SPEAKER else speaker


def reference_clips(data: Path) -> dict[str, dict]:
    """The clip each built-in voice is made from: the longest training clip of every unwarped
    training speaker (clip metadata)."""
    best: dict[str, dict] = {}
    for c in load_clips(data, "train"):
        m = c.meta
        if m["warp"] is None and m["seconds"] > best.get(m["speaker"], {"seconds": 0.0})["seconds"]:
            best[m["speaker"]] = m
    return best


def speaker_references(data: Path, codes: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """One built-in voice per unwarped training speaker: its reference clip's first REF_FRAMES frames."""
    return {voice_name(s): codes[m["clip"]][:REF_FRAMES] for s, m in reference_clips(data).items() if m["clip"] in codes}


def write_lexicon(path: Path) -> None:
    """The first pronunciation of every plain word of the CMU dictionary, gzip (about 1 MB)."""
    lex = Lexicon.read(lexicon_path())
    lines = "".join(f"{w} {' '.join(p[0])}\n" for w, p in sorted(lex.entries.items()) if w.replace("'", "").isalpha())
    write_atomic(path, lambda p: p.write_bytes(gzip.compress(lines.encode("utf-8"), mtime=0)))


def model_identity(folder: Path, data: Path) -> tuple[str, str]:
    """(name, note) of a model exported to ``folder`` from runs on the corpus ``data``: timbre-mini for the
    teacher corpus; a voice fine-tune (a ``timbre train recordings`` corpus) is named after its folder, so it
    is not mistaken for the built-in model."""
    plan = read_plan(data)
    if plan.get("kind") == "recordings":
        return folder.name, f"timbre-mini fine-tuned on recordings of {plan['args']['speaker']}; see MODEL_CARD.md"
    return "timbre-mini", NOTE


def export_model(folder: Path, model: VoxtralTTS, codec: VoxtralCodec, data: Path, codes: dict[str, torch.Tensor],
                 log=print) -> Path:
    name, note = model_identity(folder, data)
    cfg = ModelConfig(name=name, trained=True, note=note, tts=model.cfg, codec=codec.cfg, sampling=SAMPLING).check()
    voices = speaker_references(data, codes)
    if "default" not in voices:
        voices["default"] = next(iter(voices.values()))
    save_model(folder, cfg, model.eval(), codec.eval(), voices)
    write_lexicon(folder / LEXICON_NAME)
    log(f"exported {folder} with voices {', '.join(sorted(voices))}")
    return folder


def write_presets(presets: Path, model: Path, data: Path | None = None) -> list[Path]:
    """Every voice of a model folder as a read-only built-in preset ``presets/<model>-<voice>/`` (the
    full preset format: its codes as the prompt, those codes decoded by the model's codec as the
    reference audio). ``data``: the corpus, to name the teacher voice each one comes from."""
    import datetime

    from engine.codec.interface import AudioCodec
    from engine.model_files import load_model
    from engine.voices.preset import Consent, VoicePreset, write_preset

    m = load_model(str(model), torch.device("cpu"), torch.float32)
    codec = AudioCodec(m.codec, torch.device("cpu"))
    teachers = {voice_name(s): meta for s, meta in reference_clips(data).items()} if data is not None else {}
    today = datetime.date.today().isoformat()
    written = []
    for voice, codes in sorted(m.voices.items()):
        meta = teachers.get(voice, {})
        teacher = meta.get("voice", "a synthetic teacher voice")
        preset = VoicePreset(
            id="", name=f"{m.name} {voice}", family=m.config.family, model_hash=m.model_hash, language="en",
            description=f"{m.name}'s built-in voice {voice!r}, learnt from {teacher}"
                        + (" (the model's default voice)" if voice == "default" else ""),
            tags=("built-in", "synthetic"), brand="Timbre Studio",
            consent=Consent(speaker=f"nobody: {teacher}", statement="No person's voice is used: the voice comes "
                            f"from a speech synthesiser ({meta.get('voice_licence', 'see the model card')}).",
                            date=today, method="synthetic (no speaker)"),
            transcript=meta.get("spoken", ""))
        folder = presets / f"{m.name}-{voice}"
        prompt = codes.numpy().astype(np.int32)
        if not _unchanged(folder, preset, prompt):  # decoding the reference audio is the costly part
            audio = codec.decode(codes.numpy())
            audio = audio * (0.5 / max(1e-6, float(np.abs(audio).max())))
            write_preset(folder, preset, prompt, audio, m.config.codec.sample_rate)
        written.append(folder)
    return written


def _unchanged(folder: Path, preset, prompt: np.ndarray) -> bool:
    """Whether the preset ``folder`` already holds ``preset`` with these codes, dates aside: then it is
    left as it is, so that writing a model's presets again does not re-date every one of them."""
    import dataclasses
    import json

    from engine.voices.preset import PROMPT_FILE, VOICE_FILE, prompt_bytes, voice_json

    try:
        old = json.loads((folder / VOICE_FILE).read_text(encoding="utf-8"))
        same_codes = (folder / PROMPT_FILE).read_bytes() == prompt_bytes(prompt)
    except (OSError, ValueError):
        return False
    consent = old.get("consent") or {}
    dated = dataclasses.replace(preset, created=old.get("created", ""), modified=old.get("modified", ""),
                                consent=dataclasses.replace(preset.consent, date=consent.get("date", "")))
    return same_codes and json.loads(voice_json(dated)) == old
