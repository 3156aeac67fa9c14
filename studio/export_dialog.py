"""The episode export dialog: file and format, sample rate and bit depth, loudness target with a
true-peak ceiling, chapters, subtitles, one file per chapter. The export runs off the GUI thread."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from engine.api import EngineError
from studio.episode_export import LOUDNESS_TARGETS, ExportOptions, ExportResult, export_episode, mp3_supported

if TYPE_CHECKING:
    from studio.main_window import MainWindow

NO_NORMALISATION = "leave the level as rendered"


class ExportDialog(QtWidgets.QDialog):
    finished_export = QtCore.Signal(object)  # ExportResult, or an error message (str)

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.w = window
        self.setWindowTitle("Export episode")
        self.setObjectName("export_dialog")
        form = QtWidgets.QFormLayout(self)
        row = QtWidgets.QHBoxLayout()
        name = window.projects.session.folder.name if window.projects.session.folder else "episode"
        self.path = QtWidgets.QLineEdit(str(Path.home() / f"{name}.flac"), objectName="export_path")
        browse = QtWidgets.QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form.addRow("File", row)
        self.rate = QtWidgets.QComboBox(objectName="export_rate")
        native = window.timeline.sample_rate
        self.rate.addItem(f"{native} Hz (the model's)", native)
        for r in (22_050, 44_100, 48_000):
            if r != native:
                self.rate.addItem(f"{r} Hz", r)
        form.addRow("Sample rate", self.rate)
        self.depth = QtWidgets.QComboBox(objectName="export_depth")
        self.depth.addItem("16-bit", 16)
        self.depth.addItem("24-bit", 24)
        form.addRow("Bit depth (WAV/FLAC)", self.depth)
        self.loudness = QtWidgets.QComboBox(objectName="export_loudness")
        for label, value in LOUDNESS_TARGETS.items():
            self.loudness.addItem(label, value)
        self.loudness.addItem(NO_NORMALISATION, None)
        form.addRow("Loudness", self.loudness)
        self.ceiling = QtWidgets.QDoubleSpinBox(objectName="export_ceiling", suffix=" dBTP", decimals=1)
        self.ceiling.setRange(-6.0, 0.0)
        self.ceiling.setValue(-1.0)
        form.addRow("True-peak ceiling", self.ceiling)
        self.chapters = QtWidgets.QCheckBox("Chapter markers (from # headings)", objectName="export_chapters",
                                            checked=True)
        self.srt = QtWidgets.QCheckBox("SRT", objectName="export_srt", checked=True)
        self.vtt = QtWidgets.QCheckBox("WebVTT", objectName="export_vtt", checked=True)
        self.per_chapter = QtWidgets.QCheckBox("Also one file per chapter", objectName="export_per_chapter")
        subs = QtWidgets.QHBoxLayout()
        subs.addWidget(self.srt)
        subs.addWidget(self.vtt)
        form.addRow("", self.chapters)
        form.addRow("Subtitles", subs)
        form.addRow("", self.per_chapter)
        note = "" if mp3_supported() else " (MP3 is not available on this system)"
        form.addRow(QtWidgets.QLabel(f"The format follows the file name: .wav, .flac or .mp3{note}."))
        self.status = QtWidgets.QLabel(objectName="export_status", wordWrap=True)
        form.addRow(self.status)
        self.buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Close)
        self.export_button = self.buttons.addButton("Export", QtWidgets.QDialogButtonBox.AcceptRole)
        self.export_button.setObjectName("export_run")
        self.buttons.rejected.connect(self.reject)
        self.buttons.accepted.connect(self.start)
        form.addRow(self.buttons)
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        self._future: concurrent.futures.Future | None = None
        self._poll = QtCore.QTimer(self, interval=50)
        self._poll.timeout.connect(self._check)

    def options(self) -> ExportOptions:
        subtitles = tuple(k for k, box in (("srt", self.srt), ("vtt", self.vtt)) if box.isChecked())
        return ExportOptions(Path(self.path.text()).expanduser(), self.rate.currentData(), self.depth.currentData(),
                             self.loudness.currentData(), self.ceiling.value(), self.chapters.isChecked(),
                             subtitles, self.per_chapter.isChecked())

    def start(self) -> None:
        """Export in the background; the dialog stays open and reports what it wrote."""
        if self._future is not None:
            return
        options = self.options()
        if not options.path.parent.is_dir():
            self.status.setText(f"The folder {options.path.parent} does not exist.")
            return
        self.export_button.setEnabled(False)
        self.status.setText("Exporting…")
        self._future = self._pool.submit(export_episode, self.w.timeline, options)
        self._poll.start()

    def _check(self) -> None:
        if self._future is None or not self._future.done():
            return
        self._poll.stop()
        future, self._future = self._future, None
        self.export_button.setEnabled(True)
        try:
            result: ExportResult = future.result()
        except (EngineError, OSError, ValueError) as e:
            self.status.setText(f"Not exported: {e}")
            self.finished_export.emit(str(e))
            return
        lines = [f"Wrote {len(result.files)} file(s), {result.duration / 60:.1f} min:"]
        lines += [f"  {f.name}" for f in result.files[:8]] + (["  …"] if len(result.files) > 8 else [])
        if result.loudness:
            r = result.loudness
            lines.append(f"Loudness {r.before_lufs:.1f} → {r.after_lufs:.1f} LUFS, true peak {r.true_peak_db:.1f} dBTP"
                         + (" (limited)" if r.limited else ""))
        self.status.setText("\n".join(lines))
        self.finished_export.emit(result)

    def _browse(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export episode", self.path.text(),
                                                        "Audio (*.flac *.wav *.mp3)")
        if path:
            self.path.setText(path)

    def done(self, result: int) -> None:  # noqa: D401 (Qt override)
        self._pool.shutdown(wait=True)
        super().done(result)
