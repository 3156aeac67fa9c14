"""Finite scalar quantization of the acoustic values (Voxtral: 21 levels in [-1, 1])."""

from __future__ import annotations

import torch


def fsq_encode(x: torch.Tensor, levels: int) -> torch.Tensor:
    """Values [..., K] (clamped to [-1, 1]) -> integer levels 0..levels-1, same shape."""
    return torch.round((x.clamp(-1.0, 1.0) + 1.0) / 2.0 * (levels - 1)).long()


def fsq_decode(codes: torch.Tensor, levels: int) -> torch.Tensor:
    """Integer levels [..., K] -> values in [-1, 1] (float32)."""
    return codes.float() * (2.0 / (levels - 1)) - 1.0
