"""The engine thread: loading on the worker, cancel within one frame, errors as events."""

import threading

import pytest

from engine import EngineWorker
from engine.api import Done, Failed, FrameEvent, Loaded, Loading, SamplingParams, SynthesisRequest
from engine.engine import EngineConfig


class Collector:
    def __init__(self):
        self.events, self.threads = [], set()
        self.finished = threading.Event()

    def __call__(self, event):
        self.events.append(event)
        self.threads.add(threading.current_thread().name)
        if isinstance(event, (Done, Failed, Loaded)):
            self.finished.set()

    def of(self, kind):
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
def worker():
    w = EngineWorker(EngineConfig(model="tiny-random", device="cpu", threads=1))
    yield w
    w.shutdown()
    assert not w.running


def test_model_loads_on_the_worker_thread(worker):
    c = Collector()
    worker.start(c)
    assert c.finished.wait(30)
    assert isinstance(c.events[0], Loading) and isinstance(c.events[1], Loaded)
    assert c.threads == {"timbre-engine"}
    assert c.events[1].info.name == "tiny-random" and not c.events[1].info.trained


def test_cancel_stops_within_one_frame(worker):
    worker.start()
    c = Collector()
    seen_at_cancel = []

    def sink(event):
        c(event)
        if isinstance(event, FrameEvent) and event.frame.index == 2:
            seen_at_cancel.append(len(c.of(FrameEvent)))
            job.cancel.cancel()

    job = worker.synthesize(SynthesisRequest("A long sentence " * 20, params=SamplingParams(seed=1, max_seconds=60)), sink)
    assert job.finished.wait(30)
    failed = c.of(Failed)
    assert failed and failed[0].cancelled
    assert len(c.of(FrameEvent)) == seen_at_cancel[0] == 3  # no frame after the cancel
    assert not c.of(Done)


def test_worker_survives_an_exception_in_a_job(worker):
    worker.start()
    bad = Collector()

    def broken(engine, cancel):
        yield from ()
        raise RuntimeError("boom")

    job = worker.submit(broken, bad)
    assert job.finished.wait(30)
    assert len(bad.of(Failed)) == 1 and "RuntimeError: boom" in bad.of(Failed)[0].message
    good = Collector()
    worker.synthesize(SynthesisRequest("Still alive.", params=SamplingParams(seed=2, max_seconds=0.4)), good)
    assert good.finished.wait(30)
    assert len(good.of(Done)) == 1 and good.of(Done)[0].audio.size > 0


def test_load_failure_is_reported_and_the_worker_recovers():
    w = EngineWorker(EngineConfig(model="no-such-model", device="cpu"))
    try:
        c = Collector()
        w.start(c)
        assert c.finished.wait(30)
        assert "unknown model 'no-such-model'" in c.of(Failed)[0].message
        ok = Collector()
        w.load("tiny-random", ok)
        assert ok.finished.wait(30) and ok.of(Loaded)
    finally:
        w.shutdown()


def test_cancel_all_drops_queued_jobs(worker):
    worker.start()
    first, second = Collector(), Collector()
    gate = threading.Event()

    def slow(engine, cancel):
        gate.wait(10)
        yield from ()

    j1 = worker.submit(slow, first)
    j2 = worker.synthesize(SynthesisRequest("queued"), second)
    worker.cancel_all()
    gate.set()
    assert j1.finished.wait(10) and j2.finished.wait(10)
    assert second.of(Failed) and second.of(Failed)[0].cancelled and not second.of(Done)


def test_call_runs_on_the_worker_and_returns(worker):
    worker.start()
    name = worker.call(lambda engine: (threading.current_thread().name, engine.info.name))
    assert name == ("timbre-engine", "tiny-random")
