"""Colour controls of the latent heatmap (colour map, value range) and of the spectrogram."""

from __future__ import annotations

from PySide6 import QtWidgets

from studio.settings import Settings
from studio.views.latents import COLORMAPS, LatentView
from studio.views.spectrogram import SpectrogramView

SPECTROGRAM_MAPS = ("inferno", "magma", "viridis", "CET-L1")


class LatentControls(QtWidgets.QWidget):
    def __init__(self, latents: LatentView, spectrogram: SpectrogramView, settings: Settings, parent=None) -> None:
        super().__init__(parent)
        self.latents, self.spectrogram, self.settings = latents, spectrogram, settings
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.addWidget(QtWidgets.QLabel("Heatmap"))
        self.cmap = QtWidgets.QComboBox(objectName="heat_cmap")
        self.cmap.addItems(COLORMAPS)
        self.cmap.setToolTip("Colour map of the acoustic values")
        lay.addWidget(self.cmap)
        lay.addWidget(QtWidgets.QLabel("range"))
        self.low = self._spin("heat_low", "Value drawn in the map's first colour")
        self.high = self._spin("heat_high", "Value drawn in the map's last colour")
        lay.addWidget(self.low)
        lay.addWidget(self.high)
        lay.addSpacing(16)
        lay.addWidget(QtWidgets.QLabel("Spectrogram"))
        self.spec_cmap = QtWidgets.QComboBox(objectName="spec_cmap")
        self.spec_cmap.addItems(SPECTROGRAM_MAPS)
        lay.addWidget(self.spec_cmap)
        lay.addStretch(1)
        self.cmap.setCurrentText(settings.colormap if settings.colormap in COLORMAPS else "viridis")
        lo, hi = (settings.heat_low, settings.heat_high) if settings.heat_low < settings.heat_high else (-1.0, 1.0)
        self.low.setValue(lo)
        self.high.setValue(hi)
        self.cmap.currentTextChanged.connect(self._apply)
        self.low.valueChanged.connect(self._apply)
        self.high.valueChanged.connect(self._apply)
        self.spec_cmap.currentTextChanged.connect(spectrogram.set_colormap)
        self._apply()

    def _spin(self, name: str, tip: str) -> QtWidgets.QDoubleSpinBox:
        box = QtWidgets.QDoubleSpinBox(objectName=name, toolTip=tip)
        box.setRange(-4.0, 4.0)
        box.setSingleStep(0.1)
        box.setDecimals(2)
        return box

    def _apply(self) -> None:
        lo, hi = self.low.value(), self.high.value()
        self.latents.set_colormap(self.cmap.currentText())
        if hi > lo:
            self.latents.set_levels(lo, hi)
            self.settings.heat_low, self.settings.heat_high = lo, hi
        self.settings.colormap = self.cmap.currentText()
