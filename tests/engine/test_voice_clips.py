"""Reference clips for voice presets: real files written in the test, read, cleaned, checked, cut.

Each kind of file gives a prepared reference with the right issues, or a specific ClipError.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from clip_audio import add_noise, chords, clip_hard, speech

from engine.api import EngineError
from engine.voices.clip_level import TARGET_LUFS
from engine.voices.clips import ClipError, ClipIssue, PreparedReference, prepare_reference, read_clip

RATE = 24000  # the rate asked for, as a codec would


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """The test files, written once for the module."""
    d = tmp_path_factory.mktemp("clips")
    stereo = np.stack([speech(20, 96000), 0.8 * speech(20, 96000)], axis=1)
    sf.write(d / "stereo96k.wav", stereo, 96000, subtype="PCM_24")
    sf.write(d / "phone8k.wav", speech(20, 8000, seed=1), 8000, subtype="PCM_16")
    sf.write(d / "float.wav", 2.0 / 0.3 * speech(20, 44100, seed=2), 44100, subtype="FLOAT")  # peaks at 2.0
    sf.write(d / "clean.flac", speech(20, 16000, seed=3), 16000, subtype="PCM_16")
    sf.write(d / "clean.ogg", speech(12, 48000, seed=4), 48000, format="OGG", subtype="VORBIS")
    sf.write(d / "silent.wav", np.zeros(2 * 16000, dtype=np.float32), 16000)
    sf.write(d / "short.wav", speech(0.2, 16000), 16000)
    sf.write(d / "clipped.wav", clip_hard(speech(20, 16000, seed=5)), 16000, subtype="PCM_16")
    sf.write(d / "noisy.wav", add_noise(speech(20, 16000, seed=6), snr_db=10), 16000)
    sf.write(d / "chords.wav", chords(20, 22050), 22050)
    sf.write(d / "brief.wav", speech(2.5, 16000, seed=7), 16000)
    (d / "notes.wav").write_text("Take 3, the good one. Remember to export as WAV!\n" * 40)
    (d / "empty.wav").write_bytes(b"")
    flac = (d / "clean.flac").read_bytes()
    (d / "truncated.flac").write_bytes(flac[: len(flac) // 2])
    (d / "movie.m4a").write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(range(256)) * 8)
    (d / "noise.bin.wav").write_bytes(np.random.default_rng(0).integers(0, 256, 8192, dtype=np.uint8).tobytes())
    long = np.tile(speech(60, 16000, seed=8), 20)  # 20 minutes
    sf.write(d / "twenty_minutes.wav", long, 16000, subtype="PCM_16")
    return d


def codes(ref: PreparedReference) -> set[str]:
    return {i.code for i in ref.issues}


def assert_usable(ref: PreparedReference) -> None:
    """Mono float32 at RATE, loudness on target, a 5-15 s segment inside the audio."""
    assert ref.full.ndim == 1 and ref.full.dtype == np.float32 and ref.sample_rate == RATE
    lufs = pyloudnorm.Meter(RATE).integrated_loudness(ref.full.astype(np.float64))
    assert abs(lufs - TARGET_LUFS) < 1.0
    start, end = ref.segment
    assert 0 <= start < end <= len(ref.full) / RATE + 1e-9
    assert 5.0 <= end - start <= 15.0
    assert abs(len(ref.audio) - (end - start) * RATE) <= 1


@pytest.mark.parametrize("name, rate, channels, subtype", [
    ("stereo96k.wav", 96000, 2, "PCM_24"),
    ("float.wav", 44100, 1, "FLOAT"),
    ("clean.flac", 16000, 1, "PCM_16"),
    ("clean.ogg", 48000, 1, "VORBIS"),
])
def test_clean_clips_of_any_format_give_a_reference_without_issues(folder, name, rate, channels, subtype):
    ref = prepare_reference([folder / name], RATE)
    assert_usable(ref)
    assert codes(ref) == set()
    (source,) = ref.sources
    assert (source.sample_rate, source.channels, source.subtype) == (rate, channels, subtype)
    assert ref.speech_seconds >= 5.0


def test_read_clip_mixes_to_mono_at_the_files_own_rate(folder):
    audio, source = read_clip(folder / "stereo96k.wav")
    left, _ = sf.read(folder / "stereo96k.wav", dtype="float32")
    assert audio.shape == (20 * 96000,) and audio.dtype == np.float32 and source.seconds == pytest.approx(20.0)
    np.testing.assert_allclose(audio, left.mean(axis=1), atol=1e-6)


@pytest.mark.skipif("MP3" not in sf.available_formats(), reason="this libsndfile has no MP3")
def test_mp3_is_read_where_libsndfile_supports_it(tmp_path):
    sf.write(tmp_path / "voice.mp3", speech(8, 22050), 22050, format="MP3", subtype="MPEG_LAYER_III")
    audio, source = read_clip(tmp_path / "voice.mp3")
    assert source.subtype == "MPEG_LAYER_III" and abs(len(audio) / 22050 - 8.0) < 0.2


def test_low_sample_rate_warns_the_voice_will_sound_muffled(folder):
    ref = prepare_reference([folder / "phone8k.wav"], RATE)
    assert_usable(ref)
    (issue,) = ref.issues
    assert issue.code == "low_sample_rate" and "8 kHz" in issue.message and "muffled" in issue.message
    assert not issue.blocking and "16 kHz" in issue.advice


def test_clipping_is_reported_with_its_share_and_what_to_do(folder):
    ref = prepare_reference([folder / "clipped.wav"], RATE)
    assert_usable(ref)
    assert codes(ref) == {"clipping"}
    (issue,) = ref.issues
    assert "clipped.wav" in issue.message and "%" in issue.message and "gain" in issue.advice
    assert not ref.blocking


def test_noise_is_reported_with_an_snr_estimate(folder):
    ref = prepare_reference([folder / "noisy.wav"], RATE)
    assert_usable(ref)
    assert codes(ref) == {"noise"}
    assert "dB above the background" in ref.issues[0].message


def test_music_is_reported_and_without_speech_creation_is_blocked(folder):
    ref = prepare_reference([folder / "chords.wav"], RATE)
    assert codes(ref) == {"music", "too_little_speech"}
    assert [i.code for i in ref.blocking] == ["too_little_speech"]
    assert ref.speech_seconds < 3.0


def test_under_three_seconds_of_speech_blocks(folder):
    ref = prepare_reference([folder / "brief.wav"], RATE)
    (issue,) = ref.blocking
    assert issue.code == "too_little_speech" and "at least 3 s" in issue.message
    assert ref.segment == (0.0, pytest.approx(len(ref.full) / RATE))  # shorter than 5 s: all of it


def test_twenty_minutes_work_and_keep_five_minutes_around_the_best_part(folder):
    ref = prepare_reference([folder / "twenty_minutes.wav"], RATE)
    assert_usable(ref)
    assert codes(ref) == {"trimmed_long"}
    assert len(ref.full) == 300 * RATE
    assert "20.0 min" in ref.issues[0].message


def test_clips_are_joined_with_short_gaps_and_the_segment_is_cut_in_pauses(folder):
    one = prepare_reference([folder / "clean.flac"], RATE)
    both = prepare_reference([folder / "clean.flac", folder / "phone8k.wav"], RATE)
    assert [s.path.name for s in both.sources] == ["clean.flac", "phone8k.wav"]
    np.testing.assert_array_equal(both.full[: len(one.full)], one.full)
    gap = int(0.3 * RATE)
    assert not both.full[len(one.full): len(one.full) + gap].any()
    second = both.full[len(one.full) + gap:].astype(np.float64)  # levelled on its own, not with the first
    assert abs(pyloudnorm.Meter(RATE).integrated_loudness(second) - TARGET_LUFS) < 1.0
    assert codes(both) == {"low_sample_rate"}
    for t in both.segment:  # the cut falls where the speech pauses
        i = int(t * RATE)
        edge = both.full[max(0, i - 240): i + 240]
        assert np.sqrt(np.mean(edge ** 2)) < 10 ** ((TARGET_LUFS - 30) / 20)


def test_a_selection_is_honoured(folder):
    ref = prepare_reference([folder / "clean.flac"], RATE, selection=(2.0, 9.5))
    assert ref.segment == (2.0, 9.5)
    assert len(ref.audio) == int(7.5 * RATE)
    assert 0 < ref.speech_seconds <= 7.5


@pytest.mark.parametrize("selection, words", [
    ((2.0, 4.0), "choose at least 5 s"),
    ((1.0, 18.0), "choose at most 15 s"),
    ((10.0, 25.0), "outside the audio"),
    ((9.0, 3.0), "before it starts"),
    ((float("nan"), 8.0), "finite"),
    (("a", 8.0), "two times in seconds"),
])
def test_a_bad_selection_says_what_is_wrong(folder, selection, words):
    with pytest.raises(ClipError, match=words):
        prepare_reference([folder / "clean.flac"], RATE, selection=selection)


@pytest.mark.parametrize("name, words", [
    ("notes.wav", r"notes.wav is not audio \(it looks like text\)"),
    ("empty.wav", r"empty.wav is empty \(0 bytes\)"),
    ("truncated.flac", "truncated.flac is truncated or corrupt"),
    ("movie.m4a", "is a MP4/M4A file, which cannot be read here; convert it to WAV or FLAC"),
    ("noise.bin.wav", "not in an audio format that can be read"),
    ("missing.wav", "missing.wav was not found"),
    ("silent.wav", "silent.wav is silent"),
    ("short.wav", r"short.wav is only 0.2 s long"),
])
def test_unusable_files_give_a_specific_error(folder, name, words):
    with pytest.raises(ClipError, match=words) as info:
        prepare_reference([folder / name], RATE)
    assert isinstance(info.value, EngineError)


def test_a_float_file_with_nan_samples_is_refused(tmp_path):
    x = speech(6, 16000)
    x[1000] = np.nan
    sf.write(tmp_path / "broken.wav", x, 16000, subtype="FLOAT")
    with pytest.raises(ClipError, match=r"broken.wav holds invalid samples \(NaN or infinity\)"):
        read_clip(tmp_path / "broken.wav")


def test_errors_name_the_bad_file_among_good_ones_before_any_decoding(folder):
    with pytest.raises(ClipError, match="notes.wav"):
        prepare_reference([folder / "clean.flac", folder / "notes.wav"], RATE)


def test_more_than_thirty_minutes_in_all_is_refused(folder):
    with pytest.raises(ClipError, match="40 min of audio together; the limit is 30 min"):
        prepare_reference([folder / "twenty_minutes.wav"] * 2, RATE)


def test_no_clips_is_an_error_and_one_path_alone_is_one_clip(folder):
    with pytest.raises(ClipError, match="no clips"):
        prepare_reference([], RATE)
    assert len(prepare_reference(folder / "brief.wav", RATE).sources) == 1


def test_a_selection_cannot_be_made_in_audio_shorter_than_the_minimum(folder):
    with pytest.raises(ClipError, match=r"only 2.\d s long, so no 5 s selection fits; add more clips"):
        prepare_reference([folder / "brief.wav"], RATE, selection=(0.0, 2.0))


def test_issue_codes_are_checked():
    with pytest.raises(ValueError):
        ClipIssue("loud", "too loud", "turn it down")


def test_importing_the_clip_pipeline_loads_no_torch():
    code = "import sys, engine.voices.clips; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


FLITE_TEXT = ("Every morning the baker opens his shop at seven, and the smell of fresh bread fills the street. "
              "Children stop on their way to school, and old men talk about the weather.")


def flite(voice: str, path: Path) -> Path:
    subprocess.run(["flite", "-voice", voice, "-t", FLITE_TEXT, "-o", str(path)], check=True)
    return path


@pytest.mark.skipif(shutil.which("flite") is None or importlib.util.find_spec("resemblyzer") is None,
                    reason="needs flite and resemblyzer")
def test_two_voices_are_reported_and_one_voice_is_not(tmp_path):
    slt, awb = flite("slt", tmp_path / "slt.wav"), flite("awb", tmp_path / "awb.wav")
    one = prepare_reference([slt, slt], RATE)
    assert_usable(one)
    assert codes(one) == set()
    two = prepare_reference([slt, awb], RATE)
    assert codes(two) == {"several_speakers"}
    assert not two.blocking and "one speaker" in two.issues[0].advice
