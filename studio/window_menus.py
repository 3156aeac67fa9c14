"""Menus and keyboard shortcuts of the main window (the list the Help dialog shows is SHORTCUTS)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtGui, QtWidgets

from engine import __version__
from studio import exports

if TYPE_CHECKING:
    from studio.main_window import MainWindow


def _shortcut(window: "MainWindow", keys: str, slot) -> QtGui.QShortcut:
    # Window-wide; a focused text field takes printable keys first (ShortcutOverride), so typing works.
    sc = QtGui.QShortcut(QtGui.QKeySequence(keys), window)
    sc.activated.connect(slot)
    return sc


def build_menus(w: "MainWindow") -> None:
    bar = w.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction("Open script…", lambda: open_script(w), QtGui.QKeySequence("Ctrl+O"))
    file_menu.addSeparator()
    file_menu.addAction("Export chosen take's audio…", lambda: exports.export_take_audio(w, exports.chosen_take(w)),
                        QtGui.QKeySequence("Ctrl+E"))
    file_menu.addAction("Export chosen take's latents…",
                        lambda: exports.export_take_latents(w, exports.chosen_take(w)))
    file_menu.addAction("Export the whole script's audio…", lambda: exports.export_timeline_audio(w))
    file_menu.addSeparator()
    file_menu.addAction("Quit", w.close, QtGui.QKeySequence("Ctrl+Q"))

    edit_menu = bar.addMenu("&Edit")
    edit_menu.addAction("Preferences…", lambda: open_preferences(w), QtGui.QKeySequence("Ctrl+,"))

    render_menu = bar.addMenu("&Render")
    render_menu.addAction("Render paragraph", w.render_paragraph, QtGui.QKeySequence("Ctrl+Return"))
    render_menu.addAction("Render all", w.render_all, QtGui.QKeySequence("Ctrl+Shift+Return"))
    render_menu.addAction("Cancel", w.cancel, QtGui.QKeySequence("Escape"))

    view_menu = bar.addMenu("&View")
    view_menu.addAction("Light theme", lambda: w.set_theme("light"))
    view_menu.addAction("Dark theme", lambda: w.set_theme("dark"))
    view_menu.addAction("Fit timeline", w.fit_timeline)

    help_menu = bar.addMenu("&Help")
    help_menu.addAction("Keyboard shortcuts", lambda: show_shortcuts(w), QtGui.QKeySequence("F1"))
    help_menu.addAction("About Timbre Studio", lambda: QtWidgets.QMessageBox.about(
        w, "About Timbre Studio", f"Timbre Studio {__version__}<br>Autoregressive flow-matching text-to-speech "
        "(the Voxtral TTS family).<br>Apache-2.0."))

    w.shortcuts = {
        "Space": _shortcut(w, "Space", w.transport.toggle),
        "Shift+Space": _shortcut(w, "Shift+Space", w.transport.play_selection),
        "L": _shortcut(w, "L", w.loop_button.toggle),
        "B": _shortcut(w, "B", w.takes_panel.swap_ab),
        "F": _shortcut(w, "F", w.fit_timeline),
    }


def show_shortcuts(w: "MainWindow") -> None:
    from studio.main_window import SHORTCUTS

    rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;&nbsp;{v}</td></tr>" for k, v in SHORTCUTS)
    QtWidgets.QMessageBox.information(w, "Keyboard shortcuts", f"<table>{rows}</table>")


def open_script(w: "MainWindow") -> None:
    path, _ = QtWidgets.QFileDialog.getOpenFileName(w, "Open script", "", "Text (*.txt *.md);;All files (*)")
    if path:
        w.script_panel.open_file(path)


def open_preferences(w: "MainWindow") -> None:
    from studio.dialogs import PreferencesDialog

    dialog = PreferencesDialog(w.settings, w)
    if dialog.exec() == QtWidgets.QDialog.Accepted:
        dialog.apply(w)
