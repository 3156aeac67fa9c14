"""The acoustic head: semantic logits and a 3-token flow-matching transformer (Voxtral layout).

Per ODE evaluation the transformer sees three tokens, [input_projection(x_t), time_projection(
TimeEmb(t)), llm_projection(h)], attends bidirectionally without positions, and reads the velocity
off token 0. Classifier-free guidance uses a zeroed hidden state as the unconditional branch.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from engine.config import FlowHeadConfig
from engine.nn.layers import RMSNorm, TransformerBlock


def pad_to(n: int, multiple: int = 128) -> int:
    return (n + multiple - 1) // multiple * multiple


class TimeEmbedding(nn.Module):
    """t [B] -> cat(cos(t f), sin(t f)) [B, dim], f = exp(-ln(1e4) * arange(dim/2) / (dim/2))."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        half = dim // 2
        inv = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
        self.register_buffer("inv_freq", inv, persistent=False)  # absent from checkpoints: recomputed

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        emb = t.float()[:, None] * self.inv_freq[None, :]
        return torch.cat([emb.cos(), emb.sin()], dim=-1)


class AcousticHead(nn.Module):
    """Semantic head + flow-matching transformer. ``evaluations`` counts transformer forwards."""

    def __init__(self, cfg: FlowHeadConfig, input_dim: int, acoustic_dim: int, semantic_size: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.acoustic_dim = acoustic_dim
        self.semantic_size = semantic_size  # 2 specials + codebook, before padding
        self.semantic_codebook_output = nn.Linear(input_dim, pad_to(semantic_size), bias=False)
        self.input_projection = nn.Linear(acoustic_dim, cfg.dim, bias=False)
        self.time_projection = nn.Linear(cfg.dim, cfg.dim, bias=False)
        self.llm_projection = nn.Linear(input_dim, cfg.dim, bias=False)
        self.time_embedding = TimeEmbedding(cfg.dim)
        self.layers = nn.ModuleList(
            TransformerBlock(cfg.dim, cfg.n_heads, cfg.n_kv_heads, cfg.head_dim, cfg.hidden_dim, cfg.norm_eps)
            for _ in range(cfg.n_layers)
        )
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.acoustic_codebook_output = nn.Linear(cfg.dim, acoustic_dim, bias=False)
        self.evaluations = 0

    def semantic_logits(self, h: torch.Tensor) -> torch.Tensor:
        """h [B, D] -> fp32 logits [B, semantic_size]; EMPTY (0) and padding are -inf, END (1) allowed."""
        logits = self.semantic_codebook_output(h).float()[:, : self.semantic_size]
        logits[:, 0] = float("-inf")
        return logits

    def velocity(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """x [B, K], t [B], cond = llm_projection(h) [B, dim] -> velocity [B, K]."""
        self.evaluations += 1
        tokens = torch.stack(
            [self.input_projection(x), self.time_projection(self.time_embedding(t).to(x.dtype)), cond], dim=1
        )  # (B, 3, dim)
        for layer in self.layers:
            tokens = layer(tokens)
        return self.acoustic_codebook_output(self.norm(tokens[:, 0]))

    def sample(self, h: torch.Tensor, noise: torch.Tensor, steps: int, guidance: float,
               keep_trajectory: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Euler-integrate x from noise [B, K] at t=0 to t=1 on linspace(0, 1, steps + 1).

        Returns x [B, K] and, if asked, the trajectory [steps + 1, B, K]. With guidance != 1 the
        conditional and unconditional branches run as one batch of 2B per step.
        """
        b = h.shape[0]
        cond = self.llm_projection(h)  # (B, dim)
        guided = guidance != 1.0
        if guided:
            cond = torch.cat([cond, torch.zeros_like(cond)], dim=0)  # (2B, dim): zeroed hidden = uncond
        ts = torch.linspace(0.0, 1.0, steps + 1, device=h.device)
        x = noise.to(h.dtype)
        traj = [x] if keep_trajectory else None
        for i in range(steps):
            dt = ts[i + 1] - ts[i]
            if guided:
                v = self.velocity(torch.cat([x, x]), ts[i].expand(2 * b), cond)
                v = guidance * v[:b] + (1.0 - guidance) * v[b:]
            else:
                v = self.velocity(x, ts[i].expand(b), cond)
            x = x + v * dt
            if traj is not None:
                traj.append(x)
        return x, (torch.stack(traj) if traj is not None else None)
