"""The bridge: engine-thread events arrive as queued Qt signals on the GUI thread, in order;
the latest render wins; cancel and errors come back as signals."""

import threading

from PySide6 import QtCore

from engine import EngineConfig, EngineWorker
from engine.api import SamplingParams, SynthesisRequest
from studio.engine_bridge import EngineBridge


def _request(text="Signals in order.", seconds=0.8, seed=1):
    return SynthesisRequest(text, params=SamplingParams(seed=seed, max_seconds=seconds))


class Recorder(QtCore.QObject):
    def __init__(self, bridge):
        super().__init__()
        self.log, self.threads = [], set()
        for name in ("started", "frame", "audio", "progress", "done", "render_failed"):
            getattr(bridge, name).connect(lambda ev, n=name: self._got(n, ev))

    def _got(self, name, ev):
        self.log.append((name, ev))
        self.threads.add(threading.current_thread() is threading.main_thread())

    def names(self):
        return [n for n, _ in self.log]

    def of(self, name):
        return [e for n, e in self.log if n == name]


def test_render_signals_arrive_in_order_on_the_gui_thread(qtbot, bridge):
    rec = Recorder(bridge)
    assert bridge.info.name == "tiny-random" and bridge.info.device.startswith("cpu")
    with qtbot.waitSignal(bridge.done, timeout=30_000):
        bridge.render(_request())
    names = rec.names()
    assert names[0] == "started" and names[-1] == "done"
    assert rec.threads == {True}  # every slot ran on the GUI thread
    frames = rec.of("frame")
    done = rec.of("done")[0]
    assert [f.index for f in frames] == list(range(len(done.frames))) and len(frames) == 10
    assert sum(len(c.samples) for c in rec.of("audio")) == len(done.audio)
    assert not bridge.rendering


def test_progress_is_throttled_but_the_last_one_arrives(qtbot, bridge):
    rec = Recorder(bridge)
    with qtbot.waitSignal(bridge.done, timeout=30_000):
        bridge.render(_request(seconds=3.0))
    progress = rec.of("progress")
    assert progress and len(progress) < len(rec.of("frame"))
    assert progress[-1].frames == progress[-1].max_frames == 38


def test_the_latest_render_wins(qtbot, bridge):
    rec = Recorder(bridge)
    with qtbot.waitSignal(bridge.done, timeout=30_000):
        bridge.render(_request("A long first request that will be replaced.", seconds=30.0, seed=1))
        bridge.render(_request("Second.", seconds=0.4, seed=2))
    assert [d.request.text for d in rec.of("done")] == ["Second."]
    assert [s.seed for s in rec.of("started")] == [2]
    assert len(rec.of("frame")) == len(rec.of("done")[0].frames) == 5  # nothing from the first render
    assert not rec.of("render_failed")  # the replaced render's cancel is not reported as this one's


def test_cancel_arrives_as_a_cancelled_failure(qtbot, bridge):
    rec = Recorder(bridge)
    bridge.frame.connect(lambda f: bridge.cancel() if f.index == 2 else None)
    with qtbot.waitSignal(bridge.render_failed, timeout=30_000) as blocker:
        bridge.render(_request(seconds=30.0))
    assert blocker.args[0].cancelled
    assert not rec.of("done") and not bridge.rendering
    assert len(rec.of("frame")) < 375


def test_a_bad_model_is_reported_and_a_good_one_loads_after(qtbot):
    b = EngineBridge(EngineWorker(EngineConfig(model="no-such-model", device="cpu", threads=1)))
    try:
        with qtbot.waitSignal(b.load_failed, timeout=30_000) as blocker:
            b.start()
        assert "unknown model 'no-such-model'" in blocker.args[0]
        with qtbot.waitSignal(b.loaded, timeout=30_000):
            b.load_model("tiny-random")
        assert b.info.name == "tiny-random"
    finally:
        b.shutdown()


def test_engine_errors_during_a_render_arrive_as_failures(qtbot, bridge):
    with qtbot.waitSignal(bridge.render_failed, timeout=30_000) as blocker:
        bridge.render(SynthesisRequest("hi", voice="nobody"))
    assert "unknown voice 'nobody'" in blocker.args[0].message and not blocker.args[0].cancelled


def test_call_runs_on_the_engine_thread_and_answers_on_the_gui_thread(qtbot, bridge):
    got, errors, threads = [], [], []

    def on_engine(engine):
        threads.append(threading.current_thread().name)
        return engine.info.name

    def on_result(value):
        got.append((value, threading.current_thread() is threading.main_thread()))

    with qtbot.waitSignal(bridge.done, timeout=30_000):
        bridge.render(_request(seconds=0.4))
        bridge.call(on_engine, on_result, errors.append)  # queued behind the render
    qtbot.waitUntil(lambda: bool(got), timeout=10_000)
    assert got == [("tiny-random", True)] and threads == ["timbre-engine"] and not errors
    assert bridge.calls_pending == 0


def test_a_failing_call_reports_its_message_and_the_engine_lives_on(qtbot, bridge):
    from engine.api import EngineError

    errors, results = [], []

    def bad(engine):
        raise EngineError("that clip is not audio")

    bridge.call(bad, results.append, errors.append)
    bridge.call(lambda engine: 1 / 0, results.append, errors.append)
    bridge.call(lambda engine: "still here", results.append, errors.append)
    qtbot.waitUntil(lambda: len(errors) + len(results) == 3, timeout=10_000)
    assert errors == ["that clip is not audio", "internal error: ZeroDivisionError: division by zero"]
    assert results == ["still here"]
