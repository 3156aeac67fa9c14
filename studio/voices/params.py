"""A preset's default sampling parameters, laid over the sampler's, for renders made with it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from engine.api import SamplingParams
from engine.voices.preset import VoicePreset


def preset_params(preset: VoicePreset, base: SamplingParams, **overrides: Any) -> SamplingParams:
    """``base`` with the preset's own defaults, then ``overrides``; validated (EngineError if not)."""
    return replace(preset.sampling_params(base), **overrides).validated()


def sampler_values(preset: VoicePreset, known: set[str]) -> dict[str, Any]:
    """The preset's defaults as sampler-panel values (a stored seed is applied locked)."""
    values = {k: v for k, v in preset.params.items() if k in known and k != "seed"}
    if isinstance(preset.params.get("seed"), int):
        values.update(seed=preset.params["seed"], seed_locked=True)
    return values
