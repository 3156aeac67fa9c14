"""New, open, save, save as, autosave and crash recovery, as the window's File menu runs them.

Questions go through ``ask`` (a real QMessageBox); file choices through ``choose_*`` (the platform's
file dialogs). Autosave runs every 30 s when something changed, and right after every render; the
takes' files are written the moment a render finishes, so a killed app loses no render.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtWidgets

from engine.api import EngineError
from studio.panels.script_panel import ScriptFileError, read_script_file
from studio.project_files import SUFFIX, ProjectFileError, ProjectFolder, Snapshot
from studio.session import Session, add_recent, recoverable

if TYPE_CHECKING:
    from studio.main_window import MainWindow

log = logging.getLogger(__name__)
AUTOSAVE_MS = 30_000


def ask(parent: QtWidgets.QWidget, title: str, text: str, buttons: list[str], default: str) -> str:
    """A modal question; returns the text of the button pressed (Escape picks the last one)."""
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Question, title, text, parent=parent)
    made = {name: box.addButton(name, QtWidgets.QMessageBox.AcceptRole) for name in buttons}
    box.setDefaultButton(made[default])
    box.setEscapeButton(made[buttons[-1]])
    box.setObjectName("question")
    box.exec()
    clicked = box.clickedButton()
    return next((name for name, b in made.items() if b is clicked), buttons[-1])


class ProjectController(QtCore.QObject):
    _takes_written = QtCore.Signal(object, object)  # (folder, the writer thread's exception or None)

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.w = window
        self.session = Session()
        self.ask = lambda title, text, buttons, default: ask(window, title, text, buttons, default)
        self.timer = QtCore.QTimer(self, interval=AUTOSAVE_MS)
        self.timer.timeout.connect(self.autosave)
        self.timer.start()
        window.history.changed.connect(self._changed)
        window.project.takes_changed.connect(self._after_take)
        self._writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="take-writer")
        self._takes_written.connect(self._on_takes_written)  # queued: emitted on the writer thread
        window.project.voices_changed.connect(self._changed)
        # the sampler's settings, the default voice and the pauses are saved with the project (``project_settings``)
        window.sampler.changed.connect(lambda state: self._changed())
        window.voice_panel.changed.connect(lambda voice: self._changed())
        window.timeline.gaps_changed.connect(self._changed)

    # ---- state --------------------------------------------------------------------------------------

    def _changed(self) -> None:
        self.session.changed()
        self.w.update_title()

    @contextlib.contextmanager
    def not_an_edit(self) -> Iterator[None]:
        """Changes the program makes on its own (a newly loaded model's default settings) are not the
        user's edits: they never make closing ask to save (the autosave still keeps them)."""
        dirty = self.session.dirty
        try:
            yield
        finally:
            self.session.dirty = dirty
            self.w.update_title()

    def _after_take(self, pid: str) -> None:
        """A render (or a take choice) changed the project: its files go to disk now. Takes never
        change, so their audio (FLAC encoding is the slow part) is written on a writer thread, and the
        autosave follows on this thread once they are on disk."""
        self._changed()
        folder = self.session.folder
        if folder is None or pid not in self.w.project:
            return
        takes = list(self.w.project.paragraph(pid).takes)
        future = self._writer.submit(lambda: [folder.write_take(t) for t in takes])
        future.add_done_callback(lambda f: self._takes_written.emit(folder, f.exception()))

    def _on_takes_written(self, folder: ProjectFolder, error: BaseException | None) -> None:
        if folder is not self.session.folder:
            return  # the project was closed (an unchanged untitled one is deleted) while writing
        if error is not None:
            log.warning("writing takes failed: %s", error)
            self.w.statusBar().showMessage(f"Writing the take to the project failed: {error}", 10_000)
        self.autosave()

    def wait_for_writes(self) -> None:
        """Block until every queued take is on disk (before a save, a close, or in tests)."""
        self._writer.submit(lambda: None).result()
        QtCore.QCoreApplication.sendPostedEvents(self)

    def project_settings(self) -> dict[str, Any]:
        w = self.w
        return {"sampler": w.sampler.to_dict(), "voice": w.voice_panel.voice, "gap_seconds": w.timeline.gap,
                "chapter_gap_seconds": w.timeline.chapter_gap, "sampler_model": w.settings.sampler_model,
                "layout": {"panes": bytes(w.pane_splitter.saveState().toHex()).decode()}}

    def _apply(self, snap: Snapshot) -> None:
        w = self.w
        w.project.load_from(snap.project)
        w.editing.text = snap.text
        w.editing.text_restored.emit(snap.text)
        w.history.clear()
        s = snap.settings
        if isinstance(s.get("sampler"), dict):
            w.sampler.set(**vars(w.sampler.from_dict(s["sampler"])))
        if isinstance(s.get("gap_seconds"), (int, float)):
            w.timeline.set_gap(s["gap_seconds"], s.get("chapter_gap_seconds"))
        if isinstance(s.get("voice"), str):
            w.voice_panel.choose(s["voice"])
        panes = (s.get("layout") or {}).get("panes")
        if isinstance(panes, str) and panes:
            w.pane_splitter.restoreState(QtCore.QByteArray.fromHex(panes.encode()))
        if snap.message:
            w.show_error(snap.message)

    # ---- start and recovery -------------------------------------------------------------------------

    def start(self) -> None:
        """Reopen the last project, or start an untitled one with the script the window shows."""
        last = self.w.settings.last_project
        if last and Path(last).is_dir() and not ProjectFolder(last).crashed():
            if self.open(last, quiet=True):
                return
        self.session.start_untitled()
        self.w.update_title()

    def offer_recovery(self) -> bool:
        """After a crash: offer the newest work left behind. True if a project was recovered."""
        for item in recoverable(self.w.settings.recent_projects):
            if self.session.folder is not None and item.folder.path == self.session.folder.path:
                continue
            choice = self.ask("Recover unsaved work?",
                              f"Timbre Studio did not close properly last time. Recover {item.label}?",
                              ["Recover", "Discard"], "Recover")
            if choice == "Recover":
                try:
                    snap = item.folder.load(prefer_autosave=True)
                except ProjectFileError as e:
                    self.w.show_error(f"Could not recover: {e}")
                    continue
                self.session.close(discard_untitled=not self.session.dirty)
                self.session.adopt(item.folder, untitled=item.untitled)
                self._apply(snap)
                self.session.changed()  # recovered work is not saved by hand yet
                self.w.update_title()
                self.w.statusBar().showMessage(f"Recovered {item.label}.", 15_000)
                return True
            item.folder.unlock()
            if item.untitled:
                import shutil

                shutil.rmtree(item.folder.path, ignore_errors=True)
            else:
                (item.folder.path / "autosave.json").unlink(missing_ok=True)
        return False

    # ---- saving -------------------------------------------------------------------------------------

    def autosave(self) -> None:
        s = self.session
        if s.folder is None or not s.autosave_due:
            return
        try:
            s.folder.save(self.w.editing.text, self.w.project, self.project_settings(), autosave=True)
            s.autosave_due = False
        except (EngineError, OSError) as e:
            log.warning("autosave failed: %s", e)
            self.w.statusBar().showMessage(f"Automatic save failed: {e}", 10_000)

    def save(self) -> bool:
        if self.session.untitled:
            return self.save_as()
        return self._save_to(self.session.folder)

    def save_as(self, path: str | None = None) -> bool:
        path = path or self.choose_save_path()
        if not path:
            return False
        if not path.endswith(SUFFIX):
            path += SUFFIX
        folder = ProjectFolder(path)
        if self.session.folder is not None and folder.path.resolve() == self.session.folder.path.resolve():
            return self.save()
        was_untitled = self.session.untitled
        if not self._save_to(folder):
            return False
        self.session.close(discard_untitled=was_untitled)  # its work now lives in the new folder
        self.session.adopt(folder, untitled=False)
        self._remember(folder)
        self.w.update_title()
        return True

    def _save_to(self, folder: ProjectFolder) -> bool:
        self.wait_for_writes()
        try:
            folder.save(self.w.editing.text, self.w.project, self.project_settings())
        except (EngineError, OSError) as e:
            self.w.show_error(f"The project was not saved: {e}")
            return False
        self.session.dirty = self.session.autosave_due = False
        self._remember(folder)
        self.w.update_title()
        self.w.statusBar().showMessage(f"Saved {folder.path}", 5000)
        return True

    def _remember(self, folder: ProjectFolder) -> None:
        st = self.w.settings
        st.recent_projects = add_recent(st.recent_projects, folder.path)
        st.last_project = str(folder.path)

    # ---- opening and new ----------------------------------------------------------------------------

    def confirm_discard(self) -> bool:
        """Before the open project is replaced or closed: save it, discard it, or stay."""
        if not self.session.dirty or not self.w.project.paragraphs:
            return True
        name = "this untitled project" if self.session.untitled else f"“{self.session.folder.name}”"
        choice = self.ask("Unsaved changes", f"Save the changes to {name}?", ["Save", "Discard", "Cancel"], "Save")
        if choice == "Save":
            return self.save()
        return choice == "Discard"

    def new(self, text: str = "") -> bool:
        if not self.confirm_discard():
            return False
        self.session.close(discard_untitled=True)
        self.session.start_untitled()
        from studio.models.project import Project

        self._apply(Snapshot(text, Project(text)))
        self.session.dirty = self.session.autosave_due = bool(text)
        self.w.settings.last_project = ""
        self.w.update_title()
        return True

    def new_from_file(self, path: str | None = None) -> bool:
        path = path or self.choose_script_file()
        if not path:
            return False
        try:
            text = read_script_file(path)
        except ScriptFileError as e:
            self.w.show_error(str(e))
            return False
        return self.new(text)

    def open(self, path: str | None = None, quiet: bool = False) -> bool:
        path = path or self.choose_project_folder()
        if not path:
            return False
        folder = ProjectFolder(path)
        owner = folder.lock_owner()
        if owner is not None:
            self.w.show_error(f"{folder.name} is open in another Timbre Studio window (process {owner['pid']}).")
            return False
        prefer_autosave = False
        if folder.has_newer_autosave() and not quiet:
            prefer_autosave = self.ask("Newer automatic save", f"“{folder.name}” has changes from an automatic "
                                       "save that were never saved by hand. Open them?",
                                       ["Open the automatic save", "Open the saved project"],
                                       "Open the automatic save") == "Open the automatic save"
        try:
            snap = folder.load(prefer_autosave=prefer_autosave)
        except ProjectFileError as e:
            if not quiet:
                self.w.show_error(f"Could not open {folder.path}: {e}")
            return False
        if not quiet and not self.confirm_discard():
            return False
        self.session.close(discard_untitled=True)
        self.session.adopt(folder, untitled=False)
        self._apply(snap)
        self.session.dirty = self.session.autosave_due = prefer_autosave  # loading is not a change
        self._remember(folder)
        self.w.update_title()
        return True

    # ---- file choosers (the platform's dialogs) --------------------------------------------------------

    def choose_save_path(self) -> str:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.w, "Save project as", "episode" + SUFFIX,
                                                        "Timbre projects (*.timbre)")
        return path

    def choose_project_folder(self) -> str:
        return QtWidgets.QFileDialog.getExistingDirectory(self.w, "Open a project (a .timbre folder)")

    def choose_script_file(self) -> str:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self.w, "New project from a text file", "",
                                                        "Text (*.txt *.md);;All files (*)")
        return path

    def closing(self) -> bool:
        """The window is closing: False keeps it open (the user cancelled)."""
        if not self.confirm_discard():
            return False
        self.wait_for_writes()
        if not self.session.untitled:
            self.autosave()
        # an untitled project reaching here was either unchanged or discarded by the user
        self.session.close(discard_untitled=True)
        return True
