"""Every change a user makes to the project, as an undoable command (the views call these, never
the project's own mutators, so each action lands in the history exactly once)."""

from __future__ import annotations

from engine.api import Done
from studio.models.history import Command, History
from studio.models.observable import Emitter
from studio.models.project import Project
from studio.models.take import Take


class ProjectEditor:
    """Events: ``text_restored(text)`` when undo/redo (or a move) changes the script text, so the
    editor widget shows it."""

    def __init__(self, project: Project, history: History, text: str = "") -> None:
        self.project, self.history = project, history
        self.text = text  # the script exactly as typed (the project holds it split into paragraphs)
        self.text_restored = Emitter()
        if text:
            project.set_script(text)

    # ---- script ---------------------------------------------------------------------------------

    def set_text(self, text: str) -> None:
        """The user typed (or dropped a file): one command, merged with edits a moment before."""
        old = self.text
        if text == old:
            return
        self._apply_text(text, restore=False)  # the editor already shows it
        self.history.do(Command("edit the script", lambda: self._apply_text(text), lambda: self._apply_text(old),
                                kind="text"), already_done=True)

    def replace_text(self, text: str, label: str) -> None:
        """Replace the whole script (an opened file): one step of its own, never merged with typing."""
        old = self.text
        self.history.do(Command(label, lambda: self._apply_text(text), lambda: self._apply_text(old)))

    def _apply_text(self, text: str, restore: bool = True) -> None:
        self.text = text
        self.project.set_script(text)
        if restore:
            self.text_restored.emit(text)

    def move(self, pid: str, index: int) -> None:
        old_index, old_text = self.project.index_of(pid), self.text

        def redo() -> None:
            self.project.move(pid, index)
            self._apply_text(self.project.script)

        def undo() -> None:
            self.project.move(pid, old_index)
            self._apply_text(old_text)

        self.history.do(Command("move a paragraph", redo, undo))

    # ---- takes ----------------------------------------------------------------------------------

    def add_take(self, pid: str, done: Done) -> Take:
        """A finished render; undo removes the take and brings back the previously chosen one."""
        p = self.project._find(pid)
        previous = p.current_id
        take = self.project.add_take(pid, done)
        index = p.takes.index(take)

        def undo() -> None:
            self.project.delete_take(pid, take.id)
            self.project.choose_take(pid, previous)

        def redo() -> None:
            self.project.insert_take(pid, take, index, make_current=True)

        self.history.do(Command(f"render ¶{self._number(pid)}", redo, undo), already_done=True)
        return take

    def choose_take(self, pid: str, take_id: str) -> None:
        old = self.project.paragraph(pid).current_id
        if old == take_id:
            return
        self.history.do(Command("choose a take", lambda: self.project.choose_take(pid, take_id),
                                lambda: self.project.choose_take(pid, old)))

    def delete_take(self, pid: str, take_id: str) -> None:
        p = self.project.paragraph(pid)
        take, index, was_current = p.take(take_id), p.takes.index(p.take(take_id)), p.current_id == take_id
        self.history.do(Command("delete a take", lambda: self.project.delete_take(pid, take_id),
                                lambda: self.project.insert_take(pid, take, index, was_current)))

    # ---- voices -----------------------------------------------------------------------------------

    def set_paragraph_voice(self, pid: str, voice: str | None) -> None:
        old = self.project.paragraph(pid).voice
        self.history.do(Command("change a paragraph's voice", lambda: self.project.set_paragraph_voice(pid, voice),
                                lambda: self.project.set_paragraph_voice(pid, old)))

    def set_speaker_voice(self, speaker: str, voice: str | None) -> None:
        old = self.project.speakers.get(speaker)
        self.history.do(Command(f"change {speaker}'s voice", lambda: self.project.set_speaker_voice(speaker, voice),
                                lambda: self.project.set_speaker_voice(speaker, old)))

    def _number(self, pid: str) -> int:
        return self.project.index_of(pid) + 1 if pid in self.project else 0
