"""The engine thread: one thread owns the Engine (models are not thread-safe); jobs are generators.

Callers submit jobs from any thread and receive events through a callback that runs on the worker
thread (the studio's bridge re-emits them as queued Qt signals). A job's CancelToken is checked
between frames. An exception in a job becomes a Failed event; the thread lives on.
No torch import here: the Engine is imported and built on the worker thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.api import CancelToken, Cancelled, EngineConfig, EngineError, Event, Failed, SynthesisRequest

if TYPE_CHECKING:
    from engine.engine import Engine

log = logging.getLogger(__name__)
EventSink = Callable[[Event], None]


@dataclass
class Job:
    """A unit of work: ``run(engine, cancel)`` yields events. ``id`` increases with every submission."""

    id: int
    run: Callable[["Engine", CancelToken], Iterator[Event]]
    sink: EventSink
    cancel: CancelToken = field(default_factory=CancelToken)
    finished: threading.Event = field(default_factory=threading.Event)


class EngineWorker:
    """Owns one Engine on a daemon thread; ``start`` loads the model there, never on the caller."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self._config = config
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._next_id = 0
        self._current: Job | None = None
        self.engine: Engine | None = None  # touched only on the worker thread

    # ---- life cycle ---------------------------------------------------------------------------

    def start(self, sink: EventSink | None = None) -> Job:
        """Start the thread and queue the model load (Loading, Loaded or Failed go to ``sink``)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="timbre-engine", daemon=True)
            self._thread.start()
        return self.submit(lambda engine, cancel: engine.load_events(), sink or (lambda e: None))

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel everything, stop the thread and wait for it (bounded)."""
        self.cancel_all()
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def busy(self) -> bool:
        return self._current is not None or not self._queue.empty()

    # ---- jobs ---------------------------------------------------------------------------------

    def submit(self, run: Callable[["Engine", CancelToken], Iterator[Event]], sink: EventSink) -> Job:
        """Queue ``run(engine, cancel)``; its events go to ``sink`` on the worker thread."""
        with self._lock:
            self._next_id += 1
            job = Job(self._next_id, run, sink)
        self._queue.put(job)
        return job

    def synthesize(self, request: SynthesisRequest, sink: EventSink) -> Job:
        return self.submit(lambda engine, cancel: engine.synthesize(request, cancel), sink)

    def load(self, model: str | None, sink: EventSink) -> Job:
        return self.submit(lambda engine, cancel: engine.load_events(model), sink)

    def call(self, fn: Callable[["Engine"], Any], timeout: float | None = 60.0) -> Any:
        """Run ``fn(engine)`` on the worker thread and wait for its result (re-raises its error)."""
        box: dict[str, Any] = {}

        def run(engine: "Engine", cancel: CancelToken) -> Iterator[Event]:
            box["value"] = fn(engine)
            return iter(())

        def sink(event: Event) -> None:
            if isinstance(event, Failed):
                box["error"] = event.message

        job = self.submit(run, sink)
        if not job.finished.wait(timeout):
            raise EngineError("the engine did not answer in time")
        if "error" in box:
            raise EngineError(box["error"])
        return box.get("value")

    def cancel_all(self) -> None:
        """Cancel the running job and drop the queued ones (each reports Failed(cancelled=True))."""
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                self._queue.put(None)
                break
            self._report(job, Failed("cancelled", cancelled=True))
            job.finished.set()
        current = self._current
        if current is not None:
            current.cancel.cancel()

    # ---- the thread ---------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            self._current = job
            try:
                self._run(job)
            finally:
                self._current = None
                job.finished.set()

    def _run(self, job: Job) -> None:
        try:
            if job.cancel.cancelled:
                raise Cancelled("cancelled")
            if self.engine is None:
                from engine.engine import Engine  # torch is imported here, on the worker thread

                self.engine = Engine(self._config)
            for event in job.run(self.engine, job.cancel):
                self._report(job, event)
        except Cancelled:
            self._report(job, Failed("cancelled", cancelled=True))
        except EngineError as e:
            self._report(job, Failed(str(e)))
        except Exception as e:  # a bug in a job must not kill the engine thread
            log.error("engine job %d failed:\n%s", job.id, traceback.format_exc())
            self._report(job, Failed(f"internal error: {type(e).__name__}: {e}"))

    @staticmethod
    def _report(job: Job, event: Event) -> None:
        try:
            job.sink(event)
        except Exception:
            log.exception("event sink raised for job %d", job.id)
