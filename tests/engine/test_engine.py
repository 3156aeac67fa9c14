"""Engine behaviour on the tiny random model: determinism, events, cancel, streaming audio."""

import numpy as np
import pytest
import torch

from engine.api import (
    AudioChunk,
    CancelToken,
    Cancelled,
    Done,
    EngineError,
    FrameEvent,
    Progress,
    SamplingParams,
    Started,
    SynthesisRequest,
)

TEXT = "Hello there, this is a short test."


def _req(seed=None, **kw) -> SynthesisRequest:
    kw.setdefault("max_seconds", 1.2)
    return SynthesisRequest(TEXT, params=SamplingParams(seed=seed, **kw))


def _codes(done: Done) -> np.ndarray:
    return np.stack([f.codes for f in done.frames])


def test_same_seed_gives_identical_frames_and_audio(engine):
    a, b = engine.render(_req(seed=7)), engine.render(_req(seed=7))
    assert a.seed == b.seed == 7
    np.testing.assert_array_equal(_codes(a), _codes(b))
    np.testing.assert_array_equal(np.stack([f.acoustic for f in a.frames]), np.stack([f.acoustic for f in b.frames]))
    np.testing.assert_array_equal(a.audio, b.audio)


def test_different_seed_gives_different_frames(engine):
    a, b = engine.render(_req(seed=7)), engine.render(_req(seed=8))
    assert not np.array_equal(np.stack([f.acoustic for f in a.frames]), np.stack([f.acoustic for f in b.frames]))


def test_unseeded_request_reports_the_seed_it_drew_and_reproduces(engine):
    a = engine.render(_req())
    b = engine.render(_req(seed=a.seed))
    assert a.request.params.seed == a.seed
    np.testing.assert_array_equal(_codes(a), _codes(b))


def test_event_order_and_frame_records(engine):
    events = list(engine.synthesize(_req(seed=1, steps=3)))
    assert isinstance(events[0], Started) and isinstance(events[-1], Done)
    frames = [e.frame for e in events if isinstance(e, FrameEvent)]
    done = events[-1]
    assert len(frames) == len(done.frames) == events[0].max_frames == 15  # 1.2 s at 12.5 Hz
    f = frames[3]
    assert f.index == 3 and f.time == pytest.approx(0.24)
    assert f.trajectory.shape == (4, 8)  # steps + 1 states of K values
    np.testing.assert_allclose(f.trajectory[-1].clip(-1, 1), f.acoustic, atol=1e-6)
    assert 0 <= f.semantic_id < 64 and 0 < f.semantic_prob <= 1
    assert f.codes[0] == f.semantic_id and f.codes.shape == (9,)
    progress = [e for e in events if isinstance(e, Progress)]
    assert [p.frames for p in progress] == list(range(1, 16))


def test_streamed_chunks_assemble_to_the_offline_decode(engine):
    events = list(engine.synthesize(_req(seed=2)))
    chunks = [e for e in events if isinstance(e, AudioChunk)]
    done = events[-1]
    assert chunks[0].start == 0 and len(chunks[0].samples) == 1280  # first audio after one frame
    assert [c.start for c in chunks[1:]] == list(np.cumsum([len(c.samples) for c in chunks])[:-1])
    np.testing.assert_array_equal(np.concatenate([c.samples for c in chunks]), done.audio)
    codec = engine.model.codec
    with torch.no_grad():
        offline = codec.decode(torch.from_numpy(_codes(done)).T[None])[0].clamp(-1, 1).numpy()
    np.testing.assert_allclose(done.audio, offline, atol=1e-5)


def test_cancel_takes_effect_within_one_frame(engine):
    cancel = CancelToken()
    frames = 0
    with pytest.raises(Cancelled):
        for event in engine.synthesize(_req(seed=3, max_seconds=20.0), cancel):
            if isinstance(event, FrameEvent):
                frames += 1
                if frames == 4:
                    cancel.cancel()
    assert frames == 4


def test_max_frames_guard_scales_with_text(engine):
    short = engine.max_frames("Hi.", SamplingParams(max_seconds=600), 10)
    long = engine.max_frames("Hi." * 100, SamplingParams(max_seconds=600), 10)
    assert 25 <= short < long <= int(600 * 12.5)


@pytest.mark.parametrize("request_, message", [
    (SynthesisRequest("   "), "empty"),
    (SynthesisRequest("x" * 100_000), "100,000 characters"),
    (SynthesisRequest("hi", params=SamplingParams(steps=0)), "steps"),
    (SynthesisRequest("hi", params=SamplingParams(steps=1000)), "steps"),
    (SynthesisRequest("hi", params=SamplingParams(guidance=9.0)), "guidance"),
    (SynthesisRequest("hi", voice="nobody"), "unknown voice"),
])
def test_bad_requests_raise_clear_errors(engine, request_, message):
    with pytest.raises(EngineError, match=message):
        list(engine.synthesize(request_))


def test_unknown_model_and_device_are_clear_errors():
    from engine.engine import Engine, EngineConfig

    with pytest.raises(EngineError, match="unknown model 'nope'"):
        Engine(EngineConfig(device="cpu")).load("nope")
    with pytest.raises(EngineError, match="unknown device"):
        Engine(EngineConfig(device="tpu"))
    if not torch.cuda.is_available():
        with pytest.raises(EngineError, match="no usable CUDA"):
            Engine(EngineConfig(device="cuda"))
