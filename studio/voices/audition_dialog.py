"""Blind audition: choose two or more voices and a line of the brand script; each voice renders the
same line with the same seed; listen to "A", "B", "C"... and pick the best; only then are the names
shown, and the chosen one can become the voice."""

from __future__ import annotations

import random
from collections.abc import Callable

from PySide6 import QtCore, QtWidgets

from engine.api import SamplingParams, SynthesisRequest
from engine.voices.preset import VoicePreset
from studio.engine_bridge import EngineBridge
from studio.voices.audition import Audition, Contender
from studio.voices.params import preset_params
from studio.voices.presentation import preset_title

BLIND = "?"


class AuditionDialog(QtWidgets.QDialog):
    """``play_audio(audio, sample_rate)`` asks the studio to play a take; ``applied(preset)`` makes the
    chosen voice the project's voice."""

    play_audio = QtCore.Signal(object, int)
    applied = QtCore.Signal(object)  # VoicePreset

    def __init__(self, bridge: EngineBridge, presets: list[VoicePreset], base_params: Callable[[], SamplingParams],
                 text: str = "", parent=None, rng: random.Random | None = None) -> None:
        super().__init__(parent)
        self.bridge, self.base_params, self.rng = bridge, base_params, rng or random.Random()
        self.audition: Audition | None = None
        self.rows: dict[str, tuple[QtWidgets.QLabel, QtWidgets.QPushButton, QtWidgets.QPushButton,
                                   QtWidgets.QLabel]] = {}
        self.setWindowTitle("Blind audition")
        self.setObjectName("audition")
        self.resize(720, 520)
        self._build(presets, text)
        self._update()

    def _build(self, presets: list[VoicePreset], text: str) -> None:
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(QtWidgets.QLabel("Voices to compare (two or more):"))
        self.choices = QtWidgets.QListWidget(objectName="audition_voices")
        self.choices.setMaximumHeight(140)
        for p in presets:
            item = QtWidgets.QListWidgetItem(preset_title(p))
            item.setData(QtCore.Qt.UserRole, p)
            item.setFlags(item.flags() | QtCore.Qt.ItemIsUserCheckable)
            item.setCheckState(QtCore.Qt.Unchecked)
            self.choices.addItem(item)
        lay.addWidget(self.choices)
        form = QtWidgets.QFormLayout()
        self.text = QtWidgets.QLineEdit(text, objectName="audition_text",
                                        placeholderText="a line of the brand script")
        self.seed = QtWidgets.QSpinBox(objectName="audition_seed", maximum=2**31 - 1)
        self.seed.setValue(self.rng.randrange(2**31))
        form.addRow("Line", self.text)
        form.addRow("Seed (the same for every voice)", self.seed)
        lay.addLayout(form)
        self.render_button = QtWidgets.QPushButton("Render the line with each voice", objectName="audition_render")
        lay.addWidget(self.render_button)
        self.grid_box = QtWidgets.QGroupBox("Listen, then pick the best — the names are revealed after your pick")
        self.grid = QtWidgets.QGridLayout(self.grid_box)
        lay.addWidget(self.grid_box, 1)
        self.status = QtWidgets.QLabel(objectName="audition_status", wordWrap=True)
        lay.addWidget(self.status)
        buttons = QtWidgets.QHBoxLayout()
        self.apply_button = QtWidgets.QPushButton("Use the chosen voice", objectName="audition_apply")
        close = QtWidgets.QPushButton("Close")
        buttons.addStretch(1)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(close)
        lay.addLayout(buttons)
        self.choices.itemChanged.connect(lambda item: self._update())
        self.text.textChanged.connect(lambda: self._update())
        self.render_button.clicked.connect(self.start)
        self.apply_button.clicked.connect(self.apply)
        close.clicked.connect(self.reject)

    # ---- the audition -----------------------------------------------------------------------------

    def checked(self) -> list[VoicePreset]:
        items = (self.choices.item(i) for i in range(self.choices.count()))
        return [it.data(QtCore.Qt.UserRole) for it in items if it.checkState() == QtCore.Qt.Checked]

    def check(self, preset_ids: list[str]) -> None:
        for i in range(self.choices.count()):
            item = self.choices.item(i)
            item.setCheckState(QtCore.Qt.Checked if item.data(QtCore.Qt.UserRole).id in preset_ids
                               else QtCore.Qt.Unchecked)

    def start(self) -> None:
        """Shuffle the checked voices into labels and render the line with each (one seed)."""
        text, seed = self.text.text().strip(), self.seed.value()
        audition = Audition.shuffled(self.checked(), text, seed, self.rng)
        self.audition = audition
        base = self.base_params()
        for c in audition.contenders:
            try:
                params = preset_params(c.preset, base, seed=seed, keep_trajectory=False)
                request = SynthesisRequest(text, c.preset.voice_ref, params).validated()
            except Exception as e:  # EngineError: bad stored params or an empty line
                audition.render_failed(c.label, str(e))
                continue
            self.bridge.call(lambda engine, r=request: engine.render(r),
                             lambda done, a=audition, lab=c.label: a.rendered(lab, done.audio, done.sample_rate,
                                                                              done.seed),
                             lambda message, a=audition, lab=c.label: a.render_failed(lab, message))
        audition.changed.connect(self._update)
        self._build_rows(audition)
        self._update()

    def pick(self, label: str) -> None:
        if self.audition is not None:
            self.audition.pick(label)

    def apply(self) -> None:
        if self.audition is not None and self.audition.winner is not None:
            self.applied.emit(self.audition.winner)
            self.accept()

    def play(self, label: str) -> None:
        c = self.audition.contender(label) if self.audition else None
        if c is not None and c.audio is not None:
            self.play_audio.emit(c.audio, c.sample_rate)

    # ---- the rows ---------------------------------------------------------------------------------

    def _build_rows(self, audition: Audition) -> None:
        while self.grid.count():
            w = self.grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.rows.clear()
        for r, c in enumerate(audition.contenders):
            label = QtWidgets.QLabel(f"<b>{c.label}</b>", objectName=f"audition_label_{c.label}")
            play = QtWidgets.QPushButton(f"▶ Play {c.label}", objectName=f"audition_play_{c.label}")
            choose = QtWidgets.QPushButton(f"Pick {c.label}", objectName=f"audition_pick_{c.label}")
            name = QtWidgets.QLabel(BLIND, objectName=f"audition_name_{c.label}")
            play.clicked.connect(lambda _=False, lab=c.label: self.play(lab))
            choose.clicked.connect(lambda _=False, lab=c.label: self.pick(lab))
            for col, w in enumerate((label, play, choose, name)):
                self.grid.addWidget(w, r, col)
            self.rows[c.label] = (label, play, choose, name)

    def _row_text(self, c: Contender) -> str:
        a = self.audition
        assert a is not None
        if c.error:
            return f"could not render: {c.error}" if a.revealed else "could not render"
        if c.audio is None:
            return "rendering…"
        if not a.revealed:
            return BLIND
        return preset_title(c.preset) + ("  ← your pick" if c.label == a.picked else "")

    def _update(self) -> None:
        a = self.audition
        n = len(self.checked())
        self.render_button.setEnabled(n >= 2 and bool(self.text.text().strip()))
        self.apply_button.setEnabled(a is not None and a.winner is not None)
        if a is None:
            self.status.setText("Check two or more voices, write a line, then render." if n < 2 else
                                f"{n} voices: render the line with each.")
            return
        for c in a.contenders:
            _, play, choose, name = self.rows[c.label]
            play.setEnabled(c.audio is not None)
            choose.setEnabled(c.audio is not None and not a.revealed)
            name.setText(self._row_text(c))
        if a.revealed:
            self.status.setText(f"You picked {a.picked}: {a.winner.name if a.winner else ''}. "
                                f"Every voice used seed {a.seed}.")
        elif a.ready:
            self.status.setText("All rendered with the same seed: listen to each and pick the best.")
        else:
            self.status.setText("Rendering…")
