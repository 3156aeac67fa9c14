"""The script as paragraphs, and every take each paragraph has had.

A paragraph keeps its id (and its takes) while the user edits the script: the new paragraph texts
are matched to the old ones with a sequence diff. Paragraphs deleted from the script keep their
takes in memory, so undoing the deletion brings them back with their takes.

Markdown-style headings (``# Chapter one``) are chapter titles, not speech. A ``Name: text`` prefix
names the speaker; each speaker can have a voice, and any paragraph can override it. A rendered
paragraph is *stale* when its text, its voice or the sampler settings differ from its chosen take's.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from engine.api import Done, EngineError, SamplingParams
from studio.models.observable import Emitter
from studio.models.take import Take, new_id

_BLANK_LINES = re.compile(r"\n\s*\n")
_HEADING = re.compile(r"^#{1,6}\s+(.+)$")
_SPEAKER = re.compile(r"^([A-Z][\w.' -]{0,30}):\s+(\S.*)$")
STALE_FIELDS = ("steps", "guidance", "temperature", "semantic_temperature", "semantic_top_k")
"""Sampler settings whose change makes a take stale (the seed and the length cap do not)."""


def split_paragraphs(script: str) -> list[str]:
    """Paragraphs are separated by blank lines; inner line breaks become spaces."""
    parts = (" ".join(p.split()) for p in _BLANK_LINES.split(script.replace("\r\n", "\n")))
    return [p for p in parts if p]


@dataclass(eq=False)  # identity: two paragraphs with the same text are still two paragraphs
class Paragraph:
    id: str
    text: str
    takes: list[Take] = field(default_factory=list)
    current_id: str | None = None
    voice: str | None = None  # this paragraph's own voice, over its speaker's and the default

    @property
    def heading(self) -> str | None:
        """The chapter title if this paragraph is a heading, else None."""
        m = _HEADING.match(self.text)
        return m.group(1).strip() if m else None

    @property
    def speaker(self) -> str | None:
        m = _SPEAKER.match(self.text)
        return m.group(1).strip() if m and self.heading is None else None

    @property
    def spoken_text(self) -> str:
        """What is said: the text without its speaker prefix."""
        m = _SPEAKER.match(self.text)
        return m.group(2) if m and self.heading is None else self.text

    @property
    def current(self) -> Take | None:
        return next((t for t in self.takes if t.id == self.current_id), None)

    def take(self, take_id: str) -> Take:
        for t in self.takes:
            if t.id == take_id:
                return t
        raise EngineError(f"paragraph {self.id} has no take {take_id}")


class Project:
    """Events: ``structure_changed()`` (paragraphs added, removed or moved), ``text_changed(pid)``,
    ``takes_changed(pid)`` (a take added, chosen or deleted), ``voices_changed()`` (a paragraph's or a
    speaker's voice changed), ``defaults_changed()`` (the default voice or a sampler setting that a
    take is compared with changed); both may make takes stale."""

    def __init__(self, script: str = "") -> None:
        self.paragraphs: list[Paragraph] = []
        self._removed: dict[str, Paragraph] = {}  # text -> paragraph dropped from the script
        self.speakers: dict[str, str] = {}  # speaker name -> voice
        self.default_voice = "default"
        self.default_params = SamplingParams()
        self.structure_changed = Emitter()
        self.text_changed = Emitter()
        self.takes_changed = Emitter()
        self.voices_changed = Emitter()
        self.defaults_changed = Emitter()
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
                    p = self._removed.pop(text, None) or Paragraph(new_id(), text)
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

    def speech(self) -> list[Paragraph]:
        """The paragraphs that are said (headings are not)."""
        return [p for p in self.paragraphs if p.heading is None]

    def chapter_of(self, pid: str) -> str | None:
        """The title of the last heading before this paragraph (None before the first heading)."""
        title = None
        for p in self.paragraphs:
            if p.id == pid:
                return title
            if p.heading is not None:
                title = p.heading
        return None

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

    def move(self, pid: str, index: int) -> None:
        """Move a paragraph to ``index`` (its takes go with it)."""
        p = self.paragraph(pid)
        self.paragraphs.remove(p)
        self.paragraphs.insert(max(0, min(index, len(self.paragraphs))), p)
        self.structure_changed.emit()

    def load_from(self, other: "Project") -> None:
        """Take another project's paragraphs and speakers (opening a file keeps every view subscribed)."""
        self.paragraphs, self.speakers, self._removed = list(other.paragraphs), dict(other.speakers), {}
        self.structure_changed.emit()
        self.voices_changed.emit()

    # ---- voices and staleness ---------------------------------------------------------------------

    def voice_of(self, p: Paragraph) -> str:
        return p.voice or (self.speakers.get(p.speaker, "") if p.speaker else "") or self.default_voice

    def set_paragraph_voice(self, pid: str, voice: str | None) -> None:
        self.paragraph(pid).voice = voice or None
        self.voices_changed.emit()

    def set_speaker_voice(self, speaker: str, voice: str | None) -> None:
        if voice:
            self.speakers[speaker] = voice
        else:
            self.speakers.pop(speaker, None)
        self.voices_changed.emit()

    def set_defaults(self, voice: str | None = None, params: SamplingParams | None = None) -> None:
        """What a paragraph without its own voice reads in, and the sampler settings its next take gets.
        ``defaults_changed`` fires only when staleness could change: a new seed (drawn afresh for every
        render while the seed is unlocked) or length limit alone does not make a take out of date."""
        changed = False
        if voice is not None and voice != self.default_voice:
            self.default_voice, changed = voice, True
        if params is not None:
            changed |= any(getattr(params, f) != getattr(self.default_params, f) for f in STALE_FIELDS)
            self.default_params = params
        if changed:
            self.defaults_changed.emit()

    def stale(self, p: Paragraph) -> bool:
        """Rendered, but its text, voice or sampler settings differ from its chosen take's."""
        take = p.current
        if take is None:
            return False
        if take.text != p.spoken_text or take.voice != self.voice_of(p):
            return True
        return any(getattr(take.params, f) != getattr(self.default_params, f) for f in STALE_FIELDS)

    def stale_paragraphs(self) -> list[Paragraph]:
        return [p for p in self.speech() if self.stale(p)]

    def unrendered(self) -> list[Paragraph]:
        return [p for p in self.speech() if p.current is None]

    # ---- takes ----------------------------------------------------------------------------------

    def add_take(self, pid: str, done: Done) -> Take:
        """A finished render becomes the paragraph's newest take and its chosen one."""
        p = self._find(pid)
        number = max((t.number for t in p.takes), default=0) + 1
        take = Take.from_done(pid, number, done)
        take.peaks  # build the waveform pyramid now (ms per minute), not on a later redraw
        self.insert_take(pid, take, len(p.takes), make_current=True)
        return take

    def insert_take(self, pid: str, take: Take, index: int, make_current: bool) -> None:
        """Put a take in at ``index`` (a new render, or a deleted take coming back on undo)."""
        p = self._find(pid)
        p.takes.insert(min(index, len(p.takes)), take)
        if make_current or p.current_id is None:
            p.current_id = take.id
        self.takes_changed.emit(pid)

    def choose_take(self, pid: str, take_id: str | None) -> None:
        p = self._find(pid)
        if take_id is not None:
            p.take(take_id)
        if p.current_id != take_id:
            p.current_id = take_id
            self.takes_changed.emit(pid)

    def delete_take(self, pid: str, take_id: str) -> tuple[Take, int, bool]:
        """Remove a take; if it was chosen, the newest remaining one is chosen.
        Returns (the take, where it was, whether it was chosen) for undo."""
        p = self._find(pid)
        take = p.take(take_id)
        index, was_current = p.takes.index(take), p.current_id == take_id
        p.takes.remove(take)
        if was_current:
            p.current_id = p.takes[-1].id if p.takes else None
        self.takes_changed.emit(pid)
        return take, index, was_current
