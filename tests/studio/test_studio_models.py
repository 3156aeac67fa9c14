"""The studio's plain-Python models and the envelope decimation: no QApplication needed."""

import numpy as np
import pytest

from engine.api import AudioChunk, Done, EngineError, Frame, SamplingParams, Started, SynthesisRequest
from studio.models.observable import Emitter
from studio.models.sampler import SamplerModel, SamplerState
from studio.models.take import AudioBuffer, RenderState, TakeModel
from studio.views.envelope import peak_envelope


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


def test_audio_buffer_grows_and_keeps_what_was_written():
    b = AudioBuffer(capacity=4)
    b.write(np.arange(3, dtype=np.float32), 0)
    b.write(np.arange(3, 10, dtype=np.float32), 3)
    assert b.length == 10
    np.testing.assert_array_equal(b.samples, np.arange(10, dtype=np.float32))
    b.clear()
    assert b.length == 0 and b.samples.size == 0


def _frame(i, k=4, end=False):
    return Frame(i, -1 if end else i % 5, 0.5, np.full(k, i / 10, dtype=np.float32),
                 np.zeros(k + 1, dtype=np.int64), None, end)


def test_take_model_streams_frames_and_audio_then_matches_done():
    take, events = TakeModel(), []
    take.reset.connect(lambda: events.append("reset"))
    take.frames_added.connect(lambda i: events.append(("frame", i)))
    take.audio_added.connect(lambda n: events.append(("audio", n)))
    take.state_changed.connect(lambda s: events.append(s))
    req = SynthesisRequest("hi", params=SamplingParams(seed=3))
    take.begin(Started(req, 3, 10), 16000, 4)
    for i in range(3):
        take.add_frame(_frame(i))
        take.add_audio(AudioChunk(np.full(1280, i, dtype=np.float32), i * 1280, 16000))
    take.add_frame(_frame(3, end=True))
    assert take.state is RenderState.RENDERING and take.duration == pytest.approx(0.24)
    assert take.acoustic_matrix().shape == (3, 4)  # the END frame has no acoustic values to show
    assert take.frame_at(0.17).index == 2 and take.frame_at(5.0) is None and take.frame_at(-0.1) is None
    audio = np.concatenate([np.full(1280, i, dtype=np.float32) for i in range(3)])
    done = Done(req, 3, tuple(take.frames), audio, 16000, "m", "h", 0.5, 0.01)
    take.finish(done)
    assert events[:3] == ["reset", RenderState.RENDERING, ("frame", 0)]
    assert events[-1] is RenderState.DONE
    assert take.info.seed == 3 and take.info.real_time_factor == pytest.approx(0.5 / 0.24)
    np.testing.assert_array_equal(take.audio.samples, audio)


def test_take_model_records_failure_and_cancel():
    take = TakeModel()
    take.fail("cancelled", cancelled=True)
    assert take.state is RenderState.CANCELLED
    take.fail("boom", cancelled=False)
    assert take.state is RenderState.FAILED and take.message == "boom"


def test_envelope_short_span_is_sample_exact():
    sr = 1000
    x = np.sin(np.arange(2000) / 10).astype(np.float32)
    t, y = peak_envelope(x, sr, 0.5, 0.6, max_points=400)
    assert t[0] == pytest.approx(0.5) and len(y) == 101  # both ends included
    np.testing.assert_array_equal(y, x[500:601])


def test_envelope_keeps_every_peak_and_bounds_the_point_count():
    sr = 16000
    x = np.zeros(sr * 60, dtype=np.float32)  # a minute of silence with three one-sample clicks
    x[[123, sr * 30 + 7, sr * 60 - 1]] = [0.9, -0.8, 0.7]
    t, y = peak_envelope(x, sr, 0.0, 60.0, max_points=1000)
    assert len(y) <= 1000
    assert y.max() == pytest.approx(0.9) and y.min() == pytest.approx(-0.8)
    assert 0.7 in y  # the very last sample is inside the last (ragged) bin
    assert np.all(np.diff(t) >= 0)
    # zoomed to the middle click only, it is still there, and the others are not
    t2, y2 = peak_envelope(x, sr, 29.0, 31.0, max_points=1000)
    assert y2.min() == pytest.approx(-0.8) and y2.max() == 0.0
    assert t2[0] >= 29.0 - 1 / sr and t2[-1] <= 31.0 + 1 / sr


def test_envelope_clips_the_range_to_the_audio():
    x = np.ones(100, dtype=np.float32)
    t, y = peak_envelope(x, 100, -5.0, 50.0, max_points=1000)
    assert len(y) == 100 and t[0] == 0.0
    t, y = peak_envelope(x, 100, 3.0, 4.0, max_points=1000)
    assert len(y) == 0
