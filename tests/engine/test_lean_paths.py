"""The generation loop's lean paths (fused backbone step, hoisted flow ODE, overlapped decode) compute
what the modules compute."""

import numpy as np
import pytest
import torch

from engine.api import SamplingParams, SynthesisRequest
from engine.codec.decode_worker import ChunkDecoder, spare_core
from engine.config import BackboneConfig, FlowHeadConfig
from engine.engine import Engine, EngineConfig
from engine.nn.backbone import Backbone
from engine.nn.backbone_lean import LeanBackbone
from engine.nn.flow_graph import FlowSampler
from engine.nn.flow_head import AcousticHead
from engine.nn.flow_lean import LeanFlow

BACKBONE = BackboneConfig(dim=48, n_layers=3, n_heads=6, n_kv_heads=2, head_dim=8, hidden_dim=96,
                          max_seq_len=64)


def _head(n_layers: int = 1) -> AcousticHead:
    cfg = FlowHeadConfig(dim=32, n_layers=n_layers, n_heads=4, n_kv_heads=2, head_dim=8, hidden_dim=64)
    return AcousticHead(cfg, input_dim=24, acoustic_dim=6, semantic_size=34).eval()


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("guidance", [1.0, 1.7])
@pytest.mark.parametrize("steps", [1, 8])
def test_lean_flow_draws_the_heads_trajectory(batch, guidance, steps):
    head = _head()
    lean = LeanFlow(head)
    h, noise = torch.randn(batch, 24), torch.randn(batch, 6)
    with torch.no_grad():
        x_ref, traj_ref = head.sample(h, noise, steps, guidance, keep_trajectory=True)
    evaluations = head.evaluations
    x, traj = lean.sample(h, noise, steps, guidance, keep_trajectory=True)
    assert traj.shape == (steps + 1, batch, 6)
    torch.testing.assert_close(traj, traj_ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(x, x_ref, atol=1e-5, rtol=1e-5)
    assert head.evaluations == evaluations + steps  # counted as the head counts its own
    assert lean.sample(h, noise, steps, guidance)[1] is None


def test_lean_flow_uses_the_weights_it_was_built_with_and_only_one_layer():
    head = _head()
    lean = LeanFlow(head)
    h, noise = torch.randn(1, 24), torch.randn(1, 6)
    before = lean.sample(h, noise, 4, 1.5)[0]
    with torch.no_grad():
        head.layers[0].feed_forward.w1.weight.mul_(3.0)
    assert torch.equal(lean.sample(h, noise, 4, 1.5)[0], before)  # fused copies: rebuild after loading
    torch.testing.assert_close(LeanFlow(head).sample(h, noise, 4, 1.5)[0],
                               head.sample(h, noise, 4, 1.5)[0].detach(), atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="one-layer flow head, got 2 layers"):
        LeanFlow(_head(2))


def test_flow_sampler_on_the_cpu_runs_lean_only_for_one_layer_heads():
    assert FlowSampler(_head(1)).lean is not None
    two = FlowSampler(_head(2))
    assert two.lean is None
    h, noise = torch.randn(1, 24), torch.randn(1, 6)
    with torch.no_grad():
        torch.testing.assert_close(two.sample(h, noise, 3, 1.3)[0], two.head.sample(h, noise, 3, 1.3)[0])


def test_lean_backbone_step_equals_the_modules_on_the_same_cache():
    model = Backbone(BACKBONE).eval()
    lean = LeanBackbone(model)
    prompt, frames = torch.randn(2, 7, BACKBONE.dim), torch.randn(2, 5, BACKBONE.dim)
    with torch.no_grad():
        ref_cache, cache = model.new_cache(2, 16), model.new_cache(2, 16)
        model(prompt, ref_cache)
        model(prompt, cache)
        for i in range(frames.shape[1]):
            ref = model(frames[:, i:i + 1], ref_cache)[:, -1]
            out = lean.step(frames[:, i], cache)
            torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    assert cache.length == ref_cache.length == 12
    torch.testing.assert_close(cache.k, ref_cache.k, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(cache.v, ref_cache.v, atol=1e-5, rtol=1e-5)


def test_lean_backbone_refuses_past_max_seq_len():
    model = Backbone(BACKBONE).eval()
    cache = model.new_cache(1, BACKBONE.max_seq_len)
    cache.length = BACKBONE.max_seq_len
    with pytest.raises(RuntimeError, match="longer than max_seq_len=64"):
        LeanBackbone(model).step(torch.randn(1, BACKBONE.dim), cache)


def test_engine_renders_the_same_frames_with_and_without_the_lean_paths():
    engine = Engine(EngineConfig(device="cpu", threads=1))
    engine.load("tiny-random")
    req = SynthesisRequest("Lean paths, same speech.", params=SamplingParams(seed=3, max_seconds=2.0))
    lean = engine.render(req)
    engine._lean, engine._flow.lean = None, None  # back to the modules (private: no public switch wanted)
    plain = engine.render(req)
    assert len(lean.frames) == len(plain.frames) > 10
    assert [f.semantic_id for f in lean.frames] == [f.semantic_id for f in plain.frames]
    np.testing.assert_allclose(np.stack([f.acoustic for f in lean.frames]),
                               np.stack([f.acoustic for f in plain.frames]), atol=1e-4)
    np.testing.assert_allclose(lean.audio, plain.audio, atol=1e-3)


def test_overlapped_decode_gives_the_same_chunks_in_order(engine):
    codec = engine.model.codec
    k = engine.model.tts.cfg.acoustic_dim
    gen = torch.Generator().manual_seed(0)
    codes = torch.cat([torch.randint(0, 64, (23, 1), generator=gen), torch.randint(0, 21, (23, k), generator=gen)], 1)
    outs = []
    for overlap in (False, True):
        dec = ChunkDecoder(codec, 25, overlap=overlap)
        assert dec.overlap is overlap
        chunks = []
        for start in range(0, 23, 4):
            dec.submit(codes[start:start + 4])
            chunks += dec.ready()
        chunks += dec.ready(wait=True)
        dec.close()
        assert [len(c) for c in chunks] == [4 * 1280] * 5 + [3 * 1280]
        outs.append(np.concatenate(chunks))
    np.testing.assert_array_equal(outs[0], outs[1])


def test_decode_overlaps_on_the_cpu_only_with_a_core_to_spare(monkeypatch):
    cpu = torch.device("cpu")
    threads = torch.get_num_threads()
    monkeypatch.setattr("os.cpu_count", lambda: threads + 1)
    assert spare_core(cpu)
    monkeypatch.setattr("os.cpu_count", lambda: threads)
    assert not spare_core(cpu)
