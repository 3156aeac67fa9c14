"""Projects in the window: save and reopen, the unsaved-changes, recovery and autosave questions
(real dialogs, answered by clicking), stale re-render, undo of a render, and the export dialog."""

import json

import numpy as np
import pytest
import soundfile as sf
from PySide6 import QtCore, QtWidgets

from studio.loudness import integrated_loudness, true_peak_db
from studio.project_actions import ask
from studio.project_files import AUTOSAVE, LOCK, MANIFEST, ProjectFolder

SCRIPT = "# Intro\n\nHost: Welcome.\n\nGuest: Thanks.\n\n# Part two\n\nHost: Bye."


def _render_all(qtbot, w, button="render_all_button"):
    with qtbot.waitSignal(w.queue.idle, timeout=30_000):
        qtbot.mouseClick(getattr(w, button), QtCore.Qt.LeftButton)


@pytest.fixture
def real_questions():
    """Real modal questions for the test's windows; "Discard" again before pytest-qt closes them."""
    windows = []

    def use(w):
        windows.append(w)
        w.projects.ask = lambda title, text, buttons, default: ask(w, title, text, buttons, default)

    yield use
    for w in windows:
        w.projects.ask = lambda title, text, buttons, default: "Discard"


def _answer(button_text, seen=None):
    """Click a button of the next modal question (the dialog is real: Qt runs it modally)."""
    def click():
        box = QtWidgets.QApplication.activeModalWidget()
        if box is None:
            QtCore.QTimer.singleShot(50, click)
            return
        if seen is not None:
            seen.append(box.text())
        next(b for b in box.buttons() if b.text() == button_text).click()
    QtCore.QTimer.singleShot(50, click)


def test_save_then_open_gives_the_same_project(qtbot, make_studio, tmp_path):
    w = make_studio(text=SCRIPT, sampler={"max_seconds": 0.4}).window
    _render_all(qtbot, w)
    assert "Untitled •" in w.windowTitle()
    assert w.projects.save_as(str(tmp_path / "episode"))
    folder = tmp_path / "episode.timbre"
    assert (folder / MANIFEST).exists() and "episode — Timbre Studio" in w.windowTitle()
    saved = {p.id: [t.id for t in p.takes] for p in w.project.paragraphs}
    audio = w.timeline.audio()
    assert str(folder.resolve()) == w.settings.recent_projects[0]
    assert w.projects.new()  # saved: no question
    assert w.project.paragraphs == [] and w.timeline.duration == 0
    assert w.projects.open(str(folder))
    assert {p.id: [t.id for t in p.takes] for p in w.project.paragraphs} == saved
    np.testing.assert_array_equal(w.timeline.audio(), audio)
    assert w.editor.toPlainText() == SCRIPT and [c.title for c in w.timeline.chapters] == ["Intro", "Part two"]
    assert "•" not in w.windowTitle()


def test_unsaved_changes_are_asked_about_and_cancel_keeps_the_window(qtbot, make_studio, real_questions):
    studio = make_studio(text="One.", sampler={"max_seconds": 0.4})
    w = studio.window
    real_questions(w)
    _render_all(qtbot, w)
    seen = []
    _answer("Cancel", seen)
    assert not w.close()  # still open
    assert "Save the changes to this untitled project?" in seen[0] and w.isVisible()
    folder = w.projects.session.folder.path
    _answer("Discard")
    assert w.close()
    assert not folder.exists()  # an untitled project the user discarded leaves nothing behind


def test_work_survives_a_crash_and_is_recovered(qtbot, make_studio, real_questions):
    first = make_studio(text="Before the crash.", sampler={"max_seconds": 0.4}, name="crash")
    w = first.window
    _render_all(qtbot, w)
    w.editor.setPlainText("Before the crash.\n\nTyped after the render.")
    w.script_panel.commit_text()
    w.projects.autosave()  # (the 30 s timer, sooner)
    folder = w.projects.session.folder
    takes = [t.id for t in w.project.paragraphs[0].takes]
    # the crash: the process is gone without closing; its lock stays behind with a dead pid
    lock = json.loads((folder.path / LOCK).read_text())
    lock["pid"] = 2**22 + 12345
    (folder.path / LOCK).write_text(json.dumps(lock))
    w.projects.closing = lambda: True  # the dead app never gets to clean up
    first.bridge.shutdown()
    w.close()
    second = make_studio(name="crash").window
    real_questions(second)
    seen = []
    _answer("Recover", seen)
    assert second.projects.offer_recovery()
    assert "did not close properly" in seen[0] and "untitled project" in seen[0]
    assert second.editor.toPlainText() == "Before the crash.\n\nTyped after the render."
    assert [t.id for t in second.project.paragraphs[0].takes] == takes
    assert second.projects.session.folder.path == folder.path and second.projects.session.dirty


def test_opening_a_project_with_a_newer_autosave_offers_it(qtbot, make_studio, tmp_path, real_questions):
    w = make_studio(text="Saved text.", sampler={"max_seconds": 0.4}).window
    _render_all(qtbot, w)
    w.projects.save_as(str(tmp_path / "ep.timbre"))
    w.editor.setPlainText("Saved text.\n\nNever saved by hand.")
    w.script_panel.commit_text()
    w.projects.autosave()
    assert (tmp_path / "ep.timbre" / AUTOSAVE).exists()
    w.projects.session.dirty = False  # as if the app had died here
    w.projects.session.close(discard_untitled=False)
    real_questions(w)
    _answer("Open the automatic save")
    assert w.projects.open(str(tmp_path / "ep.timbre"))
    assert w.editor.toPlainText().endswith("Never saved by hand.") and w.projects.session.dirty


def test_a_project_open_elsewhere_is_refused(make_studio, tmp_path):
    import os

    w = make_studio().window
    folder = ProjectFolder(tmp_path / "busy.timbre")
    folder.save("Hi.", w.project, {})
    (folder.path / LOCK).write_text(json.dumps({"pid": os.getppid(), "host": __import__("socket").gethostname()}))
    assert not w.projects.open(str(folder.path))
    assert "open in another Timbre Studio window" in w.error_label.text()


def test_render_what_changed_renders_exactly_the_changed_paragraphs(qtbot, make_studio):
    w = make_studio(text="One.\n\nTwo.\n\nThree.", sampler={"max_seconds": 0.4}).window
    _render_all(qtbot, w)
    w.editor.setPlainText("One.\n\nTwo, rewritten.\n\nThree.")
    w.script_panel.commit_text()
    rendered = []
    w.queue.state.connect(lambda pid, s: rendered.append(w.project.index_of(pid)) if s == "rendering" else None)
    with qtbot.waitSignal(w.queue.idle, timeout=30_000):
        w.render_stale()
    assert rendered == [1]
    assert [len(p.takes) for p in w.project.paragraphs] == [1, 2, 1]
    assert w.project.stale_paragraphs() == []


def test_undo_removes_a_render_and_redo_brings_it_back(qtbot, make_studio):
    w = make_studio(text="One.", sampler={"max_seconds": 0.4}).window
    _render_all(qtbot, w)
    _render_all(qtbot, w)
    para = w.project.paragraphs[0]
    first, second = para.takes
    w.editor.setFocus()
    qtbot.keyClick(w.editor, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    assert para.takes == [first] and para.current is first
    qtbot.keyClick(w.editor, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier | QtCore.Qt.ShiftModifier)
    assert para.current is second
    assert w.undo_action.text() == "Undo render ¶1"


def test_export_dialog_writes_a_normalised_episode_with_chapters_and_subtitles(qtbot, make_studio, tmp_path):
    from studio.audio_tags import read_flac_chapters
    from studio.export_dialog import ExportDialog

    w = make_studio(text=SCRIPT, sampler={"max_seconds": 1.2}).window
    _render_all(qtbot, w)
    dialog = ExportDialog(w)
    qtbot.addWidget(dialog)
    dialog.path.setText(str(tmp_path / "show.flac"))
    dialog.loudness.setCurrentIndex(dialog.loudness.findData(-16.0))
    dialog.depth.setCurrentIndex(1)
    dialog.per_chapter.setChecked(True)
    with qtbot.waitSignal(dialog.finished_export, timeout=60_000) as blocker:
        qtbot.mouseClick(dialog.export_button, QtCore.Qt.LeftButton)
    result = blocker.args[0]
    assert not isinstance(result, str), result
    audio, sr = sf.read(tmp_path / "show.flac", dtype="float32")
    assert abs(integrated_loudness(audio, sr) + 16.0) <= 0.5 and true_peak_db(audio, sr) <= -0.95
    assert [t for _, t in read_flac_chapters(tmp_path / "show.flac")] == ["Intro", "Part two"]
    assert (tmp_path / "show.srt").exists() and (tmp_path / "show.vtt").exists()
    assert sorted(p.name for p in tmp_path.glob("show-0*.flac")) == ["show-01-intro.flac", "show-02-part-two.flac"]
    assert "LUFS" in dialog.status.text()
    dialog.path.setText(str(tmp_path / "missing" / "x.wav"))
    qtbot.mouseClick(dialog.export_button, QtCore.Qt.LeftButton)
    assert "does not exist" in dialog.status.text()


def test_a_loaded_models_defaults_are_not_an_edit_and_only_compared_settings_outdate_takes(qtbot, make_studio):
    """When a model loads whose defaults the sampler does not hold yet (a first launch, or another
    model), they are applied; that is not the user's edit, so an untouched project closes without a
    question. The user's own sampler changes are edits (the project saves its sampler settings), but only
    those a take is compared with mark it stale: a render's new seed, the lock or the length limit do not."""
    w = make_studio(text="One.", sampler={"max_seconds": 0.4}).window
    _render_all(qtbot, w)
    pid = w.project.paragraphs[0].id
    w.sampler.set(guidance=2.5)  # tuned for the model used before
    w.projects.session.dirty = False  # ... and saved
    w.settings.sampler_model = "another-model"
    w._on_loaded(w.info)  # what the engine bridge's `loaded` runs
    assert w.sampler.state.guidance == w.info.default_params.guidance != 2.5  # the model's defaults
    asked = []
    w.projects.ask = lambda title, text, buttons, default: asked.append(text) or "Cancel"
    assert not w.projects.session.dirty and "•" not in w.windowTitle()
    assert w.projects.confirm_discard() and not asked
    outdated = []
    w.project.defaults_changed.connect(lambda: outdated.append(w.script_panel.state_of(pid)))
    w.sampler.record_seed(w.sampler.state.seed + 1)  # what every render does
    w.sampler.set(seed_locked=True, max_seconds=0.5)
    assert outdated == [] and w.script_panel.state_of(pid) == "rendered"
    assert w.projects.session.dirty and "•" in w.windowTitle()  # saved with the project all the same
    assert w.projects.project_settings()["sampler"]["seed_locked"] is True
    w.projects.session.dirty = False
    w.sampler.set(steps=w.sampler.state.steps + 1)  # the user's tuning
    assert outdated == ["stale"] and w.script_panel.state_of(pid) == "stale"
    assert w.projects.session.dirty and "•" in w.windowTitle()
    assert not w.projects.confirm_discard() and asked == ["Save the changes to this untitled project?"]
    w.projects.session.dirty = False
    other = "preset:aurora"
    w.voice_panel.set_presets([("Aurora", other)])
    w.voice_panel.choose(other)  # the default voice is saved with the project too
    assert w.projects.session.dirty and w.projects.project_settings()["voice"] == other


def test_changing_the_pauses_in_preferences_is_a_saved_edit(qtbot, make_studio, tmp_path):
    """The pauses between paragraphs and before chapters are saved with the project, so changing them
    marks it changed (closing asks); the same value again, or opening a project with other pauses, does not."""
    from studio.dialogs import PreferencesDialog

    w = make_studio(text="One.\n\nTwo.").window
    assert w.projects.save_as(str(tmp_path / "episode"))
    assert not w.projects.session.dirty
    dialog = PreferencesDialog(w.settings, w)
    qtbot.addWidget(dialog)
    dialog.apply(w)  # nothing changed
    assert not w.projects.session.dirty and "•" not in w.windowTitle()
    dialog.gap.setValue(w.timeline.gap + 0.5)
    dialog.chapter_gap.setValue(2.5)
    dialog.apply(w)
    assert w.projects.session.dirty and "•" in w.windowTitle()
    assert w.projects.save()
    gaps = (w.timeline.gap, w.timeline.chapter_gap)
    assert w.projects.new()
    w.timeline.set_gap(0.1, 0.2)
    w.projects.session.dirty = False
    assert w.projects.open(str(tmp_path / "episode.timbre"))
    assert (w.timeline.gap, w.timeline.chapter_gap) == gaps and not w.projects.session.dirty
