"""The sampler's settings as the user edits them, and the SamplingParams a render sends."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from engine.api import EngineError, SamplingParams
from studio.models.observable import Emitter


@dataclass(frozen=True)
class SamplerState:
    """What the sampler panel shows. ``seed`` is the last seed used (or the locked one)."""

    steps: int = 8
    guidance: float = 1.2
    temperature: float = 1.0
    semantic_temperature: float = 0.0
    semantic_top_k: int = 0
    seed: int = 0
    seed_locked: bool = False
    max_seconds: float = 30.0


class SamplerModel:
    """Holds a SamplerState; every change is validated by the engine's own ranges.

    Events: ``changed(state)`` after any change.
    """

    def __init__(self, state: SamplerState | None = None) -> None:
        self._state = state or SamplerState()
        self.changed = Emitter()

    @property
    def state(self) -> SamplerState:
        return self._state

    def set(self, **values: Any) -> None:
        """Change fields; raises EngineError (nothing changed) if the result is out of range."""
        unknown = set(values) - {f.name for f in fields(SamplerState)}
        if unknown:
            raise EngineError(f"unknown sampler setting(s): {', '.join(sorted(unknown))}")
        new = replace(self._state, **values)
        self._params(new, new.seed).validated()
        if new != self._state:
            self._state = new
            self.changed.emit(new)

    def apply_defaults(self, defaults: SamplingParams) -> None:
        """Take a model family's default steps, guidance and temperature."""
        self.set(steps=defaults.steps, guidance=defaults.guidance, temperature=defaults.temperature)

    def current_params(self) -> SamplingParams:
        """The settings as they stand, with the seed shown (what takes are compared with)."""
        return self._params(self._state, self._state.seed).validated()

    def params_for_render(self) -> SamplingParams:
        """The params of the next render: the locked seed, or a fresh one (always recorded)."""
        seed = self._state.seed if self._state.seed_locked else secrets.randbelow(2**31)
        return self._params(self._state, seed).validated()

    def record_seed(self, seed: int) -> None:
        """Show the seed a render used (so the user can lock it and reproduce the take)."""
        self.set(seed=seed)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self._state)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> SamplerState:
        """A SamplerState from saved settings; unknown or invalid values fall back to defaults."""
        base = SamplerState()
        known = {f.name: f for f in fields(SamplerState)}
        clean = {k: v for k, v in data.items() if k in known and isinstance(v, type(getattr(base, k)))
                 or (k in known and isinstance(getattr(base, k), float) and isinstance(v, int)
                     and not isinstance(v, bool))}
        state = replace(base, **clean)
        try:
            SamplerModel._params(state, state.seed).validated()
        except EngineError:
            return base
        return state

    @staticmethod
    def _params(s: SamplerState, seed: int) -> SamplingParams:
        return SamplingParams(steps=s.steps, guidance=float(s.guidance), temperature=float(s.temperature),
                              semantic_temperature=float(s.semantic_temperature), semantic_top_k=s.semantic_top_k,
                              seed=seed, max_seconds=float(s.max_seconds), keep_trajectory=True)
