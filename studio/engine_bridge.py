"""The studio's only way to the engine: one EngineWorker, its events re-emitted as queued Qt signals.

Events are produced on the engine thread; ``_event`` carries them, tagged with the request's ticket,
to the GUI thread, where stale ones (from a render that a newer request replaced) are dropped. Progress is throttled. The latest
render request wins: starting a render cancels the one in flight.

``call(fn, on_result, on_error)`` runs any ``fn(engine)`` on the same engine thread (after what is queued
before it) and hands its result or error message to the callbacks on the GUI thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore

from engine import EngineWorker, Job
from engine.api import (
    AudioChunk,
    CancelToken,
    Done,
    Event,
    Failed,
    FrameEvent,
    Loaded,
    Loading,
    ModelInfo,
    Progress,
    Started,
    SynthesisRequest,
)

if TYPE_CHECKING:
    from engine.engine import Engine

log = logging.getLogger(__name__)
PROGRESS_INTERVAL = 0.05  # seconds between forwarded progress events
ResultSlot = Callable[[Any], None]
ErrorSlot = Callable[[str], None]


@dataclass(frozen=True)
class _Returned:
    """The value a ``call`` returned, carried to the GUI thread like any other event."""

    value: Any


class EngineBridge(QtCore.QObject):
    loading = QtCore.Signal(object)  # Loading
    loaded = QtCore.Signal(object)  # ModelInfo
    load_failed = QtCore.Signal(str)
    started = QtCore.Signal(object)  # Started
    frame = QtCore.Signal(object)  # Frame
    audio = QtCore.Signal(object)  # AudioChunk
    progress = QtCore.Signal(object)  # Progress
    done = QtCore.Signal(object)  # Done
    render_failed = QtCore.Signal(object)  # Failed
    busy_changed = QtCore.Signal(bool)

    _event = QtCore.Signal(int, object)  # (ticket, event), emitted on the engine thread

    def __init__(self, worker: EngineWorker, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.info: ModelInfo | None = None
        self._tickets = 0
        self._load_tickets: set[int] = set()
        self._render_ticket = 0
        self._render_job: Job | None = None
        self._last_progress = 0.0
        self._calls: dict[int, tuple[ResultSlot | None, ErrorSlot | None]] = {}
        self._closed = False
        self._event.connect(self._dispatch, QtCore.Qt.QueuedConnection)

    # ---- requests (GUI thread) ----------------------------------------------------------------

    def start(self) -> None:
        """Start the engine thread; the default model loads there."""
        ticket = self._new_ticket(load=True)
        self.worker.start(self._sink(ticket))

    def load_model(self, model: str | None) -> None:
        ticket = self._new_ticket(load=True)
        self.worker.load(model, self._sink(ticket))

    def render(self, request: SynthesisRequest) -> int:
        """Cancel the render in flight (if any) and queue this one; returns its ticket."""
        self.cancel()
        ticket = self._new_ticket()
        self._render_ticket = ticket  # set before submit: the first event may arrive at once
        self._last_progress = 0.0
        self._render_job = self.worker.synthesize(request, self._sink(ticket))
        self.busy_changed.emit(True)
        return ticket

    def call(self, fn: Callable[["Engine"], Any], on_result: ResultSlot | None = None,
             on_error: ErrorSlot | None = None) -> Job:
        """Run ``fn(engine)`` on the engine thread; ``on_result(value)`` or ``on_error(message)`` runs
        later on the GUI thread (an error is the EngineError's message, or "internal error: ...")."""
        ticket = self._new_ticket()
        self._calls[ticket] = (on_result, on_error)

        def run(engine: "Engine", cancel: CancelToken) -> Iterator[_Returned]:
            yield _Returned(fn(engine))

        return self.worker.submit(run, self._sink(ticket))

    @property
    def calls_pending(self) -> int:
        """Calls whose result has not arrived yet."""
        return len(self._calls)

    def cancel(self) -> None:
        """Cancel the current render; its Failed(cancelled) still arrives and ends it."""
        if self._render_job is not None:
            self._render_job.cancel.cancel()

    @property
    def rendering(self) -> bool:
        return self._render_job is not None

    def shutdown(self) -> None:
        """Stop the engine thread, then deliver (and drop) the events it posted on its way out:
        a queued event still holding Python objects when Qt tears down crashes the interpreter."""
        self._closed = True
        self.worker.shutdown()
        QtCore.QCoreApplication.sendPostedEvents(self)

    # ---- plumbing -----------------------------------------------------------------------------

    def _new_ticket(self, load: bool = False) -> int:
        self._tickets += 1
        if load:
            self._load_tickets.add(self._tickets)
        return self._tickets

    def _sink(self, ticket: int):
        emit = self._event.emit  # safe from any thread: the connection is queued

        def sink(event: Event) -> None:
            if not self._closed:
                emit(ticket, event)

        return sink

    @QtCore.Slot(int, object)
    def _dispatch(self, ticket: int, event: Event | _Returned) -> None:
        if ticket in self._calls:
            on_result, on_error = self._calls.pop(ticket)
            if isinstance(event, _Returned):
                if on_result is not None:
                    on_result(event.value)
            elif isinstance(event, Failed) and on_error is not None:
                on_error(event.message)
            return
        if ticket in self._load_tickets:
            if isinstance(event, Loading):
                self.loading.emit(event)
            elif isinstance(event, Loaded):
                self.info = event.info
                self._load_tickets.discard(ticket)
                self.loaded.emit(event.info)
            elif isinstance(event, Failed):
                self._load_tickets.discard(ticket)
                self.load_failed.emit(event.message)
            return
        if ticket != self._render_ticket:
            return  # a replaced render's late events
        if isinstance(event, FrameEvent):
            self.frame.emit(event.frame)
        elif isinstance(event, AudioChunk):
            self.audio.emit(event)
        elif isinstance(event, Progress):
            now = time.monotonic()
            if now - self._last_progress >= PROGRESS_INTERVAL or event.frames >= event.max_frames:
                self._last_progress = now
                self.progress.emit(event)
        elif isinstance(event, Started):
            self.started.emit(event)
        elif isinstance(event, (Done, Failed)):
            self._render_job = None
            if isinstance(event, Done):
                self.done.emit(event)
            else:
                self.render_failed.emit(event)
            self.busy_changed.emit(False)
