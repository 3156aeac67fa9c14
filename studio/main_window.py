"""The main window: script, voice, sampler and takes on the left; a stack of time-aligned panes
(paragraph lane, waveform, spectrogram, latent timeline) and the frame inspector on the right; a
transport bar between them. State lives in plain models (studio/models); this file wires them."""

from __future__ import annotations

import logging

from PySide6 import QtCore, QtGui, QtWidgets

from engine.api import FRAME_SECONDS, Done, ModelInfo, SynthesisRequest
from studio import exports
from studio.engine_bridge import EngineBridge
from studio.models.live import LiveRender
from studio.models.editing import ProjectEditor
from studio.models.history import History
from studio.models.project import Project
from studio.models.sampler import SamplerModel
from studio.models.selection import FrameRef, Selection
from studio.models.timeline import Timeline
from studio.models.transport import Transport
from studio.panels.sampler_panel import SamplerPanel
from studio.panels.script_panel import ScriptPanel
from studio.panels.takes_panel import TakesPanel
from studio.panels.voice_panel import VoicePanel
from studio.playback import Player
from studio.project_actions import ProjectController
from studio.rendering import RenderQueue
from studio.settings import Settings
from studio.themes import apply_theme, style_pane
from studio.views.inspector import FrameInspector
from studio.views.latent_controls import LatentControls
from studio.views.latents import LatentView
from studio.views.paragraph_lane import ParagraphLane
from studio.views.spectrogram import SpectrogramView
from studio.views.waveform import WaveformView
from studio.voices.controller import VoicesController
from studio.window_menus import build_menus

log = logging.getLogger(__name__)
PLAYHEAD_MS = 30

SHORTCUTS = (
    ("Ctrl+Return", "Render the paragraph at the text cursor (again: a new take)"),
    ("Ctrl+Shift+Return", "Render every paragraph"),
    ("Escape", "Cancel rendering"),
    ("Space", "Play / pause from the cursor (outside the script editor)"),
    ("Shift+Space", "Play the selected range"),
    ("L", "Loop the selected range on / off"),
    ("B", "Swap the A/B pair of takes (after Compare A/B)"),
    ("F", "Fit the whole timeline in view"),
    ("Mouse", "click: cursor · drag: select a range · wheel: zoom · Shift+drag: pan · click a frame: inspect and hear it"),
    ("Ctrl+R", "Render what changed since its take (text, voice, settings) and what was never rendered"),
    ("Ctrl+Z", "Undo (typing, renders, take choices and deletions, moves, voice changes)"),
    ("Ctrl+Shift+Z", "Redo"),
    ("Ctrl+N / Ctrl+O", "New project / open a project (a .timbre folder)"),
    ("Ctrl+S / Ctrl+Shift+S", "Save / save as (work is also saved automatically every 30 s)"),
    ("Ctrl+Shift+E", "Export the episode (loudness, chapters, subtitles)"),
    ("Ctrl+E", "Export the chosen take's audio"),
    ("Ctrl+,", "Preferences"),
    ("F1", "This list"),
    ("Ctrl+Q", "Quit"),
)


class MainWindow(QtWidgets.QMainWindow):
    closing = QtCore.Signal()  # the app saves settings and stops the engine

    def __init__(self, bridge: EngineBridge, player: Player, settings: Settings) -> None:
        super().__init__()
        self.bridge, self.player, self.settings = bridge, player, settings
        self.info: ModelInfo | None = None
        self._asked_model: tuple[str | None] | None = None  # a model the user opened, until it has loaded
        self.project = Project()
        self.history = History()
        self.editing = ProjectEditor(self.project, self.history, settings.text)
        self.live = LiveRender()
        self.selection = Selection()
        self.timeline = Timeline(self.project, self.live, gap=settings.gap_seconds,
                                 chapter_gap=settings.chapter_gap_seconds)
        self.transport = Transport(player, self.timeline, self.selection)
        self.sampler = SamplerModel(SamplerModel.from_dict(settings.sampler))
        self.queue = RenderQueue(bridge, self.project, self.live, self._request_for,
                                 lambda: self.info.sample_rate if self.info else 16_000, self.editing.add_take)
        self.project.set_defaults(voice=settings.voice, params=self.sampler.current_params())
        self.follow = True  # keep the whole timeline in view until the user zooms or pans
        self.setWindowTitle("Timbre Studio")
        self.setObjectName("main_window")
        self.resize(1280, 820)
        self._build()
        self.projects = ProjectController(self)
        build_menus(self)
        self.voices = VoicesController(self)
        self._wire()
        self._restore_layout()
        self.set_theme(settings.theme if settings.theme in ("light", "dark") else "light")
        self._set_engine_state("starting the engine…")
        self._update_buttons()

    # ---- construction ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.banner = QtWidgets.QLabel(objectName="banner", wordWrap=True)
        self.banner.setStyleSheet("background:#fff3cd;color:#664d03;border:1px solid #e0c36c;padding:6px;")
        self.banner.hide()
        self.script_panel = ScriptPanel(self.editing, self.selection)
        self.editor = self.script_panel.editor
        self.voice_panel = VoicePanel(self.settings.voice)
        self.sampler_panel = SamplerPanel(self.sampler)
        self.takes_panel = TakesPanel(self.editing, self.selection)
        controls = QtWidgets.QWidget()
        cl = QtWidgets.QVBoxLayout(controls)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.voice_panel)
        cl.addWidget(self.sampler_panel)
        self.left = QtWidgets.QSplitter(QtCore.Qt.Vertical, objectName="left_splitter")
        script_box = QtWidgets.QWidget()
        sl = QtWidgets.QVBoxLayout(script_box)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(self.banner)
        sl.addWidget(self.script_panel)
        for w in (script_box, controls, self.takes_panel):
            self.left.addWidget(w)
        self.left.setSizes([380, 300, 200])

        self.lane = ParagraphLane(self.timeline, self.selection)
        self.waveform = WaveformView(self.timeline, self.selection)
        self.spectrogram = SpectrogramView(self.timeline, self.selection)
        self.latents = LatentView(self.timeline, self.selection)
        self.panes = (self.lane, self.waveform, self.spectrogram, self.latents)
        for pane in self.panes[1:]:
            pane.setXLink(self.lane)
        self.latent_controls = LatentControls(self.latents, self.spectrogram, self.settings)
        latent_box = QtWidgets.QWidget()
        ll = QtWidgets.QVBoxLayout(latent_box)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.setSpacing(0)
        ll.addWidget(self.latent_controls)
        ll.addWidget(self.latents, 1)
        self.inspector = FrameInspector()
        self.pane_splitter = QtWidgets.QSplitter(QtCore.Qt.Vertical, objectName="panes")
        for w in (self.lane, self.waveform, self.spectrogram, latent_box, self.inspector):
            self.pane_splitter.addWidget(w)
        self.pane_splitter.setSizes([50, 170, 150, 230, 170])

        right = QtWidgets.QWidget()
        rl = QtWidgets.QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addLayout(self._transport_bar())
        self.error_label = QtWidgets.QLabel(objectName="error", wordWrap=True)
        self.error_label.setStyleSheet("color:#c0392b;")
        self.error_label.hide()
        rl.addWidget(self.error_label)
        rl.addWidget(self.pane_splitter, 1)

        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Horizontal, objectName="main_splitter")
        self.splitter.addWidget(self.left)
        self.splitter.addWidget(right)
        self.splitter.setSizes([400, 880])
        self.setCentralWidget(self.splitter)

        self.model_label = QtWidgets.QLabel(objectName="model_label")
        self.device_label = QtWidgets.QLabel(objectName="device_label")
        self.engine_label = QtWidgets.QLabel(objectName="engine_label")
        for label in (self.model_label, self.device_label, self.engine_label):
            self.statusBar().addPermanentWidget(label)
        self._playhead_timer = QtCore.QTimer(self, interval=PLAYHEAD_MS)
        self._playhead_timer.timeout.connect(self._follow_playback)

    def _transport_bar(self) -> QtWidgets.QHBoxLayout:
        bar = QtWidgets.QHBoxLayout()

        def button(text: str, name: str, tip: str, checkable: bool = False) -> QtWidgets.QToolButton:
            b = QtWidgets.QToolButton(objectName=name, toolTip=tip, checkable=checkable, text=text)
            b.setMinimumHeight(26)
            bar.addWidget(b)
            return b

        self.render_button = button("Render ¶", "render", "Render the paragraph at the text cursor (Ctrl+Return)")
        self.render_all_button = button("Render all", "render_all", "Render every paragraph (Ctrl+Shift+Return)")
        self.cancel_button = button("Cancel", "cancel", "Stop rendering (Esc)")
        bar.addSpacing(12)
        self.play_button = button("Play", "play", "Play / pause from the cursor (Space)")
        self.play_selection_button = button("Play range", "play_selection", "Play the selected range (Shift+Space)")
        self.loop_button = button("Loop", "loop", "Loop the selected range (L)", checkable=True)
        self.fit_button = button("Fit", "fit", "Show the whole timeline (F)")
        bar.addSpacing(12)
        self.progress = QtWidgets.QProgressBar(objectName="progress", textVisible=True, minimumWidth=60)
        self.progress.setFormat("idle")
        self.progress.setValue(0)
        bar.addWidget(self.progress, 1)
        self.eta_label = QtWidgets.QLabel(objectName="eta")
        bar.addWidget(self.eta_label)
        return bar

    def _wire(self) -> None:
        b, q = self.bridge, self.queue
        b.loading.connect(lambda ev: self._set_engine_state(f"loading {ev.model} on {ev.device}…"))
        b.loaded.connect(self._on_loaded)
        b.load_failed.connect(self._on_load_failed)
        b.done.connect(self._on_done)
        q.state.connect(self._on_paragraph_state)
        q.progress.connect(self._on_progress)
        q.overall.connect(self._on_overall)
        q.failed.connect(lambda pid, msg: self.show_error(f"¶{self._number(pid)}: {msg}"))
        q.idle.connect(self._on_idle)
        self.render_button.clicked.connect(self.render_paragraph)
        self.render_all_button.clicked.connect(self.render_all)
        self.cancel_button.clicked.connect(self.cancel)
        self.play_button.clicked.connect(self.transport.toggle)
        self.play_selection_button.clicked.connect(self.transport.play_selection)
        self.loop_button.toggled.connect(lambda on: setattr(self.transport, "loop", on))
        self.fit_button.clicked.connect(self.fit_timeline)
        self.transport.state_changed.connect(self._on_transport)
        self.transport.error.connect(self.show_error)
        self.script_panel.error.connect(self.show_error)
        self.takes_panel.swapped.connect(self.transport.restart_in_place)
        self.takes_panel.export_audio.connect(lambda t: exports.export_take_audio(self, t))
        self.takes_panel.export_latents.connect(lambda t: exports.export_take_latents(self, t))
        self.voice_panel.changed.connect(self._on_voice)
        self.sampler.changed.connect(lambda state: self.project.set_defaults(params=self.sampler.current_params()))
        self.editor.undo_requested.connect(self.undo)
        self.editor.redo_requested.connect(self.redo)
        self.history.changed.connect(self._update_buttons)
        self.inspector.play_requested.connect(self.play_selected_frame)
        self.latents.frame_hovered.connect(self._on_hover)
        self.timeline.changed.connect(self._fit_if_following)
        # a render grows the timeline every chunk; refitting (and repainting every pane) at most
        # ~8 times a second keeps the window responsive on long episodes
        self._fit_soon = QtCore.QTimer(self, singleShot=True, interval=120)
        self._fit_soon.timeout.connect(self._fit_if_following)
        self.live.grew.connect(lambda *_: self._fit_soon.isActive() or self._fit_soon.start())
        self.selection.changed.connect(self._on_selection)
        for pane in self.panes:
            pane.vb.clicked.connect(self._on_pane_clicked)
            pane.vb.range_dragged.connect(lambda t0, t1, done: self.selection.set_range(t0, t1))
            pane.vb.sigRangeChangedManually.connect(lambda *a: setattr(self, "follow", False))
        self.latents.vb.clicked.connect(self._on_latent_clicked)

    # ---- history ----------------------------------------------------------------------------------

    def undo(self) -> None:
        self.script_panel.commit_text()  # what was just typed is the first thing to undo
        label = self.history.undo()
        self.statusBar().showMessage(f"Undid: {label}" if label else "Nothing to undo", 3000)

    def redo(self) -> None:
        label = self.history.redo()
        self.statusBar().showMessage(f"Redid: {label}" if label else "Nothing to redo", 3000)

    def _on_voice(self, voice: str) -> None:
        self.settings.voice = voice
        self.project.set_defaults(voice=voice)

    def update_title(self) -> None:
        model = f" — {self.info.name}" if self.info else ""
        self.setWindowTitle(f"{self.projects.session.title} — Timbre Studio{model}")

    # ---- rendering ------------------------------------------------------------------------------

    def _request_for(self, text: str, voice: str) -> SynthesisRequest:
        return SynthesisRequest(text, voice, self.sampler.params_for_render())

    def render_paragraph(self) -> None:
        pid = self.script_panel.paragraph_at_cursor() if self.editor.hasFocus() or not self.selection.paragraph_id \
            else self.selection.paragraph_id
        if pid and self.project.paragraph(pid).heading is not None:
            self.show_error("that is a chapter heading: it is not spoken")
            return
        self._render([pid] if pid else [])

    def render_all(self) -> None:
        self.script_panel.commit_text()
        self._render([p.id for p in self.project.speech()])

    def render_stale(self) -> None:
        """Re-render what changed (text, voice or settings) and what was never rendered."""
        self.script_panel.commit_text()
        todo = {p.id for p in self.project.stale_paragraphs() + self.project.unrendered()}
        if not todo:
            self.statusBar().showMessage("Every paragraph is rendered and up to date.", 5000)
            return
        self._render([p.id for p in self.project.speech() if p.id in todo])

    def _render(self, pids: list[str]) -> None:
        if self.info is None:
            return
        self.script_panel.commit_text()
        if not pids:
            self.show_error("the script is empty: type something to say")
            return
        self.show_error("")
        self.transport.stop()
        self.follow = True
        self.queue.render(pids)
        self._set_engine_state("rendering")
        self._update_buttons()

    def cancel(self) -> None:
        if self.queue.busy:
            self.queue.cancel()
            self._set_engine_state("cancelling…")

    def _on_paragraph_state(self, pid: str, state: str) -> None:
        if pid in self.project:
            self.script_panel.set_state(pid, state, 0 if state == "rendering" else None)
        if state == "rendering":
            self.selection.select_paragraph(pid)
        self._update_buttons()

    def _on_progress(self, pid: str, frames: int, max_frames: int, eta: float) -> None:
        self.progress.setRange(0, max_frames)
        self.progress.setValue(frames)
        self.progress.setFormat(f"¶{self._number(pid)}: frame {frames} of ≤{max_frames} · {frames * FRAME_SECONDS:.1f} s")
        self.script_panel.progress[pid] = int(100 * frames / max(max_frames, 1))

    def _on_overall(self, finished: int, total: int, eta: float, chapter: str | None, chapter_eta: float) -> None:
        parts = [f"{finished}/{total} ¶"] if total > 1 else []
        if chapter and eta > 0:
            parts.append(f"“{chapter}” ETA ≤ {chapter_eta:.0f} s")
        parts.append(f"ETA ≤ {eta:.0f} s")
        self.eta_label.setText(" · ".join(parts))

    def _on_done(self, done: Done) -> None:
        self.sampler.record_seed(done.seed)
        if not self.queue.busy:  # the queue hears `done` first and may already have said it is idle
            self._show_ready()
        self.statusBar().showMessage(
            f"Rendered {len(done.frames)} frames ({len(done.audio) / done.sample_rate:.2f} s) in {done.elapsed:.2f} s, "
            f"seed {done.seed}, first audio after {done.first_audio_latency * 1000:.0f} ms", 10_000)

    def _on_idle(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if self.queue.finished else 0)
        total = self.queue.total
        self.progress.setFormat(f"{self.queue.finished} of {total} paragraph{'s' if total != 1 else ''} rendered"
                                if total else "idle")
        self.eta_label.setText("")
        self._show_ready()
        self._update_buttons()

    def _show_ready(self) -> None:
        self._set_engine_state(f"ready · last seed {self.sampler.state.seed}")

    # ---- playback and inspection ------------------------------------------------------------------

    def _on_transport(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        if playing:
            self._playhead_timer.start()
        else:
            self._playhead_timer.stop()
            for pane in self.panes:
                pane.set_playhead(None)

    def _follow_playback(self) -> None:
        self.transport.poll()
        pos = self.transport.position if self.transport.playing else None
        for pane in self.panes:
            pane.set_playhead(pos)

    def _on_pane_clicked(self, seconds: float, modifiers) -> None:
        self.selection.set_cursor(seconds)
        self.selection.set_range(None)

    def _on_latent_clicked(self, seconds: float, modifiers) -> None:
        hit = self.timeline.frame_at(seconds)
        if hit is None:
            return
        seg, frame = hit
        self.selection.select_paragraph(seg.paragraph_id)
        self.selection.select_frame(FrameRef(seg.paragraph_id, frame.index))
        self.play_selected_frame()

    def play_selected_frame(self) -> None:
        ref = self.selection.frame
        seg = self.timeline.segment_of(ref.paragraph_id) if ref else None
        if seg is not None and ref.index < len(seg.frames):
            self.transport.play_frame(seg.frame_start(ref.index), FRAME_SECONDS)

    def _on_hover(self, hit) -> None:
        if hit is None:
            self._on_selection("frame")
            return
        seg = self.timeline.segment_of(hit[0])
        self.inspector.show_frame(seg, seg.frames[hit[1]] if seg and hit[1] < len(seg.frames) else None)

    def _on_selection(self, what: str) -> None:
        if what == "frame":
            ref = self.selection.frame
            seg = self.timeline.segment_of(ref.paragraph_id) if ref else None
            ok = seg is not None and ref.index < len(seg.frames)
            self.inspector.show_frame(seg if ok else None, seg.frames[ref.index] if ok else None)
        elif what == "range":
            self.play_selection_button.setEnabled(self.selection.range is not None)

    def fit_timeline(self) -> None:
        self.follow = True
        self._fit_if_following()

    def _fit_if_following(self) -> None:
        if self.follow:
            self.lane.setXRange(0.0, max(self.timeline.duration, 1.0), padding=0.01)

    # ---- model ------------------------------------------------------------------------------------

    def open_model(self, model: str | None) -> None:
        """Load a model folder (None: the built-in default model) on the engine thread. Once it has loaded
        it is the model the studio opens with next time; if it cannot be loaded the current one stays."""
        self._asked_model = (model,)
        self.bridge.load_model(model)

    def _on_loaded(self, info: ModelInfo) -> None:
        if self._asked_model is not None:
            self.settings.model, self._asked_model = self._asked_model[0], None
        self.info = info
        with self.projects.not_an_edit():
            if self.settings.sampler_model != info.name:  # keep the user's tuning for the same model
                self.sampler.apply_defaults(info.default_params)
                self.settings.sampler_model = info.name
            self.sampler_panel.apply_model(info.unsupported)
            self.voice_panel.apply_model(info)
        self.script_panel.voices = info.voices
        self.latents.set_acoustic_dim(info.acoustic_dim)
        self.inspector.acoustic_levels = info.acoustic_levels
        self.timeline.sample_rate = info.sample_rate
        self.update_title()
        self.model_label.setText(f"model: {info.name} ({info.parameters / 1e6:.2f} M, {info.model_hash[:8]})")
        self.device_label.setText(f"device: {info.device}")
        self.banner.setVisible(not info.trained)
        self.banner.setText(f"<b>{info.name}</b> has {info.note}. It is a placeholder until the trained "
                            "built-in model ships.")
        self._set_engine_state("ready")
        self._update_buttons()

    def _on_load_failed(self, message: str) -> None:
        self._asked_model = None
        if self.info is None:
            self._set_engine_state("no model")
            self.show_error(f"The model could not be loaded: {message}")
        else:  # the engine keeps the model it had
            self._set_engine_state("ready")
            self.show_error(f"The model could not be loaded: {message}. Still using {self.info.name}.")
        self._update_buttons()

    # ---- helpers ----------------------------------------------------------------------------------

    def _number(self, pid: str) -> int:
        return self.project.index_of(pid) + 1 if pid in self.project else 0

    def _set_engine_state(self, text: str) -> None:
        self.engine_label.setText(f"engine: {text}")

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    def _update_buttons(self) -> None:
        ready, busy = self.info is not None, self.queue.busy
        self.render_button.setEnabled(ready)
        self.render_all_button.setEnabled(ready)
        self.cancel_button.setEnabled(busy)
        self.play_selection_button.setEnabled(self.selection.range is not None)

    def set_theme(self, theme: str) -> None:
        app = QtWidgets.QApplication.instance()
        apply_theme(app, theme)
        for pane in self.panes:
            style_pane(pane, theme)
        self.inspector.set_theme(theme)
        self.settings.theme = theme

    # ---- layout persistence -------------------------------------------------------------------------

    _SPLITTERS = (("splitter_state", "splitter"), ("left_state", "left"), ("panes_state", "pane_splitter"))

    def _restore_layout(self) -> None:
        s = self.settings
        if s.window_geometry:
            self.restoreGeometry(QtCore.QByteArray.fromHex(s.window_geometry.encode()))
        if s.window_state:
            self.restoreState(QtCore.QByteArray.fromHex(s.window_state.encode()))
        for key, attr in self._SPLITTERS:
            if getattr(s, key):
                getattr(self, attr).restoreState(QtCore.QByteArray.fromHex(getattr(s, key).encode()))

    def collect_settings(self) -> Settings:
        s = self.settings
        s.text = self.editor.toPlainText()
        s.sampler = self.sampler.to_dict()
        s.voice = self.voice_panel.voice
        s.gap_seconds = self.timeline.gap
        s.chapter_gap_seconds = self.timeline.chapter_gap
        s.window_geometry = bytes(self.saveGeometry().toHex()).decode()
        s.window_state = bytes(self.saveState().toHex()).decode()
        for key, attr in self._SPLITTERS:
            setattr(s, key, bytes(getattr(self, attr).saveState().toHex()).decode())
        return s

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802
        self.script_panel.commit_text()
        if not self.projects.closing():
            event.ignore()
            return
        self.transport.stop()
        self.queue.cancel()
        self.closing.emit()
        super().closeEvent(event)

