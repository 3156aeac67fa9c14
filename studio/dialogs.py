"""Preferences: theme, audio output device, pause between paragraphs, engine device (next start)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtWidgets

from studio.playback import PlaybackError, output_devices
from studio.settings import Settings

if TYPE_CHECKING:
    from studio.main_window import MainWindow

DEFAULT_OUTPUT = "System default"


class PreferencesDialog(QtWidgets.QDialog):
    def __init__(self, settings: Settings, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.setObjectName("preferences")
        form = QtWidgets.QFormLayout(self)
        self.theme = QtWidgets.QComboBox(objectName="pref_theme")
        self.theme.addItems(["light", "dark"])
        self.theme.setCurrentText(settings.theme)
        form.addRow("Theme", self.theme)
        self.output = QtWidgets.QComboBox(objectName="pref_output")
        self.output.addItem(DEFAULT_OUTPUT)
        self.output_note = QtWidgets.QLabel(objectName="pref_output_note", wordWrap=True)
        try:
            self.output.addItems(output_devices())
        except PlaybackError as e:
            self.output_note.setText(str(e))
        if settings.output_device and self.output.findText(settings.output_device) < 0:
            self.output.addItem(settings.output_device)  # keep a device that is unplugged right now
        self.output.setCurrentText(settings.output_device or DEFAULT_OUTPUT)
        form.addRow("Audio output", self.output)
        form.addRow("", self.output_note)
        self.gap = QtWidgets.QDoubleSpinBox(objectName="pref_gap", suffix=" s", decimals=2, singleStep=0.05)
        self.gap.setRange(0.0, 5.0)
        self.gap.setValue(settings.gap_seconds)
        form.addRow("Pause between paragraphs", self.gap)
        self.chapter_gap = QtWidgets.QDoubleSpinBox(objectName="pref_chapter_gap", suffix=" s", decimals=2,
                                                    singleStep=0.25)
        self.chapter_gap.setRange(0.0, 10.0)
        self.chapter_gap.setValue(settings.chapter_gap_seconds)
        form.addRow("Pause before a chapter", self.chapter_gap)
        self.device = QtWidgets.QComboBox(objectName="pref_device", editable=True)
        self.device.addItems(["auto", "cpu", "cuda"])
        self.device.setCurrentText(settings.device)
        self.device.setToolTip("Where the engine runs: auto picks the GPU when there is one (applies at the next start)")
        form.addRow("Engine device", self.device)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def apply(self, window: "MainWindow") -> None:
        s = window.settings
        out = self.output.currentText()
        s.output_device = None if out == DEFAULT_OUTPUT else out
        window.player.device = s.output_device
        s.device = self.device.currentText().strip() or "auto"
        window.timeline.set_gap(self.gap.value(), self.chapter_gap.value())
        window.set_theme(self.theme.currentText())
