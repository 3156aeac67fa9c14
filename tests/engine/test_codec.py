"""The Voxtral codec structure at tiny size: shapes, quantizers, weight norm, streaming == offline."""

import pytest
import torch

from engine.codec.layers import CausalConv1d, window_bias
from engine.codec.voxtral_codec import StreamingDecoder, VoxtralCodec
from engine.config import CodecConfig

CFG = CodecConfig()  # 16 kHz, 1280 samples per frame


@pytest.fixture(scope="module")
def codec() -> VoxtralCodec:
    torch.manual_seed(0)
    c = VoxtralCodec(CFG).eval()
    c.quantizer.semantic_codebook.embedding_sum.normal_()
    return c


def _codes(t: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    sem = torch.randint(0, CFG.semantic_codebook_size, (1, 1, t), generator=g)
    ac = torch.randint(0, CFG.acoustic_levels, (1, CFG.acoustic_dim, t), generator=g)
    return torch.cat([sem, ac], 1)  # (1, 1 + K, T)


def test_frame_rate_is_12_5_hz(codec):
    assert CFG.sample_rate / CFG.samples_per_frame == 12.5
    with torch.no_grad():
        audio = codec.decode(_codes(7))
        codes = codec.encode(torch.randn(1, 16000))  # 1 s -> 12.5 -> 13 frames
    assert audio.shape == (1, 7 * CFG.samples_per_frame)
    assert codes.shape == (1, 1 + CFG.acoustic_dim, 13)
    assert codes[:, 0].max() < CFG.semantic_codebook_size and codes[:, 1:].max() < CFG.acoustic_levels


def test_quantizer_round_trip_of_codes(codec):
    codes = _codes(9)
    latent = codec.quantizer.decode(codes)
    assert latent.shape == (1, CFG.latent_dim, 9)
    # FSQ decode gives values inside (-1, 1) exactly on the grid; atanh makes encode's tanh invert it
    lat = latent.clone()
    lat[:, CFG.semantic_dim:] = torch.atanh(lat[:, CFG.semantic_dim:].clamp(-0.999999, 0.999999))
    torch.testing.assert_close(codec.quantizer.encode(lat), codes)


@pytest.mark.parametrize("chunks", [[1] * 40, [5, 25, 10], [3, 7, 11, 19]])
def test_streaming_decode_equals_offline(codec, chunks):
    codes = _codes(sum(chunks), seed=len(chunks))
    with torch.no_grad():
        offline = codec.decode(codes)[0]
    stream = StreamingDecoder(codec, context=25)
    parts, start = [], 0
    for n in chunks:
        parts.append(stream.push(codes[0, :, start:start + n].T))
        start += n
    streamed = torch.cat(parts)
    assert streamed.shape == offline.shape
    torch.testing.assert_close(streamed, offline, atol=1e-5, rtol=1e-4)


def test_too_little_context_differs(codec):
    """The decoder's receptive field spans many frames: 2 frames of context are not enough."""
    codes = _codes(30, seed=5)
    with torch.no_grad():
        offline = codec.decode(codes)[0]
    stream = StreamingDecoder(codec, context=2)
    streamed = torch.cat([stream.push(codes[0, :, i:i + 5].T) for i in range(0, 30, 5)])
    assert not torch.allclose(streamed, offline, atol=1e-4)


def test_weight_norm_folding_keeps_output():
    torch.manual_seed(1)
    c = VoxtralCodec(CFG).eval()
    codes = _codes(6)
    with torch.no_grad():
        before = c.decode(codes)
        n = c.fold_weight_norm()
        after = c.decode(codes)
    assert n > 0
    assert not any("parametrizations" in k for k in c.state_dict())
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)


def test_causal_conv_is_causal_and_keeps_length():
    conv = CausalConv1d(2, 3, kernel=7, pad_mode="reflect").eval()
    x = torch.randn(1, 2, 50)
    y = x.clone()
    y[..., 30:] = 0
    with torch.no_grad():
        assert conv(x).shape == (1, 3, 50)
        torch.testing.assert_close(conv(x)[..., :30], conv(y)[..., :30])
        assert CausalConv1d(2, 3, kernel=4, stride=2)(x).shape == (1, 3, 25)


def test_window_bias_masks_future_and_far_past():
    b = window_bias(6, 2, torch.tensor([1.0, 0.5]), torch.device("cpu"))
    assert b.shape == (2, 6, 6)
    assert torch.isinf(b[:, 2, 3]).all()  # future
    assert torch.isinf(b[:, 5, 2]).all()  # beyond the window
    assert b[0, 5, 3].item() == -2.0 and b[1, 5, 3].item() == -1.0  # ALiBi slope * (j - i)
    assert b[0, 4, 4].item() == 0.0


def test_audio_codec_resamples_mixes_and_round_trips_lengths(codec):
    import numpy as np

    from engine.codec.interface import AudioCodec

    ac = AudioCodec(codec, torch.device("cpu"))
    assert ac.frame_rate == 12.5 and ac.sample_rate == 16000
    stereo_44k = np.random.default_rng(0).standard_normal((44100, 2)).astype(np.float32) * 0.1  # 1 s
    codes = ac.encode(stereo_44k, 44100)
    assert codes.shape == (13, 1 + CFG.acoustic_dim) and codes.dtype == np.int64
    audio = ac.decode(codes)
    assert audio.shape == (13 * 1280,) and audio.dtype == np.float32 and np.abs(audio).max() <= 1.0
    with pytest.raises(Exception, match="non-empty"):
        ac.encode(np.zeros(0, dtype=np.float32), 16000)


def test_world_vocoder_loads_without_pkg_resources():
    """The frozen app and setuptools >= 81 have no pkg_resources, which pyworld imports for its version."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['pkg_resources'] = None\n"
            "import numpy as np\n"
            "from engine.codec import world\n"
            "feats = world.analyze(0.3 * np.sin(np.arange(8000) * 0.1).astype(np.float32))\n"
            "print(feats.shape[1], world._pw().__version__)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    width, version = r.stdout.split()
    assert int(width) == 43 and version[0].isdigit()
