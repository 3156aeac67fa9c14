"""The voice picker: the active model's voices, then the library's presets that fit it; says plainly
when a model cannot clone. Each entry carries its voice string (a voice name, or ``preset:<id>``)."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from engine.api import ModelInfo

PRESET_PREFIX = "preset:"


class VoicePanel(QtWidgets.QGroupBox):
    changed = QtCore.Signal(str)  # the voice string
    library_requested = QtCore.Signal()

    def __init__(self, voice: str = "default", parent=None) -> None:
        super().__init__("Voice", parent)
        self._wanted = voice
        self._model_voices: tuple[str, ...] = ()
        self._presets: list[tuple[str, str]] = []  # (title, voice string)
        lay = QtWidgets.QHBoxLayout(self)
        self.combo = QtWidgets.QComboBox(objectName="voice")
        self.combo.setEnabled(False)
        self.note = QtWidgets.QLabel(objectName="voice_note")
        self.note.setWordWrap(True)
        self.library_button = QtWidgets.QToolButton(objectName="voice_library_button", text="Library…",
                                                    toolTip="Voice presets: create, preview, audition, share")
        lay.addWidget(self.combo, 1)
        lay.addWidget(self.library_button)
        lay.addWidget(self.note, 1)
        self.library_button.clicked.connect(self.library_requested)
        self.combo.currentIndexChanged.connect(lambda i: self._on_changed(self.combo.itemData(i) or ""))

    @property
    def voice(self) -> str:
        return self.combo.currentData() or self._wanted

    def choose(self, voice: str) -> None:
        """Select a voice (kept for when the model's voices arrive, if they have not yet)."""
        self._wanted = voice
        i = self.combo.findData(voice)
        if i >= 0:
            self.combo.setCurrentIndex(i)

    def apply_model(self, info: ModelInfo) -> None:
        self._model_voices = tuple(info.voices)
        self._fill()
        self.combo.setEnabled(True)
        self.note.setText("" if info.can_clone else "This model has no codec encoder: it cannot clone a voice "
                                                    "from a clip, only use its own voices.")
        self._on_changed(self.combo.currentData() or "")

    def set_presets(self, presets: list[tuple[str, str]]) -> None:
        """The library's presets this model can speak with, as (title, voice string) pairs."""
        self._presets = list(presets)
        if self._model_voices:
            self._fill()
            self._on_changed(self.combo.currentData() or "")

    def _fill(self) -> None:
        with QtCore.QSignalBlocker(self.combo):
            self.combo.clear()
            for name in self._model_voices:
                self.combo.addItem(name, name)
            if self._presets:
                self.combo.insertSeparator(self.combo.count())
            for title, voice in self._presets:
                self.combo.addItem(f"★ {title}", voice)
            i = self.combo.findData(self._wanted)
            self.combo.setCurrentIndex(max(i, 0))

    def _on_changed(self, voice: str) -> None:
        if voice:
            self._wanted = voice
            self.changed.emit(voice)
