"""New voice from clips, in the real window: real clip files made here (flite speech, written as a
stereo 16-bit WAV and a clipped float32 FLAC, and a silent clip), analysed and encoded on the engine
thread by the tiny model; the analysis is shown, the region re-prepares, consent is required or
explicitly declined, and Create puts the preset in the library."""

import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf
from PySide6 import QtCore, QtGui, QtWidgets

SPEECH = ("Welcome to the Acme hour. Today we talk about sound, about voices, and about the small "
          "things that make a brand feel warm and familiar to the people who hear it every day.")


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """speech.wav (stereo 16-bit 16 kHz), clipped.flac (mono float32, hard clipped), silence.wav."""
    if not shutil.which("flite"):
        pytest.skip("flite is not installed (scripts/setup.sh installs it)")
    folder = tmp_path_factory.mktemp("clips")
    raw = folder / "raw.wav"
    subprocess.run(["flite", "-voice", "slt", "-t", SPEECH, "-o", str(raw)], check=True)
    audio, sr = sf.read(raw, dtype="float32")
    sf.write(folder / "speech.wav", np.stack([audio, 0.8 * audio], axis=1), sr, subtype="PCM_16")
    sf.write(folder / "clipped.flac", np.clip(audio * 12, -1, 1)[: 4 * sr], sr, subtype="PCM_24")
    sf.write(folder / "silence.wav", np.zeros(2 * sr, np.float32), sr, subtype="FLOAT")
    return folder


def _prepared(qtbot, dialog, action):
    with qtbot.waitSignal(dialog.prepared_changed, timeout=30_000):
        action()


def _create(qtbot, dialog):
    """Click Create and wait for the preset (or fail with the dialog's own message)."""
    qtbot.mouseClick(dialog.create_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.preset is not None or "not created" in dialog.status.text(), timeout=30_000)
    assert dialog.preset is not None, dialog.status.text()
    return dialog.preset


def _drop(dialog, paths):
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(p)) for p in paths])
    dialog.dropEvent(QtGui.QDropEvent(QtCore.QPointF(5, 5), QtCore.Qt.CopyAction, mime, QtCore.Qt.LeftButton,
                                      QtCore.Qt.NoModifier))


def test_create_a_voice_from_clips_with_consent(qtbot, make_studio, clips):
    studio = make_studio()
    w = studio.window
    dialog = w.voices.open_create()
    qtbot.waitExposed(dialog)
    _prepared(qtbot, dialog, lambda: dialog.add_clips([clips / "silence.wav"]))
    assert not dialog.create_button.isEnabled()
    assert dialog.prepared is None or dialog.prepared.blocking
    assert "#c0392b" in dialog.issues.text()  # a blocking problem, in red, in plain words
    _prepared(qtbot, dialog, lambda: dialog.remove_clip(0))

    _prepared(qtbot, dialog, lambda: _drop(dialog, [clips / "speech.wav", clips / "clipped.flac"]))
    prepared = dialog.prepared
    assert prepared is not None and not prepared.blocking
    facts = [dialog.clip_list.item(i).text() for i in range(dialog.clip_list.count())]
    assert facts[0].startswith("speech.wav — 16 kHz · 2 channels · PCM_16")
    assert facts[1].startswith("clipped.flac — 16 kHz · mono · PCM_24")
    assert "clipping" in {i.code for i in prepared.issues}
    assert next(i.advice for i in prepared.issues if i.code == "clipping") in dialog.issues.text()
    t0, t1 = prepared.segment
    assert 5.0 - 1e-6 <= t1 - t0 <= 15.0 + 1e-6
    assert dialog.view.segment == pytest.approx((t0, t1), abs=1e-6)

    # Move the region: the reference is prepared again from the user's choice.
    new = (0.5, 6.5) if t0 > 1.0 else (t0 + 1.0, t0 + 7.0)
    _prepared(qtbot, dialog, lambda: dialog.view.set_segment(*new))
    assert dialog.prepared.segment == pytest.approx(new, abs=0.05)
    assert f"{new[0]:.1f}–{new[1]:.1f} s" in dialog.segment_label.text()
    # A range too short is explained, and the last good one stays.
    _prepared(qtbot, dialog, lambda: dialog.view.set_segment(new[0], new[0] + 2.0))
    assert "choose at least 5 s" in dialog.status.text()
    assert dialog.prepared.segment == pytest.approx(new, abs=0.05)
    assert dialog.view.segment == pytest.approx(dialog.prepared.segment, abs=1e-6)

    # Create waits for a name and the consent record (or the explicit "no consent record").
    dialog.meta.description.setText("a warm narrator")  # (any edit replaces the message above)
    assert not dialog.create_button.isEnabled() and "a name" in dialog.status.text()
    qtbot.keyClicks(dialog.meta.name, "Aurora")
    dialog.meta.language.setText("en")
    dialog.meta.tags.setText("warm, narration")
    dialog.meta.brand.setText("Acme")
    assert not dialog.create_button.isEnabled() and "consent" in dialog.status.text()
    dialog.consent.declined.setChecked(True)
    assert dialog.create_button.isEnabled()
    dialog.consent.fill("Ada Lovelace", "I agree that Acme may make a synthetic voice from my recordings.")
    assert dialog.create_button.isEnabled()
    dialog.consent.speaker.clear()
    assert not dialog.create_button.isEnabled() and "speaker" in dialog.status.text()
    dialog.consent.speaker.setText("Ada Lovelace")

    with qtbot.waitSignal(dialog.created, timeout=1000) as created:
        preset = _create(qtbot, dialog)
    assert created.args[0] is preset and dialog.result() == QtWidgets.QDialog.Accepted
    stored = w.voices.library.get(preset.id)
    assert stored.name == "Aurora" and stored.consent.speaker == "Ada Lovelace"
    assert stored.tags == ("warm", "narration") and stored.brand == "Acme" and stored.family == w.info.family
    assert stored.params["steps"] == w.sampler.state.steps
    panel = w.voices.panel
    assert panel.current().id == preset.id and "no consent record" not in panel.list.currentItem().text()
    assert w.voice_panel.combo.findData(preset.voice_ref) >= 0


def test_a_voice_without_consent_is_created_only_when_declined_explicitly(qtbot, make_studio, clips):
    studio = make_studio()
    w = studio.window
    dialog = w.voices.open_create()
    _prepared(qtbot, dialog, lambda: dialog.add_clips([clips / "speech.wav"]))
    dialog.meta.name.setText("Nameless")
    assert not dialog.create_button.isEnabled()
    dialog.consent.declined.setChecked(True)
    assert not dialog.consent.speaker.isEnabled()
    assert _create(qtbot, dialog).consent is None
    assert "no consent record" in w.voices.panel.list.currentItem().text()
