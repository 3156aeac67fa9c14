"""Write a trained model folder: config.json, model.safetensors (TTS + codec), voices/ (one per
training speaker, the default being piper-joe), lexicon.txt.gz (the phone tokenizer's dictionary)."""

from __future__ import annotations

import gzip
from pathlib import Path

import torch

from engine.atomic import write_atomic
from engine.codec.voxtral_codec import VoxtralCodec
from engine.config import ModelConfig
from engine.model_files import LEXICON_NAME, save_model
from engine.nn.tts_model import VoxtralTTS
from engine.phonemes import Lexicon
from engine.train.corpus import load_clips
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


def export_model(folder: Path, model: VoxtralTTS, codec: VoxtralCodec, data: Path, codes: dict[str, torch.Tensor],
                 name: str = "timbre-mini", log=print) -> Path:
    cfg = ModelConfig(name=name, trained=True, note=NOTE, tts=model.cfg, codec=codec.cfg, sampling=SAMPLING).check()
    voices = speaker_references(data, codes)
    if "default" not in voices:
        voices["default"] = next(iter(voices.values()))
    save_model(folder, cfg, model.eval(), codec.eval(), voices)
    write_lexicon(folder / LEXICON_NAME)
    log(f"exported {folder} with voices {', '.join(sorted(voices))}")
    return folder


def write_presets(presets: Path, model: Path, data: Path) -> list[Path]:
    """Minimal built-in voice presets: presets/<model>/<voice>/voice.json naming the model's voice
    file it uses and the teacher it comes from (the full preset format comes later)."""
    import json
    import time

    from engine.atomic import write_text_atomic
    from engine.model_files import VOICES_DIR, file_hash

    refs = reference_clips(data)
    written = []
    for spk, meta in sorted(refs.items()):
        voice = voice_name(spk)
        if not (model / VOICES_DIR / f"{voice}.safetensors").is_file():
            continue
        folder = presets / model.name / voice
        folder.mkdir(parents=True, exist_ok=True)
        info = {
            "format_version": 1, "name": voice, "model": model.name, "model_hash": file_hash(model / "model.safetensors"),
            "prompt": f"{VOICES_DIR}/{voice}.safetensors", "language": "en",
            "description": f"the {meta['voice']} teacher voice" + (" (the default voice)" if voice == "default" else ""),
            "consent": {"who": "synthetic voice (no person)", "how": f"rendered by {meta['voice']}",
                        "date": time.strftime("%Y-%m-%d", time.gmtime())},
            "licence": meta["voice_licence"], "reference_text": meta["spoken"],
        }
        written.append(write_text_atomic(folder / "voice.json", json.dumps(info, indent=1) + "\n"))
    return written
