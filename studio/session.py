"""Which project is open, whether it has unsaved changes, and what can be recovered after a crash.

Work is never only in memory: a project that has not been saved by hand yet lives in an *untitled*
folder under the user data folder, autosaved like any other. Opening a project takes its lock;
a lock left by a process that is gone marks a crash, and the project is offered for recovery.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from studio.project_files import AUTOSAVE, SUFFIX, ProjectFolder
from studio.settings import APP_NAME

MAX_RECENT = 10


def untitled_root() -> Path:
    return platformdirs.user_data_path(APP_NAME) / "untitled"


@dataclass(frozen=True)
class Recoverable:
    folder: ProjectFolder
    untitled: bool
    autosaved: str  # when, for the user

    @property
    def label(self) -> str:
        name = "an untitled project" if self.untitled else f"“{self.folder.name}”"
        return f"{name} (last automatic save {self.autosaved})"


class Session:
    def __init__(self) -> None:
        self.folder: ProjectFolder | None = None
        self.untitled = True
        self.dirty = False  # changed since the last save by hand
        self.autosave_due = False  # changed since the last autosave

    @property
    def title(self) -> str:
        name = "Untitled" if self.untitled or self.folder is None else self.folder.name
        return name + (" •" if self.dirty else "")

    def start_untitled(self) -> ProjectFolder:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = ProjectFolder(untitled_root() / f"{stamp}-{uuid.uuid4().hex[:6]}{SUFFIX}")
        return self.adopt(folder, untitled=True)

    def adopt(self, folder: ProjectFolder, untitled: bool) -> ProjectFolder:
        """Make ``folder`` the open project (releasing the previous one)."""
        self.close(discard_untitled=False)
        folder.lock()
        self.folder, self.untitled, self.dirty, self.autosave_due = folder, untitled, False, False
        return folder

    def close(self, discard_untitled: bool) -> None:
        """Release the project's lock; an untitled one is deleted if asked (its work was discarded)."""
        if self.folder is None:
            return
        self.folder.unlock()
        if self.untitled and discard_untitled:
            with contextlib.suppress(OSError):
                shutil.rmtree(self.folder.path)
        self.folder = None

    def changed(self) -> None:
        self.dirty = self.autosave_due = True


def recoverable(recent: list[str]) -> list[Recoverable]:
    """Projects left by a crash: an untitled folder or a recent project whose lock outlived its
    process, with an automatic save to come back to."""
    found = []
    candidates = [(p, True) for p in sorted(untitled_root().glob(f"*{SUFFIX}"))] if untitled_root().is_dir() else []
    candidates += [(Path(p), False) for p in recent]
    for path, untitled in candidates:
        folder = ProjectFolder(path)
        if not folder.path.is_dir() or not folder.crashed():
            continue
        auto = folder.path / AUTOSAVE
        if untitled and not auto.exists():
            folder.unlock()  # nothing was ever written: nothing to recover
            with contextlib.suppress(OSError):
                shutil.rmtree(folder.path)
            continue
        if not untitled and not folder.has_newer_autosave():
            folder.unlock()
            continue
        when = _dt.datetime.fromtimestamp(auto.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        found.append(Recoverable(folder, untitled, when))
    return found


def add_recent(recent: list[str], path: Path) -> list[str]:
    p = str(Path(path).resolve())
    return ([p] + [r for r in recent if r != p])[:MAX_RECENT]
