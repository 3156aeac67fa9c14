"""The script: a text editor whose blank-line-separated paragraphs are the units of rendering, and a
list that shows each paragraph's state (not rendered, queued, rendering with progress, rendered,
stale, failed) and its takes. Text files dropped on the editor open as the script (undoable)."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from studio.models.editing import ProjectEditor
from studio.models.project import split_paragraphs
from studio.models.selection import Selection
from studio.models.wording import count_of

EDIT_DEBOUNCE_MS = 250
MAX_SCRIPT_BYTES = 2_000_000
STATE_COLOURS = {"rendering": "#2e7d32", "queued": "#1565c0", "stale": "#b26a00", "failed": "#c62828",
                 "cancelled": "#777777", "rendered": None, "not rendered": "#888888", "chapter": "#6a1b9a"}


class ScriptFileError(Exception):
    pass


def read_script_file(path: str | Path) -> str:
    """A UTF-8 text or Markdown file's contents; a clear error for anything else."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ScriptFileError(f"cannot read {path.name}: {e.strerror or e}") from e
    if len(data) > MAX_SCRIPT_BYTES:
        raise ScriptFileError(f"{path.name} is {len(data) / 1e6:.1f} MB; a script file can be at most "
                              f"{MAX_SCRIPT_BYTES / 1e6:.0f} MB")
    if b"\x00" in data[:4096]:
        raise ScriptFileError(f"{path.name} is not a text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ScriptFileError(f"{path.name} is not UTF-8 text (byte {e.start} is invalid)") from e
    if not split_paragraphs(text):
        raise ScriptFileError(f"{path.name} has no text in it")
    return text


class ScriptEditor(QtWidgets.QPlainTextEdit):
    """Undo and redo belong to the project's history (which also undoes renders and take choices),
    so the editor hands those keys to the window instead of keeping its own stack."""

    file_dropped = QtCore.Signal(str)
    undo_requested = QtCore.Signal()
    redo_requested = QtCore.Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("script")
        self.setAcceptDrops(True)
        self.setUndoRedoEnabled(False)
        self.setPlaceholderText("Type or paste the script. A blank line starts a new paragraph; each "
                                "paragraph is rendered (and re-rendered) on its own. Drop a .txt or .md file here.")

    def event(self, e: QtCore.QEvent) -> bool:
        if e.type() == QtCore.QEvent.ShortcutOverride and self._history_key(e):
            e.accept()  # we take the key before any window shortcut does
            return True
        return super().event(e)

    def keyPressEvent(self, e: QtGui.QKeyEvent) -> None:  # noqa: N802
        kind = self._history_key(e)
        if kind == "undo":
            self.undo_requested.emit()
        elif kind == "redo":
            self.redo_requested.emit()
        else:
            super().keyPressEvent(e)

    @staticmethod
    def _history_key(e) -> str | None:
        if e.matches(QtGui.QKeySequence.Undo):
            return "undo"
        if e.matches(QtGui.QKeySequence.Redo):
            return "redo"
        return None

    def _file_urls(self, mime: QtCore.QMimeData) -> list[str]:
        return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []

    def dragEnterEvent(self, e: QtGui.QDragEnterEvent) -> None:  # noqa: N802
        if self._file_urls(e.mimeData()):
            e.acceptProposedAction()
        else:
            super().dragEnterEvent(e)

    def dragMoveEvent(self, e: QtGui.QDragMoveEvent) -> None:  # noqa: N802
        if self._file_urls(e.mimeData()):
            e.acceptProposedAction()
        else:
            super().dragMoveEvent(e)

    def dropEvent(self, e: QtGui.QDropEvent) -> None:  # noqa: N802
        files = self._file_urls(e.mimeData())
        if files:
            e.acceptProposedAction()
            self.file_dropped.emit(files[0])
        else:
            super().dropEvent(e)

    def show_text(self, text: str) -> None:
        """Show text the history brought back, keeping the cursor near where it was."""
        if text == self.toPlainText():
            return
        position = self.textCursor().position()
        with QtCore.QSignalBlocker(self):
            self.setPlainText(text)
        cursor = self.textCursor()
        cursor.setPosition(min(position, len(text)))
        self.setTextCursor(cursor)

    def paragraph_index_at_cursor(self) -> int:
        """0-based index of the paragraph the text cursor is in (or just after)."""
        before = self.toPlainText()[: self.textCursor().position()]
        return max(0, len(split_paragraphs(before)) - 1)


class ScriptPanel(QtWidgets.QWidget):
    """Emits ``error(message)`` for files it cannot open."""

    error = QtCore.Signal(str)

    def __init__(self, editing: ProjectEditor, selection: Selection, parent=None) -> None:
        super().__init__(parent)
        self.editing, self.project, self.selection = editing, editing.project, selection
        self.states: dict[str, str] = {}  # pid -> queued/rendering/failed/cancelled (transient render states)
        self.progress: dict[str, int] = {}  # pid -> percent while rendering
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.editor = ScriptEditor()
        self.editor.setPlainText(editing.text)
        lay.addWidget(self.editor, 3)
        self.list = QtWidgets.QListWidget(objectName="paragraphs")
        self.list.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
        self.list.setTextElideMode(QtCore.Qt.ElideRight)
        self.list.setToolTip("Paragraphs of the script and their state; select one to see its takes")
        lay.addWidget(QtWidgets.QLabel("Paragraphs"))
        lay.addWidget(self.list, 1)
        self._debounce = QtCore.QTimer(self, singleShot=True, interval=EDIT_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.commit_text)
        self.editor.textChanged.connect(self._debounce.start)
        self.editor.cursorPositionChanged.connect(self._select_at_cursor)
        self.editor.file_dropped.connect(self.open_file)
        editing.text_restored.connect(self._on_text_restored)
        self.list.currentRowChanged.connect(self._on_row)
        self.list.setContextMenuPolicy(QtCore.Qt.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.voices: tuple[str, ...] = ()  # the model's voices (set when it loads)
        self.preset_voices: list[tuple[str, str]] = []  # (title, "preset:<id>") of the library's usable presets
        for em in (self.project.structure_changed, self.project.text_changed, self.project.takes_changed,
                   self.project.voices_changed, self.project.defaults_changed):
            em.connect(lambda *a: self.refresh())
        selection.changed.connect(lambda what: self._show_selected() if what == "paragraph" else None)
        self.refresh()

    # ---- text -----------------------------------------------------------------------------------

    def commit_text(self) -> None:
        """Apply pending edits to the project now (renders call this so they see the latest text)."""
        self._debounce.stop()
        if self.editor.toPlainText() != self.editing.text:
            self.editing.set_text(self.editor.toPlainText())
            self._select_at_cursor()

    def _on_text_restored(self, text: str) -> None:
        self._debounce.stop()
        self.editor.show_text(text)

    def open_file(self, path: str) -> None:
        try:
            text = read_script_file(path)
        except ScriptFileError as e:
            self.error.emit(str(e))
            return
        self.commit_text()  # what was typed before the file came is its own undo step
        self.editing.replace_text(text, "open a script file")

    def paragraph_at_cursor(self) -> str | None:
        self.commit_text()
        paras = self.project.paragraphs
        if not paras:
            return None
        return paras[min(self.editor.paragraph_index_at_cursor(), len(paras) - 1)].id

    def _select_at_cursor(self) -> None:
        if self._debounce.isActive():
            return  # the project is about to change; select after the commit
        paras = self.project.paragraphs
        if paras:
            self.selection.select_paragraph(paras[min(self.editor.paragraph_index_at_cursor(), len(paras) - 1)].id)

    # ---- list -----------------------------------------------------------------------------------

    def set_state(self, pid: str, state: str, percent: int | None = None) -> None:
        if state in ("done", "rendered"):
            self.states.pop(pid, None)
        else:
            self.states[pid] = state
        if percent is None:
            self.progress.pop(pid, None)
        else:
            self.progress[pid] = percent
        self.refresh()

    def state_of(self, pid: str) -> str:
        p = self.project.paragraph(pid)
        if p.heading is not None:
            return "chapter"
        if pid in self.states and self.states[pid] in ("queued", "rendering", "failed"):
            return self.states[pid]
        if self.project.stale(p):
            return "stale"
        return "rendered" if p.current is not None else "not rendered"

    def refresh(self) -> None:
        with QtCore.QSignalBlocker(self.list):
            self.list.clear()
            for i, p in enumerate(self.project.paragraphs, start=1):
                state = self.state_of(p.id)
                detail = f"{self.progress[p.id]}%" if state == "rendering" and p.id in self.progress else state
                takes = f" · {count_of(len(p.takes), 'take')}" if p.takes else ""
                snippet = p.text if len(p.text) <= 60 else p.text[:57] + "…"
                item = QtWidgets.QListWidgetItem(f"¶{i} [{detail}{takes}] {snippet}")
                item.setData(QtCore.Qt.UserRole, p.id)
                item.setToolTip(p.text)
                colour = STATE_COLOURS.get(state)
                if colour:
                    item.setForeground(QtGui.QColor(colour))
                if state == "chapter":
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.list.addItem(item)
        self._show_selected()

    def _show_selected(self) -> None:
        pid = self.selection.paragraph_id
        with QtCore.QSignalBlocker(self.list):
            for row in range(self.list.count()):
                if self.list.item(row).data(QtCore.Qt.UserRole) == pid:
                    self.list.setCurrentRow(row)
                    return
            self.list.setCurrentRow(-1)

    def _on_row(self, row: int) -> None:
        if row >= 0:
            self.selection.select_paragraph(self.list.item(row).data(QtCore.Qt.UserRole))

    # ---- per-paragraph actions ----------------------------------------------------------------------

    def paragraph_menu(self, pid: str) -> QtWidgets.QMenu:
        """Voice (this paragraph's, or its speaker's) and order; every action is undoable."""
        p = self.project.paragraph(pid)
        menu = QtWidgets.QMenu(self)
        choices = [(name, name) for name in self.voices] + self.preset_voices
        voice_menu = menu.addMenu("Voice of this paragraph")
        for title, name in ((None, None), *choices):
            action = voice_menu.addAction(title or "(the speaker's or the default)",
                                          lambda v=name: self.editing.set_paragraph_voice(pid, v))
            action.setCheckable(True)
            action.setChecked(p.voice == name)
        if p.speaker:
            speaker_menu = menu.addMenu(f"Voice of {p.speaker}")
            for title, name in ((None, None), *choices):
                action = speaker_menu.addAction(title or "(the default)",
                                                lambda v=name: self.editing.set_speaker_voice(p.speaker, v))
                action.setCheckable(True)
                action.setChecked(self.project.speakers.get(p.speaker) == name)
        menu.addSeparator()
        i = self.project.index_of(pid)
        up = menu.addAction("Move up", lambda: self.editing.move(pid, i - 1))
        up.setEnabled(i > 0)
        down = menu.addAction("Move down", lambda: self.editing.move(pid, i + 1))
        down.setEnabled(i < len(self.project.paragraphs) - 1)
        return menu

    def _context_menu(self, pos: QtCore.QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is not None:
            self.paragraph_menu(item.data(QtCore.Qt.UserRole)).exec(self.list.mapToGlobal(pos))
