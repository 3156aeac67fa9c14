"""`timbre codec-probe` puts back one WORLD feature group at a time, and finds what the shipped codec loses."""

import json
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from engine.cli import main
from engine.codec import world
from engine.codec.interface import AudioCodec
from engine.model_files import load_model
from engine.train.codec_probe import GROUPS, VARIANTS, probe_features
from engine.train.corpus import load_clips

MODEL = Path(__file__).resolve().parents[2] / "assets" / "timbre-mini"


def test_each_variant_puts_back_exactly_its_group(corpus):
    clip = next(c for c in load_clips(corpus, "eval", exclude_held_out=False) if c.meta["speaker"] == "flite-slt")
    features = world.analyze(sf.read(str(corpus / clip.meta["audio"]), dtype="float32")[0])
    codec = AudioCodec(load_model(MODEL, torch.device("cpu"), torch.float32).codec, torch.device("cpu"))
    variants = probe_features(codec, features)
    assert list(variants) == list(VARIANTS)
    round_trip = variants["round trip"]
    assert round_trip.shape == features.shape and not np.allclose(round_trip, features, atol=1e-2)
    # the round trip decodes the same codes the codec's own encode gives
    codes = codec.encode(sf.read(str(corpus / clip.meta["audio"]), dtype="float32")[0], 16000)
    with torch.inference_mode():
        decoded = codec.codec.decode(torch.from_numpy(codes).T[None])[0].T.numpy()[: len(features)]
    np.testing.assert_allclose(round_trip, decoded, atol=1e-4)
    for group, cols in GROUPS.items():
        mixed = variants[f"true {group}"]
        np.testing.assert_array_equal(mixed[:, cols], features[:, cols])
        rest = np.ones(features.shape[1], bool)
        rest[cols] = False
        np.testing.assert_array_equal(mixed[:, rest], round_trip[:, rest])
    np.testing.assert_array_equal(variants["WORLD alone"], features)
    # the envelope right per 80 ms: each frame's mean envelope is the original's, the rest of it the round
    # trip's; per 20 ms it is closer to the original
    env = GROUPS["envelope"]
    per_frame = variants["envelope right per 80 ms"]
    n = len(features) // 16 * 16
    np.testing.assert_allclose(per_frame[:n, env].reshape(-1, 16, 40).mean(1),
                               features[:n, env].reshape(-1, 16, 40).mean(1), atol=1e-4)
    np.testing.assert_array_equal(per_frame[:, 2 + 40:], round_trip[:, 2 + 40:])
    offset = per_frame[:, env] - round_trip[:, env]  # one offset per frame
    np.testing.assert_allclose(offset, np.repeat(offset[::16], 16, 0)[: len(features)], atol=1e-5)
    error = {r: np.abs(variants[f"envelope right per {r}"][:, env] - features[:, env]).mean()
             for r in ("80 ms", "20 ms")}
    assert error["20 ms"] < error["80 ms"] < np.abs(round_trip[:, env] - features[:, env]).mean()
    # rounding to levels moves the decode a little, not to the original
    gap = np.abs(variants["unquantised latent"] - round_trip).mean()
    assert 0.0 < gap < np.abs(round_trip - features).mean()


def test_the_probe_finds_that_the_shipped_codec_loses_the_envelope(corpus, tmp_path, capsys):
    out = tmp_path / "probe"
    assert main(["codec-probe", "--model", str(MODEL), "--data", str(corpus), "--clips", "2", "--workers", "2",
                 "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert set(report["speakers"]) == {"flite-slt", "flite-kal16", "piper-joe", "flite-awb"}
    mean = report["all"]
    assert mean["WORLD alone"]["pesq"] > mean["round trip"]["pesq"] + 0.3
    # measured on 80 clips: putting back the envelope recovers most of the STOI that WORLD alone keeps,
    # f0 or aperiodicity almost none, and quantisation costs almost nothing
    assert mean["true envelope"]["stoi"] > mean["round trip"]["stoi"] + 0.04
    assert mean["true envelope"]["stoi"] > max(mean["true f0 + voicing"]["stoi"], mean["true aperiodicity"]["stoi"])
    assert abs(mean["unquantised latent"]["stoi"] - mean["round trip"]["stoi"]) < 0.03
    # what it loses is the envelope's detail within each 80 ms frame, not the frame's mean envelope
    assert mean["envelope right per 20 ms"]["stoi"] > mean["envelope right per 80 ms"]["stoi"] + 0.02
    md = (out / "report.md").read_text()
    assert "## STOI" in md and "| mean |" in md and str(out / "report.md") in capsys.readouterr().out


def test_a_codec_run_folder_probes_like_the_model_it_went_into(corpus, tmp_path):
    from engine.model_files import read_modules
    from engine.train.codec_probe import probe
    from engine.train.codec_train import export_codec

    run = tmp_path / "codec-run"
    run.mkdir()
    export_codec(run, read_modules(MODEL)[2])  # the shipped codec as a training run leaves it (weight norm kept)
    as_run = probe(str(run), corpus, clips=1, workers=0, log=lambda *_: None)
    as_model = probe(str(MODEL), corpus, clips=1, workers=0, log=lambda *_: None)
    assert as_run["model"] == "codec-run" and as_run["model_hash"] != as_model["model_hash"]
    for spk, variants in as_model["speakers"].items():
        for name, scores in variants.items():
            for key, value in scores.items():
                assert abs(as_run["speakers"][spk][name][key] - value) < 0.02, (spk, name, key)
