"""What the user has picked: the play cursor, a time range, a paragraph, a frame."""

from __future__ import annotations

from dataclasses import dataclass

from studio.models.observable import Emitter


@dataclass(frozen=True)
class FrameRef:
    """Frame ``index`` of paragraph ``paragraph_id``'s shown take."""

    paragraph_id: str
    index: int


class Selection:
    """Events: ``changed(what)`` with what in {"cursor", "range", "paragraph", "frame"}."""

    def __init__(self) -> None:
        self.cursor = 0.0
        self.range: tuple[float, float] | None = None
        self.paragraph_id: str | None = None
        self.frame: FrameRef | None = None
        self.changed = Emitter()

    def set_cursor(self, seconds: float) -> None:
        seconds = max(0.0, float(seconds))
        if seconds != self.cursor:
            self.cursor = seconds
            self.changed.emit("cursor")

    def set_range(self, t0: float | None, t1: float | None = None) -> None:
        new = None if t0 is None or t1 is None or abs(t1 - t0) < 1e-3 else (max(0.0, min(t0, t1)), max(t0, t1))
        if new != self.range:
            self.range = new
            self.changed.emit("range")

    def select_paragraph(self, pid: str | None) -> None:
        if pid != self.paragraph_id:
            self.paragraph_id = pid
            self.changed.emit("paragraph")

    def select_frame(self, ref: FrameRef | None) -> None:
        if ref != self.frame:
            self.frame = ref
            self.changed.emit("frame")
