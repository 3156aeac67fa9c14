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


FOX = "The quick brown fox jumps over the lazy dog."
# The first six of the corpus's 30 held-out sentences that have 6-10 words (never trained on).
HELD_OUT = ["Darkness has conquered Brad and Janet.", "To err is human, to repent, divine, to persist, devilish.",
            "Make it right before you make it faster.", "Why does a hearse horse snicker, hauling a lawyer away?",
            "You wouldn't see cats having waste disposal problems.", "About seventy four percent of the pencils were quiet."]


def _say(tmp_path, text: str, name: str, seed: int = 0) -> str:
    """`timbre say` with the shipped model at ``seed`` -> what pocketsphinx hears."""
    from engine.train import metrics

    wav = tmp_path / f"{name}.wav"
    timbre = shutil.which("timbre", path=str(Path(sys.executable).parent))
    r = subprocess.run([timbre, "say", text, "-o", str(wav), "--model", str(MODEL), "--seed", str(seed),
                        "--threads", "2"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    audio, sr = sf.read(str(wav), dtype="float32")
    assert sr == 16000
    return metrics.transcribe(audio)


def test_held_out_sentences_are_mostly_understood(tmp_path):
    from engine.train import metrics

    heard = [_say(tmp_path, text, f"held-out-{i}") for i, text in enumerate(HELD_OUT)]
    wer = metrics.wer(HELD_OUT, heard)
    # shipped model at its default 1 flow step: 0.39 here (at 8 steps 0.45); noise (tiny-random) about 1.0; the
    # teachers' own audio 0.14-0.29 on the 30 held-out
    assert wer <= 0.6, f"WER {wer:.2f}: heard {heard}"


def test_make_say_fox_has_at_most_two_word_errors_in_one_of_five_takes(tmp_path):
    """The goal is one take with at most two word errors. Measured on the shipped model (default 1 flow
    step), seeds 0-9: 3, 1, 3, 4, 2, 6, 3, 3, 2, 5 errors (at 8 steps: 1, 4, 0, 5, 5, 1, 5, 5, 5, 4); so a
    user renders a few takes, and the test does too."""
    import jiwer

    from engine.train import metrics

    errors = {}
    for seed in range(5):
        heard = _say(tmp_path, FOX, f"fox-{seed}", seed)
        e = jiwer.process_words(metrics.words_for_wer(FOX), heard or "<empty>")
        errors[heard] = e.substitutions + e.deletions + e.insertions
    assert min(errors.values()) <= 2, f"heard {errors}"


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
