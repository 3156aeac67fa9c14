"""The blind audition's state without Qt: labels over a shuffled order, names hidden until a pick."""

import random

import numpy as np
import pytest

from engine.voices.preset import VoicePreset
from studio.voices.audition import Audition


def _presets(n):
    return [VoicePreset(id=f"v{i}", name=f"Voice {i}", family="timbre", model_hash="h") for i in range(n)]


def test_labels_cover_a_shuffled_order_and_names_stay_hidden_until_a_pick():
    presets = _presets(3)
    a = Audition.shuffled(presets, "Welcome to Acme.", seed=42, rng=random.Random(0))
    assert [c.label for c in a.contenders] == ["A", "B", "C"]
    assert sorted(c.preset.id for c in a.contenders) == ["v0", "v1", "v2"]
    assert all(a.name_of(label) is None for label in "ABC") and not a.revealed and not a.ready
    events = []
    a.changed.connect(lambda: events.append(1))
    with pytest.raises(ValueError, match="has not been rendered"):
        a.pick("A")
    for c in a.contenders:
        a.rendered(c.label, np.zeros(10, np.float32), 16_000, 42)
    assert a.ready and len(events) == 3
    winner = a.pick("B")
    assert winner is a.contender("B").preset and a.winner is winner and a.revealed
    assert [a.name_of(label) for label in "ABC"] == [c.preset.name for c in a.contenders]


def test_the_order_really_is_shuffled_and_small_or_huge_auditions_are_refused():
    orders = {tuple(c.preset.id for c in Audition.shuffled(_presets(3), "x", 1, random.Random(s)).contenders)
              for s in range(30)}
    assert len(orders) > 1  # not always the order they were checked in
    with pytest.raises(ValueError, match="two or more"):
        Audition.shuffled(_presets(1), "x", 1)
    with pytest.raises(ValueError, match="at most 26"):
        Audition.shuffled(_presets(27), "x", 1)


def test_a_failed_render_is_ready_but_cannot_be_picked():
    a = Audition.shuffled(_presets(2), "x", 1, random.Random(0))
    a.rendered("A", np.zeros(4, np.float32), 16_000, 1)
    a.render_failed("B", "unknown voice")
    assert a.ready and a.contender("B").error == "unknown voice"
    with pytest.raises(ValueError):
        a.pick("B")
