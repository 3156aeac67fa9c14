"""Renders paragraphs one at a time through the engine bridge, with per-paragraph progress and ETA.

Rendering a paragraph or "all" replaces whatever was queued (the latest request wins). A finished
render becomes the paragraph's newest take; the old takes stay. Events from the bridge arrive on
the GUI thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from engine.api import AudioChunk, Done, EngineError, Failed, Frame, Progress, Started, SynthesisRequest
from studio.engine_bridge import EngineBridge
from studio.models.live import LiveRender
from studio.models.observable import Emitter
from studio.models.project import Project

RequestFactory = Callable[[str, str], SynthesisRequest]  # (spoken text, voice) -> request


class RenderQueue:
    """Events: ``state(pid, what)`` with what in {"queued", "rendering", "done", "cancelled", "failed"},
    ``progress(pid, frames, max_frames, eta_seconds)``,
    ``overall(done, total, eta_seconds, chapter, chapter_eta_seconds)`` (ETAs are upper bounds),
    ``failed(pid, message)``, ``idle()`` when nothing is left."""

    def __init__(self, bridge: EngineBridge, project: Project, live: LiveRender, make_request: RequestFactory,
                 sample_rate: Callable[[], int], on_take: Callable[[str, Done], object] | None = None) -> None:
        self.bridge, self.project, self.live = bridge, project, live
        self.on_take = on_take or project.add_take  # (the window records it in the undo history)
        self.make_request, self.sample_rate = make_request, sample_rate
        self.queue: list[str] = []
        self.current: str | None = None
        self.total = 0
        self.finished = 0
        self._seconds_per_char = 0.0  # measured wall time per text character, for the overall ETA
        self._t_start = 0.0
        self.state = Emitter()
        self.progress = Emitter()
        self.overall = Emitter()
        self.failed = Emitter()
        self.idle = Emitter()
        bridge.started.connect(self._on_started)
        bridge.frame.connect(self._on_frame)
        bridge.audio.connect(self._on_audio)
        bridge.progress.connect(self._on_progress)
        bridge.done.connect(self._on_done)
        bridge.render_failed.connect(self._on_failed)

    @property
    def busy(self) -> bool:
        return self.current is not None or bool(self.queue)

    def render(self, pids: list[str]) -> None:
        """Render these paragraphs in order, replacing the queue (a render in flight is cancelled)."""
        if not pids:
            return
        for pid in self.queue:
            self.state.emit(pid, "cancelled")
        self.queue = list(pids)
        self.total, self.finished = len(pids), 0
        for pid in pids:
            self.state.emit(pid, "queued")
        if self.current is not None:
            self._end_current("cancelled")
        self._next()

    def cancel(self) -> None:
        """Stop the render in flight (within one frame) and drop the queue."""
        for pid in self.queue:
            self.state.emit(pid, "cancelled")
        self.queue = []
        if self.current is not None:
            self.bridge.cancel()

    # ---- internals ------------------------------------------------------------------------------

    def _next(self) -> None:
        while self.queue:
            pid = self.queue.pop(0)
            if pid not in self.project:
                continue  # deleted from the script while queued
            try:
                p = self.project.paragraph(pid)
                request = self.make_request(p.spoken_text, self.project.voice_of(p)).validated()
            except EngineError as e:
                self.state.emit(pid, "failed")
                self.failed.emit(pid, str(e))
                continue
            self.current = pid
            self._t_start = time.monotonic()
            self.bridge.render(request)
            self.state.emit(pid, "rendering")
            return
        self.current = None
        self.idle.emit()

    def _end_current(self, what: str) -> None:
        pid, self.current = self.current, None
        self.live.end()
        if pid is not None:
            self.state.emit(pid, what)

    def _on_started(self, ev: Started) -> None:
        if self.current is not None:
            self.live.begin(self.current, ev, self.sample_rate())

    def _on_frame(self, frame: Frame) -> None:
        if self.live.active:
            self.live.add_frame(frame)

    def _on_audio(self, chunk: AudioChunk) -> None:
        if self.live.active:
            self.live.add_audio(chunk)

    def _on_progress(self, p: Progress) -> None:
        if self.current is None:
            return
        self.live.set_progress(p)
        rate = p.frames / p.elapsed if p.elapsed > 0 else 0.0
        eta = (p.max_frames - p.frames) / rate if rate > 0 else 0.0
        self.progress.emit(self.current, p.frames, p.max_frames, eta)
        queued = [self.project.paragraph(q) for q in self.queue if q in self.project]
        chapter = self.project.chapter_of(self.current)
        in_chapter = [q for q in queued if self.project.chapter_of(q.id) == chapter]
        per_char = self._seconds_per_char
        self.overall.emit(self.finished, self.total, eta + per_char * sum(len(q.spoken_text) for q in queued),
                          chapter, eta + per_char * sum(len(q.spoken_text) for q in in_chapter))

    def _on_done(self, done: Done) -> None:
        pid = self.current
        if pid is None:
            return
        elapsed = time.monotonic() - self._t_start
        chars = max(1, len(done.request.text))
        self._seconds_per_char = elapsed / chars if not self._seconds_per_char else (
            0.5 * self._seconds_per_char + 0.5 * elapsed / chars)
        self.on_take(pid, done)
        self.finished += 1
        self._end_current("done")
        self.overall.emit(self.finished, self.total, 0.0, None, 0.0)
        self._next()

    def _on_failed(self, failed: Failed) -> None:
        pid = self.current
        if pid is None:
            return
        self._end_current("cancelled" if failed.cancelled else "failed")
        if not failed.cancelled:
            self.failed.emit(pid, failed.message)
        self._next()
