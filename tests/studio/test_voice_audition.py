"""Blind audition in the real window: the same line and seed rendered with each preset on the engine
thread, shown as A/B/C with the names hidden until the pick; the reveal maps each label to the preset
that really spoke it; the chosen voice can be applied."""

import random

import numpy as np
from PySide6 import QtCore, QtWidgets

from engine.api import SynthesisRequest
from helpers import make_preset
from studio.voices.params import preset_params

LINE = "Acme: sound that fits."


def _visible_text(dialog):
    """Every text the audition's rows show (the checklist of voices to compare aside)."""
    widgets = dialog.grid_box.findChildren(QtWidgets.QLabel) + dialog.grid_box.findChildren(QtWidgets.QPushButton)
    texts = [w.text() for w in widgets] + [dialog.grid_box.title()]
    return " ".join(texts + [dialog.status.text()])


def test_blind_audition_hides_names_until_the_pick_then_reveals_the_right_ones(qtbot, make_studio):
    studio = make_studio(sampler={"max_seconds": 0.8})
    w = studio.window
    lib = w.voices.library
    for i, name in enumerate(("Aurora", "Boreas", "Cirrus")):
        make_preset(lib, w.info, name, seed=i, params={"max_seconds": 0.8})
    w.voices.panel.refresh()
    dialog = w.voices.open_audition()
    dialog.rng = random.Random(5)
    assert not dialog.render_button.isEnabled()
    dialog.check(["aurora", "boreas", "cirrus"])
    dialog.text.setText(LINE)
    dialog.seed.setValue(777)
    qtbot.mouseClick(dialog.render_button, QtCore.Qt.LeftButton)
    a = dialog.audition
    qtbot.waitUntil(lambda: a.ready, timeout=30_000)
    assert not any(c.error for c in a.contenders), [c.error for c in a.contenders]
    assert [c.label for c in a.contenders] == ["A", "B", "C"]
    assert not np.array_equal(a.contender("A").audio, a.contender("B").audio)  # the voices differ
    assert {c.seed for c in a.contenders} == {777}  # one seed for every voice
    shown = _visible_text(dialog)
    assert not any(name in shown for name in ("Aurora", "Boreas", "Cirrus")), shown
    assert dialog.rows["A"][3].text() == "?" and not dialog.apply_button.isEnabled()
    with qtbot.waitSignal(dialog.play_audio) as played:
        qtbot.mouseClick(dialog.rows["B"][1], QtCore.Qt.LeftButton)
    np.testing.assert_array_equal(played.args[0], a.contender("B").audio)

    qtbot.mouseClick(dialog.rows["C"][2], QtCore.Qt.LeftButton)  # pick C
    assert a.picked == "C" and a.revealed
    for c in a.contenders:
        assert c.preset.name in dialog.rows[c.label][3].text()
    assert "your pick" in dialog.rows["C"][3].text() and not dialog.rows["A"][2].isEnabled()
    # The label really is that preset: a direct render with it and the same seed is identical.
    c = a.contender("A")
    request = SynthesisRequest(LINE, c.preset.voice_ref,
                               preset_params(c.preset, w.sampler.params_for_render(), seed=777, keep_trajectory=False))
    direct = studio.bridge.worker.call(lambda engine: engine.render(request))
    np.testing.assert_array_equal(direct.audio, c.audio)

    qtbot.mouseClick(dialog.apply_button, QtCore.Qt.LeftButton)
    assert w.voice_panel.voice == a.winner.voice_ref == w.project.default_voice
