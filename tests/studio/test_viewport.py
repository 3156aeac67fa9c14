"""The panes draw one screen-sized picture of the visible range: each pixel must show the column
of the take under it, gaps must stay transparent, and zoomed out the spectrogram must read a
coarser level of detail."""

import numpy as np

from engine.api import FRAME_SECONDS, Done, Frame, SamplingParams, SynthesisRequest
from studio.views.spectrogram import BINS, HOP_FACTORS, HOP_SECONDS, total_frames
from studio.views.time_axis import clock_label, minor_step, nice_step
from studio.views.viewport import locate_columns, pixel_times


def test_locate_columns_maps_pixels_to_runs_and_skips_gaps():
    starts, counts = np.array([0.0, 1.0]), np.array([5, 3])  # 0-0.5 s and 1.0-1.3 s, 0.1 s columns
    times = np.array([-0.05, 0.05, 0.45, 0.55, 0.95, 1.05, 1.25, 1.35])
    pixels, cols = locate_columns(times, starts, counts, 0.1)
    assert pixels.tolist() == [1, 2, 5, 6]
    assert cols.tolist() == [0, 4, 5, 7]  # run 2's columns follow run 1's in the one array
    empty = locate_columns(times, np.zeros(0), np.zeros(0, np.int64), 0.1)
    assert empty[0].size == empty[1].size == 0


def test_clock_labels_and_steps():
    assert [clock_label(v, s) for v, s in ((0, 1), (65, 5), (3725.5, 0.5), (12.34, 0.01), (59.96, 0.1))] == \
        ["0:00", "1:05", "1:02:05.5", "0:12.34", "1:00.0"]
    steps = [nice_step(s) for s in (0.003, 0.07, 0.4, 1.3, 7, 12, 40, 100, 500, 2000)]
    assert steps == [0.005, 0.1, 0.5, 2.0, 10.0, 15.0, 60.0, 120.0, 600.0, 3600.0]
    assert all(major / minor_step(major) in (2, 3, 4, 5, 6) for major in steps)


def _add_takes(w, seconds: float, k: int = 8) -> None:
    rng = np.random.default_rng(3)
    sr = 16_000
    for i, p in enumerate(w.project.paragraphs):
        t = np.arange(int(seconds * sr)) / sr
        audio = (0.3 * np.sin(2 * np.pi * (300 + 200 * i) * t) * (1 + rng.standard_normal(len(t)) * 0.05)).astype(np.float32)
        n = int(seconds / FRAME_SECONDS)
        frames = tuple(Frame(j, j % 50, 0.5, rng.uniform(-1, 1, k).astype(np.float32), np.zeros(k + 1, np.int64))
                       for j in range(n))
        req = SynthesisRequest(p.text, params=SamplingParams(seed=1))
        w.project.add_take(p.id, Done(req, 1, frames, audio, sr, "synthetic", "0" * 16, 1.0, 0.1))


def test_panes_draw_each_pixel_from_the_take_under_it(qtbot, make_studio):
    w = make_studio(text="One.\n\nTwo.\n\nThree.", gap_seconds=0.5).window
    _add_takes(w, 4.0)
    qtbot.waitUntil(lambda: w.spectrogram.complete, timeout=20_000)
    segs = w.timeline.segments
    t0, t1 = segs[0].end - 1.0, segs[1].start + 1.0  # the end of take 1, the gap, the start of take 2
    w.lane.setXRange(t0, t1, padding=0)
    for pane in w.panes:
        pane.tick()
    width = w.latents.heat.picture.shape[1]
    (v0, v1), _ = w.latents.getViewBox().viewRange()
    times = pixel_times(v0, v1, width)
    heat, lut = w.latents.heat.picture, w.latents._lut
    for px in (0, width // 2, width - 1):
        seg = w.timeline.segment_at(times[px])
        if seg is None:  # the gap is transparent
            assert not heat[:, px].any() and not w.spectrogram.picture.picture[:, px].any()
            continue
        f = int((times[px] - seg.start) / FRAME_SECONDS)
        acoustic = w.latents.heatmap_of(seg.paragraph_id)[:, f]
        np.testing.assert_array_equal(heat[:, px], lut[np.clip((acoustic + 1) * 127.5, 0, 255).astype(np.uint8)])
        level = w.spectrogram.level_for((v1 - v0) / w.spectrogram.picture.picture.shape[1])
        col = int((times[px] - seg.start) / (HOP_FACTORS[level] * HOP_SECONDS))
        column = w.spectrogram.image_of(seg.paragraph_id, level)[:, col]
        np.testing.assert_array_equal(w.spectrogram.picture.picture[:, px], w.spectrogram._lut[column])
    assert w.timeline.segment_at(times[width // 2]) is None  # the middle pixel was the gap

    w.lane.setXRange(0.0, 3600.0, padding=0)  # zoomed far out: the coarsest level is drawn
    for pane in w.panes:
        pane.tick()
    assert w.spectrogram.level_for(3600.0 / w.spectrogram.picture.picture.shape[1]) == len(HOP_FACTORS) - 1
    take = w.project.paragraphs[0].current
    coarse = w.spectrogram.image_of(w.project.paragraphs[0].id, len(HOP_FACTORS) - 1)
    assert coarse.shape == (BINS, total_frames(len(take.audio), take.sample_rate, HOP_FACTORS[-1]))
