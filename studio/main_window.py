"""The first studio window: script, sampler, Render/Cancel, Play, and time-aligned waveform and
latent panes that fill in as frames stream from the engine thread."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from engine import __version__
from engine.api import AudioChunk, Done, EngineError, Failed, Frame, ModelInfo, Progress, Started, SynthesisRequest
from engine.take_files import save_frames, write_audio
from studio.engine_bridge import EngineBridge
from studio.models.sampler import SamplerModel
from studio.models.take import RenderState, TakeModel
from studio.panels.sampler_panel import SamplerPanel
from studio.playback import Player, PlaybackError
from studio.settings import Settings
from studio.views.latents import LatentView
from studio.views.waveform import WaveformView

log = logging.getLogger(__name__)
PLAYHEAD_MS = 30

SHORTCUTS = (
    ("Ctrl+Return", "Render the script"),
    ("Escape", "Cancel the render"),
    ("Space", "Play / pause (outside the script editor)"),
    ("Ctrl+E", "Export the take's audio"),
    ("Ctrl+Q", "Quit"),
)


class MainWindow(QtWidgets.QMainWindow):
    closing = QtCore.Signal()  # the app saves settings and stops the engine

    def __init__(self, bridge: EngineBridge, player: Player, settings: Settings) -> None:
        super().__init__()
        self.bridge, self.player, self.settings = bridge, player, settings
        self.take = TakeModel()
        self.sampler = SamplerModel(SamplerModel.from_dict(settings.sampler))
        self.info: ModelInfo | None = None
        self.cursor = 0.0  # where Play starts, seconds
        self.setWindowTitle("Timbre Studio")
        self.setObjectName("main_window")
        self.resize(1200, 760)
        self._build()
        self._build_menus()
        self._wire()
        self._restore_layout()
        self._set_engine_state("starting the engine…")
        self._update_buttons()

    # ---- construction ---------------------------------------------------------------------------

    def _build(self) -> None:
        left = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(left)
        self.banner = QtWidgets.QLabel(objectName="banner", wordWrap=True)
        self.banner.setStyleSheet("background:#fff3cd;color:#664d03;border:1px solid #e0c36c;padding:6px;")
        self.banner.hide()
        lay.addWidget(self.banner)
        lay.addWidget(QtWidgets.QLabel("Script"))
        self.editor = QtWidgets.QPlainTextEdit(objectName="script")
        self.editor.setPlaceholderText("Type or paste what the voice should say…")
        self.editor.setPlainText(self.settings.text)
        lay.addWidget(self.editor, 1)
        self.sampler_panel = SamplerPanel(self.sampler)
        lay.addWidget(self.sampler_panel)
        buttons = QtWidgets.QHBoxLayout()
        self.render_button = QtWidgets.QPushButton("Render", objectName="render")
        self.render_button.setToolTip("Render the script (Ctrl+Return)")
        self.cancel_button = QtWidgets.QPushButton("Cancel", objectName="cancel")
        self.cancel_button.setToolTip("Stop the render (Esc)")
        self.play_button = QtWidgets.QPushButton("Play", objectName="play")
        self.play_button.setToolTip("Play / pause (Space)")
        for b in (self.render_button, self.cancel_button, self.play_button):
            buttons.addWidget(b)
        lay.addLayout(buttons)
        self.progress = QtWidgets.QProgressBar(objectName="progress")
        self.progress.setTextVisible(True)
        self.progress.setFormat("idle")
        self.progress.setValue(0)
        lay.addWidget(self.progress)
        self.error_label = QtWidgets.QLabel(objectName="error", wordWrap=True)
        self.error_label.setStyleSheet("color:#c0392b;")
        self.error_label.hide()
        lay.addWidget(self.error_label)

        self.waveform = WaveformView(self.take)
        self.latents = LatentView(self.take)
        self.latents.setXLink(self.waveform)
        self.inspector = QtWidgets.QLabel("Hover a frame to inspect it.", objectName="inspector")
        self.inspector.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.inspector.setMinimumHeight(40)
        self.inspector.setWordWrap(True)
        panes = QtWidgets.QSplitter(QtCore.Qt.Vertical, objectName="panes")
        panes.addWidget(self.waveform)
        panes.addWidget(self.latents)
        panes.addWidget(self.inspector)
        panes.setSizes([300, 300, 60])

        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Horizontal, objectName="main_splitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(panes)
        self.splitter.setSizes([380, 820])
        self.setCentralWidget(self.splitter)

        self.model_label = QtWidgets.QLabel(objectName="model_label")
        self.device_label = QtWidgets.QLabel(objectName="device_label")
        self.engine_label = QtWidgets.QLabel(objectName="engine_label")
        sb = self.statusBar()
        sb.addPermanentWidget(self.model_label)
        sb.addPermanentWidget(self.device_label)
        sb.addPermanentWidget(self.engine_label)

        self._playhead_timer = QtCore.QTimer(self)
        self._playhead_timer.setInterval(PLAYHEAD_MS)
        self._playhead_timer.timeout.connect(self._follow_playback)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.export_audio_action = file_menu.addAction("Export audio…", self.export_audio)
        self.export_audio_action.setShortcut("Ctrl+E")
        self.export_frames_action = file_menu.addAction("Export latents (.safetensors)…", self.export_frames)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("Quit", self.close)
        quit_action.setShortcut("Ctrl+Q")
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction("Keyboard shortcuts", self.show_shortcuts)
        help_menu.addAction("About Timbre Studio", self.show_about)

        render = QtGui.QShortcut(QtGui.QKeySequence("Ctrl+Return"), self)
        render.activated.connect(self.render)
        cancel = QtGui.QShortcut(QtGui.QKeySequence("Escape"), self)
        cancel.activated.connect(self.cancel)
        # Space: a text editor takes it first (ShortcutOverride), so typing spaces still works.
        play = QtGui.QShortcut(QtGui.QKeySequence("Space"), self)
        play.activated.connect(self.play_pause)

    def _wire(self) -> None:
        b = self.bridge
        b.loading.connect(lambda ev: self._set_engine_state(f"loading {ev.model} on {ev.device}…"))
        b.loaded.connect(self._on_loaded)
        b.load_failed.connect(self._on_load_failed)
        b.started.connect(self._on_started)
        b.frame.connect(self._on_frame)
        b.audio.connect(self._on_audio)
        b.progress.connect(self._on_progress)
        b.done.connect(self._on_done)
        b.render_failed.connect(self._on_failed)
        b.busy_changed.connect(lambda busy: self._update_buttons())
        self.render_button.clicked.connect(self.render)
        self.cancel_button.clicked.connect(self.cancel)
        self.play_button.clicked.connect(self.play_pause)
        self.latents.frame_hovered.connect(self._inspect)

    # ---- actions --------------------------------------------------------------------------------

    def render(self) -> None:
        if self.info is None:
            return
        try:
            request = SynthesisRequest(self.editor.toPlainText(), "default",
                                       self.sampler.params_for_render()).validated()
        except EngineError as e:
            self._show_error(str(e))
            return
        self._show_error("")
        self.stop_playback()
        self.progress.setFormat("starting…")
        self.bridge.render(request)
        self._set_engine_state("rendering")

    def cancel(self) -> None:
        if self.bridge.rendering:
            self.bridge.cancel()
            self._set_engine_state("cancelling…")

    def play_pause(self) -> None:
        if self.player.playing:
            self.cursor = self.player.position
            self.stop_playback()
            return
        if self.take.audio.length == 0:
            return
        start = self.cursor if self.cursor < self.take.duration - 0.01 else 0.0
        try:
            self.player.play(self.take.audio.samples.copy(), self.take.sample_rate, start)
        except PlaybackError as e:
            self._show_error(str(e))
            return
        self.play_button.setText("Pause")
        self._playhead_timer.start()

    def stop_playback(self) -> None:
        self.player.stop()
        self._playhead_timer.stop()
        self.play_button.setText("Play")

    def export_audio(self, path: str | None = None) -> Path | None:
        if self.take.state is not RenderState.DONE:
            self._show_error("render a take first")
            return None
        path = path or self._ask_save_path("Export audio", "take.wav", "Audio (*.wav *.flac)")
        if not path:
            return None
        try:
            return write_audio(path, self.take.audio.samples, self.take.sample_rate)
        except EngineError as e:
            self._show_error(str(e))
            return None

    def export_frames(self, path: str | None = None) -> Path | None:
        info = self.take.info
        if self.take.state is not RenderState.DONE or info is None:
            self._show_error("render a take first")
            return None
        path = path or self._ask_save_path("Export latents", "take.safetensors", "Frames (*.safetensors)")
        if not path:
            return None
        meta = {"model": info.model, "model_hash": info.model_hash, "text": info.text, "voice": info.voice,
                "seed": info.seed, "sample_rate": self.take.sample_rate, "engine_version": __version__}
        try:
            return save_frames(path, self.take.frames, meta)
        except EngineError as e:
            self._show_error(str(e))
            return None

    def _ask_save_path(self, title: str, default: str, filters: str) -> str:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, title, default, filters)
        return path

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;&nbsp;{v}</td></tr>" for k, v in SHORTCUTS)
        QtWidgets.QMessageBox.information(self, "Keyboard shortcuts", f"<table>{rows}</table>")

    def show_about(self) -> None:
        QtWidgets.QMessageBox.about(self, "About Timbre Studio",
                                    f"Timbre Studio {__version__}<br>Autoregressive flow-matching text-to-speech "
                                    "(the Voxtral TTS family).<br>Apache-2.0.")

    # ---- engine events (GUI thread) ---------------------------------------------------------------

    def _on_loaded(self, info: ModelInfo) -> None:
        self.info = info
        if self.settings.sampler_model != info.name:  # keep the user's tuning for the same model
            self.sampler.apply_defaults(info.default_params)
            self.settings.sampler_model = info.name
        self.latents.set_acoustic_dim(info.acoustic_dim)
        self.setWindowTitle(f"Timbre Studio — {info.name}")
        self.model_label.setText(f"model: {info.name} ({info.parameters / 1e6:.2f} M, {info.model_hash[:8]})")
        self.device_label.setText(f"device: {info.device}")
        if not info.trained:
            self.banner.setText(f"<b>{info.name}</b> has {info.note}. It is a placeholder until the trained "
                                "built-in model ships.")
            self.banner.show()
        else:
            self.banner.hide()
        self._set_engine_state("ready")
        self._update_buttons()

    def _on_load_failed(self, message: str) -> None:
        self._set_engine_state("no model")
        self._show_error(f"The model could not be loaded: {message}")
        self._update_buttons()

    def _on_started(self, ev: Started) -> None:
        assert self.info is not None
        self.take.begin(ev, self.info.sample_rate, self.info.acoustic_dim)
        self.cursor = 0.0
        self.progress.setRange(0, ev.max_frames)
        self.progress.setValue(0)
        self.sampler.record_seed(ev.seed)

    def _on_frame(self, frame: Frame) -> None:
        self.take.add_frame(frame)

    def _on_audio(self, chunk: AudioChunk) -> None:
        self.take.add_audio(chunk)

    def _on_progress(self, p: Progress) -> None:
        self.progress.setValue(p.frames)
        rate = p.frames / p.elapsed if p.elapsed > 0 else 0.0
        eta = (p.max_frames - p.frames) / rate if rate > 0 else 0.0
        self.progress.setFormat(f"frame {p.frames} of ≤{p.max_frames} · {p.frames / 12.5:.1f} s audio · "
                                f"ETA ≤{eta:.0f} s")

    def _on_done(self, done: Done) -> None:
        self.take.finish(done)
        self.sampler.record_seed(done.seed)
        info = self.take.info
        assert info is not None
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat(f"{info.seconds:.2f} s in {info.elapsed:.2f} s · RTF {info.real_time_factor:.2f}")
        self._set_engine_state(f"ready · last seed {done.seed}")
        self.statusBar().showMessage(
            f"Rendered {len(done.frames)} frames ({info.seconds:.2f} s) in {info.elapsed:.2f} s, seed {done.seed}, "
            f"first audio after {info.first_audio_latency * 1000:.0f} ms", 10_000)

    def _on_failed(self, failed: Failed) -> None:
        self.take.fail(failed.message, failed.cancelled)
        self.progress.setFormat("cancelled" if failed.cancelled else "failed")
        self._set_engine_state("ready")
        if not failed.cancelled:
            self._show_error(failed.message)

    # ---- helpers ----------------------------------------------------------------------------------

    def _set_engine_state(self, text: str) -> None:
        self.engine_label.setText(f"engine: {text}")

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    def _update_buttons(self) -> None:
        busy = self.bridge.rendering
        self.render_button.setEnabled(self.info is not None)
        self.render_button.setText("Re-render" if busy else "Render")
        self.cancel_button.setEnabled(busy)

    def _follow_playback(self) -> None:
        pos = self.player.position
        self.waveform.set_playhead(pos)
        if not self.player.playing:
            self.stop_playback()
            self.cursor = 0.0 if pos >= self.take.duration - 1e-3 else pos

    def _inspect(self, index: int) -> None:
        if index < 0 or index >= len(self.take.frames):
            return
        f = self.take.frames[index]
        if f.end_of_speech:
            self.inspector.setText(f"frame {f.index} · {f.time:.2f} s · end of speech (p={f.semantic_prob:.2f})")
            return
        values = np.array2string(np.asarray(f.acoustic), precision=2, separator=" ", max_line_width=10_000)
        self.inspector.setText(f"frame {f.index} · {f.time:.2f} s · semantic {f.semantic_id} "
                               f"(p={f.semantic_prob:.2f}) · acoustic {values}")

    # ---- layout persistence -------------------------------------------------------------------------

    def _restore_layout(self) -> None:
        s = self.settings
        if s.window_geometry:
            self.restoreGeometry(QtCore.QByteArray.fromHex(s.window_geometry.encode()))
        if s.window_state:
            self.restoreState(QtCore.QByteArray.fromHex(s.window_state.encode()))
        if s.splitter_state:
            self.splitter.restoreState(QtCore.QByteArray.fromHex(s.splitter_state.encode()))

    def collect_settings(self) -> Settings:
        s = self.settings
        s.text = self.editor.toPlainText()
        s.sampler = self.sampler.to_dict()
        s.window_geometry = bytes(self.saveGeometry().toHex()).decode()
        s.window_state = bytes(self.saveState().toHex()).decode()
        s.splitter_state = bytes(self.splitter.saveState().toHex()).decode()
        return s

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802
        self.stop_playback()
        self.bridge.cancel()
        self.closing.emit()
        super().closeEvent(event)
