"""Episode export: loudness within 0.5 LU of the target with the true peak under the ceiling (measured
on the file read back), chapter markers inside FLAC and WAV, subtitles that match the audio."""

import numpy as np
import pytest
import soundfile as sf

from engine.api import Done, EngineError, SamplingParams, SynthesisRequest
from studio.audio_tags import read_flac_chapters, read_wav_chapters
from studio.episode_export import ExportOptions, export_episode
from studio.loudness import integrated_loudness, normalize, true_peak_db
from studio.models.live import LiveRender
from studio.models.project import Project
from studio.models.timeline import Timeline

from helpers import make_frames

SR = 16_000
SCRIPT = ("# Opening\n\nHost: Welcome to the show. Today we talk about voices, about how they are made, and about who gets to use them.\n\n"
          "Guest: Thank you.\n\n# The main part\n\nHost: Let us begin.")


def _speechlike(seconds: float, seed: int, level: float) -> np.ndarray:
    """Harmonics under a syllable-rate envelope, with a few sharp clicks (peaks for the limiter)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 12.5) * 1280) / SR
    f0 = 140 + 20 * np.sin(2 * np.pi * 0.7 * t)
    voice = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / SR) / k for k in range(1, 8))
    envelope = np.clip(np.sin(2 * np.pi * 4 * t + rng.uniform(0, 6)), 0, None) ** 2
    x = level * voice * envelope + 0.003 * rng.standard_normal(len(t))
    x[rng.integers(0, len(t), 5)] = 0.95
    return x.astype(np.float32)


def _timeline() -> Timeline:
    p = Project(SCRIPT)
    for i, para in enumerate(p.speech()):
        audio = _speechlike(2.0 + i, seed=i, level=0.05 * (i + 1))
        n = len(audio) // 1280
        done = Done(SynthesisRequest(para.spoken_text, params=SamplingParams(seed=i)), i, make_frames(n), audio, SR,
                    "m", "0" * 16, 1.0, 0.1)
        p.add_take(para.id, done)
    return Timeline(p, LiveRender(), SR, gap=0.3, chapter_gap=1.0)


@pytest.mark.parametrize("target", [-16.0, -23.0])
def test_loudness_is_on_target_and_the_true_peak_under_the_ceiling(tmp_path, target):
    tl = _timeline()
    result = export_episode(tl, ExportOptions(tmp_path / "episode.wav", bit_depth=24, target_lufs=target,
                                              ceiling_db=-1.0, subtitle_formats=()))
    audio, sr = sf.read(tmp_path / "episode.wav", dtype="float32")
    assert abs(integrated_loudness(audio, sr) - target) <= 0.5
    assert true_peak_db(audio, sr) <= -1.0 + 0.05  # (the file's 24-bit rounding)
    assert result.loudness.limited and result.loudness.before_lufs < target - 3  # the clicks needed the limiter


def test_normalize_refuses_silence_and_too_short_audio():
    with pytest.raises(EngineError, match="silent"):
        normalize(np.zeros(SR * 2, np.float32), SR, -16.0)
    with pytest.raises(EngineError, match="at least"):
        normalize(np.ones(100, np.float32) * 0.1, SR, -16.0)


def test_chapters_are_embedded_in_flac_and_wav_and_listed_beside(tmp_path):
    tl = _timeline()
    chapters = tl.chapters
    assert [c.title for c in chapters] == ["Opening", "The main part"]
    segs = tl.segments
    assert chapters[0].start == 0.0 and chapters[1].start == segs[2].start
    assert segs[2].start - segs[1].end == pytest.approx(1.0)  # the chapter pause, not the paragraph one
    for name in ("episode.flac", "episode.wav"):
        export_episode(tl, ExportOptions(tmp_path / name, target_lufs=None, subtitle_formats=()))
        read = (read_flac_chapters(tmp_path / name) if name.endswith("flac")
                else read_wav_chapters(tmp_path / name, SR))
        assert [title for _, title in read] == ["Opening", "The main part"]
        np.testing.assert_allclose([t for t, _ in read], [c.start for c in chapters], atol=1e-3)
        audio, sr = sf.read(tmp_path / name, dtype="float32")  # still a valid audio file
        assert sr == SR and len(audio) == len(tl.audio())
    lines = (tmp_path / "episode.chapters.txt").read_text().splitlines()
    assert lines[0] == "00:00:00.000 Opening" and lines[1].endswith(" The main part")


def test_subtitles_match_the_audio_within_one_frame(tmp_path):
    tl = _timeline()
    export_episode(tl, ExportOptions(tmp_path / "ep.flac", target_lufs=None))
    srt = (tmp_path / "ep.srt").read_text()
    vtt = (tmp_path / "ep.vtt").read_text()
    assert vtt.startswith("WEBVTT")
    blocks = [b.splitlines() for b in srt.strip().split("\n\n")]

    def secs(stamp):
        h, m, rest = stamp.split(":")
        s, ms = rest.split(",")
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    times = [tuple(secs(x) for x in b[1].split(" --> ")) for b in blocks]
    texts = [b[2] for b in blocks]
    assert texts[-1] == "Let us begin." and "Host:" not in srt  # the speaker prefix is not spoken
    audio = tl.audio()
    segs = tl.segments
    starts = {round(s.start, 3) for s in segs}
    ends = {round(s.end, 3) for s in segs}
    for (t0, t1), text in zip(times, texts):
        assert t1 > t0
        if round(t0, 3) in starts:  # a paragraph's first cue begins where its audio does
            first = int(np.argmax(np.abs(audio[int(t0 * SR):]) > 1e-3))
            assert first / SR < 0.08
    assert {round(t0, 3) for t0, _ in times} >= starts and {round(t1, 3) for _, t1 in times} >= ends
    # the long first paragraph is split at its sentence end
    assert "Welcome to the show." in texts and any(t.startswith("Today we talk") for t in texts)


def test_per_chapter_files_cover_the_episode(tmp_path):
    tl = _timeline()
    result = export_episode(tl, ExportOptions(tmp_path / "ep.wav", target_lufs=-16.0, per_chapter=True,
                                              subtitle_formats=("srt",)))
    parts = sorted(tmp_path.glob("ep-0*.wav"))
    assert [p.name for p in parts] == ["ep-01-opening.wav", "ep-02-the-main-part.wav"]
    whole = sf.read(tmp_path / "ep.wav", dtype="float32")[0]
    joined = np.concatenate([sf.read(p, dtype="float32")[0] for p in parts])
    np.testing.assert_array_equal(joined, whole)
    part_srt = (tmp_path / "ep-02-the-main-part.srt").read_text()
    assert part_srt.startswith("1\n00:00:00,000 --> ") and "Let us begin." in part_srt
    assert all(f.exists() for f in result.files)


def test_sample_rate_bit_depth_and_mp3(tmp_path):
    tl = _timeline()
    export_episode(tl, ExportOptions(tmp_path / "ep.flac", sample_rate=44_100, bit_depth=24, target_lufs=None,
                                     subtitle_formats=()))
    info = sf.info(tmp_path / "ep.flac")
    assert info.samplerate == 44_100 and info.subtype == "PCM_24"
    assert abs(info.duration - tl.duration) < 0.01
    export_episode(tl, ExportOptions(tmp_path / "ep.mp3", target_lufs=-16.0, subtitle_formats=()))
    assert sf.info(tmp_path / "ep.mp3").format == "MP3"
    with pytest.raises(EngineError, match="use .wav, .flac or .mp3"):
        export_episode(tl, ExportOptions(tmp_path / "ep.ogg"))


def test_an_empty_timeline_is_a_clear_error(tmp_path):
    with pytest.raises(EngineError, match="render the script first"):
        export_episode(Timeline(Project("Hi."), LiveRender()), ExportOptions(tmp_path / "x.wav"))
    assert list(tmp_path.iterdir()) == []
