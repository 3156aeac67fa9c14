"""Undo and redo for everything that changes the project: script edits, renders (a new take),
take choice, take deletion, paragraph moves, voice changes.

Each action is a Command with ``redo`` and ``undo``; ``History.do`` runs and records it. Script edits
typed in quick succession merge into one command.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from studio.models.observable import Emitter

MERGE_SECONDS = 1.5  # script edits closer than this undo together
MAX_COMMANDS = 500


@dataclass
class Command:
    label: str
    redo: Callable[[], None]
    undo: Callable[[], None]
    kind: str = ""
    merge_key: object = None  # commands of one kind and key, close in time, may merge
    at: float = field(default_factory=lambda: time.monotonic())


class History:
    """Events: ``changed()`` after do/undo/redo."""

    def __init__(self) -> None:
        self._done: list[Command] = []
        self._undone: list[Command] = []
        self.changed = Emitter()
        self.busy = False  # True while a command runs: edits it causes are not recorded again

    def do(self, command: Command, already_done: bool = False) -> None:
        """Run (unless ``already_done``) and record a command; the redo list is dropped."""
        if self.busy:
            return
        if not already_done:
            self._run(command.redo)
        last = self._done[-1] if self._done else None
        if (last is not None and command.kind and last.kind == command.kind and last.merge_key == command.merge_key
                and command.at - last.at < MERGE_SECONDS):
            self._done[-1] = Command(last.label, command.redo, last.undo, last.kind, last.merge_key, command.at)
        else:
            self._done.append(command)
            del self._done[:-MAX_COMMANDS]
        self._undone.clear()
        self.changed.emit()

    def undo(self) -> str | None:
        """Undo the last command; returns its label (None when there is nothing to undo)."""
        if not self._done:
            return None
        command = self._done.pop()
        self._run(command.undo)
        self._undone.append(command)
        self.changed.emit()
        return command.label

    def redo(self) -> str | None:
        if not self._undone:
            return None
        command = self._undone.pop()
        self._run(command.redo)
        command.at = 0.0  # a redone command never merges with the next edit
        self._done.append(command)
        self.changed.emit()
        return command.label

    def _run(self, fn: Callable[[], None]) -> None:
        self.busy = True
        try:
            fn()
        finally:
            self.busy = False

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    @property
    def undo_label(self) -> str:
        return self._done[-1].label if self._done else ""

    @property
    def redo_label(self) -> str:
        return self._undone[-1].label if self._undone else ""

    def clear(self) -> None:
        self._done.clear()
        self._undone.clear()
        self.changed.emit()
