"""The sampler model and the evented base: no QApplication needed."""

import pytest

from engine.api import EngineError, SamplingParams
from studio.models.observable import Emitter
from studio.models.sampler import SamplerModel, SamplerState


def test_emitter_calls_in_order_and_can_be_blocked():
    e, got = Emitter(), []
    e.connect(lambda v: got.append(("a", v)))
    e.connect(lambda v: got.append(("b", v)))
    e.emit(1)
    with e.blocked():
        e.emit(2)
    e.emit(3)
    assert got == [("a", 1), ("b", 1), ("a", 3), ("b", 3)]


def test_sampler_validates_with_the_engine_ranges_and_changes_nothing_on_error():
    m, seen = SamplerModel(), []
    m.changed.connect(seen.append)
    m.set(steps=16, guidance=2.0)
    assert m.state.steps == 16 and len(seen) == 1
    for bad in ({"steps": 0}, {"steps": 33}, {"guidance": 0.5}, {"temperature": -1.0}, {"max_seconds": 0.0}):
        with pytest.raises(EngineError):
            m.set(**bad)
    assert m.state.steps == 16 and m.state.guidance == 2.0 and len(seen) == 1
    with pytest.raises(EngineError, match="unknown sampler setting"):
        m.set(stepz=3)
    m.set(steps=16)  # no change, no event
    assert len(seen) == 1


def test_locked_seed_is_reused_and_unlocked_draws_a_new_one():
    m = SamplerModel(SamplerState(seed=1234, seed_locked=True))
    assert m.params_for_render().seed == m.params_for_render().seed == 1234
    m.set(seed_locked=False)
    seeds = {m.params_for_render().seed for _ in range(5)}
    assert len(seeds) == 5 and all(0 <= s < 2**31 for s in seeds)
    m.record_seed(99)
    assert m.state.seed == 99 and not m.state.seed_locked


def test_sampler_from_saved_settings_falls_back_on_bad_values():
    assert SamplerModel.from_dict({"steps": 12, "guidance": 2, "bogus": 1}) == SamplerState(steps=12, guidance=2)
    assert SamplerModel.from_dict({"steps": "many"}) == SamplerState()
    assert SamplerModel.from_dict({"steps": 500}) == SamplerState()  # out of range: all defaults


def test_model_defaults_apply_to_the_sampler():
    m = SamplerModel()
    m.apply_defaults(SamplingParams(steps=7, guidance=1.4, temperature=0.8))
    assert (m.state.steps, m.state.guidance, m.state.temperature) == (7, 1.4, 0.8)
