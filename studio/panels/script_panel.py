"""The script: a text editor whose blank-line-separated paragraphs are the units of rendering, and a
list that shows each paragraph's state (not rendered, queued, rendering with progress, rendered,
stale, failed) and its takes. Text files dropped on the editor open as the script (undoable)."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from studio.models.project import Project, split_paragraphs
from studio.models.selection import Selection

EDIT_DEBOUNCE_MS = 250
MAX_SCRIPT_BYTES = 2_000_000
STATE_COLOURS = {"rendering": "#2e7d32", "queued": "#1565c0", "stale": "#b26a00", "failed": "#c62828",
                 "cancelled": "#777777", "rendered": None, "not rendered": "#888888"}


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
    file_dropped = QtCore.Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("script")
        self.setAcceptDrops(True)
        self.setPlaceholderText("Type or paste the script. A blank line starts a new paragraph; each "
                                "paragraph is rendered (and re-rendered) on its own. Drop a .txt or .md file here.")

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

    def replace_all(self, text: str) -> None:
        """Replace the whole script as one undoable edit (Ctrl+Z brings the old one back)."""
        cursor = self.textCursor()
        cursor.beginEditBlock()
        cursor.select(QtGui.QTextCursor.Document)
        cursor.insertText(text)
        cursor.endEditBlock()

    def paragraph_index_at_cursor(self) -> int:
        """0-based index of the paragraph the text cursor is in (or just after)."""
        before = self.toPlainText()[: self.textCursor().position()]
        return max(0, len(split_paragraphs(before)) - 1)


class ScriptPanel(QtWidgets.QWidget):
    """Emits ``error(message)`` for files it cannot open."""

    error = QtCore.Signal(str)

    def __init__(self, project: Project, selection: Selection, text: str, parent=None) -> None:
        super().__init__(parent)
        self.project, self.selection = project, selection
        self.states: dict[str, str] = {}  # pid -> queued/rendering/failed/cancelled (transient render states)
        self.progress: dict[str, int] = {}  # pid -> percent while rendering
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.editor = ScriptEditor()
        self.editor.setPlainText(text)
        self._committed: str | None = None
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
        self.list.currentRowChanged.connect(self._on_row)
        for em in (project.structure_changed, project.text_changed, project.takes_changed):
            em.connect(lambda *a: self.refresh())
        selection.changed.connect(lambda what: self._show_selected() if what == "paragraph" else None)
        self.commit_text()
        self.refresh()

    # ---- text -----------------------------------------------------------------------------------

    def commit_text(self) -> None:
        """Apply pending edits to the project now (renders call this so they see the latest text)."""
        self._debounce.stop()
        if self.editor.toPlainText() != self._committed:
            self._committed = self.editor.toPlainText()
            self.project.set_script(self._committed)
            self._select_at_cursor()

    def open_file(self, path: str) -> None:
        try:
            text = read_script_file(path)
        except ScriptFileError as e:
            self.error.emit(str(e))
            return
        self.editor.replace_all(text)
        self.commit_text()

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
        if pid in self.states and self.states[pid] in ("queued", "rendering", "failed"):
            return self.states[pid]
        if p.stale:
            return "stale"
        return "rendered" if p.current is not None else "not rendered"

    def refresh(self) -> None:
        with QtCore.QSignalBlocker(self.list):
            self.list.clear()
            for i, p in enumerate(self.project.paragraphs, start=1):
                state = self.state_of(p.id)
                detail = f"{self.progress[p.id]}%" if state == "rendering" and p.id in self.progress else state
                takes = f" · {len(p.takes)} take{'s' if len(p.takes) != 1 else ''}" if p.takes else ""
                snippet = p.text if len(p.text) <= 60 else p.text[:57] + "…"
                item = QtWidgets.QListWidgetItem(f"¶{i} [{detail}{takes}] {snippet}")
                item.setData(QtCore.Qt.UserRole, p.id)
                item.setToolTip(p.text)
                colour = STATE_COLOURS.get(state)
                if colour:
                    item.setForeground(QtGui.QColor(colour))
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
