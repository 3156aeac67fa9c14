"""A blind audition, as plain state: the same line rendered with each preset (one seed for all),
shown as "A", "B", "C"... in a shuffled order; the names stay hidden until the listener picks one."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field

import numpy as np

from engine.voices.preset import VoicePreset
from studio.models.observable import Emitter


@dataclass
class Contender:
    label: str  # "A", "B", ...
    preset: VoicePreset
    audio: np.ndarray | None = None  # float32 [n], once rendered
    sample_rate: int = 0
    seed: int | None = None  # the seed its render used (the same for all)
    error: str = ""


@dataclass
class Audition:
    """Events: ``changed()`` when a render arrives, a pick is made or the names are revealed."""

    text: str
    seed: int
    contenders: list[Contender] = field(default_factory=list)
    picked: str | None = None  # the label the listener chose

    def __post_init__(self) -> None:
        self.changed = Emitter()

    @classmethod
    def shuffled(cls, presets: list[VoicePreset], text: str, seed: int, rng: random.Random | None = None
                 ) -> "Audition":
        """Labels A, B, C... over the presets in a random order (at least two presets)."""
        if len(presets) < 2:
            raise ValueError("a blind audition needs two or more voices")
        if len(presets) > len(string.ascii_uppercase):
            raise ValueError(f"a blind audition takes at most {len(string.ascii_uppercase)} voices")
        order = list(presets)
        (rng or random.Random()).shuffle(order)
        return cls(text, seed, [Contender(label, p) for label, p in zip(string.ascii_uppercase, order)])

    def contender(self, label: str) -> Contender:
        return next(c for c in self.contenders if c.label == label)

    @property
    def revealed(self) -> bool:
        return self.picked is not None

    @property
    def ready(self) -> bool:
        """Every contender rendered (or failed): the listener can compare them."""
        return all(c.audio is not None or c.error for c in self.contenders)

    def rendered(self, label: str, audio: np.ndarray, sample_rate: int, seed: int) -> None:
        c = self.contender(label)
        c.audio, c.sample_rate, c.seed = audio, sample_rate, seed
        self.changed.emit()

    def render_failed(self, label: str, message: str) -> None:
        self.contender(label).error = message
        self.changed.emit()

    def pick(self, label: str) -> VoicePreset:
        """Choose the best; from now on every label's name is shown. Returns the chosen preset."""
        chosen = self.contender(label)
        if chosen.audio is None:
            raise ValueError(f"{label} has not been rendered")
        self.picked = label
        self.changed.emit()
        return chosen.preset

    def name_of(self, label: str) -> str | None:
        """The preset behind a label, or None while the audition is still blind."""
        return self.contender(label).preset.name if self.revealed else None

    @property
    def winner(self) -> VoicePreset | None:
        return self.contender(self.picked).preset if self.picked else None
