"""The autoregressive backbone: a Mistral decoder that sees one position per 80 ms frame."""

from __future__ import annotations

import torch
from torch import nn

from engine.config import BackboneConfig
from engine.nn.layers import KVCache, RMSNorm, TransformerBlock, rope_frequencies


class Backbone(nn.Module):
    """Causal transformer over input embeddings [B, T, D] (the caller embeds tokens and frames)."""

    def __init__(self, cfg: BackboneConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.layers = nn.ModuleList(
            TransformerBlock(cfg.dim, cfg.n_heads, cfg.n_kv_heads, cfg.head_dim, cfg.hidden_dim, cfg.norm_eps)
            for _ in range(cfg.n_layers)
        )
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        # Recomputed, never stored (the released checkpoint has none either), and kept in fp32
        # as a plain attribute so that casting the model to bf16 leaves it alone.
        self._freqs = rope_frequencies(cfg.head_dim, cfg.max_seq_len, cfg.rope_theta)

    def new_cache(self, batch: int = 1, capacity: int | None = None) -> KVCache:
        c = self.cfg
        p = next(self.parameters())
        return KVCache(c.n_layers, batch, c.n_kv_heads, capacity or c.max_seq_len, c.head_dim, p.device, p.dtype)

    def rope_at(self, start: int, length: int, device: torch.device) -> torch.Tensor:
        """RoPE cos/sin of positions start .. start + length - 1 [length, hd/2, 2] on ``device``."""
        if start + length > self.cfg.max_seq_len:
            raise RuntimeError(f"sequence longer than max_seq_len={self.cfg.max_seq_len}")
        if self._freqs.device != device:
            self._freqs = self._freqs.to(device)
        return self._freqs[start:start + length]

    def forward(self, x: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """x [B, T, D] -> normed hidden states [B, T, D]; with a cache, x continues the cached sequence."""
        t = x.shape[1]
        freqs = self.rope_at(cache.length if cache is not None else 0, t, x.device)
        for i, layer in enumerate(self.layers):
            x = layer(x, freqs, cache, i, causal=True)
        if cache is not None:
            cache.length += t
        return self.norm(x)
