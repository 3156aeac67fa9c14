"""The app as a program: headless render from the command line, logging, and the crash dialog."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from studio.app import CrashReporter, setup_logging

ROOT = Path(__file__).resolve().parents[2]


def test_studio_program_renders_headless_and_exits_cleanly(tmp_path):
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_STATE_HOME": str(tmp_path / "state"),
           "QT_QPA_PLATFORM": "offscreen"}
    settings = tmp_path / "config" / "timbre-studio" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"schema_version": 1, "text": "Smoke test.", "device": "cpu",
                                    "sampler": {"max_seconds": 1.0, "seed": 4, "seed_locked": True}}))
    out, shot = tmp_path / "out.wav", tmp_path / "shot.png"
    r = subprocess.run([sys.executable, "-m", "studio", "--render-to", str(out), "--screenshot", str(shot)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    audio, sr = sf.read(out)
    assert sr == 16000 and len(audio) == 1280 * 12 and np.abs(audio).max() > 0
    assert shot.stat().st_size > 10_000
    log = (tmp_path / "state" / "timbre-studio" / "log" / "studio.log").read_text()
    assert "init finished" in log
    saved = json.loads(settings.read_text())
    assert saved["sampler"]["seed"] == 4 and saved["text"] == "Smoke test."


def test_studio_program_plays_the_script_headless(tmp_path, played_audio):
    """--play sends the rendered script to the output device (the captured ALSA device here) to the end."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_STATE_HOME": str(tmp_path / "state"),
           "QT_QPA_PLATFORM": "offscreen"}
    settings = tmp_path / "config" / "timbre-studio" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"schema_version": 1, "text": "Play me.", "device": "cpu",
                                    "sampler": {"max_seconds": 0.8}}))
    out = tmp_path / "out.wav"
    r = subprocess.run([sys.executable, "-m", "studio", "--render-to", str(out), "--play"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    audio, sr = sf.read(out, dtype="float32")
    played = np.frombuffer(played_audio.read_bytes(), dtype="<i2").astype(np.float32) / 32768
    lag = int(np.argmax(np.abs(played) > 1e-3)) - int(np.argmax(np.abs(audio) > 1e-3))  # device priming
    assert lag >= 0 and len(played) >= lag + len(audio)
    np.testing.assert_allclose(played[lag:lag + len(audio)], audio, atol=2 / 32768)


def test_studio_program_reports_a_bad_model_and_exits_non_zero(tmp_path):
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path),
           "QT_QPA_PLATFORM": "offscreen"}
    r = subprocess.run([sys.executable, "-m", "studio", "--model", "nope", "--render-to", str(tmp_path / "x.wav")],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "unknown model 'nope'" in r.stderr
    assert not (tmp_path / "x.wav").exists()


def test_crash_reporter_logs_the_traceback_and_names_the_log(qtbot):
    path = setup_logging()
    reporter = CrashReporter(path, show_dialog=False)
    try:
        raise ValueError("something odd")
    except ValueError:
        reporter(*sys.exc_info())
    assert str(path) in reporter.last_message and "ValueError: something odd" in reporter.last_message
    for h in __import__("logging").getLogger().handlers:
        h.flush()
    text = path.read_text()
    assert "Traceback" in text and "something odd" in text
