"""The sampler panel: steps, guidance, temperature, semantic sampling, seed (lock or draw), length.

Bound two-way to a SamplerModel: edits write the model; model changes (a render's seed, a model's
defaults) update the widgets with their signals blocked, so nothing echoes back.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from engine.api import EngineError, SamplingParams
from studio.models.sampler import SamplerModel, SamplerState

SEED_MAX = 2**31 - 1


class SamplerPanel(QtWidgets.QGroupBox):
    def __init__(self, model: SamplerModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Sampler", parent)
        self.model = model
        form = QtWidgets.QFormLayout(self)
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.AllNonFixedFieldsGrow)

        self.steps = QtWidgets.QSpinBox(objectName="steps")
        self.steps.setRange(*SamplingParams.STEPS_RANGE)
        self.steps.setToolTip("Euler steps of the flow-matching ODE per frame. More steps: smoother "
                              "acoustic values, slower. Voxtral uses 7.")
        form.addRow("Steps", self.steps)

        self.guidance = self._double("guidance", SamplingParams.GUIDANCE_RANGE, 0.05, 2,
                                     "Classifier-free guidance a: v = a*v_cond + (1-a)*v_uncond. "
                                     "1.0 turns guidance off (half the head's work).")
        form.addRow("Guidance α", self.guidance)
        self.temperature = self._double("temperature", SamplingParams.TEMPERATURE_RANGE, 0.05, 2,
                                        "Scale of the flow's start noise: lower is steadier, higher more varied.")
        form.addRow("Temperature", self.temperature)
        self.semantic_temperature = self._double("semantic_temperature", (0.0, 5.0), 0.1, 2,
                                                 "0 = greedy semantic tokens (the reference); above 0 samples "
                                                 "them: more varied takes, fewer words understood.")
        self.semantic_temperature.setSpecialValueText("greedy")
        form.addRow("Semantic temp.", self.semantic_temperature)
        self.top_k = QtWidgets.QSpinBox(objectName="semantic_top_k")
        self.top_k.setRange(0, 8192)
        self.top_k.setSpecialValueText("all")
        self.top_k.setToolTip("When sampling semantic tokens, keep only the k most likely (0 = all).")
        form.addRow("Top-k", self.top_k)
        self.max_seconds = self._double("max_seconds", SamplingParams.MAX_SECONDS_RANGE, 1.0, 1,
                                        "Stop after this much audio even if speech has not ended.")
        self.max_seconds.setSuffix(" s")
        form.addRow("Max length", self.max_seconds)

        seed_row = QtWidgets.QHBoxLayout()
        self.seed = QtWidgets.QSpinBox(objectName="seed")
        self.seed.setRange(0, SEED_MAX)
        self.seed.setToolTip("The seed of the last render. Lock it to reproduce that take exactly.")
        self.lock = QtWidgets.QCheckBox("Lock", objectName="seed_lock")
        self.lock.setToolTip("Locked: every render uses this seed. Unlocked: a new seed each time.")
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.lock)
        form.addRow("Seed", seed_row)

        self.steps.valueChanged.connect(lambda v: self._write(steps=v))
        self.guidance.valueChanged.connect(lambda v: self._write(guidance=v))
        self.temperature.valueChanged.connect(lambda v: self._write(temperature=v))
        self.semantic_temperature.valueChanged.connect(lambda v: self._write(semantic_temperature=v))
        self.top_k.valueChanged.connect(lambda v: self._write(semantic_top_k=v))
        self.max_seconds.valueChanged.connect(lambda v: self._write(max_seconds=v))
        self.seed.valueChanged.connect(lambda v: self._write(seed=v, seed_locked=True))
        self.lock.toggled.connect(lambda v: self._write(seed_locked=v))
        model.changed.connect(self._show)
        self._show(model.state)
        self._tips = {name: w.toolTip() for name, w in self.widgets().items()}

    def widgets(self) -> dict[str, QtWidgets.QWidget]:
        """The control of each SamplingParams field, by field name."""
        return {"steps": self.steps, "guidance": self.guidance, "temperature": self.temperature,
                "semantic_temperature": self.semantic_temperature, "semantic_top_k": self.top_k,
                "max_seconds": self.max_seconds, "seed": self.seed}

    def apply_model(self, unsupported: tuple[tuple[str, str], ...]) -> None:
        """Disable what the active model cannot do, with the reason in the tooltip."""
        reasons = dict(unsupported)
        for name, widget in self.widgets().items():
            widget.setEnabled(name not in reasons)
            widget.setToolTip(f"Not available with this model: {reasons[name]}" if name in reasons
                              else self._tips[name])

    def _double(self, name: str, bounds: tuple[float, float], step: float, decimals: int,
                tip: str) -> QtWidgets.QDoubleSpinBox:
        box = QtWidgets.QDoubleSpinBox(objectName=name)
        box.setRange(*bounds)
        box.setSingleStep(step)
        box.setDecimals(decimals)
        box.setToolTip(tip)
        return box

    def _write(self, **values) -> None:
        try:
            self.model.set(**values)
        except EngineError:
            self._show(self.model.state)  # out of range: show the model's value again

    def _show(self, s: SamplerState) -> None:
        pairs = ((self.steps, s.steps), (self.guidance, s.guidance), (self.temperature, s.temperature),
                 (self.semantic_temperature, s.semantic_temperature), (self.top_k, s.semantic_top_k),
                 (self.max_seconds, s.max_seconds), (self.seed, s.seed))
        for widget, value in pairs:
            with QtCore.QSignalBlocker(widget):
                widget.setValue(value)
        with QtCore.QSignalBlocker(self.lock):
            self.lock.setChecked(s.seed_locked)
