"""The alignment aid in the generation loop: phone tokens, the pointer, END when it passes the text,
WORLD-feature audio streaming; same seed => same frames."""

import gzip

import numpy as np
import pytest
import torch

from engine.api import SamplingParams, SynthesisRequest
from engine.config import ModelConfig
from engine.engine import Engine, EngineConfig
from engine.model_files import LEXICON_NAME
from engine.random_model import write_random_model
from engine.train.sizes import CODEC_SIZES, tts_config


@pytest.fixture(scope="module")
def aligned_engine(tmp_path_factory):
    codec = CODEC_SIZES["tiny"]
    cfg = ModelConfig(name="tiny-aligned", tts=tts_config("tiny", codec), codec=codec)
    folder = write_random_model(tmp_path_factory.mktemp("m") / "tiny-aligned", cfg)
    (folder / LEXICON_NAME).write_bytes(gzip.compress(b"hello HH AH L OW\nthere DH EH R\n"))
    e = Engine(EngineConfig(model=str(folder), device="cpu", threads=2))
    e.load()
    return e


def test_speech_ends_when_the_pointer_passes_the_last_unit(aligned_engine, monkeypatch):
    tts = aligned_engine.model.tts
    monkeypatch.setattr(tts, "advance", lambda h: 1)
    done = aligned_engine.render(SynthesisRequest("Hello there.", params=SamplingParams(seed=2, max_seconds=10)))
    units = aligned_engine.model.prompter.tokenizer.encode("Hello there.")
    assert len(units) == 10  # _ HH AH L OW _ DH EH R .
    assert done.frames[-1].end_of_speech and len(done.frames) == len(units) + 1
    assert len(done.audio) == len(units) * 1280


def test_a_pointer_that_never_moves_stops_at_the_max_frames_guard(aligned_engine, monkeypatch):
    monkeypatch.setattr(aligned_engine.model.tts, "advance", lambda h: 0)
    done = aligned_engine.render(SynthesisRequest("Hello.", params=SamplingParams(seed=2, max_seconds=0.8)))
    assert len(done.frames) == 10 and not done.frames[-1].end_of_speech


def test_aligned_generation_is_deterministic_and_streams_world_audio(aligned_engine):
    req = SynthesisRequest("Hello there.", params=SamplingParams(seed=5, max_seconds=1.6))
    a, b = aligned_engine.render(req), aligned_engine.render(req)
    np.testing.assert_array_equal(np.stack([f.codes for f in a.frames]), np.stack([f.codes for f in b.frames]))
    np.testing.assert_array_equal(a.audio, b.audio)
    assert a.sample_rate == 16000 and np.isfinite(a.audio).all() and np.abs(a.audio).max() <= 1.0


def test_world_stream_features_equal_the_offline_decode(aligned_engine):
    from engine.codec.audio_stream import AudioStream

    codec = aligned_engine.model.codec
    g = torch.Generator().manual_seed(0)
    k, s = codec.cfg.acoustic_dim, codec.cfg.semantic_codebook_size
    codes = torch.cat([torch.randint(0, s, (12, 1), generator=g), torch.randint(0, 21, (12, k), generator=g)], 1)
    with torch.no_grad():
        offline = codec.decode(codes.T[None])[0]
    stream = AudioStream(codec, context=25)
    parts = [stream.decoder.push(codes[i:i + 3]) for i in range(0, 12, 3)]
    torch.testing.assert_close(torch.cat(parts, dim=-1), offline, atol=1e-5, rtol=1e-4)
    audio = AudioStream(codec, context=25)
    chunks = [audio.push(codes[i:i + 4]) for i in range(0, 12, 4)]
    assert sum(len(c) for c in chunks) == 12 * 1280


def test_the_pointer_stops_on_every_phone_unless_told_to_skip(aligned_engine, monkeypatch):
    """A head that always jumps three units: by default the pointer still stops on each of the nine
    phones of "_ HH AH L OW _ DH EH R ." (it may pass the boundary); skip_phones follows the head."""
    folder = aligned_engine.config.model
    skipping = Engine(EngineConfig(model=folder, device="cpu", threads=2, skip_phones=True))
    skipping.load()
    req = SynthesisRequest("Hello there.", params=SamplingParams(seed=2, max_seconds=10))
    for engine, frames in ((aligned_engine, 8), (skipping, 4)):  # 0 1 2 3 4 6 7 8 / 0 3 6 9, then END
        monkeypatch.setattr(engine.model.tts, "advance", lambda h: 3)
        done = engine.render(req)
        assert done.frames[-1].end_of_speech and len(done.frames) == frames + 1


def test_each_frame_records_the_unit_it_was_drawn_under_and_exports_keep_it(aligned_engine, monkeypatch, tmp_path):
    from engine.frame_exports import export_frames, load_frames_npz
    from engine.take_files import load_frames

    monkeypatch.setattr(aligned_engine.model.tts, "advance", lambda h: 1)
    done = aligned_engine.render(SynthesisRequest("Hello there.", params=SamplingParams(seed=2, max_seconds=10)))
    units = [f.unit for f in done.frames]
    assert units == "_ HH AH L OW _ DH EH R .".split() + [""]  # the END frame is past the text
    loaded, meta = load_frames(export_frames(tmp_path / "f.safetensors", done.frames, {"seed": 2}))
    assert [f.unit for f in loaded] == units and meta == {"seed": 2}
    arrays, _ = load_frames_npz(export_frames(tmp_path / "f.npz", done.frames, {}))
    assert arrays["unit"].tolist() == units
    rows = (export_frames(tmp_path / "f.csv", done.frames, {})).read_text().splitlines()[1:]
    assert [r.split(",")[5] for r in rows] == ["unit", *units]
