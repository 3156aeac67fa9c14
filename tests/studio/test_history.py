"""Undo and redo of every action that changes a project: typing, renders, take choice and deletion,
paragraph moves, voice changes. Plain Python: no QApplication."""

import time

import pytest

from studio.models.editing import ProjectEditor
from studio.models.history import MERGE_SECONDS, History
from studio.models.project import Project

from helpers import make_done


def _editor(text="One.\n\nTwo.\n\nThree."):
    project, history = Project(), History()
    return ProjectEditor(project, history, text), project, history


def test_typing_merges_into_one_step_and_undo_restores_the_text():
    ed, p, h = _editor("One.")
    shown = []
    ed.text_restored.connect(shown.append)
    ed.set_text("One. T")
    ed.set_text("One. Tw")
    ed.set_text("One. Two")
    assert h.undo_label == "edit the script"
    h.undo()
    assert ed.text == "One." and shown[-1] == "One." and [x.text for x in p.paragraphs] == ["One."]
    h.redo()
    assert ed.text == "One. Two" and shown[-1] == "One. Two"
    assert not h.can_redo


def test_edits_apart_in_time_are_separate_steps(monkeypatch):
    ed, p, h = _editor("A.")
    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    ed.set_text("A. B.")
    clock[0] += MERGE_SECONDS + 0.1
    ed.set_text("A. B. C.")
    h.undo()
    assert ed.text == "A. B."
    h.undo()
    assert ed.text == "A."


def test_a_render_is_undone_and_redone_with_the_previous_take_chosen_again():
    ed, p, h = _editor()
    pid = p.paragraphs[0].id
    first = ed.add_take(pid, make_done("One.", 0.4, seed=1))
    second = ed.add_take(pid, make_done("One.", 0.4, seed=2))
    para = p.paragraph(pid)
    assert para.current is second and h.undo_label == "render ¶1"
    h.undo()
    assert para.takes == [first] and para.current is first
    h.redo()
    assert para.takes == [first, second] and para.current is second
    h.undo()
    h.undo()
    assert para.takes == [] and para.current is None


def test_choosing_and_deleting_takes_undo():
    ed, p, h = _editor()
    pid = p.paragraphs[1].id
    a = ed.add_take(pid, make_done("Two.", 0.4, seed=1))
    b = ed.add_take(pid, make_done("Two.", 0.4, seed=2))
    para = p.paragraph(pid)
    ed.choose_take(pid, a.id)
    assert para.current is a
    h.undo()
    assert para.current is b
    h.redo()
    ed.delete_take(pid, a.id)
    assert para.takes == [b] and para.current is b
    h.undo()
    assert para.takes == [a, b] and para.current is a  # back where it was, chosen again


def test_moving_a_paragraph_undoes_order_and_text():
    ed, p, h = _editor()
    three = p.paragraphs[2]
    ed.add_take(three.id, make_done("Three.", 0.4))
    ed.move(three.id, 0)
    assert [x.text for x in p.paragraphs] == ["Three.", "One.", "Two."] and ed.text == "Three.\n\nOne.\n\nTwo."
    assert p.paragraphs[0] is three and len(three.takes) == 1
    h.undo()
    assert [x.text for x in p.paragraphs] == ["One.", "Two.", "Three."] and ed.text == "One.\n\nTwo.\n\nThree."


def test_voice_changes_undo_and_mark_takes_stale():
    ed, p, h = _editor("Alice: Hello.\n\nBob: Hi.")
    alice, bob = p.paragraphs
    ed.add_take(alice.id, make_done("Hello.", 0.4))
    assert not p.stale(alice)
    ed.set_speaker_voice("Alice", "warm")
    assert p.voice_of(alice) == "warm" and p.stale(alice)
    ed.set_paragraph_voice(alice.id, "bright")
    assert p.voice_of(alice) == "bright"
    h.undo()
    assert p.voice_of(alice) == "warm"
    h.undo()
    assert p.voice_of(alice) == "default" and not p.stale(alice)
    assert p.voice_of(bob) == "default"


def test_stale_marks_exactly_what_changed():
    ed, p, h = _editor("One.\n\nTwo.\n\nThree.")
    for para in p.paragraphs:
        ed.add_take(para.id, make_done(para.text, 0.4))
    assert p.stale_paragraphs() == []
    ed.set_text("One.\n\nTwo, edited.\n\nThree.")
    assert [x.text for x in p.stale_paragraphs()] == ["Two, edited."]
    from dataclasses import replace

    p.set_defaults(params=replace(p.default_params, steps=3))
    assert len(p.stale_paragraphs()) == 3  # the sampler changed: every take is out of date
    p.set_defaults(params=replace(p.default_params, steps=8, seed=1234))
    assert [x.text for x in p.stale_paragraphs()] == ["Two, edited."]  # the seed alone does not count


def test_headings_are_chapters_and_speaker_prefixes_are_not_spoken():
    p = Project("# Part one\n\nAlice: Hello there.\n\nNot a speaker: lowercase? yes it is.\n\n## Part two")
    heading, alice, other, part2 = p.paragraphs
    assert heading.heading == "Part one" and part2.heading == "Part two" and alice.heading is None
    assert alice.speaker == "Alice" and alice.spoken_text == "Hello there."
    assert other.speaker == "Not a speaker"
    assert [x.id for x in p.speech()] == [alice.id, other.id]


def test_nothing_to_undo():
    ed, p, h = _editor()
    assert h.undo() is None and h.redo() is None and not h.can_undo


@pytest.mark.parametrize("n", [3])
def test_a_new_action_drops_the_redo_list(n):
    ed, p, h = _editor("A.")
    ed.replace_text("B.", "open")
    h.undo()
    assert h.can_redo
    ed.replace_text("C.", "open")
    assert not h.can_redo and ed.text == "C."
