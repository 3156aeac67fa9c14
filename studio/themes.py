"""Light and dark themes: a Fusion palette for the widgets, and matching colours for the panes."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets

THEMES = ("light", "dark")
PANE_COLOURS = {"light": ("#ffffff", "#303030"), "dark": ("#15181c", "#c8ccd0")}  # background, axes


def _dark_palette() -> QtGui.QPalette:
    p = QtGui.QPalette()
    c = QtGui.QColor
    roles = {
        QtGui.QPalette.Window: c(37, 40, 45), QtGui.QPalette.WindowText: c(220, 223, 228),
        QtGui.QPalette.Base: c(25, 28, 32), QtGui.QPalette.AlternateBase: c(45, 48, 54),
        QtGui.QPalette.ToolTipBase: c(50, 54, 60), QtGui.QPalette.ToolTipText: c(230, 230, 230),
        QtGui.QPalette.Text: c(220, 223, 228), QtGui.QPalette.Button: c(48, 52, 58),
        QtGui.QPalette.ButtonText: c(220, 223, 228), QtGui.QPalette.BrightText: c(255, 90, 90),
        QtGui.QPalette.Highlight: c(60, 120, 200), QtGui.QPalette.HighlightedText: c(255, 255, 255),
        QtGui.QPalette.PlaceholderText: c(130, 135, 140), QtGui.QPalette.Link: c(100, 160, 240),
    }
    for role, colour in roles.items():
        p.setColor(role, colour)
    for role in (QtGui.QPalette.Text, QtGui.QPalette.ButtonText, QtGui.QPalette.WindowText):
        p.setColor(QtGui.QPalette.Disabled, role, c(110, 114, 120))
    return p


def apply_theme(app: QtWidgets.QApplication, theme: str) -> None:
    """Set the application palette (Fusion style, so it looks the same on every platform)."""
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}: use {' or '.join(THEMES)}")
    app.setStyle("Fusion")
    app.setPalette(_dark_palette() if theme == "dark" else app.style().standardPalette())


def style_pane(plot: pg.PlotWidget, theme: str) -> None:
    background, foreground = PANE_COLOURS[theme]
    plot.setBackground(background)
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(foreground))
        axis.setTextPen(pg.mkPen(foreground))
