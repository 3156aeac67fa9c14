"""Voice presets on the engine thread: encode a prepared reference into a preset, and turn a preset
reference (``"preset:<id>"``) into the reference codes the loaded model is prompted with.

A preset keeps its reference clip, so a preset made with another build of the same family (a
retrained model has a new hash, and its codec new codes) is re-encoded from that clip with the loaded
model's codec instead of being refused; the codes are cached per (preset, model) for the session.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.api import EngineError
from engine.codec.interface import AudioCodec
from engine.codec.voice_match import VoiceMatch, fit_voice_match
from engine.model_files import LoadedModel
from engine.voices.clips import PreparedReference, prepare_reference
from engine.voices.library import VoiceLibrary
from engine.voices.preset import Consent, VoicePreset, read_reference

PRESET_PREFIX = "preset:"


def preset_id(voice: str) -> str | None:
    """The preset id in a voice reference, or None for one of the model's own voices."""
    return voice[len(PRESET_PREFIX):] if voice.startswith(PRESET_PREFIX) else None


class PresetVoices:
    """The engine's view of the voice library for the loaded model."""

    def __init__(self, library: VoiceLibrary | None = None) -> None:
        self._library = library
        self._codes: dict[tuple[str, str, str], np.ndarray] = {}  # (id, modified, model hash) -> [N, 1 + K]
        self._matches: dict[tuple[str, str, str], VoiceMatch | None] = {}  # same keys

    @property
    def library(self) -> VoiceLibrary:
        if self._library is None:
            self._library = VoiceLibrary()
        return self._library

    def prepare(self, m: LoadedModel, paths: Sequence[str | Path],
                selection: tuple[float, float] | None = None) -> PreparedReference:
        """Clips -> the cleaned reference at the loaded codec's rate (ClipError says what is wrong)."""
        _require_encoder(m)
        return prepare_reference(paths, m.config.codec.sample_rate, selection=selection)

    def create(self, m: LoadedModel, prepared: PreparedReference, name: str, *, consent: Consent | None,
               **meta: Any) -> VoicePreset:
        """Encode ``prepared.audio`` with the loaded codec and add the preset to the library."""
        _require_encoder(m)
        if prepared.blocking:
            raise EngineError("cannot make a voice from these clips: "
                              + "; ".join(f"{i.message} ({i.advice})" for i in prepared.blocking))
        codes = _encode(m, prepared.audio, prepared.sample_rate)
        return self.library.create(name, codes, prepared.audio, prepared.sample_rate, family=m.config.family,
                                   model_hash=m.model_hash, consent=consent, **meta)

    def codes(self, m: LoadedModel, voice: str) -> np.ndarray:
        """``"preset:<id>"`` -> int codes [N, 1 + K] for the loaded model (EngineError when it cannot be)."""
        pid = preset_id(voice)
        assert pid is not None
        preset = self.library.get(pid)
        if preset.origin == "family":
            raise EngineError(f"{preset.name} is one of the {preset.family} model's own voices: choose it by name")
        if preset.family != m.config.family:
            raise EngineError(f"voice {preset.name!r} was made for the {preset.family} model family; the loaded model "
                              f"{m.name} is {m.config.family}: load a {preset.family} model to use it")
        key = (pid, preset.modified, m.model_hash)
        if key not in self._codes:
            if preset.model_hash == m.model_hash:
                self._codes[key] = self.library.prompt(pid)
            else:  # another build of the family: its codes mean nothing here, the clip still does
                _require_encoder(m)
                audio, sr = read_reference(preset.folder)  # PresetError names the file if unreadable
                self._codes[key] = _encode(m, audio, sr)
        return self._codes[key]


    def match(self, m: LoadedModel, voice: str) -> VoiceMatch | None:
        """``"preset:<id>"`` -> its feature correction for the loaded model (None: the codec has none, or the
        clip too little voiced speech), fitted on the preset's reference clip once per session."""
        pid = preset_id(voice)
        assert pid is not None
        preset = self.library.get(pid)
        key = (pid, preset.modified, m.model_hash)
        if key not in self._matches:
            if preset.origin == "builtin":  # its reference audio is a model's decode of its codes, not the voice
                codes = torch.from_numpy(self.codes(m, voice)).long()
                own = [n for n, c in m.voices.items() if c.shape == codes.shape and torch.equal(c, codes)]
                self._matches[key] = m.voice_matches.get(own[0]) if own else None
            else:
                audio, sr = read_reference(preset.folder)
                self._matches[key] = fit_voice_match(m.codec, audio, sr)
        return self._matches[key]


def _require_encoder(m: LoadedModel) -> None:
    if not m.config.codec.has_encoder:
        raise EngineError(f"model {m.name} has no codec encoder, so it cannot make a voice from a clip: "
                          "use one of its own voices, or load a model that can clone (timbre-mini)")


def _encode(m: LoadedModel, audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """float32 audio [n] -> int32 codes [ceil(n / samples per frame), 1 + K] with the loaded codec."""
    device = next(m.codec.parameters()).device
    return AudioCodec(m.codec, device).encode(audio, sample_rate).astype(np.int32)
