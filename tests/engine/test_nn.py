"""Backbone, RoPE, flow head and FSQ behave as the Voxtral reference describes."""

import math

import pytest
import torch

from engine.config import BackboneConfig, FlowHeadConfig
from engine.nn.backbone import Backbone
from engine.nn.flow_head import AcousticHead, TimeEmbedding
from engine.nn.fsq import fsq_decode, fsq_encode
from engine.nn.layers import apply_rope, rope_frequencies

CFG = BackboneConfig(dim=32, n_layers=2, n_heads=4, n_kv_heads=2, head_dim=8, hidden_dim=64, max_seq_len=128)


def test_kv_cache_decoding_equals_full_recomputation():
    model = Backbone(CFG).eval()
    x = torch.randn(1, 20, CFG.dim)
    with torch.no_grad():
        full = model(x)  # (1, 20, D), causal, no cache
        cache = model.new_cache(capacity=32)
        pre = model(x[:, :12], cache)  # prefill 12 positions
        steps = [model(x[:, i:i + 1], cache) for i in range(12, 20)]  # then one position at a time
    inc = torch.cat([pre] + steps, dim=1)
    assert cache.length == 20
    torch.testing.assert_close(inc, full, atol=1e-5, rtol=1e-5)


def test_causality_future_positions_do_not_change_the_past():
    model = Backbone(CFG).eval()
    x = torch.randn(1, 10, CFG.dim)
    y = x.clone()
    y[:, 7:] = torch.randn(1, 3, CFG.dim)
    with torch.no_grad():
        torch.testing.assert_close(model(x)[:, :7], model(y)[:, :7])
        assert not torch.allclose(model(x)[:, 7:], model(y)[:, 7:])


def test_rope_rotates_interleaved_pairs():
    hd, theta, pos = 8, 10000.0, 5
    freqs = rope_frequencies(hd, 16, theta)
    x = torch.randn(1, 16, 1, hd)
    out = apply_rope(x, freqs)
    # pair (x[2i], x[2i+1]) at position p is rotated by p * theta^(-2i/hd), as complex multiplication
    for i in range(hd // 2):
        angle = pos * theta ** (-2 * i / hd)
        z = complex(x[0, pos, 0, 2 * i], x[0, pos, 0, 2 * i + 1]) * complex(math.cos(angle), math.sin(angle))
        assert out[0, pos, 0, 2 * i].item() == pytest.approx(z.real, abs=1e-5)
        assert out[0, pos, 0, 2 * i + 1].item() == pytest.approx(z.imag, abs=1e-5)


def test_time_embedding_is_cos_then_sin():
    emb = TimeEmbedding(8)(torch.tensor([0.0, 0.5]))
    assert emb.shape == (2, 8)
    torch.testing.assert_close(emb[0], torch.tensor([1.0] * 4 + [0.0] * 4))
    assert emb[1, 0].item() == pytest.approx(math.cos(0.5))
    assert emb[1, 4].item() == pytest.approx(math.sin(0.5))


def _head() -> AcousticHead:
    cfg = FlowHeadConfig(dim=32, n_layers=2, n_heads=4, n_kv_heads=2, head_dim=8, hidden_dim=64)
    return AcousticHead(cfg, input_dim=24, acoustic_dim=6, semantic_size=34).eval()


def _manual_euler(head, h, noise, steps, alpha):
    cond = head.llm_projection(h)
    ts = torch.linspace(0, 1, steps + 1)
    x = noise
    for i in range(steps):
        t = ts[i].expand(h.shape[0])
        vc = head.velocity(x, t, cond)
        vu = head.velocity(x, t, torch.zeros_like(cond))
        x = x + (alpha * vc + (1 - alpha) * vu) * (ts[i + 1] - ts[i])
    return x


def test_guidance_one_equals_the_conditional_branch_alone():
    head, h, noise = _head(), torch.randn(1, 24), torch.randn(1, 6)
    with torch.no_grad():
        x, _ = head.sample(h, noise, steps=5, guidance=1.0)
        cond = head.llm_projection(h)
        ts = torch.linspace(0, 1, 6)
        ref = noise
        for i in range(5):
            ref = ref + head.velocity(ref, ts[i].expand(1), cond) * (ts[i + 1] - ts[i])
    torch.testing.assert_close(x, ref)


def test_batched_guidance_matches_separate_branches_with_zeroed_hidden():
    head, h, noise = _head(), torch.randn(1, 24), torch.randn(1, 6)
    with torch.no_grad():
        x, traj = head.sample(h, noise, steps=4, guidance=1.7, keep_trajectory=True)
        ref = _manual_euler(head, h, noise, 4, 1.7)
        unguided, _ = head.sample(h, noise, steps=4, guidance=1.0)
    torch.testing.assert_close(x, ref, atol=1e-5, rtol=1e-5)
    assert traj.shape == (5, 1, 6)
    torch.testing.assert_close(traj[0], noise)
    torch.testing.assert_close(traj[-1], x)
    assert not torch.allclose(x, unguided)


@pytest.mark.parametrize("steps", [1, 3, 8])
@pytest.mark.parametrize("guidance", [1.0, 1.5])
def test_head_evaluations_per_frame_equal_steps(steps, guidance):
    head = _head()
    batches = []
    head.layers[0].register_forward_hook(lambda m, i, o: batches.append(i[0].shape[0]))
    with torch.no_grad():
        head.sample(torch.randn(1, 24), torch.randn(1, 6), steps=steps, guidance=guidance)
    assert head.evaluations == steps
    assert batches == [2 if guidance != 1.0 else 1] * steps  # both branches in one batch


def test_semantic_logits_mask_empty_and_padding():
    head = _head()
    logits = head.semantic_logits(torch.randn(3, 24))
    assert logits.shape == (3, 34) and logits.dtype == torch.float32
    assert torch.isinf(logits[:, 0]).all() and torch.isfinite(logits[:, 1:]).all()


def test_fsq_round_trip_and_clamp():
    levels = 21
    codes = torch.arange(levels)
    torch.testing.assert_close(fsq_encode(fsq_decode(codes, levels), levels), codes)
    assert fsq_encode(torch.tensor([-3.0, 3.0]), levels).tolist() == [0, 20]
    assert fsq_decode(torch.tensor([10]), levels).item() == pytest.approx(0.0)
