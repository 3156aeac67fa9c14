"""The shipped timbre-mini model speaks: `timbre say` output is transcribed by pocketsphinx."""

import shutil
import subprocess
import sys

from pathlib import Path

import pytest
import soundfile as sf

REPO_ASSETS = Path(__file__).resolve().parents[2] / "assets"  # the suite itself sees tiny-random only
MODEL = REPO_ASSETS / "timbre-mini"
pytestmark = pytest.mark.skipif(not (MODEL / "config.json").is_file(), reason="timbre-mini is not shipped yet")


def test_timbre_say_is_intelligible(tmp_path):
    from engine.train import metrics

    text = "The quick brown fox jumps over the lazy dog."
    wav = tmp_path / "say.wav"
    timbre = shutil.which("timbre", path=str(Path(sys.executable).parent))
    r = subprocess.run([timbre, "say", text, "-o", str(wav), "--model", str(MODEL), "--seed", "0", "--threads", "2"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    audio, sr = sf.read(str(wav), dtype="float32")
    assert sr == 16000
    heard = metrics.transcribe(audio)
    ref = metrics.words_for_wer(text).split()
    import jiwer

    errors = jiwer.process_words(" ".join(ref), heard or "<empty>")
    n_errors = errors.substitutions + errors.deletions + errors.insertions
    assert n_errors <= 2, f"heard {heard!r}"


def test_timbre_mini_is_the_default_model_and_clones(tmp_path, monkeypatch):
    import numpy as np
    import torch

    from engine.codec.interface import AudioCodec
    from engine.model_files import default_model_name, load_model

    monkeypatch.setenv("TIMBRE_ASSETS", str(REPO_ASSETS))
    assert default_model_name() == "timbre-mini"
    m = load_model("timbre-mini", torch.device("cpu"), torch.float32)
    assert m.config.trained and "default" in m.voices
    assert sum(p.stat().st_size for p in MODEL.rglob("*") if p.is_file()) <= 50 * 2**20
    codec = AudioCodec(m.codec, torch.device("cpu"))
    t = np.arange(16000) / 16000
    codes = codec.encode((0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32), 16000)
    assert codes.shape == (13, 1 + m.config.codec.acoustic_dim)
