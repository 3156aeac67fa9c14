"""A preset's default sampling parameters, laid over the sampler's, for renders made with it."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from engine.api import SamplingParams
from engine.voices.preset import VoicePreset

_PARAM_FIELDS = {f.name for f in fields(SamplingParams)}


def preset_params(preset: VoicePreset, base: SamplingParams, **overrides: Any) -> SamplingParams:
    """``base`` with the preset's own defaults (unknown keys ignored), then ``overrides``; validated."""
    own = {k: v for k, v in preset.params.items() if k in _PARAM_FIELDS}
    return replace(base, **{**own, **overrides}).validated()


def sampler_values(preset: VoicePreset, known: set[str]) -> dict[str, Any]:
    """The preset's defaults as sampler-panel values (a stored seed is applied locked)."""
    values = {k: v for k, v in preset.params.items() if k in known and k != "seed"}
    if isinstance(preset.params.get("seed"), int):
        values.update(seed=preset.params["seed"], seed_locked=True)
    return values
