"""`timbre hear` transcribes takes as `timbre eval` does, whatever their format, and counts word errors."""

from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from engine.cli import main

SPEECH = Path(__file__).resolve().parents[2] / "presets" / "timbre-mini-flite-kal16" / "reference.flac"


def _heard(argv, capsys) -> list[str]:
    assert main(["hear", *argv]) == 0
    return capsys.readouterr().out.splitlines()


def test_a_take_in_another_rate_and_layout_is_heard_alike(tmp_path, capsys):
    audio, sr = sf.read(str(SPEECH), dtype="float32")
    stereo = tmp_path / "stereo.wav"
    sf.write(str(stereo), np.stack([audio, audio], axis=1), sr, subtype="PCM_24")
    rate48 = tmp_path / "at48k.flac"
    sf.write(str(rate48), soxr.resample(audio, sr, 48_000), 48_000, subtype="PCM_24")
    lines = _heard([str(SPEECH), str(stereo), str(rate48)], capsys)
    transcripts = [line.split(": ", 1)[1].strip('"') for line in lines]
    assert len(transcripts[0].split()) >= 5  # real speech, heard as words
    assert transcripts[1] == transcripts[0]  # two equal channels are the mono clip
    same = set(transcripts[2].split()) & set(transcripts[0].split())
    assert len(same) >= 0.7 * len(set(transcripts[0].split()))  # resampled back to 16 kHz: nearly the same words


def test_word_errors_are_counted_against_the_text(tmp_path, capsys):
    heard = _heard([str(SPEECH)], capsys)[0].split(": ", 1)[1].strip('"')
    words = heard.split()
    assert _heard([str(SPEECH), "--text", heard], capsys)[0].endswith(
        f"0 word errors in {len(words)} (0 substituted, 0 missed, 0 added)")
    longer = _heard([str(SPEECH), "--text", heard + " and 2 more"], capsys)[0]
    assert longer.endswith(f"3 word errors in {len(words) + 3} (0 substituted, 3 missed, 0 added)")  # "2" is a word
    shorter = _heard([str(SPEECH), "--text", " ".join(words[1:])], capsys)[0]
    assert shorter.endswith(f"1 word error in {len(words) - 1} (0 substituted, 0 missed, 1 added)")
    both = _heard([str(SPEECH), str(SPEECH), "--text", " ".join(words[1:])], capsys)
    assert both[-1] == f"2 files: WER {2 / (2 * (len(words) - 1)):.3f}, word errors 1, 1"


def test_what_is_not_a_take_or_not_words_is_named(tmp_path, capsys):
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all\n" * 20)
    assert main(["hear", str(text)]) == 2
    assert "notes.wav is not audio" in capsys.readouterr().err
    assert main(["hear", str(SPEECH), "--text", "... !"]) == 2
    assert "has no words to compare with" in capsys.readouterr().err
    assert main(["hear", str(tmp_path / "missing.wav")]) == 2
    assert "missing.wav" in capsys.readouterr().err
