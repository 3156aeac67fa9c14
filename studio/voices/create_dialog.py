"""New voice from clips: add clips, read what the analysis found, choose the 5-15 s the prompt is
made from on the waveform, describe the voice, record the speaker's consent (or say there is none),
then Create. Preparing and encoding run on the engine thread."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtGui, QtWidgets

from engine.voices.preset import VoicePreset
from studio.engine_bridge import EngineBridge
from studio.voices.forms import ConsentBox, MetadataForm
from studio.voices.presentation import issue_text, source_text
from studio.voices.reference_view import ReferenceView

if TYPE_CHECKING:
    from engine.voices.clips import PreparedReference

CLIP_FILTER = "Audio (*.wav *.flac *.ogg *.mp3 *.aiff *.aif);;All files (*)"


class CreateVoiceDialog(QtWidgets.QDialog):
    """``created(preset)`` fires once the preset is in the library (the dialog then closes)."""

    created = QtCore.Signal(object)  # VoicePreset
    prepared_changed = QtCore.Signal()  # a preparation finished (or failed)

    def __init__(self, bridge: EngineBridge, params: dict[str, Any] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.bridge, self.params = bridge, dict(params or {})
        self.setWindowTitle("New voice from clips")
        self.setObjectName("create_voice")
        self.setAcceptDrops(True)
        self.resize(980, 640)
        self.clips: list[Path] = []
        self.prepared: PreparedReference | None = None
        self.preset: VoicePreset | None = None
        self._generation = 0  # only the newest preparation's answer counts
        self._busy = ""
        self._build()
        self._update()

    # ---- construction -------------------------------------------------------------------------

    def _build(self) -> None:
        left = QtWidgets.QVBoxLayout()
        head = QtWidgets.QHBoxLayout()
        head.addWidget(QtWidgets.QLabel("<b>Reference clips</b> (WAV, FLAC, OGG, MP3 — or drop files here)"), 1)
        self.add_button = QtWidgets.QPushButton("Add clips…", objectName="add_clips")
        self.remove_button = QtWidgets.QPushButton("Remove", objectName="remove_clip")
        head.addWidget(self.add_button)
        head.addWidget(self.remove_button)
        left.addLayout(head)
        self.clip_list = QtWidgets.QListWidget(objectName="clip_list")
        self.clip_list.setMaximumHeight(96)
        left.addWidget(self.clip_list)
        self.issues = QtWidgets.QLabel(objectName="clip_issues", wordWrap=True, textFormat=QtCore.Qt.RichText)
        left.addWidget(self.issues)
        self.view = ReferenceView()
        left.addWidget(self.view, 1)
        self.segment_label = QtWidgets.QLabel(objectName="segment_label")
        left.addWidget(self.segment_label)
        self.transcript = QtWidgets.QPlainTextEdit(objectName="voice_transcript")
        self.transcript.setPlaceholderText("Optional: what is said in the chosen segment")
        self.transcript.setFixedHeight(48)
        left.addWidget(self.transcript)

        right = QtWidgets.QVBoxLayout()
        self.meta = MetadataForm()
        self.consent = ConsentBox()
        right.addWidget(self.meta)
        right.addWidget(self.consent)
        right.addStretch(1)

        cols = QtWidgets.QHBoxLayout()
        cols.addLayout(left, 3)
        cols.addLayout(right, 2)
        self.status = QtWidgets.QLabel(objectName="create_status", wordWrap=True)
        self.buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Cancel)
        self.create_button = self.buttons.addButton("Create", QtWidgets.QDialogButtonBox.AcceptRole)
        self.create_button.setObjectName("create")
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(cols, 1)
        lay.addWidget(self.status)
        lay.addWidget(self.buttons)

        self.add_button.clicked.connect(lambda: self.add_clips())
        self.remove_button.clicked.connect(self._remove_selected)
        self.view.segment_edited.connect(self._on_segment)
        self.meta.changed.connect(self._update)
        self.consent.changed.connect(self._update)
        self.buttons.rejected.connect(self.reject)
        self.create_button.clicked.connect(self.create)

    # ---- clips --------------------------------------------------------------------------------

    def add_clips(self, paths: list[str | Path] | None = None) -> None:
        """Add clip files (asks with a file dialog when none are given) and prepare them again."""
        if paths is None:
            chosen, _ = QtWidgets.QFileDialog.getOpenFileNames(self, "Add reference clips", "", CLIP_FILTER)
            paths = list(chosen)
        new = [Path(p) for p in paths if Path(p) not in self.clips]
        if new:
            self.clips.extend(new)
            self._prepare(None)

    def remove_clip(self, index: int) -> None:
        del self.clips[index]
        self._prepare(None)

    def _remove_selected(self) -> None:
        row = self.clip_list.currentRow()
        if 0 <= row < len(self.clips):
            self.remove_clip(row)

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:  # noqa: N802 (Qt names)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.add_clips(paths)

    # ---- preparation (engine thread) ------------------------------------------------------------

    def _prepare(self, selection: tuple[float, float] | None) -> None:
        self._generation += 1
        generation, paths = self._generation, list(self.clips)
        self._show_clips()
        if not paths:
            self.prepared = None
            self.issues.clear()
            self.view.clear_reference()
            self._busy = ""
            self._update()
            self.prepared_changed.emit()
            return
        self._busy = "Analysing the clips…" if selection is None else "Preparing the chosen segment…"
        self._update()
        self.bridge.call(lambda engine: engine.prepare_reference(paths, selection=selection),
                         lambda prepared: self._on_prepared(generation, prepared),
                         lambda message: self._on_prepare_failed(generation, selection, message))

    def _on_prepared(self, generation: int, prepared: PreparedReference) -> None:
        if generation != self._generation:
            return
        self.prepared, self._busy = prepared, ""
        self._show_clips(prepared)
        self.issues.setText("<br>".join(issue_text(i) for i in prepared.issues) or
                            f"<span style='color:#1e8449'>No problems found in "
                            f"{prepared.speech_seconds:.1f} s of speech.</span>")
        self.view.show_reference(prepared.full, prepared.sample_rate, prepared.segment)
        self._update()
        self.prepared_changed.emit()

    def _on_prepare_failed(self, generation: int, selection: tuple[float, float] | None, message: str) -> None:
        if generation != self._generation:
            return
        self._busy = ""
        if selection is not None and self.prepared is not None:
            # A range that does not fit (too short, too long): keep the last good one and say why.
            self.view.show_reference(self.prepared.full, self.prepared.sample_rate, self.prepared.segment)
            self._update()
            self.status.setText(f"<span style='color:#c0392b'>{escape(message)}</span>")
        else:
            self.prepared = None
            self.issues.setText(f"<span style='color:#c0392b'>{escape(message)}</span>")
            self.view.clear_reference()
            self._update()
        self.prepared_changed.emit()

    def _on_segment(self, t0: float, t1: float) -> None:
        if self.prepared is not None and (round(t0, 2), round(t1, 2)) != tuple(round(t, 2) for t in self.prepared.segment):
            self._prepare((t0, t1))

    def _show_clips(self, prepared: PreparedReference | None = None) -> None:
        facts = {s.path: source_text(s) for s in prepared.sources} if prepared else {}
        self.clip_list.clear()
        for path in self.clips:
            self.clip_list.addItem(facts.get(path, path.name))

    # ---- create -------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Clips are being analysed or the voice encoded on the engine thread."""
        return bool(self._busy)

    def waiting_for(self) -> list[str]:
        """What Create still waits for, in words (empty: it can run)."""
        wait = []
        if self._busy:
            wait.append(self._busy.rstrip("…").lower())
        if self.prepared is None:
            wait.append("clips with usable speech")
        elif self.prepared.blocking:
            wait.append("clips without the problems in red")
        if not self.meta.values()["name"]:
            wait.append("a name")
        if not self.consent.complete:
            wait.append("the speaker's consent (" + ", ".join(self.consent.missing()) +
                        ") or the “no consent record” choice")
        return wait

    def create(self) -> None:
        if self.waiting_for() or self.prepared is None:
            return
        prepared, meta, consent = self.prepared, self.meta.values(), self.consent.consent()
        name = meta.pop("name")
        meta.update(transcript=self.transcript.toPlainText().strip(), params=dict(self.params))
        self._busy = "Encoding the voice…"
        self._update()
        self.bridge.call(lambda engine: engine.create_voice(prepared, name, consent=consent, **meta),
                         self._on_created, self._on_create_failed)

    def _on_created(self, preset: VoicePreset) -> None:
        self.preset, self._busy = preset, ""
        self.created.emit(preset)
        self.accept()

    def _on_create_failed(self, message: str) -> None:
        self._busy = ""
        self._update()
        self.status.setText(f"<span style='color:#c0392b'>The voice was not created: {escape(message)}</span>")

    def _update(self) -> None:
        wait = self.waiting_for()
        self.create_button.setEnabled(not wait)
        self.remove_button.setEnabled(bool(self.clips) and not self._busy)
        if self.prepared is not None:
            t0, t1 = self.prepared.segment
            self.segment_label.setText(f"The voice is made from {t0:.1f}–{t1:.1f} s ({t1 - t0:.1f} s): "
                                       "drag the shaded region or its edges to choose another part.")
        else:
            self.segment_label.clear()
        if self._busy:
            self.status.setText(self._busy)
        else:
            self.status.setText("Create waits for: " + "; ".join(wait) if wait else "Ready to create.")
