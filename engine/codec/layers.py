"""Causal convolutions and the windowed-ALiBi transformer of the Voxtral codec."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm

from engine.nn.layers import RMSNorm, SwiGLU


class CausalConv1d(nn.Module):
    """Conv1d padded on the left by k - s (plus what makes ceil(n / s) output frames on the right)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, pad_mode: str = "constant",
                 use_weight_norm: bool = True) -> None:
        super().__init__()
        conv = nn.Conv1d(cin, cout, kernel, stride, bias=False)
        self.conv = weight_norm(conv) if use_weight_norm else conv
        self.kernel, self.stride, self.pad_mode = kernel, stride, pad_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, C, n] -> [B, C', ceil(n / s)]."""
        k, s = self.kernel, self.stride
        pad_left = k - s
        n = x.shape[-1]
        n_frames = (n - k + pad_left) / s + 1
        extra = (math.ceil(n_frames) - 1) * s + (k - pad_left) - n
        mode = self.pad_mode
        if mode == "reflect" and n <= max(pad_left, extra):
            # reflect needs more samples than the padding; pad zeros first (as the reference does)
            x = F.pad(x, (0, max(pad_left, extra) - n + 1))
            x = F.pad(x, (pad_left, extra), mode=mode)[..., : pad_left + n + extra]
        else:
            x = F.pad(x, (pad_left, extra), mode=mode)
        return self.conv(x)


class CausalConvTranspose1d(nn.Module):
    """ConvTranspose1d whose k - s trailing samples are trimmed, so n frames become n * s."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, use_weight_norm: bool = True) -> None:
        super().__init__()
        conv = nn.ConvTranspose1d(cin, cout, kernel, stride, bias=False)
        self.conv = weight_norm(conv) if use_weight_norm else conv
        self.trim = kernel - stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return y[..., : y.shape[-1] - self.trim] if self.trim else y


def fold_weight_norm(module: nn.Module) -> int:
    """Replace every weight-norm parametrization by its plain weight (g * v / |v|); returns how many."""
    n = 0
    for m in module.modules():
        if parametrize.is_parametrized(m, "weight"):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
            n += 1
    return n


def alibi_slopes(n_heads: int) -> torch.Tensor:
    """[1, r, r^2, ...] with r = 2^(-8 / n_heads) (vLLM-omni / Tenstorrent convention)."""
    r = 2.0 ** (-8.0 / n_heads)
    return torch.tensor([r**h for h in range(n_heads)], dtype=torch.float32, device="cpu")


def window_bias(n: int, window: int, slopes: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Additive attention bias [H, n, n]: ALiBi slope*(j - i), -inf for j > i or i - j > window."""
    pos = torch.arange(n, device=device)
    rel = (pos[None, :] - pos[:, None]).float()  # j - i
    bias = slopes.to(device)[:, None, None] * rel[None]
    blocked = (rel > 0) | (rel < -window)
    return bias.masked_fill(blocked[None], float("-inf"))


class CodecAttention(nn.Module):
    def __init__(self, dim: int, n_heads: int, head_dim: int, qk_eps: float) -> None:
        super().__init__()
        self.n_heads, self.head_dim = n_heads, head_dim
        self.wq = nn.Linear(dim, n_heads * head_dim, bias=False)
        self.wk = nn.Linear(dim, n_heads * head_dim, bias=False)
        self.wv = nn.Linear(dim, n_heads * head_dim, bias=False)
        self.wo = nn.Linear(n_heads * head_dim, dim, bias=False)
        # qk-norm over the whole projection, before heads are split
        self.q_norm = RMSNorm(n_heads * head_dim, qk_eps)
        self.k_norm = RMSNorm(n_heads * head_dim, qk_eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """x [B, T, D], bias [H, T, T] -> [B, T, D]."""
        b, t, _ = x.shape
        q = self.q_norm(self.wq(x)).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_norm(self.wk(x)).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)
        v = self.wv(x).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias[None].to(q.dtype))  # (B, H, T, hd)
        return self.wo(out.transpose(1, 2).reshape(b, t, -1))


class CodecTransformerLayer(nn.Module):
    def __init__(self, dim: int, hidden: int, n_heads: int, head_dim: int, eps: float, qk_eps: float,
                 scale_init: float) -> None:
        super().__init__()
        self.attention = CodecAttention(dim, n_heads, head_dim, qk_eps)
        self.attention_norm = RMSNorm(dim, eps)
        self.feed_forward = SwiGLU(dim, hidden)
        self.ffn_norm = RMSNorm(dim, eps)
        self.attention_scale = nn.Parameter(torch.full((dim,), scale_init))
        self.ffn_scale = nn.Parameter(torch.full((dim,), scale_init))

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        h = x + self.attention_scale * self.attention(self.attention_norm(x), bias)
        return h + self.ffn_scale * self.feed_forward(self.ffn_norm(h))


class CodecTransformer(nn.Module):
    """Causal transformer over [B, C, T] sequences; each position sees itself and ``window`` before."""

    def __init__(self, n_layers: int, window: int, dim: int, hidden: int, n_heads: int, head_dim: int,
                 eps: float, qk_eps: float, scale_init: float) -> None:
        super().__init__()
        self.window = window
        self.layers = nn.ModuleList(
            CodecTransformerLayer(dim, hidden, n_heads, head_dim, eps, qk_eps, scale_init) for _ in range(n_layers)
        )
        self.register_buffer("slopes", alibi_slopes(n_heads), persistent=False)

        self._bias: torch.Tensor | None = None  # the last bias built, reused while T and device match

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, C, T] -> [B, C, T]."""
        h = x.transpose(1, 2)
        if not self.layers:
            return x
        bias = self._bias
        if bias is None or bias.shape[-1] != h.shape[1] or bias.device != h.device:
            bias = self._bias = window_bias(h.shape[1], self.window, self.slopes, h.device)
        for layer in self.layers:
            h = layer(h, bias)
        return h.transpose(1, 2)
