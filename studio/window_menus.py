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


def open_model_folder(w: "MainWindow") -> None:
    """Ask for a model folder (one `timbre train … --export` wrote, e.g. a voice fine-tune) and load it."""
    folder = QtWidgets.QFileDialog.getExistingDirectory(w, "Open a model folder (config.json + model.safetensors)")
    if folder:
        w.open_model(folder)


def build_menus(w: "MainWindow") -> None:
    bar = w.menuBar()
    file_menu = bar.addMenu("&File")
    p = w.projects
    file_menu.addAction("New project", lambda: p.new(), QtGui.QKeySequence("Ctrl+N"))
    file_menu.addAction("New project from a text or Markdown file…", lambda: p.new_from_file())
    file_menu.addAction("Open project…", lambda: p.open(), QtGui.QKeySequence("Ctrl+O"))
    w.recent_menu = file_menu.addMenu("Open recent")
    w.recent_menu.aboutToShow.connect(lambda: _fill_recent(w))
    file_menu.addAction("Save", lambda: p.save(), QtGui.QKeySequence("Ctrl+S"))
    file_menu.addAction("Save as…", lambda: p.save_as(), QtGui.QKeySequence("Ctrl+Shift+S"))
    file_menu.addSeparator()
    file_menu.addAction("Import text into the script…", lambda: open_script(w))
    file_menu.addAction("Export episode…", lambda: open_export(w), QtGui.QKeySequence("Ctrl+Shift+E"))
    file_menu.addAction("Export chosen take's audio…", lambda: exports.export_take_audio(w, exports.chosen_take(w)),
                        QtGui.QKeySequence("Ctrl+E"))
    file_menu.addAction("Export chosen take's latents…",
                        lambda: exports.export_take_latents(w, exports.chosen_take(w)))
    file_menu.addAction("Export the whole script's audio…", lambda: exports.export_timeline_audio(w))
    file_menu.addSeparator()
    file_menu.addAction("Open model folder…", lambda: open_model_folder(w))
    file_menu.addAction("Use the built-in model", lambda: w.open_model(None))
    file_menu.addSeparator()
    file_menu.addAction("Quit", w.close, QtGui.QKeySequence("Ctrl+Q"))

    edit_menu = bar.addMenu("&Edit")
    w.undo_action = edit_menu.addAction("Undo", w.undo, QtGui.QKeySequence.Undo)
    w.redo_action = edit_menu.addAction("Redo", w.redo, QtGui.QKeySequence.Redo)
    w.history.changed.connect(lambda: _history_labels(w))
    _history_labels(w)
    edit_menu.addSeparator()
    edit_menu.addAction("Preferences…", lambda: open_preferences(w), QtGui.QKeySequence("Ctrl+,"))

    render_menu = bar.addMenu("&Render")
    render_menu.addAction("Render paragraph", w.render_paragraph, QtGui.QKeySequence("Ctrl+Return"))
    render_menu.addAction("Render all", w.render_all, QtGui.QKeySequence("Ctrl+Shift+Return"))
    render_menu.addAction("Render what changed", w.render_stale, QtGui.QKeySequence("Ctrl+R"))
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


def _history_labels(w: "MainWindow") -> None:
    h = w.history
    w.undo_action.setEnabled(h.can_undo)
    w.undo_action.setText(f"Undo {h.undo_label}" if h.can_undo else "Undo")
    w.redo_action.setEnabled(h.can_redo)
    w.redo_action.setText(f"Redo {h.redo_label}" if h.can_redo else "Redo")


def _fill_recent(w: "MainWindow") -> None:
    w.recent_menu.clear()
    for path in w.settings.recent_projects:
        w.recent_menu.addAction(path, lambda p=path: w.projects.open(p))
    if not w.settings.recent_projects:
        w.recent_menu.addAction("(none yet)").setEnabled(False)


def open_export(w: "MainWindow") -> None:
    from studio.export_dialog import ExportDialog

    ExportDialog(w).exec()


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
