"""The release's preset voices: names, language and gender, and their prompt rows.

A preset is ``voice_embedding/<name>.pt``: a torch-saved tensor [N, dim] (bf16) of precomputed
backbone input rows that replace, in order, the N [AUDIO] placeholders of the prompt. N must equal
tekken.json's ``audio.voice_num_audio_tokens[name]``. This .pt format is the release's, so it is
read with ``torch.load(..., weights_only=True)``: plain tensors only, no arbitrary objects.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch

from engine.api import EngineError, VoiceInfo

VOICES_DIR = "voice_embedding"
LANGUAGES = {"en": "English", "fr": "French", "es": "Spanish", "de": "German", "it": "Italian",
             "pt": "Portuguese", "nl": "Dutch", "ar": "Arabic", "hi": "Hindi"}
NO_CLONING = ("this model cannot clone a voice from a clip: Voxtral-4B-TTS-2603 was released without its codec "
              "encoder, so only its preset voices work")


def describe_voice(name: str) -> VoiceInfo:
    """Language and gender from a release voice name: ``fr_male``, ``casual_female`` (English styles)."""
    parts = name.split("_")
    gender = parts[-1] if parts[-1] in ("male", "female") else "unknown"
    lang = parts[0] if parts[0] in LANGUAGES else "en"
    style = "" if parts[0] in LANGUAGES or len(parts) < 2 else parts[0]
    return VoiceInfo(name=name, language=LANGUAGES[lang], gender=gender, style=style)


def load_voice_rows(path: Path, dim: int, n_expected: int | None) -> torch.Tensor:
    """One preset file -> rows [N, dim] (as stored, usually bf16); EngineError says what is wrong.

    ``n_expected`` is the voice's [AUDIO] count from tekken.json (None: not checked).
    """
    if not path.is_file():
        raise EngineError(f"voice preset {path} is missing")
    try:
        rows = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise EngineError(f"voice preset {path} holds more than a plain tensor; refusing to unpickle it ({e})") from e
    except (zipfile.BadZipFile, RuntimeError, EOFError, OSError) as e:
        raise EngineError(f"voice preset {path} is damaged or not a torch tensor file: {e}") from e
    if not isinstance(rows, torch.Tensor):
        raise EngineError(f"voice preset {path} holds a {type(rows).__name__}, expected a tensor [N, {dim}]")
    if rows.ndim != 2 or rows.shape[1] != dim or not rows.is_floating_point():
        raise EngineError(f"voice preset {path} has shape {list(rows.shape)} ({rows.dtype}), expected [N, {dim}] floats")
    if n_expected is not None and rows.shape[0] != n_expected:
        raise EngineError(f"voice preset {path} has {rows.shape[0]} rows but tekken.json says the voice takes "
                          f"{n_expected} [AUDIO] tokens")
    return rows


def looks_like_audio_clip(voice: str) -> bool:
    """A voice given as an audio file (an attempt to clone) rather than a preset name."""
    return Path(voice).suffix.lower() in (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".opus") or "/" in voice
