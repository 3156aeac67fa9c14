"""Evaluation scoring in worker processes gives the in-process scores, and `timbre eval` writes a full report."""

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.train import metrics
from engine.train.corpus import load_clips
from engine.train.evaluate import evaluate
from engine.train.scoring import Scorer

MODEL = Path(__file__).resolve().parents[2] / "assets" / "timbre-mini"  # the shipped model, by its folder


def _eval_clips(corpus, speaker):
    clips = sorted((c for c in load_clips(corpus, "eval", exclude_held_out=False) if c.meta["speaker"] == speaker),
                   key=lambda c: c.meta["sentence"])
    return [sf.read(str(corpus / c.meta["audio"]), dtype="float32")[0] for c in clips], [c.meta["spoken"] for c in clips]


def test_the_pool_scores_what_one_process_scores(corpus):
    slt, texts = _eval_clips(corpus, "flite-slt")
    kal, _ = _eval_clips(corpus, "flite-kal16")
    same, other = metrics.speaker_embedding(slt[-1]), metrics.speaker_embedding(kal[-1])
    with Scorer(0) as inline, Scorer(2) as pool:
        here = inline.score(slt, texts, same).result()
        there = pool.score(slt, texts, same).result()
        assert there == pytest.approx(here, abs=1e-4)
        # the similarity is to the reference embedding it was given
        assert there["similarity"] > pool.score(slt, texts, other).result()["similarity"] + 0.05
        assert there["wer"] < 0.6 and 2.0 < there["dnsmos"] < 4.5
        # a clip against itself: perfect PESQ and STOI, the same DNSMOS, transcript and similarity for both
        # sides; WORLD analysis -> synthesis alone is lossy, but keeps the words
        row = pool.codec(slt[0], slt[0], same, True).result()
        assert row["pesq"] > 4.0 and row["stoi"] > 0.99 and row["dnsmos"] == pytest.approx(row["dnsmos_original"])
        assert row["transcript"] == row["transcript_original"] != ""
        assert row["similarity"] == pytest.approx(row["similarity_original"]) and row["similarity"] > 0.8
        assert 1.5 < row["world_pesq"] < 4.0 and 0.9 < row["world_stoi"] < row["stoi"]
        assert "world_pesq" not in pool.codec(slt[0], slt[0]).result()
        # the original's scores, when already asked for, are taken as given, not computed again
        given = inline.clips([slt[1]], same)[0]
        row = pool.codec(slt[0], slt[0], same, original_scores=given).result()
        assert row["transcript_original"] == given.result()["transcript"] != row["transcript"]


def test_eval_writes_every_section(corpus, tmp_path):
    args = argparse.Namespace(model=str(MODEL), data=str(corpus), out=str(tmp_path / "eval"), sentences=2,
                              voices="flite-slt,piper-joe", steps_table=[1, 8], threads=None, workers=2, quick=False,
                              no_voice_match=False, skip_phones=False)
    report = evaluate(args, log=lambda *_: None)
    assert set(report["voices"]) == {"flite-slt", "piper-joe"}
    assert report["voice_match"] and not report["skip_phones"]  # how it rendered, kept in report.json
    for row in report["voices"].values():
        assert 0.0 <= row["model"]["wer"] and row["teacher"]["similarity"] > 0.7
    # the codec round trip of every unwarped speaker, the held-out voice included
    assert set(report["codec"]["per_speaker"]) == {"flite-slt", "flite-kal16", "piper-joe", "flite-awb"}
    assert 0.0 < report["codec"]["stoi"] < 1.0
    for spk, row in report["codec"]["per_speaker"].items():
        # similarity to the voice's reference clip; the held-out voice has none
        assert ("similarity" in row) == (spk != "flite-awb")
        # the shipped codec keeps less than WORLD alone does (its decoder renders through WORLD)
        assert row["world_stoi"] > row["stoi"]
    assert report["cloning"]["speaker"] == "flite-awb" and -1.0 < report["cloning"]["clone_similarity"] <= 1.0
    assert set(report["steps"]) == {"1", "8"}
    assert report["speed"]["model"]["rtf"] > 0
    saved = json.loads((tmp_path / "eval" / "report.json").read_text())
    assert saved["voices"] == report["voices"]
    md = (tmp_path / "eval" / "report.md").read_text()
    assert "| flite-slt |" in md and "WORLD alone, no bottleneck" in md
    assert sorted(p.name for p in (tmp_path / "eval").glob("flite-slt-*.wav")) == ["flite-slt-0.wav", "flite-slt-1.wav"]
    assert np.isfinite(sf.read(str(tmp_path / "eval" / "flite-slt-0.wav"))[0]).all()
