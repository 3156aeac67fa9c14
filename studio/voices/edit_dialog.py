"""Edit a user preset's metadata and consent record (the prompt itself never changes)."""

from __future__ import annotations

from typing import Any

from PySide6 import QtWidgets

from engine.voices.preset import VoicePreset
from studio.voices.forms import ConsentBox, MetadataForm


class EditPresetDialog(QtWidgets.QDialog):
    def __init__(self, preset: VoicePreset, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Edit voice “{preset.name}”")
        self.setObjectName("edit_voice")
        lay = QtWidgets.QVBoxLayout(self)
        self.meta = MetadataForm()
        self.meta.load(preset)
        self.transcript = QtWidgets.QPlainTextEdit(preset.transcript, objectName="voice_transcript")
        self.transcript.setFixedHeight(48)
        self.consent = ConsentBox()
        self.consent.load(preset.consent)
        lay.addWidget(self.meta)
        lay.addWidget(QtWidgets.QLabel("Transcript of the reference"))
        lay.addWidget(self.transcript)
        lay.addWidget(self.consent)
        self.buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Save | QtWidgets.QDialogButtonBox.Cancel)
        lay.addWidget(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.meta.changed.connect(self._update)
        self.consent.changed.connect(self._update)
        self._update()

    def fields(self) -> dict[str, Any]:
        """What ``VoiceLibrary.update`` takes."""
        return {**self.meta.values(), "transcript": self.transcript.toPlainText().strip(),
                "consent": self.consent.consent()}

    def _update(self) -> None:
        ok = bool(self.meta.values()["name"]) and self.consent.complete
        self.buttons.button(QtWidgets.QDialogButtonBox.Save).setEnabled(ok)
