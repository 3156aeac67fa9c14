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
