"""The script as paragraphs, and every take each paragraph has had.

A paragraph keeps its id (and its takes) while the user edits the script: the new paragraph texts
are matched to the old ones with a sequence diff. A paragraph whose text no longer matches its
chosen take is *stale*. Paragraphs deleted from the script keep their takes in memory, so undoing
the deletion in the editor brings them back with their takes.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import re
import uuid
from dataclasses import dataclass, field

import numpy as np

from engine import __version__
from engine.api import Done, EngineError, Frame, SamplingParams
from studio.models.observable import Emitter
from studio.models.peaks import PeakPyramid

_BLANK_LINES = re.compile(r"\n\s*\n")


def split_paragraphs(script: str) -> list[str]:
    """Paragraphs are separated by blank lines; inner line breaks become spaces."""
    parts = (" ".join(p.split()) for p in _BLANK_LINES.split(script.replace("\r\n", "\n")))
    return [p for p in parts if p]


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass(eq=False)  # identity: a take is one object, however alike two renders are
class Take:
    """One render of one paragraph: what was asked, what came back, and how to reproduce it.

    audio: float32 mono [n] at ``sample_rate``; frames: the engine's records, in order.
    """

    id: str
    paragraph_id: str
    number: int
    text: str
    voice: str
    params: SamplingParams
    seed: int
    model: str
    model_hash: str
    frames: tuple[Frame, ...]
    audio: np.ndarray
    sample_rate: int
    elapsed: float
    first_audio_latency: float
    created: str = field(default_factory=lambda: _dt.datetime.now().isoformat(timespec="seconds"))
    engine_version: str = __version__
    _peaks: PeakPyramid | None = field(default=None, repr=False)

    @classmethod
    def from_done(cls, paragraph_id: str, number: int, done: Done) -> "Take":
        return cls(_new_id(), paragraph_id, number, done.request.text, done.request.voice, done.request.params,
                   done.seed, done.model, done.model_hash, done.frames, np.asarray(done.audio, dtype=np.float32),
                   done.sample_rate, done.elapsed, done.first_audio_latency)

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    @property
    def label(self) -> str:
        p = self.params
        return f"take {self.number} · seed {self.seed} · {p.steps} steps · α {p.guidance:g} · {self.duration:.2f} s"

    @property
    def peaks(self) -> PeakPyramid:
        if self._peaks is None:
            self._peaks = PeakPyramid(self.audio)
        return self._peaks

    def metadata(self) -> dict:
        """What a take's exported files record (JSON-able)."""
        p = self.params
        return {"take": self.id, "paragraph": self.paragraph_id, "number": self.number, "text": self.text,
                "voice": self.voice, "seed": self.seed, "model": self.model, "model_hash": self.model_hash,
                "sample_rate": self.sample_rate, "engine_version": self.engine_version, "created": self.created,
                "params": {"steps": p.steps, "guidance": p.guidance, "temperature": p.temperature,
                           "semantic_temperature": p.semantic_temperature, "semantic_top_k": p.semantic_top_k,
                           "max_seconds": p.max_seconds}}


@dataclass(eq=False)
class Paragraph:
    id: str
    text: str
    takes: list[Take] = field(default_factory=list)
    current_id: str | None = None

    @property
    def current(self) -> Take | None:
        return next((t for t in self.takes if t.id == self.current_id), None)

    @property
    def stale(self) -> bool:
        """Rendered, but the text changed since the chosen take."""
        take = self.current
        return take is not None and take.text != self.text

    def take(self, take_id: str) -> Take:
        for t in self.takes:
            if t.id == take_id:
                return t
        raise EngineError(f"paragraph {self.id} has no take {take_id}")


class Project:
    """Events: ``structure_changed()`` (paragraphs added/removed/reordered),
    ``text_changed(pid)``, ``takes_changed(pid)`` (a take added, chosen or deleted)."""

    def __init__(self, script: str = "") -> None:
        self.paragraphs: list[Paragraph] = []
        self._removed: dict[str, Paragraph] = {}  # text -> paragraph dropped from the script
        self.structure_changed = Emitter()
        self.text_changed = Emitter()
        self.takes_changed = Emitter()
        if script:
            self.set_script(script)

    # ---- script ---------------------------------------------------------------------------------

    def set_script(self, script: str) -> None:
        """Re-split the script; matched paragraphs keep their ids and takes."""
        texts = split_paragraphs(script)
        old = self.paragraphs
        matcher = difflib.SequenceMatcher(a=[p.text for p in old], b=texts, autojunk=False)
        new: list[Paragraph] = []
        edited: list[str] = []
        for op, a0, a1, b0, b1 in matcher.get_opcodes():
            if op == "equal":
                new.extend(old[a0:a1])
                continue
            olds, news = old[a0:a1], texts[b0:b1]
            for i, text in enumerate(news):
                if i < len(olds) and op == "replace":
                    p = olds[i]
                    p.text = text
                    edited.append(p.id)
                else:
                    p = self._removed.pop(text, None) or Paragraph(_new_id(), text)
                new.append(p)
            for p in olds[len(news) if op == "replace" else 0:]:
                self._removed[p.text] = p
        structure = [p.id for p in new] != [p.id for p in old]
        self.paragraphs = new
        if structure:
            self.structure_changed.emit()
        for pid in edited:
            self.text_changed.emit(pid)

    @property
    def script(self) -> str:
        return "\n\n".join(p.text for p in self.paragraphs)

    def paragraph(self, pid: str) -> Paragraph:
        for p in self.paragraphs:
            if p.id == pid:
                return p
        raise EngineError(f"no paragraph {pid} in the script")

    def _find(self, pid: str) -> Paragraph:
        """A paragraph of the script, or one removed from it (a render may finish after a delete)."""
        for p in (*self.paragraphs, *self._removed.values()):
            if p.id == pid:
                return p
        raise EngineError(f"no paragraph {pid}")

    def index_of(self, pid: str) -> int:
        return next(i for i, p in enumerate(self.paragraphs) if p.id == pid)

    def __contains__(self, pid: str) -> bool:
        return any(p.id == pid for p in self.paragraphs)

    # ---- takes ----------------------------------------------------------------------------------

    def add_take(self, pid: str, done: Done) -> Take:
        """A finished render becomes the paragraph's newest take and its chosen one."""
        p = self._find(pid)
        number = max((t.number for t in p.takes), default=0) + 1
        take = Take.from_done(pid, number, done)
        take.peaks  # build the waveform pyramid now (ms per minute), not on a later redraw
        p.takes.append(take)
        p.current_id = take.id
        self.takes_changed.emit(pid)
        return take

    def choose_take(self, pid: str, take_id: str) -> None:
        p = self.paragraph(pid)
        p.take(take_id)
        if p.current_id != take_id:
            p.current_id = take_id
            self.takes_changed.emit(pid)

    def delete_take(self, pid: str, take_id: str) -> Take:
        """Remove a take; if it was chosen, the newest remaining one is chosen."""
        p = self.paragraph(pid)
        take = p.take(take_id)
        p.takes.remove(take)
        if p.current_id == take_id:
            p.current_id = p.takes[-1].id if p.takes else None
        self.takes_changed.emit(pid)
        return take

    def restore_take(self, pid: str, take: Take, index: int, make_current: bool) -> None:
        """Put a deleted take back where it was (undo)."""
        p = self.paragraph(pid)
        p.takes.insert(min(index, len(p.takes)), take)
        if make_current or p.current_id is None:
            p.current_id = take.id
        self.takes_changed.emit(pid)
