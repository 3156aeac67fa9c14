"""Wires voice presets into the main window: the library dock, the Voices menu, the creation and
audition dialogs, and what choosing a preset does (its settings into the sampler, its voice into the
voice picker and so the project)."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtWidgets

from engine.api import EngineError, ModelInfo, VoiceInfo
from engine.voices.share import KNOWN_FAMILIES  # model families whose bundles can be imported
from engine.voices.library import VoiceLibrary
from engine.voices.preset import VoicePreset
from studio.models.sampler import SamplerState
from studio.playback import PlaybackError
from studio.themes import style_pane
from studio.voices.audition_dialog import AuditionDialog
from studio.voices.create_dialog import CreateVoiceDialog
from studio.voices.library_panel import LibraryPanel
from studio.voices.params import sampler_values
from studio.voices.presentation import preset_title
from studio.voices.preview import Previewer

if TYPE_CHECKING:
    from studio.main_window import MainWindow

PRESET_DEFAULTS = ("steps", "guidance", "temperature")  # the sampler tuning a new preset keeps
AUDITION_CHARS = 200


class VoicesController(QtCore.QObject):
    def __init__(self, window: "MainWindow", library: VoiceLibrary | None = None) -> None:
        super().__init__(window)
        self.w = window
        self.library = library or VoiceLibrary()
        self.previewer = Previewer(window.bridge, self.library, self)
        self.panel = LibraryPanel(self.library, self.previewer, window.history, KNOWN_FAMILIES)
        self.dock = QtWidgets.QDockWidget("Voices", window, objectName="voices_dock")
        self.dock.setWidget(self.panel)
        window.addDockWidget(QtCore.Qt.RightDockWidgetArea, self.dock)
        self.dock.hide()  # opened from the voice panel or the Voices menu; the window remembers it after
        self.create_dialog: CreateVoiceDialog | None = None
        self.audition_dialog: AuditionDialog | None = None
        self._build_menu()
        # Before the window's own slot: the picker must know the presets when it fills for the model.
        window.bridge.loaded.connect(self._on_loaded)
        self.panel.chosen.connect(self.apply)
        self.panel.play_audio.connect(self.play)
        self.panel.create_requested.connect(self.open_create)
        self.panel.audition_requested.connect(self.open_audition)
        self.panel.refreshed.connect(self._sync_picker)
        window.voice_panel.library_requested.connect(self.show_library)
        self._sync_picker()

    def _build_menu(self) -> None:
        bar = self.w.menuBar()
        menu = QtWidgets.QMenu("&Voices", bar)
        help_menu = bar.actions()[-1] if bar.actions() else None
        bar.insertMenu(help_menu, menu) if help_menu else bar.addMenu(menu)
        menu.addAction("New voice from clips…", self.open_create)
        menu.addAction("Blind audition…", self.open_audition)
        menu.addAction("Import a voice bundle…", lambda: self.panel.import_bundle())
        menu.addAction("Voice library", self.show_library)
        self.menu = menu

    def show_library(self) -> None:
        self.panel.refresh()  # the CLI or another studio may have changed it
        self.dock.show()
        self.dock.raise_()

    # ---- the model and the picker ---------------------------------------------------------------

    def _on_loaded(self, info: ModelInfo) -> None:
        voices = info.voice_details or tuple(VoiceInfo(v) for v in info.voices)
        self.library.add_family_voices(info.family, voices)
        self.panel.known_families.add(info.family)
        self.panel.refresh()

    def usable(self, info: ModelInfo | None = None) -> list[VoicePreset]:
        """Presets the loaded model can speak with: its family's (another build's are re-encoded from their
        reference clip by the engine)."""
        info = info or self.w.bridge.info
        if info is None:
            return []
        return [p for p in self.library.presets() if p.origin != "family" and p.family == info.family]

    def _sync_picker(self) -> None:
        """The voice picker and the script's per-paragraph voice menus list the usable presets."""
        choices = [(preset_title(p), p.voice_ref) for p in self.usable()]
        self.w.script_panel.preset_voices = choices
        self.w.voice_panel.set_presets(choices)

    def apply(self, preset: VoicePreset) -> None:
        """Make ``preset`` the voice: its default settings into the sampler, its voice into the picker."""
        values = sampler_values(preset, {f.name for f in fields(SamplerState)})
        try:
            self.w.sampler.set(**values)
        except EngineError as e:
            self.w.show_error(f"“{preset.name}” has settings this studio cannot use: {e}")
            return
        self.w.voice_panel.choose(preset.voice_ref)
        if self.w.voice_panel.voice != preset.voice_ref:
            info = self.w.bridge.info
            model = f"the {info.family} model {info.name}" if info else "no model"
            self.w.show_error(f"“{preset.name}” was made for the {preset.family} model family; {model} is loaded. "
                              f"Load a {preset.family} model to use it.")
            return
        self.w.show_error("")
        self.w.statusBar().showMessage(f"Voice: {preset.name}", 5000)

    def play(self, audio: np.ndarray, sample_rate: int) -> None:
        """Play a preview or an audition take through the studio's output (the timeline stops)."""
        self.w.transport.stop()
        try:
            self.w.player.play(audio, sample_rate)
        except PlaybackError as e:
            self.w.show_error(str(e))

    # ---- dialogs --------------------------------------------------------------------------------

    def open_create(self) -> CreateVoiceDialog:
        state = self.w.sampler.state
        dialog = CreateVoiceDialog(self.w.bridge, {k: getattr(state, k) for k in PRESET_DEFAULTS}, self.w)
        style_pane(dialog.view, self.w.settings.theme)
        dialog.created.connect(self._on_created)
        self.create_dialog = dialog
        dialog.open()
        return dialog

    def _on_created(self, preset: VoicePreset) -> None:
        self.show_library()
        self.panel.search.clear()
        for key in self.panel.filters:
            self.panel.set_filter(key, None)
        self.panel.refresh(select=preset.id)
        self.panel.set_message(f"Created “{preset.name}”.")

    def open_audition(self) -> AuditionDialog:
        info = self.w.bridge.info
        family = [p for p in self.library.presets() if p.origin == "family" and info and p.family == info.family]
        dialog = AuditionDialog(self.w.bridge, self.usable() + family, self.w.sampler.params_for_render,
                                self._audition_text(), self.w)
        dialog.applied.connect(self.apply)
        dialog.play_audio.connect(self.play)
        self.audition_dialog = dialog
        dialog.open()
        return dialog

    def _audition_text(self) -> str:
        pid = self.w.selection.paragraph_id
        speech = self.w.project.speech()
        para = self.w.project.paragraph(pid) if pid and pid in self.w.project else (speech[0] if speech else None)
        return para.spoken_text[:AUDITION_CHARS] if para is not None else ""
