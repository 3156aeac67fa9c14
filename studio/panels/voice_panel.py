"""The voice picker: the active model's voices; says plainly when a model cannot clone."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from engine.api import ModelInfo


class VoicePanel(QtWidgets.QGroupBox):
    changed = QtCore.Signal(str)

    def __init__(self, voice: str = "default", parent=None) -> None:
        super().__init__("Voice", parent)
        self._wanted = voice
        lay = QtWidgets.QHBoxLayout(self)
        self.combo = QtWidgets.QComboBox(objectName="voice")
        self.combo.setEnabled(False)
        self.note = QtWidgets.QLabel(objectName="voice_note")
        self.note.setWordWrap(True)
        lay.addWidget(self.combo, 1)
        lay.addWidget(self.note, 1)
        self.combo.currentTextChanged.connect(self._on_changed)

    @property
    def voice(self) -> str:
        return self.combo.currentText() or self._wanted

    def choose(self, voice: str) -> None:
        """Select a voice (kept for when the model's voices arrive, if they have not yet)."""
        self._wanted = voice
        i = self.combo.findText(voice)
        if i >= 0:
            self.combo.setCurrentIndex(i)

    def apply_model(self, info: ModelInfo) -> None:
        with QtCore.QSignalBlocker(self.combo):
            self.combo.clear()
            self.combo.addItems(list(info.voices))
            i = self.combo.findText(self._wanted)
            self.combo.setCurrentIndex(max(i, 0))
        self.combo.setEnabled(True)
        self.note.setText("" if info.can_clone else "This model has no codec encoder: it cannot clone a voice "
                                                    "from a clip, only use its own voices.")
        self._on_changed(self.combo.currentText())

    def _on_changed(self, name: str) -> None:
        if name:
            self._wanted = name
            self.changed.emit(name)
