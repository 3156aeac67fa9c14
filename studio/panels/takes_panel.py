"""The takes of the selected paragraph: choose one, compare two A/B with one key, delete, export.

A/B: "Compare with A/B" pairs the chosen take (A) with the highlighted one (B); then the A/B key
swaps which of the two is chosen, and playback continues from the same place in the other take.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from studio.models.editing import ProjectEditor
from studio.models.take import Take
from studio.models.selection import Selection


class TakesPanel(QtWidgets.QGroupBox):
    """Emits ``export_audio(take)``, ``export_latents(take)`` (the window asks for the file) and
    ``swapped()`` after an A/B swap (the transport keeps playing from the same place)."""

    export_audio = QtCore.Signal(object)
    export_latents = QtCore.Signal(object)
    swapped = QtCore.Signal()

    def __init__(self, editor: ProjectEditor, selection: Selection, parent=None) -> None:
        super().__init__("Takes", parent)
        self.editor, self.project, self.selection = editor, editor.project, selection
        self.ab: tuple[str, str, str] | None = None  # (paragraph id, take A id, take B id)
        lay = QtWidgets.QVBoxLayout(self)
        self.list = QtWidgets.QListWidget(objectName="takes")
        self.list.setToolTip("Every render of this paragraph; double-click to use a take")
        lay.addWidget(self.list, 1)
        row = QtWidgets.QHBoxLayout()
        self.use_button = QtWidgets.QPushButton("Use", objectName="use_take")
        self.ab_button = QtWidgets.QPushButton("Compare A/B", objectName="compare_ab")
        self.ab_button.setToolTip("Pair the chosen take (A) with the highlighted one (B); B swaps them")
        self.delete_button = QtWidgets.QPushButton("Delete", objectName="delete_take")
        for b in (self.use_button, self.ab_button, self.delete_button):
            row.addWidget(b)
        lay.addLayout(row)
        row2 = QtWidgets.QHBoxLayout()
        self.audio_button = QtWidgets.QPushButton("Export audio…", objectName="export_take_audio")
        self.latents_button = QtWidgets.QPushButton("Export latents…", objectName="export_take_latents")
        row2.addWidget(self.audio_button)
        row2.addWidget(self.latents_button)
        lay.addLayout(row2)
        self.ab_label = QtWidgets.QLabel(objectName="ab_label")
        self.ab_label.hide()
        lay.addWidget(self.ab_label)
        self.use_button.clicked.connect(self.use_highlighted)
        self.list.itemDoubleClicked.connect(lambda item: self.use_highlighted())
        self.ab_button.clicked.connect(self.start_ab)
        self.delete_button.clicked.connect(self.delete_highlighted)
        self.audio_button.clicked.connect(lambda: self._export(self.export_audio))
        self.latents_button.clicked.connect(lambda: self._export(self.export_latents))
        self.list.currentRowChanged.connect(lambda r: self._update_buttons())
        self.project.takes_changed.connect(lambda pid: self.refresh() if pid == self.selection.paragraph_id else None)
        self.project.structure_changed.connect(self.refresh)
        selection.changed.connect(lambda what: self.refresh() if what == "paragraph" else None)
        self.refresh()

    # ---- state ----------------------------------------------------------------------------------

    def paragraph(self):
        pid = self.selection.paragraph_id
        return self.project.paragraph(pid) if pid is not None and pid in self.project else None

    def highlighted(self) -> Take | None:
        p, item = self.paragraph(), self.list.currentItem()
        return None if p is None or item is None else p.take(item.data(QtCore.Qt.UserRole))

    def refresh(self) -> None:
        p = self.paragraph()
        keep = self.list.currentItem().data(QtCore.Qt.UserRole) if self.list.currentItem() else None
        if p is None or keep not in {t.id for t in p.takes}:
            keep = None  # highlight the chosen take of a newly shown paragraph
        with QtCore.QSignalBlocker(self.list):
            self.list.clear()
            for t in reversed(p.takes if p else []):  # newest first
                chosen = p.current_id == t.id
                item = QtWidgets.QListWidgetItem(("✓ " if chosen else "   ") + t.label)
                item.setData(QtCore.Qt.UserRole, t.id)
                item.setToolTip(f"{t.text}\nmodel {t.model} ({t.model_hash[:8]}) · voice {t.voice} · {t.created}")
                font = item.font()
                font.setBold(chosen)
                item.setFont(font)
                self.list.addItem(item)
                if t.id == keep or (keep is None and chosen):
                    self.list.setCurrentItem(item)
        if self.ab is not None and (p is None or self.ab[0] != p.id or not {self.ab[1], self.ab[2]} <= {
                t.id for t in p.takes}):
            self.ab = None
        self.setTitle(f"Takes of ¶{self.project.index_of(p.id) + 1}" if p else "Takes")
        self._update_buttons()
        self._show_ab()

    def _update_buttons(self) -> None:
        p, t = self.paragraph(), self.highlighted()
        for b in (self.use_button, self.delete_button, self.audio_button, self.latents_button):
            b.setEnabled(t is not None)
        self.ab_button.setEnabled(t is not None and p is not None and p.current_id not in (None, t.id))

    # ---- actions --------------------------------------------------------------------------------

    def use_highlighted(self) -> None:
        p, t = self.paragraph(), self.highlighted()
        if p is not None and t is not None:
            self.editor.choose_take(p.id, t.id)

    def delete_highlighted(self) -> None:
        p, t = self.paragraph(), self.highlighted()
        if p is not None and t is not None:
            self.editor.delete_take(p.id, t.id)

    def start_ab(self) -> None:
        p, t = self.paragraph(), self.highlighted()
        if p is None or t is None or p.current_id in (None, t.id):
            return
        self.ab = (p.id, p.current_id, t.id)
        self._show_ab()

    def swap_ab(self) -> bool:
        """Choose the other take of the A/B pair (the one key of A/B); False if no pair is armed."""
        if self.ab is None or self.ab[0] not in self.project:
            return False
        pid, a, b = self.ab
        p = self.project.paragraph(pid)
        self.editor.choose_take(pid, b if p.current_id == a else a)
        self.swapped.emit()
        return True

    def _show_ab(self) -> None:
        if self.ab is None:
            self.ab_label.hide()
            return
        pid, a, b = self.ab
        p = self.project.paragraph(pid)
        now = "A" if p.current_id == a else "B"
        self.ab_label.setText(f"A = take {p.take(a).number}, B = take {p.take(b).number} · hearing <b>{now}</b> "
                              "· press B to swap")
        self.ab_label.show()

    def _export(self, signal) -> None:
        t = self.highlighted()
        if t is not None:
            signal.emit(t)
