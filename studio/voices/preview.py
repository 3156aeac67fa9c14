"""Preview: one fixed sentence rendered once per preset (and model and settings), cached in the
library's preview folder as FLAC, so the second click plays at once."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict

import numpy as np
import soundfile as sf
from PySide6 import QtCore

from engine.api import Done, ModelInfo, SamplingParams, SynthesisRequest
from engine.atomic import write_atomic
from engine.voices.library import VoiceLibrary
from engine.voices.preset import VoicePreset
from studio.engine_bridge import EngineBridge
from studio.voices.params import preset_params

log = logging.getLogger(__name__)
PREVIEW_TEXT = "Hello! This is how I sound when I read your script aloud."
PREVIEW_SEED = 1234
PREVIEW_SECONDS = 6.0


def preview_request(preset: VoicePreset, info: ModelInfo) -> SynthesisRequest:
    params = preset_params(preset, info.default_params, seed=PREVIEW_SEED, max_seconds=PREVIEW_SECONDS,
                           keep_trajectory=False)
    return SynthesisRequest(PREVIEW_TEXT, preset.voice_ref, params)


def preview_key(request: SynthesisRequest, info: ModelInfo) -> str:
    """Names the cached audio: changes with the model, the sentence and the settings."""
    blob = json.dumps({"model": info.model_hash, "text": request.text, "voice": request.voice,
                       "params": asdict(request.params)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class Previewer(QtCore.QObject):
    """``ready(preset_id, audio float32 [n], sample_rate)`` or ``failed(preset_id, message)``;
    ``renders`` counts the renders actually made (cache hits make none)."""

    ready = QtCore.Signal(str, object, int)
    failed = QtCore.Signal(str, str)

    def __init__(self, bridge: EngineBridge, library: VoiceLibrary, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge, self.library = bridge, library
        self.renders = 0
        self.pending: set[str] = set()

    def preview(self, preset: VoicePreset) -> None:
        info = self.bridge.info
        if info is None:
            self.failed.emit(preset.id, "the model is still loading")
            return
        try:
            request = preview_request(preset, info)
            path = self.library.preview_path(preset.id, preview_key(request, info))
        except Exception as e:  # EngineError from bad stored params, PresetError for an unknown preset
            self.failed.emit(preset.id, str(e))
            return
        if path.is_file():
            try:
                audio, rate = sf.read(path, dtype="float32")
            except (OSError, RuntimeError, sf.LibsndfileError):
                path.unlink(missing_ok=True)  # a damaged cache file: render again
            else:
                self.ready.emit(preset.id, audio, rate)
                return
        if preset.id in self.pending:
            return
        self.pending.add(preset.id)
        self.bridge.call(lambda engine: engine.render(request),
                         lambda done: self._rendered(preset.id, path, done),
                         lambda message: self._failed(preset.id, message))

    def _rendered(self, preset_id: str, path, done: Done) -> None:
        self.pending.discard(preset_id)
        self.renders += 1
        audio = np.asarray(done.audio, dtype=np.float32)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, lambda tmp: sf.write(tmp, audio, done.sample_rate, format="FLAC", subtype="PCM_24"))
        except Exception as e:  # a cache that cannot be written only costs a render next time
            log.warning("could not cache the preview at %s: %s", path, e)
        self.ready.emit(preset_id, audio, done.sample_rate)

    def _failed(self, preset_id: str, message: str) -> None:
        self.pending.discard(preset_id)
        self.failed.emit(preset_id, message)
