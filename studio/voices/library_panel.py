"""The voice library dock: search and filters, the presets (with the consent marker), and what can be
done with one: use it, preview it, edit, make a variant, delete (undoable), export; import bundles."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from engine.api import EngineError
from engine.voices.library import TrashEntry, VoiceLibrary
from engine.voices.preset import VoicePreset
from engine.voices.share import BUNDLE_SUFFIX, export_bundle, import_bundle
from studio.models.history import Command, History
from studio.voices.edit_dialog import EditPresetDialog
from studio.voices.presentation import NO_CONSENT_COLOUR, consent_text, needs_consent_mark, preset_details, preset_title
from studio.voices.preview import Previewer

FILTERS = (("language", "any language"), ("tag", "any tag"), ("brand", "any brand"), ("family", "any family"))
BUNDLE_FILTER = f"Voice bundles (*{BUNDLE_SUFFIX});;All files (*)"


class LibraryPanel(QtWidgets.QWidget):
    """``chosen(preset)``: use this voice; ``play_audio(audio, rate)``: play a preview;
    ``create_requested()`` / ``audition_requested()``: open those dialogs; ``refreshed()``: the list was re-read
    (after any change made here, or on ``refresh()`` when another program changed the library)."""

    chosen = QtCore.Signal(object)
    play_audio = QtCore.Signal(object, int)
    create_requested = QtCore.Signal()
    audition_requested = QtCore.Signal()
    refreshed = QtCore.Signal()

    def __init__(self, library: VoiceLibrary, previewer: Previewer, history: History | None = None,
                 known_families: Collection[str] = (), parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("voice_library")
        self.library, self.previewer, self.history = library, previewer, history or History()
        self.known_families = set(known_families)
        self.last_deleted: Command | None = None
        self._build()
        previewer.ready.connect(self._on_preview)
        previewer.failed.connect(lambda pid, message: self.set_message(f"The preview failed: {message}", error=True))
        self.history.changed.connect(self._on_history)
        self.refresh()

    # ---- construction ---------------------------------------------------------------------------

    def _build(self) -> None:
        lay = QtWidgets.QVBoxLayout(self)
        top = QtWidgets.QHBoxLayout()
        self.new_button = QtWidgets.QPushButton("New from clips…", objectName="voice_new")
        self.import_button = QtWidgets.QPushButton("Import…", objectName="voice_import")
        self.audition_button = QtWidgets.QPushButton("Blind audition…", objectName="voice_audition")
        for b in (self.new_button, self.import_button, self.audition_button):
            top.addWidget(b)
        lay.addLayout(top)
        self.search = QtWidgets.QLineEdit(objectName="voice_search", placeholderText="Search name, description, tags…")
        self.search.setClearButtonEnabled(True)
        lay.addWidget(self.search)
        grid = QtWidgets.QGridLayout()
        self.filters: dict[str, QtWidgets.QComboBox] = {}
        for i, (key, any_text) in enumerate(FILTERS):
            combo = QtWidgets.QComboBox(objectName=f"voice_filter_{key}")
            combo.addItem(any_text, None)
            combo.currentIndexChanged.connect(lambda _i: self.refresh())
            grid.addWidget(combo, i // 2, i % 2)
            self.filters[key] = combo
        lay.addLayout(grid)
        self.list = QtWidgets.QListWidget(objectName="voice_list", wordWrap=True)
        self.list.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)  # wrap: the consent mark stays in view
        lay.addWidget(self.list, 1)
        self.details = QtWidgets.QLabel(objectName="voice_details", wordWrap=True, textFormat=QtCore.Qt.RichText)
        self.details.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        lay.addWidget(self.details)
        row = QtWidgets.QGridLayout()
        self.use_button = QtWidgets.QPushButton("Use", objectName="voice_use")
        self.preview_button = QtWidgets.QPushButton("▶ Preview", objectName="voice_preview")
        self.edit_button = QtWidgets.QPushButton("Edit…", objectName="voice_edit")
        self.variant_button = QtWidgets.QPushButton("Variant", objectName="voice_variant")
        self.delete_button = QtWidgets.QPushButton("Delete", objectName="voice_delete")
        self.export_button = QtWidgets.QPushButton("Export…", objectName="voice_export")
        for i, b in enumerate((self.use_button, self.preview_button, self.edit_button, self.variant_button,
                               self.delete_button, self.export_button)):
            row.addWidget(b, i // 3, i % 3)
        lay.addLayout(row)
        self.undo_bar = QtWidgets.QFrame(objectName="voice_undo_bar")
        bar = QtWidgets.QHBoxLayout(self.undo_bar)
        bar.setContentsMargins(4, 2, 4, 2)
        self.undo_label = QtWidgets.QLabel()
        self.undo_button = QtWidgets.QPushButton("Undo", objectName="voice_undo")
        bar.addWidget(self.undo_label, 1)
        bar.addWidget(self.undo_button)
        self.undo_bar.hide()
        lay.addWidget(self.undo_bar)
        self.message = QtWidgets.QLabel(objectName="voice_message", wordWrap=True)
        lay.addWidget(self.message)

        self.search.textChanged.connect(lambda _t: self.refresh())
        self.list.currentItemChanged.connect(lambda *_: self._show_current())
        self.list.itemDoubleClicked.connect(lambda _item: self.use())
        self.new_button.clicked.connect(self.create_requested)
        self.audition_button.clicked.connect(self.audition_requested)
        self.import_button.clicked.connect(lambda: self.import_bundle())
        self.use_button.clicked.connect(self.use)
        self.preview_button.clicked.connect(self.preview)
        self.edit_button.clicked.connect(lambda: self.edit())
        self.variant_button.clicked.connect(self.duplicate)
        self.delete_button.clicked.connect(self.delete)
        self.export_button.clicked.connect(lambda: self.export())
        self.undo_button.clicked.connect(self.undo_delete)

    # ---- listing --------------------------------------------------------------------------------

    def refresh(self, select: str | None = None) -> None:
        """Re-read the library (other programs may have changed it) and keep or set the selection."""
        keep = select or (self.current().id if self.current() else None)
        self._fill_filters(self.library.presets())
        wanted = {key: combo.currentData() for key, combo in self.filters.items()}
        shown = self.library.search(self.search.text(), **wanted)
        with QtCore.QSignalBlocker(self.list):
            self.list.clear()
            for p in shown:
                item = QtWidgets.QListWidgetItem(preset_title(p))
                item.setData(QtCore.Qt.UserRole, p)
                item.setToolTip(consent_text(p.consent) if p.origin != "family" else p.description)
                if needs_consent_mark(p):
                    item.setForeground(QtGui.QColor(NO_CONSENT_COLOUR))
                self.list.addItem(item)
                if p.id == keep:
                    self.list.setCurrentItem(item)
        self._show_current()
        self.refreshed.emit()

    def _fill_filters(self, presets: list[VoicePreset]) -> None:
        values = {"language": {p.language for p in presets}, "tag": {t for p in presets for t in p.tags},
                  "brand": {p.brand for p in presets}, "family": {p.family for p in presets}}
        for key, combo in self.filters.items():
            chosen = combo.currentData()
            with QtCore.QSignalBlocker(combo):
                while combo.count() > 1:
                    combo.removeItem(1)
                for value in sorted(v for v in values[key] | ({chosen} if chosen else set()) if v):
                    combo.addItem(value, value)
                combo.setCurrentIndex(max(combo.findData(chosen), 0) if chosen else 0)

    def set_filter(self, key: str, value: str | None) -> None:
        combo = self.filters[key]
        combo.setCurrentIndex(max(combo.findData(value), 0) if value else 0)

    def shown(self) -> list[VoicePreset]:
        return [self.list.item(i).data(QtCore.Qt.UserRole) for i in range(self.list.count())]

    def current(self) -> VoicePreset | None:
        item = self.list.currentItem()
        return item.data(QtCore.Qt.UserRole) if item is not None else None

    def select(self, preset_id: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(QtCore.Qt.UserRole).id == preset_id:
                self.list.setCurrentRow(i)
                return

    def _show_current(self) -> None:
        p = self.current()
        self.details.setText(preset_details(p) if p else "Choose a voice, or make one from clips.")
        has_files = p is not None and p.folder is not None
        self.use_button.setEnabled(p is not None)
        self.preview_button.setEnabled(p is not None)
        self.edit_button.setEnabled(p is not None and not p.read_only)
        self.delete_button.setEnabled(p is not None and not p.read_only)
        self.variant_button.setEnabled(has_files)
        self.export_button.setEnabled(has_files)

    def set_message(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color:#c0392b;" if error else "")
        self.message.setText(text)

    # ---- actions --------------------------------------------------------------------------------

    def use(self) -> None:
        p = self.current()
        if p is not None:
            self.chosen.emit(p)
            self.set_message(f"Using “{p.name}”: its settings are in the sampler.")

    def preview(self) -> None:
        p = self.current()
        if p is not None:
            self.set_message(f"Preparing the preview of “{p.name}”…")
            self.previewer.preview(p)

    def _on_preview(self, preset_id: str, audio, sample_rate: int) -> None:
        self.set_message(f"Playing the preview ({len(audio) / sample_rate:.1f} s).")
        self.play_audio.emit(audio, sample_rate)

    def edit(self, fields: dict | None = None) -> None:
        """Change the current preset's metadata (asks with the edit dialog unless ``fields`` are given)."""
        p = self.current()
        if p is None or p.read_only:
            return
        if fields is None:
            dialog = EditPresetDialog(p, self)
            if dialog.exec() != QtWidgets.QDialog.Accepted:
                return
            fields = dialog.fields()
        if self._attempt(lambda: self.library.update(p.id, **fields)):
            self._changed(p.id, f"Saved “{fields.get('name', p.name)}”.")

    def duplicate(self) -> None:
        p = self.current()
        if p is not None:
            variant = self._attempt(lambda: self.library.duplicate(p.id, f"{p.name} (variant)"))
            if variant is not None:
                self._changed(variant.id, f"Made “{variant.name}”: edit it and tune its settings.")

    def delete(self) -> None:
        """Move the current user preset to the trash; undoable (the Undo button or Ctrl+Z)."""
        p = self.current()
        if p is None or p.read_only:
            return
        entry = self._attempt(lambda: self.library.delete(p.id))
        if entry is None:
            return
        state: dict[str, TrashEntry | str] = {"entry": entry, "id": p.id}

        def undo() -> None:
            restored = self._attempt(lambda: self.library.restore(state["entry"]))
            if restored is not None:
                state["id"] = restored.id
                self._changed(restored.id, f"Restored “{restored.name}”.")

        def redo() -> None:
            again = self._attempt(lambda: self.library.delete(state["id"]))
            if again is not None:
                state["entry"] = again
                self._changed(None, f"Deleted “{p.name}” again.")

        self.last_deleted = Command(f"delete voice “{p.name}”", redo, undo)
        self.history.do(self.last_deleted, already_done=True)
        self._changed(None, "")
        self.undo_label.setText(f"Deleted “{p.name}” (moved to the trash).")
        self.undo_bar.show()

    def undo_delete(self) -> None:
        if self.last_deleted is not None and self.history.can_undo and self.history.undo_label == self.last_deleted.label:
            self.history.undo()

    def _on_history(self) -> None:
        # The toast's Undo is for the deletion on top of the history only.
        if self.last_deleted is None or self.history.undo_label != self.last_deleted.label:
            self.undo_bar.hide()

    def export(self, dest: str | Path | None = None) -> Path | None:
        p = self.current()
        if p is None or p.folder is None:
            return None
        if dest is None:
            dest, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export voice", f"{p.id}{BUNDLE_SUFFIX}",
                                                            BUNDLE_FILTER)
            if not dest:
                return None
        path = self._attempt(lambda: export_bundle(p, Path(dest)))
        if path is not None:
            self.set_message(f"Exported “{p.name}” to {path}.")
        return path

    def import_bundle(self, path: str | Path | None = None) -> VoicePreset | None:
        if path is None:
            path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Import voice", "", BUNDLE_FILTER)
            if not path:
                return None
        preset = self._attempt(lambda: import_bundle(Path(path), self.library, known_families=self.known_families),
                               prefix="Not imported (nothing was written): ")
        if preset is not None:
            self._changed(preset.id, f"Imported “{preset.name}”.")
        return preset

    # ---- helpers --------------------------------------------------------------------------------

    def _attempt(self, action, prefix: str = ""):
        """Run a library action; its EngineError (PresetError) is shown plainly, nothing else changes."""
        try:
            return action()
        except EngineError as e:
            self.set_message(f"{prefix}{e}", error=True)
            return None

    def _changed(self, select: str | None, message: str) -> None:
        self.refresh(select)
        if message:
            self.set_message(message)
