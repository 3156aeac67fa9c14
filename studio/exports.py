"""Exports started from the window: a take's audio (WAV/FLAC) and latents (safetensors, npz, CSV).

The file name picks the format; errors are shown in the window, never raised into Qt.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtWidgets

from engine.api import EngineError
from engine.frame_exports import export_frames
from engine.take_files import write_audio
from studio.models.take import Take

if TYPE_CHECKING:
    from studio.main_window import MainWindow


def ask_save_path(parent: QtWidgets.QWidget, title: str, default: str, filters: str) -> str:
    path, _ = QtWidgets.QFileDialog.getSaveFileName(parent, title, default, filters)
    return path


def _default_name(take: Take, window: "MainWindow", suffix: str) -> str:
    n = window.project.index_of(take.paragraph_id) + 1 if take.paragraph_id in window.project else 0
    return f"paragraph{n}-take{take.number}{suffix}"


def export_take_audio(window: "MainWindow", take: Take | None, path: str | None = None) -> Path | None:
    if take is None:
        window.show_error("render a paragraph first: there is no take to export")
        return None
    path = path or ask_save_path(window, "Export audio", _default_name(take, window, ".wav"), "Audio (*.wav *.flac)")
    if not path:
        return None
    try:
        return write_audio(path, take.audio, take.sample_rate)
    except EngineError as e:
        window.show_error(str(e))
        return None


def export_take_latents(window: "MainWindow", take: Take | None, path: str | None = None) -> Path | None:
    if take is None:
        window.show_error("render a paragraph first: there is no take to export")
        return None
    path = path or ask_save_path(window, "Export latents", _default_name(take, window, ".safetensors"),
                                 "Frames (*.safetensors *.npz *.csv)")
    if not path:
        return None
    try:
        return export_frames(path, take.frames, take.metadata())
    except EngineError as e:
        window.show_error(str(e))
        return None


def export_timeline_audio(window: "MainWindow", path: str | None = None) -> Path | None:
    """The whole timeline (every paragraph's chosen take, with the pauses) as one file."""
    if window.timeline.duration <= 0:
        window.show_error("render a paragraph first: the timeline is empty")
        return None
    path = path or ask_save_path(window, "Export the whole script", "script.wav", "Audio (*.wav *.flac)")
    if not path:
        return None
    try:
        return write_audio(path, window.timeline.audio(), window.timeline.sample_rate)
    except EngineError as e:
        window.show_error(str(e))
        return None


def chosen_take(window: "MainWindow") -> Take | None:
    pid = window.selection.paragraph_id
    return window.project.paragraph(pid).current if pid and pid in window.project else None
