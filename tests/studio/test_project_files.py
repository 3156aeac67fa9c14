"""Project folders: save and reopen identically, and never lose work to a crash or a damaged file."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from engine.api import SamplingParams
from studio.models.project import Project
from studio.project_files import AUTOSAVE, BACKUP, LOCK, MANIFEST, ProjectFileError, ProjectFolder

from helpers import make_done

SCRIPT = "# Chapter one\n\nAlice: Hello there.\n\nBob: Hi, Alice.\n\n# Chapter two\n\nThe end."


def _project():
    p = Project(SCRIPT)
    a, b = p.paragraphs[1], p.paragraphs[2]
    p.add_take(a.id, make_done("Hello there.", 0.8, seed=1, value=0.25))
    p.add_take(a.id, make_done("Hello there.", 0.4, seed=2, value=-0.125))
    p.choose_take(a.id, a.takes[0].id)
    p.add_take(b.id, make_done("Hi, Alice.", 0.4, seed=3, value=0.5))
    p.set_speaker_voice("Bob", "voice-b")
    p.set_paragraph_voice(a.id, "voice-a")
    return p


def _same(p1: Project, p2: Project):
    assert [x.id for x in p1.paragraphs] == [x.id for x in p2.paragraphs]
    assert p1.speakers == p2.speakers
    for a, b in zip(p1.paragraphs, p2.paragraphs):
        assert (a.text, a.voice, a.current_id) == (b.text, b.voice, b.current_id)
        assert len(a.takes) == len(b.takes)
        for t, u in zip(a.takes, b.takes):
            assert (t.id, t.number, t.text, t.voice, t.seed, t.params, t.model_hash, t.sample_rate, t.created) == (
                u.id, u.number, u.text, u.voice, u.seed, u.params, u.model_hash, u.sample_rate, u.created)
            np.testing.assert_array_equal(t.audio, u.audio)  # bit for bit (audio is kept on the 24-bit grid)
            for f, g in zip(t.frames, u.frames):
                np.testing.assert_array_equal(f.codes, g.codes)
                np.testing.assert_array_equal(f.acoustic, g.acoustic)
                np.testing.assert_array_equal(f.trajectory, g.trajectory)


def test_save_and_reopen_give_an_identical_project(tmp_path):
    p = _project()
    folder = ProjectFolder(tmp_path / "episode.timbre")
    settings = {"sampler": {"steps": 5}, "gap_seconds": 0.4}
    folder.save(SCRIPT, p, settings)
    data = json.loads((folder.path / MANIFEST).read_text())
    assert data["format_version"] == 1 and data["format"] == "timbre-project"
    snap = ProjectFolder(folder.path).load()
    assert snap.text == SCRIPT and snap.settings == settings and snap.message == ""
    _same(p, snap.project)
    assert len(list((folder.path / "takes").glob("*.flac"))) == 3


def test_a_save_killed_half_way_leaves_the_previous_version(tmp_path):
    p = _project()
    folder = ProjectFolder(tmp_path / "episode.timbre")
    folder.save(SCRIPT, p, {})
    before = (folder.path / MANIFEST).read_bytes()
    # a separate process starts saving a changed project and is killed inside the manifest write
    code = f"""
import os, sys
sys.path[:0] = {sys.path!r}
import engine.atomic as atomic
from studio.models.project import Project
from studio.project_files import ProjectFolder
real = atomic.write_text_atomic
def dying(target, text):
    with atomic.atomic_path(target) as tmp:
        tmp.write_text(text[: len(text) // 2])
        os._exit(9)  # killed half way, before the rename
import studio.project_files as pf
pf.write_text_atomic = dying
ProjectFolder({str(folder.path)!r}).save("Changed.", Project("Changed."), {{}})
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 9, r.stderr
    assert (folder.path / MANIFEST).read_bytes() == before
    _same(p, ProjectFolder(folder.path).load().project)


def test_a_damaged_manifest_opens_from_the_last_good_copy(tmp_path):
    p = _project()
    folder = ProjectFolder(tmp_path / "episode.timbre")
    folder.save(SCRIPT, p, {})
    folder.save(SCRIPT, p, {"second": True})  # the first save becomes project.json.bak
    assert (folder.path / BACKUP).exists()
    (folder.path / MANIFEST).write_text('{"format": "timbre-project", "format_vers')
    snap = folder.load()
    assert "project.json is damaged" in snap.message and "last good copy" in snap.message
    assert snap.settings == {}
    _same(p, snap.project)


def test_a_damaged_take_file_costs_only_that_take(tmp_path):
    p = _project()
    folder = ProjectFolder(tmp_path / "episode.timbre")
    folder.save(SCRIPT, p, {})
    victim = p.paragraphs[1].takes[1]
    (folder.path / "takes" / f"{victim.id}.flac").write_bytes(b"not audio at all")
    snap = folder.load()
    assert "¶2 take 2" in snap.message
    loaded = snap.project.paragraphs[1]
    assert [t.id for t in loaded.takes] == [p.paragraphs[1].takes[0].id]


def test_foreign_and_future_files_are_refused_clearly(tmp_path):
    folder = ProjectFolder(tmp_path / "x.timbre")
    folder.create()
    (folder.path / MANIFEST).write_text(json.dumps({"format": "timbre-project", "format_version": 99,
                                                   "paragraphs": [], "script": ""}))
    with pytest.raises(ProjectFileError, match="version 99.*newer"):
        folder.load()
    (folder.path / MANIFEST).write_text(json.dumps({"hello": 1}))
    with pytest.raises(ProjectFileError, match="not a Timbre Studio project"):
        folder.load()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "thesis.docx").write_text("x")
    with pytest.raises(ProjectFileError, match="other files in it"):
        ProjectFolder(busy).save("Hi.", Project("Hi."), {})
    assert sorted(x.name for x in busy.iterdir()) == ["thesis.docx"]


def test_autosave_is_newer_after_a_crash_and_a_save_clears_it(tmp_path):
    p = _project()
    folder = ProjectFolder(tmp_path / "episode.timbre")
    folder.save(SCRIPT, p, {})
    assert not folder.has_newer_autosave()
    p.add_take(p.paragraphs[4].id, make_done("The end.", 0.4, seed=9))
    folder.save(SCRIPT, p, {"auto": True}, autosave=True)
    assert folder.has_newer_autosave()
    assert len(folder.load().project.paragraphs[4].takes) == 0  # the saved version
    recovered = folder.load(prefer_autosave=True)
    assert len(recovered.project.paragraphs[4].takes) == 1 and recovered.settings == {"auto": True}
    folder.save(SCRIPT, recovered.project, {})
    assert not (folder.path / AUTOSAVE).exists()


def test_a_lock_left_by_a_dead_process_means_a_crash(tmp_path):
    folder = ProjectFolder(tmp_path / "episode.timbre")
    folder.lock()
    assert not folder.crashed() and folder.lock_owner() is None  # it is our own lock
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(child.stdout)
    info = json.loads((folder.path / LOCK).read_text())
    info["pid"] = dead_pid
    (folder.path / LOCK).write_text(json.dumps(info))
    assert folder.crashed()
    info["pid"] = os.getppid()  # a live process that is not us
    (folder.path / LOCK).write_text(json.dumps(info))
    assert folder.lock_owner()["pid"] == os.getppid() and not folder.crashed()
    folder.unlock()
    assert not (folder.path / LOCK).exists()


def test_unused_take_files_are_removed_on_save_but_not_while_a_backup_needs_them(tmp_path):
    p = _project()
    folder = ProjectFolder(tmp_path / "episode.timbre")
    folder.save(SCRIPT, p, {})
    gone = p.paragraphs[1].takes[1]
    p.delete_take(p.paragraphs[1].id, gone.id)
    folder.save(SCRIPT, p, {})
    assert (folder.path / "takes" / f"{gone.id}.flac").exists()  # project.json.bak still names it
    folder.save(SCRIPT, p, {})
    assert not (folder.path / "takes" / f"{gone.id}.flac").exists()


def test_take_params_round_trip_exactly(tmp_path):
    p = Project("Hi.")
    done = make_done("Hi.", 0.4, seed=5)
    from dataclasses import replace

    done = replace(done, request=replace(done.request, params=SamplingParams(
        steps=3, guidance=1.7, temperature=0.6, semantic_temperature=0.9, semantic_top_k=12, seed=5,
        max_seconds=12.5)))
    p.add_take(p.paragraphs[0].id, done)
    folder = ProjectFolder(tmp_path / "p.timbre")
    folder.save("Hi.", p, {})
    assert folder.load().project.paragraphs[0].takes[0].params == done.request.params
