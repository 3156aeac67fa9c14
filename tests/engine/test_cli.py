"""The timbre CLI: valid outputs, and clear errors that leave nothing half-written."""

import os

import numpy as np
import pytest
import soundfile as sf

from engine.cli import main
from engine.take_files import load_frames


def test_say_writes_a_wav_and_frames_that_reload(tmp_path, capsys):
    wav, frames = tmp_path / "out.wav", tmp_path / "f.safetensors"
    rc = main(["say", "Hello world.", "-o", str(wav), "--frames-out", str(frames), "--seed", "5",
               "--steps", "3", "--max-seconds", "1", "--device", "cpu"])
    assert rc == 0
    err = capsys.readouterr().err
    assert "seed 5" in err and "untrained random weights" in err
    audio, sr = sf.read(wav)
    assert sr == 16000 and audio.ndim == 1 and len(audio) == 12 * 1280 and np.abs(audio).max() > 0
    loaded, meta = load_frames(frames)
    assert len(loaded) == 12 and meta["seed"] == 5 and meta["params"]["steps"] == 3
    assert loaded[0].trajectory.shape == (4, 8)
    assert meta["model"] == "tiny-random" and len(meta["model_hash"]) == 16


def test_say_is_reproducible_with_a_seed(tmp_path):
    a, b = tmp_path / "a.flac", tmp_path / "b.flac"
    for p in (a, b):
        assert main(["say", "Same again.", "-o", str(p), "--seed", "9", "--max-seconds", "0.8", "-q"]) == 0
    np.testing.assert_array_equal(sf.read(a)[0], sf.read(b)[0])


@pytest.mark.parametrize("args, message", [
    (["say", "", "-o", "{d}/x.wav"], "the text is empty"),
    (["say", "x" * 100_000, "-o", "{d}/x.wav"], "100,000 characters"),
    (["say", "hi", "-o", "{d}/x.wav", "--model", "nope"], "unknown model 'nope'"),
    (["say", "hi", "-o", "{d}/x.wav", "--steps", "0"], "steps must be"),
    (["say", "hi", "-o", "{d}/x.wav", "--steps", "1000"], "steps must be"),
    (["say", "hi", "-o", "{d}/missing/x.wav"], "does not exist"),
    (["say", "hi", "-o", "{d}/x.mp4"], "must end in .wav or .flac"),
    (["say", "hi", "-o", "{d}/ro/x.wav"], "not writable"),
    (["say", "hi", "-o", "{d}/x.wav", "--device", "tpu"], "unknown device"),
])
def test_bad_input_is_a_clear_error_and_writes_nothing(tmp_path, capsys, args, message):
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    if os.geteuid() == 0 and "ro" in " ".join(args):
        pytest.skip("root can write into read-only folders")
    rc = main([a.replace("{d}", str(tmp_path)) for a in args])
    assert rc == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == []


def test_output_that_fails_at_write_time_is_a_clear_error(tmp_path, capsys):
    """/proc accepts no new files, even for root: the render runs, the write fails cleanly."""
    rc = main(["say", "hi", "-o", "/proc/timbre-test.wav", "--max-seconds", "0.2", "-q"])
    assert rc == 2
    assert "cannot write /proc/timbre-test.wav" in capsys.readouterr().err
    assert not os.path.exists("/proc/timbre-test.wav")


def test_models_lists_the_builtin_model(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "tiny-random" in out and "UNTRAINED" in out
