"""Transformer parts shared by the backbone, the flow head and the codec (Mistral conventions)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def rms_norm(x: torch.Tensor, weight: torch.Tensor | None, eps: float) -> torch.Tensor:
    """x [..., D] normalised by its root mean square and scaled by weight [D] (None: unscaled)."""
    # Normalise in fp32 as the reference does, then cast back.
    xf = x.float()
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return (xf if weight is None else xf * weight.float()).type_as(x)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return rms_norm(x, self.weight, self.eps)


def folded(norm: RMSNorm, weight: torch.Tensor) -> torch.Tensor:
    """A linear weight [out, D] that reads norm's output, with norm's scale folded in:
    ``linear(norm(x), weight) == linear(rms_norm(x, None, eps), folded(norm, weight))``. One op fewer
    per norm where, at batch 1, every op costs its dispatch."""
    return (weight * norm.weight.to(weight.dtype)).contiguous()


class SwiGLU(nn.Module):
    """``w2(silu(w1 x) * w3 x)``, no biases."""

    def __init__(self, dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


def rope_frequencies(head_dim: int, max_len: int, theta: float) -> torch.Tensor:
    """cos and sin of the rotation angles, float32 [max_len, head_dim // 2, 2] (interleaved pairs).

    Computed in float32 exactly as mistral-inference and the reference implementations do (bit-exact
    parity matters more than the last ulp of the angle). Always on the CPU, also while modules are
    built on the meta device for loading.
    """
    inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, device="cpu").float() / head_dim))
    angles = torch.outer(torch.arange(max_len, device="cpu").float(), inv)
    return torch.stack([angles.cos(), angles.sin()], dim=-1)


def apply_rope(x: torch.Tensor, freqs: torch.Tensor) -> torch.Tensor:
    """Rotate pairs (x0, x1), (x2, x3), ... of x [B, T, H, hd] by freqs [T, hd/2, 2] (in fp32)."""
    xp = x.float().reshape(*x.shape[:-1], -1, 2)  # (B, T, H, hd/2, 2)
    cos, sin = freqs[None, :, None, :, 0], freqs[None, :, None, :, 1]
    a, b = xp[..., 0], xp[..., 1]
    return torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).flatten(-2).type_as(x)


class KVCache:
    """Keys and values of every layer for one sequence, preallocated to ``capacity`` positions.

    Explicit state (not hidden in the modules) so a generation can be copied, reset or dropped.
    k, v: [n_layers, B, n_kv, capacity, hd]; ``length`` positions are filled.
    """

    def __init__(self, n_layers: int, batch: int, n_kv: int, capacity: int, head_dim: int,
                 device: torch.device, dtype: torch.dtype) -> None:
        shape = (n_layers, batch, n_kv, capacity, head_dim)
        self.k = torch.zeros(shape, device=device, dtype=dtype)
        self.v = torch.zeros(shape, device=device, dtype=dtype)
        self.capacity = capacity
        self.length = 0

    def write(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store k, v [B, n_kv, T, hd] at the current length; return all keys/values so far."""
        start, end = self.length, self.length + k.shape[2]
        if end > self.capacity:
            raise RuntimeError(f"KV cache full ({self.capacity} positions)")
        self.k[layer, :, :, start:end] = k
        self.v[layer, :, :, start:end] = v
        return self.k[layer, :, :, :end], self.v[layer, :, :, :end]


class Attention(nn.Module):
    """Grouped-query attention; RoPE and a KV cache are optional (the flow head uses neither)."""

    def __init__(self, dim: int, n_heads: int, n_kv_heads: int, head_dim: int) -> None:
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = n_heads, n_kv_heads, head_dim
        self.wq = nn.Linear(dim, n_heads * head_dim, bias=False)
        self.wk = nn.Linear(dim, n_kv_heads * head_dim, bias=False)
        self.wv = nn.Linear(dim, n_kv_heads * head_dim, bias=False)
        self.wo = nn.Linear(n_heads * head_dim, dim, bias=False)

    def forward(
        self,
        x: torch.Tensor,
        freqs: torch.Tensor | None = None,
        cache: KVCache | None = None,
        layer: int = 0,
        causal: bool = False,
    ) -> torch.Tensor:
        """x [B, T, D] -> [B, T, D]. With a cache, x holds the T newest positions."""
        b, t, _ = x.shape
        q = self.wq(x).view(b, t, self.n_heads, self.head_dim)
        k = self.wk(x).view(b, t, self.n_kv_heads, self.head_dim)
        v = self.wv(x).view(b, t, self.n_kv_heads, self.head_dim)
        if freqs is not None:
            q, k = apply_rope(q, freqs), apply_rope(k, freqs)
        q, k, v = (z.transpose(1, 2) for z in (q, k, v))  # (B, H, T, hd)
        past = 0
        if cache is not None:
            past = cache.length
            k, v = cache.write(layer, k, v)  # (B, n_kv, past+T, hd)
        rep = self.n_heads // self.n_kv_heads
        if rep > 1:
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        mask = None
        if causal and t > 1:
            # query i (absolute past+i) sees keys 0..past+i
            mask = torch.ones(t, past + t, dtype=torch.bool, device=x.device).tril(diagonal=past)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (B, H, T, hd)
        return self.wo(out.transpose(1, 2).reshape(b, t, -1))


class TransformerBlock(nn.Module):
    """Pre-norm block: x + attn(norm(x)), then h + ffn(norm(h)).

    ``residual_dropout`` is a training knob, not part of the saved model: it drops a share of each branch's
    output before the residual add while the module is in training mode (``timbre train tts --dropout``)."""

    residual_dropout: float = 0.0

    def __init__(self, dim: int, n_heads: int, n_kv_heads: int, head_dim: int, hidden_dim: int,
                 eps: float) -> None:
        super().__init__()
        self.attention = Attention(dim, n_heads, n_kv_heads, head_dim)
        self.attention_norm = RMSNorm(dim, eps)
        self.feed_forward = SwiGLU(dim, hidden_dim)
        self.ffn_norm = RMSNorm(dim, eps)

    def forward(self, x: torch.Tensor, freqs: torch.Tensor | None = None, cache: KVCache | None = None,
                layer: int = 0, causal: bool = False) -> torch.Tensor:
        p = self.residual_dropout
        h = x + F.dropout(self.attention(self.attention_norm(x), freqs, cache, layer, causal), p, self.training)
        return h + F.dropout(self.feed_forward(self.ffn_norm(h)), p, self.training)


def fused_weights(block: TransformerBlock) -> tuple[torch.Tensor, torch.Tensor]:
    """A block's projections for batch-1 inference: q|k|v [(H + 2 kv) hd, D] and w1|w3 [2 hidden, D], each
    with the norm that feeds it folded in (see ``folded``): 5 linears become 2."""
    att, ffn = block.attention, block.feed_forward
    with torch.no_grad():
        return (folded(block.attention_norm, torch.cat([att.wq.weight, att.wk.weight, att.wv.weight])),
                folded(block.ffn_norm, torch.cat([ffn.w1.weight, ffn.w3.weight])))
