"""What the evaluation stages read and render: a corpus clip's audio, and a take at the model's own
default sampling settings with a fixed seed (so two runs of a check hear the same takes)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf

from engine.api import Done, SamplingParams, SynthesisRequest

if TYPE_CHECKING:
    from engine.engine import Engine

SEED = 1234


def clip_audio(data: Path, meta: dict) -> np.ndarray:
    """A corpus clip's audio [n] at the corpus rate (16 kHz), from its metadata."""
    audio, _ = sf.read(str(data / meta["audio"]), dtype="float32")
    return audio


def render_at_defaults(engine: "Engine", text: str, voice: str, steps: int | None = None, seed: int = SEED) -> Done:
    """One take of ``text`` in ``voice`` at the model's default guidance and temperature (and its default
    flow steps unless ``steps``), at most 20 s, no trajectories kept."""
    d = engine.info.default_params
    params = SamplingParams(steps=steps or d.steps, guidance=d.guidance, temperature=d.temperature, seed=seed,
                            max_seconds=20.0, keep_trajectory=False)
    return engine.render(SynthesisRequest(text, voice, params))


def clip_prompt(engine: "Engine", audio: np.ndarray):
    """The voice prompt a preset of a 16 kHz clip [n] gets: its first REF_FRAMES frames of codes,
    a tensor [REF_FRAMES, 1 + K] from the engine's loaded codec."""
    import torch

    from engine.codec.interface import AudioCodec
    from engine.train.tts_train import REF_FRAMES

    return torch.from_numpy(AudioCodec(engine.model.codec, torch.device("cpu")).encode(audio, 16000)[:REF_FRAMES])


def install_clone(engine: "Engine", audio: np.ndarray, name: str = "clone") -> None:
    """Make ``name`` a voice of the engine's loaded model, cloned from a 16 kHz clip [n] the way a preset of
    the clip is: ``clip_prompt`` as the prompt, and the clip's voice match."""
    from engine.codec.voice_match import fit_voice_match

    model = engine.model
    model.voices[name] = clip_prompt(engine, audio)
    model.voice_matches.pop(name, None)
    if (match := fit_voice_match(model.codec, audio, 16000)) is not None:
        model.voice_matches[name] = match
