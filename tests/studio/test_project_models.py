"""Project, takes, live render, timeline, peak pyramid, selection: plain Python, no QApplication."""

import numpy as np
import pytest

from engine.api import AudioChunk, EngineError, SamplingParams, Started, SynthesisRequest
from studio.models.live import AudioBuffer, LiveRender
from studio.models.peaks import BLOCK, PeakPyramid
from studio.models.project import Project, split_paragraphs
from studio.models.selection import FrameRef, Selection
from studio.models.timeline import Timeline

from helpers import SR, make_done, make_frames


def test_split_paragraphs_on_blank_lines():
    text = "First line\nstill first.\n\n\n  Second.  \n \nThird\r\n\r\nFourth"
    assert split_paragraphs(text) == ["First line still first.", "Second.", "Third", "Fourth"]
    assert split_paragraphs(" \n\n ") == []


def test_editing_keeps_paragraph_ids_and_takes():
    p = Project("One.\n\nTwo.\n\nThree.")
    ids = [x.id for x in p.paragraphs]
    p.add_take(ids[1], make_done("Two.", 0.4))
    events = []
    p.structure_changed.connect(lambda: events.append("structure"))
    p.text_changed.connect(lambda pid: events.append(("text", pid)))
    p.set_script("Zero.\n\nOne.\n\nTwo, edited.\n\nThree.")  # insert before, edit the middle
    assert [x.text for x in p.paragraphs] == ["Zero.", "One.", "Two, edited.", "Three."]
    assert [x.id for x in p.paragraphs][1:] == ids
    edited = p.paragraphs[2]
    assert len(edited.takes) == 1 and p.stale(edited)  # its take says "Two." and the text says otherwise
    assert events == ["structure", ("text", ids[1])]


def test_deleted_paragraph_comes_back_with_its_takes_on_undo():
    p = Project("Keep.\n\nDrop me.")
    dropped = p.paragraphs[1]
    p.add_take(dropped.id, make_done("Drop me.", 0.4))
    p.set_script("Keep.")
    assert len(p.paragraphs) == 1
    p.set_script("Keep.\n\nDrop me.")  # the editor's undo
    assert p.paragraphs[1] is dropped and len(dropped.takes) == 1 and not p.stale(dropped)


def test_takes_are_numbered_chosen_and_deleted():
    p = Project("Hello.")
    pid = p.paragraphs[0].id
    t1 = p.add_take(pid, make_done("Hello.", 0.4, seed=1))
    t2 = p.add_take(pid, make_done("Hello.", 0.4, seed=2))
    para = p.paragraph(pid)
    assert (t1.number, t2.number) == (1, 2) and para.current is t2
    p.choose_take(pid, t1.id)
    assert para.current is t1
    p.delete_take(pid, t1.id)
    assert para.current is t2 and para.takes == [t2]
    p.insert_take(pid, t1, 0, make_current=True)
    assert para.takes == [t1, t2] and para.current is t1
    with pytest.raises(EngineError, match="no take"):
        p.choose_take(pid, "nope")
    meta = t2.metadata()
    assert meta["seed"] == 2 and meta["params"]["steps"] == 8 and meta["number"] == 2
    assert "seed 2 · 8 steps · α" in t2.label and t2.duration == pytest.approx(0.4)
    one = p.add_take(pid, make_done("Hello.", 0.4, seed=3, steps=1))
    assert "seed 3 · 1 step · α" in one.label


def test_a_render_that_finishes_after_its_paragraph_was_deleted_is_kept():
    p = Project("A.\n\nB.")
    pid = p.paragraphs[1].id
    p.set_script("A.")
    take = p.add_take(pid, make_done("B.", 0.4))
    p.set_script("A.\n\nB.")
    assert p.paragraphs[1].current is take


def test_audio_buffer_grows_and_keeps_what_was_written():
    b = AudioBuffer(capacity=4)
    b.write(np.arange(3, dtype=np.float32), 0)
    b.write(np.arange(3, 10, dtype=np.float32), 3)
    np.testing.assert_array_equal(b.samples, np.arange(10, dtype=np.float32))
    b.clear()
    assert b.length == 0 and b.samples.size == 0


def _timeline(script="A.\n\nB.\n\nC.", gap=0.5):
    p = Project(script)
    live = LiveRender()
    return p, live, Timeline(p, live, SR, gap)


def test_timeline_lays_out_rendered_paragraphs_with_gaps():
    p, live, tl = _timeline()
    a, b, c = (x.id for x in p.paragraphs)
    p.add_take(a, make_done("A.", 0.4, value=0.1))
    p.add_take(c, make_done("C.", 0.8, value=0.3))
    segs = tl.segments
    assert [(s.paragraph_id, s.number) for s in segs] == [(a, 1), (c, 3)]  # B is not rendered: no segment
    assert segs[0].start == 0.0 and segs[1].start == pytest.approx(0.9) and tl.duration == pytest.approx(1.7)
    audio = tl.audio()
    assert len(audio) == int(1.7 * SR)
    assert np.allclose(audio[: int(0.4 * SR)], 0.1, atol=1e-6) and np.all(audio[int(0.4 * SR): int(0.9 * SR)] == 0.0)
    assert np.allclose(audio[int(0.9 * SR):], 0.3, atol=1e-6)
    np.testing.assert_array_equal(tl.audio(0.3, 1.0), audio[int(0.3 * SR): int(1.0 * SR)])
    seg, frame = tl.frame_at(0.9 + 0.17)
    assert seg.paragraph_id == c and frame.index == 2
    assert tl.frame_at(0.6) is None and tl.segment_of(b) is None


def test_timeline_follows_a_live_render_and_choosing_another_take():
    p, live, tl = _timeline("A.\n\nB.", gap=0.0)
    a, b = (x.id for x in p.paragraphs)
    p.add_take(b, make_done("B.", 0.4, value=0.2))
    req = SynthesisRequest("A.", params=SamplingParams(seed=1))
    live.begin(a, Started(req, 1, 100), SR)
    v = tl.version
    for f in make_frames(3):
        live.add_frame(f)
    live.add_audio(AudioChunk(np.full(3 * 1280, 0.5, np.float32), 0, SR))
    assert tl.version > v
    segs = tl.segments
    assert segs[0].live and segs[0].duration == pytest.approx(0.24) and segs[1].start == pytest.approx(0.24)
    live.end()
    assert [s.paragraph_id for s in tl.segments] == [b]
    t_old = p.paragraph(b).current
    p.add_take(b, make_done("B.", 0.8, value=0.7))
    assert tl.duration == pytest.approx(0.8) and np.allclose(tl.audio(), 0.7, atol=1e-6)
    p.choose_take(b, t_old.id)
    assert tl.duration == pytest.approx(0.4) and np.allclose(tl.audio(), 0.2, atol=1e-6)


def test_timeline_envelope_separates_segments_and_keeps_peaks():
    p, live, tl = _timeline("A.\n\nB.", gap=1.0)
    a, b = (x.id for x in p.paragraphs)
    p.add_take(a, make_done("A.", 2.0, value=0.1))
    done = make_done("B.", 2.0, value=0.0)
    done.audio[5000] = -0.9
    p.add_take(b, done)
    x, y = tl.envelope(0.0, tl.duration, 400)
    assert np.isnan(x).sum() == 1  # one break between the two segments
    finite = np.isfinite(y)
    assert y[finite].min() == pytest.approx(-0.9) and y[finite].max() == pytest.approx(0.1)
    assert len(y) <= 420
    x, y = tl.envelope(3.0, 3.5, 400)  # inside B only
    assert not np.isnan(x).any() and x.min() >= 3.0 - 1e-3


@pytest.mark.parametrize("n", [1, 63, 64, 1000, 64 * 8 * 8 + 5, 16000 * 60])
def test_peak_pyramid_matches_brute_force(n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(np.float32)
    pyr = PeakPyramid(x)
    for i0, i1, points in [(0, n, 1000), (n // 3, n // 2 + 1, 300), (0, min(n, 5000), 200), (0, n, 10 * n)]:
        pos, values = pyr.envelope(i0, i1, points)
        if i1 <= i0:
            continue
        assert len(values) <= max(points, 2) + 2
        assert values.max() == pytest.approx(x[i0:i1].max()) or values.max() >= x[i0:i1].max()
        assert values.min() <= x[i0:i1].min() + 1e-6
        # aligned bins may reach a little outside [i0, i1), never further than one bin
        span = max(1, (i1 - i0))
        assert pos.min() >= i0 - span and pos.max() <= i1 + span
        assert np.all(np.diff(pos) >= 0)


def test_peak_pyramid_keeps_a_single_click_at_every_zoom():
    x = np.zeros(16000 * 600, dtype=np.float32)  # ten minutes
    x[12345 * BLOCK + 7] = 0.8
    pyr = PeakPyramid(x)
    for points in (100, 1000, 4000):
        _, values = pyr.envelope(0, len(x), points)
        assert values.max() == pytest.approx(0.8) and len(values) <= points + 2


def test_selection_events():
    s, seen = Selection(), []
    s.changed.connect(seen.append)
    s.set_cursor(1.5)
    s.set_cursor(1.5)
    s.set_range(2.0, 1.0)
    assert s.range == (1.0, 2.0)
    s.set_range(1.0, 1.0)  # a click is not a range
    s.select_paragraph("p1")
    s.select_frame(FrameRef("p1", 3))
    assert seen == ["cursor", "range", "range", "paragraph", "frame"] and s.range is None


def test_spectrogram_in_chunks_equals_all_at_once():
    from studio.views.spectrogram import BINS, spectrogram_u8, total_frames

    rng = np.random.default_rng(0)
    x = (rng.standard_normal(16000 * 3) * 0.1).astype(np.float32)
    x[16000:17000] += np.sin(np.arange(1000) * 2 * np.pi * 1000 / 16000).astype(np.float32)  # a 1 kHz tone
    whole = spectrogram_u8(x, 16000)
    assert whole.shape == (BINS, total_frames(len(x), 16000)) and whole.dtype == np.uint8
    parts = [spectrogram_u8(x, 16000, i, 37) for i in range(0, whole.shape[1], 37)]
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), whole)
    tone_bin = int(1000 / 8000 * BINS)  # 128 bins over 0-8 kHz
    column = whole[:, 101]  # 1.01 s: inside the tone
    assert abs(int(np.argmax(column)) - tone_bin) <= 1
