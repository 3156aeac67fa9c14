"""A TTS run starts from a narrower TTS on a codec with more acoustic values, as the old TTS on the old
values, and refuses any other difference with a clear error."""

from dataclasses import replace

import pytest
import torch

from engine.nn.tts_model import N_SPECIAL, VoxtralTTS
from engine.train.sizes import CODEC_SIZES, tts_config
from engine.train.tts_init import WIDENED, widened_state


def _tts(acoustic_dim: int, size: str = "tiny", seed: int = 0) -> VoxtralTTS:
    torch.manual_seed(seed)
    return VoxtralTTS(tts_config(size, replace(CODEC_SIZES["tiny"], acoustic_dim=acoustic_dim)))


def test_a_widened_tts_starts_as_the_narrow_one_on_its_values():
    narrow, wide = _tts(4), _tts(7, seed=1)
    wide.load_state_dict(widened_state(narrow.state_dict(), wide))
    levels = narrow.cfg.acoustic_levels
    g = torch.Generator().manual_seed(0)
    frames = torch.cat([torch.randint(0, narrow.cfg.semantic_codebook_size, (5, 1), generator=g),
                        torch.randint(0, levels, (5, 7), generator=g)], 1) + N_SPECIAL  # model space
    with torch.no_grad():
        # the new codebooks embed to zero: the frame's embedding is the narrow model's
        assert torch.allclose(wide.audio_embeddings(frames), narrow.audio_embeddings(frames[:, :5]), atol=1e-6)
        # the flow head ignores the new values' state and draws no velocity for them yet
        head_n, head_w = narrow.acoustic_transformer, wide.acoustic_transformer
        cond = head_n.llm_projection(torch.randn(5, narrow.cfg.backbone.dim, generator=g))
        x, t = torch.randn(5, 7, generator=g), torch.rand(5, generator=g)
        v = head_w.velocity(x, t, cond)
        assert torch.allclose(v[:, :4], head_n.velocity(x[:, :4], t, cond), atol=1e-5)
        assert torch.equal(v[:, 4:], torch.zeros(5, 3))
    # every other weight is the narrow model's
    state = wide.state_dict()
    assert all(torch.equal(state[k], v) for k, v in narrow.state_dict().items() if k not in WIDENED)


def test_a_tts_cannot_start_from_a_wider_or_differently_sized_one():
    with pytest.raises(ValueError, match="7 acoustic values and this codec has 4"):
        widened_state(_tts(7).state_dict(), _tts(4))
    with pytest.raises(ValueError, match="only the acoustic values' count may differ"):
        widened_state(_tts(4, size="mini").state_dict(), _tts(7))
