"""One new position through the backbone with fused projections: the per-frame step of generation.

Generation feeds the backbone one frame at a time, and at batch 1 a small layer costs its op count,
not its arithmetic. Per layer this runs one q|k|v projection (RoPE on q and k together), attention
over the cache with grouped heads read in place (no repeated keys), and one w1|w3 projection: 7 matmuls
become 4 and the module calls go. The result equals ``Backbone.forward`` on the same cache to float
rounding. Prefill (many positions at once) stays on the modules.

Weights are read once, when the object is built: build a new one after loading other weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.nn.backbone import Backbone
from engine.nn.layers import KVCache, apply_rope, fused_weights, rms_norm


class LeanBackbone:
    def __init__(self, backbone: Backbone) -> None:
        self.backbone = backbone
        layers = backbone.layers
        self.eps = [(layer.attention_norm.eps, layer.ffn_norm.eps) for layer in layers]
        fused = [fused_weights(layer) for layer in layers]
        self.w_qkv = [qkv for qkv, _ in fused]
        self.w_13 = [w13 for _, w13 in fused]
        self.w_o = [layer.attention.wo.weight for layer in layers]
        self.w_2 = [layer.feed_forward.w2.weight for layer in layers]

    @torch.inference_mode()
    def step(self, x: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """x [B, D] (the new position's input) -> normed hidden state [B, D]; the cache grows by one."""
        bb, cfg = self.backbone, self.backbone.cfg
        freqs = bb.rope_at(cache.length, 1, x.device)
        b, nh, nkv, hd = x.shape[0], cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        hidden = cfg.hidden_dim
        for i, (eps_attn, eps_ffn) in enumerate(self.eps):
            qkv = F.linear(rms_norm(x, None, eps_attn), self.w_qkv[i])  # (B, (H + 2 kv) hd)
            qk = apply_rope(qkv[:, : (nh + nkv) * hd].reshape(b, 1, nh + nkv, hd), freqs)  # (B, 1, H + kv, hd)
            q = qk[:, 0, :nh, None]  # (B, H, 1, hd)
            k = qk[:, 0, nh:, None]  # (B, kv, 1, hd)
            v = qkv[:, (nh + nkv) * hd:].reshape(b, nkv, 1, hd)
            keys, values = cache.write(i, k, v)  # (B, kv, pos + 1, hd)
            o = F.scaled_dot_product_attention(q, keys, values, enable_gqa=True)  # (B, H, 1, hd)
            x = x + F.linear(o.reshape(b, nh * hd), self.w_o[i])
            g = F.linear(rms_norm(x, None, eps_ffn), self.w_13[i])
            x = x + F.linear(F.silu(g[:, :hidden]) * g[:, hidden:], self.w_2[i])
        cache.length += 1
        return bb.norm(x)
