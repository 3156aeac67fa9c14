"""WORLD rendered chunk by chunk joins as one rendering of the whole clip: pulses where the offline
rendering puts them, and no dip at the seams."""

import numpy as np
import pytest
from scipy.signal import find_peaks, lfilter

from engine.codec import world
from engine.codec.world_stream import WorldStream

SIZES = [16, 64, 64, 7, 64, 33, 64, 64]  # the engine's one frame then four, and odd sizes


def vowel_features(steps: int, formants: tuple[tuple[int, int], ...] = ((700, 80), (1200, 90))) -> np.ndarray:
    """Features [steps, 43] of a voiced sound whose f0 glides 90 -> 210 Hz with a wobble, its envelope
    analysed from a buzz through ``formants`` (Hz, bandwidth), nearly no aperiodicity; steps 150-180
    unvoiced."""
    n = steps * world.HOP
    pulses = np.zeros(n)
    pulses[:: world.SAMPLE_RATE // 120] = 1.0
    buzz = pulses
    for hz, bw in formants:
        r, theta = np.exp(-np.pi * bw / world.SAMPLE_RATE), 2 * np.pi * hz / world.SAMPLE_RATE
        buzz = lfilter([1.0], [1.0, -2 * r * np.cos(theta), r * r], buzz)
    feats = world.analyze((0.3 * buzz / np.abs(buzz).max()).astype(np.float32))
    t = np.arange(steps)
    feats[:, 0] = np.log(90 + 120 * t / steps + 8 * np.sin(t / 7))
    feats[:, 1] = 1.0
    feats[150:180, 1] = 0.0
    feats[:, 2 + world.ENVELOPE_DIMS] = -60.0
    return feats


def streamed(feats: np.ndarray, sizes: list[int]) -> np.ndarray:
    stream, bounds = WorldStream(), np.cumsum([0] + sizes)
    parts = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        parts.append(stream.push(feats[a:b]))
        assert len(stream.push(feats[:0])) == 0  # an empty push gives nothing and changes nothing
    assert [len(p) for p in parts] == [n * world.HOP for n in sizes]
    return np.concatenate(parts)


@pytest.fixture(scope="module")
def feats() -> np.ndarray:
    return vowel_features(sum(SIZES))


def test_the_pulse_phase_puts_pulses_where_world_renders_them():
    flat = vowel_features(sum(SIZES), formants=())  # a bare buzz: one sharp peak per pulse
    flat[:, 1] = 1.0
    audio = world.synthesize(flat)
    wrapped = np.mod(world.pulse_phase(world.f0_hz(flat)), 2 * np.pi)
    predicted = np.nonzero(np.abs(np.diff(wrapped)) > np.pi)[0]
    peaks, _ = find_peaks(audio, height=0.3 * audio.max(), distance=30)
    assert abs(len(peaks) - len(predicted)) <= 1
    lag = np.array([np.min(np.abs(p - predicted)) for p in peaks])
    assert np.ptp(lag) <= 2  # one fixed delay from pulse to its response's peak, give or take rounding


def test_streamed_chunks_render_the_offline_pulse_train_without_seam_dips(feats):
    whole = world.synthesize(feats)
    joined = streamed(feats, SIZES)
    voiced = np.repeat(feats[:, 1] > 0.5, world.HOP)
    away = np.convolve(~voiced, np.ones(2 * 20 * world.HOP + 1), "same") == 0  # 100 ms from unvoiced steps
    error = np.sum((joined - whole)[away] ** 2) / np.sum(whole[away] ** 2)
    assert error < 0.03  # rendered in plain chunks after 24 steps of context, this is 0.8
    seams = [s for s in np.cumsum(SIZES)[:-1] * world.HOP if away[s - world.HOP:s].all()]
    assert len(seams) >= 4
    for seam in seams:
        before = slice(seam - world.HOP // 2, seam)
        ratio = np.sum(joined[before] ** 2) / np.sum(whole[before] ** 2)
        assert 0.7 < ratio < 1.3, (seam, ratio)  # the plain chunks kept 0.1 of it here


def test_a_stream_renders_the_same_audio_every_time(feats):
    np.testing.assert_array_equal(streamed(feats, SIZES), streamed(feats, SIZES))


def test_chunks_fade_into_each_other_where_worlds_noise_differs(feats):
    """Each call draws its own noise; switched in one sample, two draws of a low-pitched whisper step
    far more between two samples than the sound ever does. Faded, the seams step as the rest does."""
    whisper = feats.copy()
    whisper[:, 1] = 0.0  # all noise
    joined = streamed(whisper, SIZES)
    steps = np.abs(np.diff(joined))
    typical = np.median(steps)
    seams = np.cumsum(SIZES)[:-1] * world.HOP
    assert np.percentile(steps, 99) < 4.5 * typical  # the sound's own steps reach 4x the median
    assert max(steps[s - 1] for s in seams) < 5 * typical  # switched in one sample: 9.5x at the worst seam
