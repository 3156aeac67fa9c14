"""Forced alignment: the unit sequence and durations agree with the text, pauses go to boundaries."""

import numpy as np
import pytest

from engine.train.align import AlignmentError, units_and_durations


def test_pauses_go_to_the_boundary_or_punctuation_before_the_next_word():
    segs = [("<sil>", [("SIL", 5)]), ("hi", [("HH", 4), ("AY", 6)]), ("<sil>", [("SIL", 12)]),
            ("there", [("DH", 3), ("EH", 5), ("R", 4)]), ("<sil>", [("SIL", 7)])]
    units, durs = units_and_durations("Hi, there.", segs, total_steps=50)
    assert units == ["_", "HH", "AY", ",", "DH", "EH", "R", "."]
    assert durs == [5, 4, 6, 12, 3, 5, 4, 7 + 4]  # the 4 uncovered steps go to the last unit
    assert sum(durs) == 50


def test_words_out_of_order_are_an_error():
    with pytest.raises(AlignmentError, match="does not match"):
        units_and_durations("hi there", [("there", [("DH", 3)])], 10)


def test_pocketsphinx_aligns_a_flite_clip(tmp_path):
    import shutil
    import subprocess

    import soundfile as sf

    if not shutil.which("flite"):
        pytest.skip("flite is not installed")
    from engine.train.align import Aligner
    from engine.train.data import trim_and_level

    text = "the cat sat on the mat"
    subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", str(tmp_path / "a.wav")], check=True)
    audio, sr = sf.read(str(tmp_path / "a.wav"), dtype="float32")
    assert sr == 16000
    audio = trim_and_level(audio)
    units, durs = units_and_durations(text, Aligner().segments(audio, text.split()), len(audio) // 160)
    assert units[:4] == ["_", "DH", "AH", "_"] and units[-3:] == ["AE", "T", "_"]
    assert sum(durs) == len(audio) // 160 and all(d >= 0 for d in durs)
    assert np.mean([d for u, d in zip(units, durs) if u != "_"]) > 3  # phones last tens of ms
