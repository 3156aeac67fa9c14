"""The studio window driven like a user would: real engine thread, tiny model, offscreen Qt, and
playback through the ALSA file device."""

import json
from pathlib import Path

import numpy as np
from PySide6 import QtCore

from conftest import click_data
from engine.api import FRAME_SECONDS
from studio.views.paragraph_lane import COLOURS


def _render_all(qtbot, w, timeout=30_000):
    with qtbot.waitSignal(w.queue.idle, timeout=timeout):
        qtbot.mouseClick(w.render_all_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: w.latents.frames_shown == sum(len(s.frames) for s in w.timeline.segments), timeout=5000)


def _played(path):
    return np.frombuffer(path.read_bytes(), dtype="<i2").astype(np.float32) / 32768


def _assert_played(played, expected):
    """The device may prepend silence (buffer priming): align on the first sound, then compare. A first
    sample near the threshold can fall on either side of it once written as 16-bit, so the lag is the best of
    the estimate and its neighbours."""
    estimate = int(np.argmax(np.abs(played) > 1e-3)) - int(np.argmax(np.abs(expected) > 1e-3))
    lags = [lag for lag in range(estimate - 2, estimate + 3) if lag >= 0 and len(played) >= lag + len(expected)]
    assert lags, f"played {len(played)} samples, expected {len(expected)} after {estimate} of priming"
    lag = min(lags, key=lambda lag: np.abs(played[lag:lag + len(expected)] - expected).max())
    np.testing.assert_allclose(played[lag:lag + len(expected)], expected, atol=2 / 32768)


def test_window_shows_model_device_and_the_untrained_warning(make_studio):
    w = make_studio().window
    assert "tiny-random" in w.model_label.text() and "cpu" in w.device_label.text()
    assert "ready" in w.engine_label.text() and "tiny-random" in w.windowTitle()
    assert w.banner.isVisible() and "noise, not speech" in w.banner.text()
    assert w.render_button.isEnabled() and not w.cancel_button.isEnabled()
    assert w.voice_panel.combo.currentText() == "default" and w.voice_panel.combo.isEnabled()


def test_render_all_fills_every_pane_per_paragraph(qtbot, make_studio):
    studio = make_studio(text="First paragraph.\n\nSecond one.", sampler={"max_seconds": 0.8, "steps": 4},
                         gap_seconds=0.5)
    w = studio.window
    states = []
    w.queue.state.connect(lambda pid, s: states.append((w.project.index_of(pid), s)))
    _render_all(qtbot, w)
    a, b = w.project.paragraphs
    assert states == [(0, "queued"), (1, "queued"), (0, "rendering"), (0, "done"), (1, "rendering"), (1, "done")]
    assert len(a.takes) == len(b.takes) == 1
    segs = w.timeline.segments
    assert [s.paragraph_id for s in segs] == [a.id, b.id] and segs[1].start == segs[0].end + 0.5
    qtbot.waitUntil(lambda: w.spectrogram.complete, timeout=5000)  # computed a chunk per tick
    for para in (a, b):
        take = para.current
        heat = w.latents.heatmap_of(para.id)
        np.testing.assert_allclose(heat, np.stack([f.acoustic for f in take.frames]).T)  # K x frames
        assert w.spectrogram.image_of(para.id).shape[1] == 1 + (len(take.audio) - 512) // 160
    assert w.lane.blocks() == [(s.paragraph_id, s.start, s.end) for s in segs]
    w.selection.select_paragraph(b.id)  # recolours one block
    qtbot.waitUntil(lambda: w.lane.colour_of(b.id) == COLOURS["selected"], timeout=2000)
    assert w.lane.colour_of(a.id) == COLOURS["normal"]
    ends = [s.start + sum(not f.end_of_speech for f in s.frames) * FRAME_SECONDS for s in segs if s.frames[-1].end_of_speech]
    assert w.latents.end_markers() == ends
    qtbot.waitUntil(lambda: w.waveform.points_shown > 0, timeout=2000)
    x, y = w.waveform.envelope()
    assert x.min() < 0.1 and x.max() > segs[1].start
    assert w.sampler_panel.seed.value() == b.current.seed  # the seed is shown after every render
    assert "2 of 2 paragraphs rendered" in w.progress.format()
    assert w.engine_label.text().endswith(f"last seed {b.current.seed}")  # the render's, not the one before
    assert "rendered · 1 take" in w.script_panel.list.item(0).text()


def test_frames_stream_into_the_panes_and_cancel_stops_within_a_frame(qtbot, make_studio):
    from engine.api import FrameEvent

    studio = make_studio(text="A long paragraph. " * 30, sampler={"max_seconds": 60.0, "steps": 8})
    w = studio.window
    ticks, produced = [], []
    # counted on the engine thread as each frame is produced (not when the GUI gets to it)
    w.bridge._event.connect(lambda ticket, ev: produced.append(1) if isinstance(ev, FrameEvent) else None,
                            QtCore.Qt.DirectConnection)
    timer = QtCore.QTimer()
    timer.timeout.connect(lambda: ticks.append(w.queue.busy))
    timer.start(10)
    qtbot.mouseClick(w.render_button, QtCore.Qt.LeftButton)
    # the event loop keeps running while the engine thread renders: its timer ticks while the queue is
    # busy (waited for, not counted at one instant: 10 frames of the tiny model can take under 40 ms)
    qtbot.waitUntil(lambda: w.latents.frames_shown >= 10 and w.waveform.points_shown > 0 and sum(ticks) >= 5,
                    timeout=30_000)
    assert w.live.active and w.cancel_button.isEnabled() and w.timeline.segments[0].live
    with qtbot.waitSignal(w.queue.idle, timeout=10_000):
        qtbot.mouseClick(w.cancel_button, QtCore.Qt.LeftButton)
        at_cancel = len(produced)
    timer.stop()
    assert len(produced) - at_cancel <= 1  # the frame in flight may finish; no other
    assert not w.bridge.rendering and not w.queue.busy and not w.cancel_button.isEnabled()
    assert w.project.paragraphs[0].takes == [] and not w.live.active  # a cancelled render is not a take
    assert not w.error_label.isVisible()  # a cancel is not an error
    assert "idle" in w.progress.format() or "0 of 1" in w.progress.format()


def test_regenerate_adds_a_take_and_keeps_the_old_one(qtbot, make_studio):
    studio = make_studio(sampler={"max_seconds": 0.8})
    w = studio.window
    _render_all(qtbot, w)
    para = w.project.paragraphs[0]
    first = para.current
    _render_all(qtbot, w)
    assert len(para.takes) == 2 and para.takes[0] is first and para.current is not first
    assert para.current.number == 2 and para.current.seed != first.seed
    assert w.takes_panel.list.count() == 2 and w.takes_panel.list.item(0).text().startswith("✓ take 2")
    # choose the old one again: the timeline shows it
    w.takes_panel.list.setCurrentRow(1)
    qtbot.mouseClick(w.takes_panel.use_button, QtCore.Qt.LeftButton)
    assert para.current is first
    np.testing.assert_array_equal(w.timeline.audio(), first.audio)
    qtbot.mouseClick(w.takes_panel.delete_button, QtCore.Qt.LeftButton)
    assert para.takes == [t for t in para.takes if t is not first] and para.current.number == 2


def test_locked_seed_reproduces_the_take_exactly(qtbot, make_studio):
    studio = make_studio(sampler={"max_seconds": 0.8})
    w = studio.window
    _render_all(qtbot, w)
    qtbot.mouseClick(w.sampler_panel.lock, QtCore.Qt.LeftButton)
    _render_all(qtbot, w)
    t1, t2 = w.project.paragraphs[0].takes
    assert t1.seed == t2.seed
    np.testing.assert_array_equal(t1.audio, t2.audio)


def test_ab_swaps_the_audio_with_one_key(qtbot, make_studio, played_audio):
    studio = make_studio(sampler={"max_seconds": 0.8})
    w = studio.window
    _render_all(qtbot, w)
    _render_all(qtbot, w)
    para = w.project.paragraphs[0]
    a, b = para.current, para.takes[0]
    w.takes_panel.list.setCurrentRow(1)  # highlight take 1 (B); take 2 is chosen (A)
    qtbot.mouseClick(w.takes_panel.ab_button, QtCore.Qt.LeftButton)
    assert "hearing <b>A</b>" in w.takes_panel.ab_label.text()
    w.latents.setFocus()
    qtbot.keyClick(w.latents, QtCore.Qt.Key_B)
    assert para.current is b and "hearing <b>B</b>" in w.takes_panel.ab_label.text()
    np.testing.assert_array_equal(w.timeline.audio(), b.audio)
    qtbot.keyClick(w.latents, QtCore.Qt.Key_B)
    assert para.current is a
    played_audio.write_bytes(b"")
    w.transport.play(0.0)
    qtbot.waitUntil(lambda: not w.transport.playing, timeout=10_000)
    _assert_played(_played(played_audio), a.audio)


def test_zooming_one_pane_zooms_the_others(qtbot, make_studio):
    studio = make_studio(sampler={"max_seconds": 2.0})
    w = studio.window
    _render_all(qtbot, w)
    qtbot.waitUntil(lambda: not w._fit_soon.isActive(), timeout=2000)  # the render's last refit is done
    w.waveform.setXRange(0.4, 0.9, padding=0)
    qtbot.wait(50)
    for pane in (w.spectrogram, w.latents, w.lane):
        (t0, t1), _ = pane.getViewBox().viewRange()
        assert (t0, t1) == (0.4, 0.9)
    qtbot.mouseClick(w.fit_button, QtCore.Qt.LeftButton)
    (t0, t1), _ = w.latents.getViewBox().viewRange()
    assert t0 < 0.05 and t1 >= w.timeline.duration


def test_clicking_a_frame_inspects_it_and_plays_it(qtbot, make_studio, played_audio):
    studio = make_studio(sampler={"max_seconds": 2.0, "steps": 4})
    w = studio.window
    _render_all(qtbot, w)
    take = w.project.paragraphs[0].current
    click_data(qtbot, w.latents, 10.5 * FRAME_SECONDS, 3.0)  # inside frame 10
    assert w.selection.frame.index == 10
    frame = take.frames[10]
    assert "frame 10" in w.inspector.header.text() and f"semantic {frame.semantic_id}" in w.inspector.header.text()
    traj = [c.getData()[1] for c in w.inspector.curves]
    np.testing.assert_allclose(np.stack(traj, axis=1), frame.trajectory)  # steps + 1 points per dim
    assert len(w.inspector.curves) == 8 and len(traj[0]) == 5
    qtbot.waitUntil(lambda: not w.transport.playing and len(played_audio.read_bytes()) > 0, timeout=10_000)
    start = int(round((10 * FRAME_SECONDS - 0.16) * 16000))
    end = int(round((11 * FRAME_SECONDS + 0.16) * 16000))
    _assert_played(_played(played_audio), take.audio[start:end])  # the frame with 160 ms either side


def test_click_sets_the_cursor_drag_selects_and_play_selection_loops(qtbot, make_studio, played_audio):
    studio = make_studio(sampler={"max_seconds": 2.0})
    w = studio.window
    _render_all(qtbot, w)
    click_data(qtbot, w.waveform, 0.5, 0.0)
    assert abs(w.selection.cursor - 0.5) < 0.02
    w.selection.set_range(0.2, 0.6)
    assert w.play_selection_button.isEnabled()
    qtbot.mouseClick(w.loop_button, QtCore.Qt.LeftButton)
    assert w.transport.loop
    starts = []
    w.transport.state_changed.connect(lambda playing: starts.append(playing) if playing else None)
    qtbot.mouseClick(w.play_selection_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: len(starts) >= 3, timeout=10_000)  # the range came round again, twice
    qtbot.mouseClick(w.loop_button, QtCore.Qt.LeftButton)
    assert not w.transport.loop
    qtbot.waitUntil(lambda: not w.transport.playing, timeout=10_000)  # the last pass ends by itself
    # (the ALSA file device starts its file afresh for every stream: it holds the last pass)
    _assert_played(_played(played_audio), w.timeline.audio(0.2, 0.6))


def test_space_plays_and_pauses_outside_the_editor_and_types_inside_it(qtbot, make_studio, played_audio):
    studio = make_studio(sampler={"max_seconds": 0.8})
    w = studio.window
    _render_all(qtbot, w)
    w.editor.setFocus()
    qtbot.keyClick(w.editor, QtCore.Qt.Key_Space)
    assert w.editor.toPlainText().startswith(" ") and played_audio.read_bytes() == b""
    w.latents.setFocus()
    qtbot.keyClick(w.latents, QtCore.Qt.Key_Space)
    qtbot.waitUntil(lambda: len(played_audio.read_bytes()) >= 2 * 10 * 1280, timeout=10_000)
    qtbot.waitUntil(lambda: w.play_button.text() == "Play", timeout=10_000)  # ended by itself


def test_editing_a_paragraph_marks_it_stale(qtbot, make_studio):
    studio = make_studio(text="One.\n\nTwo.", sampler={"max_seconds": 0.4})
    w = studio.window
    _render_all(qtbot, w)
    w.editor.setPlainText("One.\n\nTwo, changed.")
    w.script_panel.commit_text()
    assert w.project.stale(w.project.paragraphs[1]) and not w.project.stale(w.project.paragraphs[0])
    assert "[stale" in w.script_panel.list.item(1).text()


def test_exports_reload_with_identical_content(qtbot, make_studio, tmp_path):
    import soundfile as sf

    from engine.frame_exports import load_frames_npz
    from engine.take_files import load_frames
    from studio import exports

    studio = make_studio(sampler={"max_seconds": 0.8, "steps": 2})
    w = studio.window
    _render_all(qtbot, w)
    take = w.project.paragraphs[0].current
    for name in ("take.wav", "take.flac"):
        audio, sr = sf.read(exports.export_take_audio(w, take, str(tmp_path / name)), dtype="float32")
        assert sr == 16000 and len(audio) == len(take.audio)
        np.testing.assert_allclose(audio, take.audio, atol=1 / 32767)
    frames, meta = load_frames(exports.export_take_latents(w, take, str(tmp_path / "take.safetensors")))
    assert meta["seed"] == take.seed and meta["params"]["steps"] == 2
    np.testing.assert_array_equal(np.stack([f.codes for f in frames]), np.stack([f.codes for f in take.frames]))
    arrays, meta = load_frames_npz(exports.export_take_latents(w, take, str(tmp_path / "take.npz")))
    np.testing.assert_array_equal(arrays["acoustic"], np.stack([f.acoustic for f in take.frames]))
    np.testing.assert_array_equal(arrays["trajectory"], np.stack([f.trajectory for f in take.frames]))
    csv_path = exports.export_take_latents(w, take, str(tmp_path / "take.csv"))
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("# timbre frames v1") and json.loads(lines[0].split(" ", 4)[4])["seed"] == take.seed
    rows = [line.split(",") for line in lines[2:]]
    assert len(rows) == len(take.frames)
    assert lines[1].split(",")[5] == "unit" and {r[5] for r in rows} == {""}  # the tiny model reads bytes
    np.testing.assert_allclose(np.array([r[6:14] for r in rows], dtype=np.float32),
                               np.stack([f.acoustic for f in take.frames]), rtol=1e-5)
    assert exports.export_take_latents(w, take, str(tmp_path / "take.txt")) is None
    assert ".safetensors, .npz or .csv" in w.error_label.text()
    whole, sr = sf.read(exports.export_timeline_audio(w, str(tmp_path / "all.wav")), dtype="float32")
    assert len(whole) == len(w.timeline.audio())


def test_dropped_text_file_becomes_the_script_and_bad_files_are_explained(qtbot, make_studio, tmp_path):
    studio = make_studio()
    w = studio.window
    good = tmp_path / "episode.md"
    good.write_text("# Intro\n\nWelcome to the show.\n\nSecond paragraph.", encoding="utf-8")
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(good))])
    from PySide6 import QtGui

    pos = QtCore.QPointF(10, 10)
    drop = QtGui.QDropEvent(pos, QtCore.Qt.CopyAction, mime, QtCore.Qt.LeftButton, QtCore.Qt.NoModifier)
    w.editor.dropEvent(drop)
    assert [p.text for p in w.project.paragraphs] == ["# Intro", "Welcome to the show.", "Second paragraph."]
    w.undo()  # the drop is one undoable step
    assert w.editor.toPlainText() == "Hello there."
    assert [p.text for p in w.project.paragraphs] == ["Hello there."]
    binary = tmp_path / "sound.txt"
    binary.write_bytes(b"RIFF\x00\x00\x00\x00WAVE")
    w.script_panel.open_file(str(binary))
    assert "not a text file" in w.error_label.text()
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    w.script_panel.open_file(str(latin))
    assert "not UTF-8" in w.error_label.text()
    assert [p.text for p in w.project.paragraphs] == ["Hello there."]  # nothing lost


def test_empty_script_is_a_clear_error_and_renders_nothing(qtbot, make_studio):
    studio = make_studio()
    w = studio.window
    w.editor.setPlainText("   \n ")
    qtbot.mouseClick(w.render_all_button, QtCore.Qt.LeftButton)
    assert w.error_label.isVisible() and "empty" in w.error_label.text()
    assert not w.queue.busy


def test_a_model_that_fails_to_load_is_explained(qtbot, make_studio):
    studio = make_studio(model="no-such-model", wait_loaded=False)
    w = studio.window
    qtbot.waitUntil(lambda: w.error_label.isVisible(), timeout=30_000)
    assert "unknown model 'no-such-model'" in w.error_label.text()
    assert not w.render_button.isEnabled() and "no model" in w.engine_label.text()


def test_what_a_model_cannot_do_is_disabled_with_the_reason(qtbot, make_studio, tmp_path):
    import dataclasses

    from engine.random_model import TINY, write_random_model

    cfg = dataclasses.replace(TINY, name="no-guidance", sampling=dataclasses.replace(
        TINY.sampling, unsupported=("guidance: trained without condition dropout",)))
    folder = write_random_model(tmp_path / "no-guidance", cfg)
    w = make_studio(model=str(folder)).window
    box = w.sampler_panel.guidance
    assert not box.isEnabled() and "trained without condition dropout" in box.toolTip()
    assert w.sampler_panel.steps.isEnabled()


def test_preferences_and_layout_survive_a_restart(qtbot, make_studio):
    first = make_studio(name="shared")
    w = first.window
    w.editor.setPlainText("Remember me.")
    w.sampler_panel.steps.setValue(5)
    w.latent_controls.cmap.setCurrentText("magma")
    w.latent_controls.low.setValue(-0.5)
    w.timeline.set_gap(1.25)
    w.set_theme("dark")
    w.resize(1000, 760)
    qtbot.wait(20)
    w.pane_splitter.setSizes([40, 260, 60, 200, 140])
    sizes = w.pane_splitter.sizes()
    w.close()
    saved = json.loads(first.settings_file.read_text())
    assert saved["text"] == "Remember me." and saved["sampler"]["steps"] == 5 and saved["theme"] == "dark"
    second = make_studio(name="shared").window
    assert second.editor.toPlainText() == "Remember me."
    assert second.sampler.state.steps == 5  # the same model keeps the user's tuning
    assert second.latent_controls.cmap.currentText() == "magma" and second.latents.levels == (-0.5, 1.0)
    assert second.timeline.gap == 1.25 and second.settings.theme == "dark"
    assert second.height() == 760  # (the offscreen screen is 800 px wide, so the width is clamped)
    assert second.pane_splitter.sizes() == sizes
    from PySide6 import QtGui, QtWidgets

    window_colour = QtWidgets.QApplication.instance().palette().color(QtGui.QPalette.Window)
    assert window_colour.lightness() < 80  # the dark theme is applied
    second.set_theme("light")


def test_preferences_dialog_applies_its_choices(qtbot, make_studio):
    from studio.dialogs import DEFAULT_OUTPUT, PreferencesDialog

    w = make_studio().window
    dialog = PreferencesDialog(w.settings, w)
    qtbot.addWidget(dialog)
    assert dialog.output.itemText(0) == DEFAULT_OUTPUT and dialog.output.count() >= 2  # the ALSA test device
    dialog.output.setCurrentIndex(1)
    dialog.gap.setValue(0.75)
    dialog.theme.setCurrentText("dark")
    dialog.apply(w)
    assert w.player.device == dialog.output.itemText(1) == w.settings.output_device
    assert w.timeline.gap == 0.75 and w.settings.theme == "dark"
    w.set_theme("light")


def test_shortcuts_dialog_lists_the_keys(qtbot, make_studio, monkeypatch):
    from PySide6 import QtWidgets

    from studio.window_menus import show_shortcuts

    shown = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "information", lambda parent, title, text: shown.append(text))
    show_shortcuts(make_studio().window)
    for key in ("Ctrl+Return", "Space", "Shift+Space", "Escape", "B", "L"):
        assert f"<b>{key}</b>" in shown[0]


def test_window_screenshot_is_a_real_picture(qtbot, make_studio, tmp_path):
    studio = make_studio(sampler={"max_seconds": 0.8})
    _render_all(qtbot, studio.window)
    qtbot.wait(100)
    path = tmp_path / "window.png"
    assert studio.window.grab().save(str(path))
    from PySide6 import QtGui

    img = QtGui.QImage(str(path))
    assert img.width() >= 800 and img.height() >= 600
    colours = {img.pixel(x, y) for x in range(0, img.width(), 37) for y in range(0, img.height(), 37)}
    assert len(colours) > 20  # panes, text and controls are drawn, not a blank window


def test_a_model_folder_opens_from_the_file_menu_and_a_bad_one_keeps_the_current_model(qtbot, make_studio, tmp_path):
    """File > Open model folder… (e.g. a voice fine-tune from `timbre train recordings`): the model loads on
    the engine thread, the window shows it and the studio opens with it next time; a folder that is not a
    model is named in the error and the model in use stays; "Use the built-in model" goes back."""
    import shutil

    folder = tmp_path / "my-voice"
    shutil.copytree(Path(__file__).resolve().parents[2] / "assets" / "tiny-random", folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "name": "my-voice"}))
    w = make_studio().window
    actions = {a.text(): a for a in w.menuBar().actions()[0].menu().actions()}
    assert {"Open model folder…", "Use the built-in model"} <= set(actions)
    w.open_model(str(folder))
    qtbot.waitUntil(lambda: "my-voice" in w.model_label.text(), timeout=30_000)
    assert w.settings.model == str(folder) and "ready" in w.engine_label.text()
    (tmp_path / "empty").mkdir()
    w.open_model(str(tmp_path / "empty"))
    qtbot.waitUntil(lambda: w.error_label.isVisible(), timeout=30_000)
    assert "could not be loaded" in w.error_label.text() and "Still using my-voice" in w.error_label.text()
    assert w.settings.model == str(folder) and "ready" in w.engine_label.text() and w.render_button.isEnabled()
    actions["Use the built-in model"].trigger()
    qtbot.waitUntil(lambda: "tiny-random" in w.model_label.text(), timeout=30_000)
    assert w.settings.model is None
