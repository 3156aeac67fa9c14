"""The first window, driven like a user would: real engine thread, tiny model, offscreen Qt,
and playback through the ALSA file device."""

import json

import numpy as np
import soundfile as sf
from PySide6 import QtCore

from engine.take_files import load_frames
from studio.models.take import RenderState


def _render(qtbot, studio, timeout=30_000):
    with qtbot.waitSignal(studio.bridge.done, timeout=timeout) as blocker:
        qtbot.mouseClick(studio.window.render_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: studio.window.latents.frames_shown == len(studio.window.take.frames), timeout=5000)
    return blocker.args[0]


def test_window_shows_model_device_and_the_untrained_warning(make_studio):
    w = make_studio().window
    assert "tiny-random" in w.model_label.text()
    assert "cpu" in w.device_label.text()
    assert "ready" in w.engine_label.text()
    assert w.banner.isVisible() and "noise, not speech" in w.banner.text()
    assert w.render_button.isEnabled() and not w.cancel_button.isEnabled()


def test_render_fills_waveform_and_latents_and_shows_the_seed(qtbot, make_studio):
    studio = make_studio(sampler={"max_seconds": 1.2, "steps": 4})
    w = studio.window
    done = _render(qtbot, studio)
    assert w.take.state is RenderState.DONE and len(done.frames) == 15
    assert w.sampler_panel.seed.value() == done.seed  # the seed is shown after every render
    np.testing.assert_array_equal(w.take.audio.samples, done.audio)
    image = w.latents.image()
    assert image.shape == (8, 15)  # K x frames
    np.testing.assert_allclose(image, np.stack([f.acoustic for f in done.frames]).T)
    qtbot.waitUntil(lambda: w.waveform.points_shown > 0 and w.waveform.envelope()[0][-1] > 1.15, timeout=2000)
    x, y = w.waveform.envelope()
    assert x[-1] <= len(done.audio) / 16000
    assert y.max() == np.abs(done.audio).max() or y.min() == -np.abs(done.audio).max()
    assert "RTF" in w.progress.format()


def test_frames_stream_into_the_panes_while_rendering_and_cancel_stops_it(qtbot, make_studio):
    studio = make_studio(text="A long paragraph. " * 30, sampler={"max_seconds": 60.0, "steps": 8})
    w = studio.window
    ticks = []
    timer = QtCore.QTimer()
    timer.timeout.connect(lambda: ticks.append(w.bridge.rendering))
    timer.start(10)
    qtbot.mouseClick(w.render_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: w.latents.frames_shown >= 10 and w.waveform.points_shown > 0, timeout=30_000)
    assert w.bridge.rendering and w.cancel_button.isEnabled()
    assert sum(ticks) >= 5  # the GUI event loop kept running during the render
    with qtbot.waitSignal(w.bridge.render_failed, timeout=10_000):
        qtbot.mouseClick(w.cancel_button, QtCore.Qt.LeftButton)
    timer.stop()
    n = len(w.take.frames)
    qtbot.wait(200)
    assert w.take.state is RenderState.CANCELLED and len(w.take.frames) == n < 750
    assert w.progress.format() == "cancelled" and not w.cancel_button.isEnabled()
    assert not w.error_label.isVisible()  # a cancel is not an error


def test_locked_seed_reproduces_the_take_exactly(qtbot, make_studio):
    studio = make_studio(sampler={"max_seconds": 0.8})
    w = studio.window
    first = _render(qtbot, studio)
    qtbot.mouseClick(w.sampler_panel.lock, QtCore.Qt.LeftButton)
    assert w.sampler.state.seed_locked
    second = _render(qtbot, studio)
    assert second.seed == first.seed
    np.testing.assert_array_equal(second.audio, first.audio)
    qtbot.mouseClick(w.sampler_panel.lock, QtCore.Qt.LeftButton)
    third = _render(qtbot, studio)
    assert third.seed != first.seed and not np.array_equal(third.audio, first.audio)


def test_sampler_edits_reach_the_engine(qtbot, make_studio):
    studio = make_studio(sampler={"max_seconds": 0.4})
    w = studio.window
    w.sampler_panel.steps.setValue(3)
    w.sampler_panel.seed.setValue(77)  # typing a seed locks it
    done = _render(qtbot, studio)
    assert done.request.params.steps == 3 and done.seed == 77
    assert done.frames[0].trajectory.shape == (4, 8)


def test_play_sends_the_take_to_the_audio_device(qtbot, make_studio, played_audio):
    studio = make_studio(sampler={"max_seconds": 0.8})
    w = studio.window
    done = _render(qtbot, studio)
    qtbot.mouseClick(w.play_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: not w.player.playing and w.play_button.text() == "Play", timeout=10_000)
    played = np.frombuffer(played_audio.read_bytes(), dtype="<i2").astype(np.float32) / 32768
    expected = np.clip(done.audio, -1, 1)
    # the device may prepend silence (buffer priming): align on the first sound, then compare
    lag = int(np.argmax(np.abs(played) > 1e-3)) - int(np.argmax(np.abs(expected) > 1e-3))
    assert 0 <= lag and len(played) >= lag + len(expected)
    np.testing.assert_allclose(played[lag:lag + len(expected)], expected, atol=2 / 32768)


def test_space_plays_outside_the_editor_and_types_inside_it(qtbot, make_studio, played_audio):
    studio = make_studio(sampler={"max_seconds": 0.4})
    w = studio.window
    _render(qtbot, studio)
    w.editor.setFocus()
    qtbot.keyClick(w.editor, QtCore.Qt.Key_Space)
    assert w.editor.toPlainText().startswith(" ") and played_audio.read_bytes() == b""
    w.latents.setFocus()
    qtbot.keyClick(w.latents, QtCore.Qt.Key_Space)
    qtbot.waitUntil(lambda: len(played_audio.read_bytes()) >= 2 * 5 * 1280, timeout=10_000)


def test_empty_text_is_a_clear_error_and_renders_nothing(qtbot, make_studio):
    studio = make_studio()
    w = studio.window
    w.editor.setPlainText("   \n ")
    qtbot.mouseClick(w.render_button, QtCore.Qt.LeftButton)
    assert w.error_label.isVisible() and "empty" in w.error_label.text()
    qtbot.wait(200)
    assert w.take.state is RenderState.EMPTY and not w.bridge.rendering


def test_a_model_that_fails_to_load_is_explained(qtbot, make_studio):
    studio = make_studio(model="no-such-model", wait_loaded=False)
    w = studio.window
    qtbot.waitUntil(lambda: w.error_label.isVisible(), timeout=30_000)
    assert "unknown model 'no-such-model'" in w.error_label.text()
    assert not w.render_button.isEnabled() and "no model" in w.engine_label.text()


def test_export_audio_and_latents(qtbot, make_studio, tmp_path):
    studio = make_studio(sampler={"max_seconds": 0.8, "steps": 2})
    w = studio.window
    done = _render(qtbot, studio)
    wav = w.export_audio(str(tmp_path / "take.flac"))
    audio, sr = sf.read(wav, dtype="float32")
    assert sr == 16000 and len(audio) == len(done.audio)
    np.testing.assert_allclose(audio, done.audio, atol=1 / 32767)
    frames, meta = load_frames(w.export_frames(str(tmp_path / "take.safetensors")))
    assert meta["seed"] == done.seed and meta["text"] == "Hello there."
    np.testing.assert_array_equal(np.stack([f.codes for f in frames]), np.stack([f.codes for f in done.frames]))
    assert w.export_audio(str(tmp_path / "take.mp4")) is None and ".wav or .flac" in w.error_label.text()


def test_text_sampler_and_layout_survive_a_restart(qtbot, make_studio):
    first = make_studio(name="shared")
    first.window.editor.setPlainText("Remember me.")
    first.window.sampler_panel.steps.setValue(5)
    first.window.resize(700, 520)
    first.window.close()
    saved = json.loads((first.settings_file).read_text())
    assert saved["text"] == "Remember me." and saved["sampler"]["steps"] == 5 and saved["window_geometry"]
    second = make_studio(name="shared")
    assert second.window.editor.toPlainText() == "Remember me."
    assert second.window.sampler.state.steps == 5  # the same model keeps the user's tuning
    assert (second.window.width(), second.window.height()) == (700, 520)


def test_shortcuts_dialog_lists_the_keys(qtbot, make_studio, monkeypatch):
    from PySide6 import QtWidgets

    shown = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "information", lambda parent, title, text: shown.append(text))
    make_studio().window.show_shortcuts()
    assert "Ctrl+Return" in shown[0] and "Space" in shown[0]


def test_window_screenshot_is_a_real_picture(qtbot, make_studio, tmp_path):
    studio = make_studio(sampler={"max_seconds": 0.8})
    _render(qtbot, studio)
    qtbot.wait(100)
    path = tmp_path / "window.png"
    assert studio.window.grab().save(str(path))
    from PySide6 import QtGui

    img = QtGui.QImage(str(path))
    assert img.width() >= 800 and img.height() >= 600
    colours = {img.pixel(x, y) for x in range(0, img.width(), 37) for y in range(0, img.height(), 37)}
    assert len(colours) > 20  # panes, text and controls are drawn, not a blank window
