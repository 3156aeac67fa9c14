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
    """t [B] -> cat(cos(t f), sin(t f)) [B, dim], f = exp(-ln(1e4) * arange(dim/2) / (dim/2)).

    f is recomputed, never loaded (the released checkpoint has no ``inv_freq``), and kept in fp32 as a
    plain attribute so that casting the model to bf16 or building it on the meta device leaves it alone.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        half = dim // 2
        self.inv_freq = torch.exp(-math.log(10000.0) * torch.arange(half, device="cpu").float() / half)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        if self.inv_freq.device != t.device:
            self.inv_freq = self.inv_freq.to(t.device)
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
        alpha = None
        if guidance != 1.0:
            # a tensor in the model dtype, as the reference computes 1 - alpha (bit-exact CFG weights)
            alpha = torch.full((h.shape[0], 1), guidance, dtype=h.dtype, device=h.device)
        ts = torch.linspace(0.0, 1.0, steps + 1, device=h.device)
        x, traj = self.integrate(h, noise.to(h.dtype), alpha, ts)
        return x, (traj if keep_trajectory else None)

    def integrate(self, h: torch.Tensor, x: torch.Tensor, alpha: torch.Tensor | None,
                  ts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The ODE itself, free of Python-side branching on values (so a CUDA graph can capture it).

        h [B, D], x [B, K] at t = ts[0], alpha [B, 1] or None (no guidance), ts [steps + 1]
        -> x at t = ts[-1] [B, K] and the trajectory [steps + 1, B, K].
        """
        b = h.shape[0]
        cond = self.llm_projection(h)  # (B, dim)
        if alpha is not None:
            cond = torch.cat([cond, torch.zeros_like(cond)], dim=0)  # (2B, dim): zeroed hidden = uncond
        traj = [x]
        for i in range(ts.shape[0] - 1):
            dt = ts[i + 1] - ts[i]
            if alpha is not None:
                v = self.velocity(torch.cat([x, x]), ts[i].expand(2 * b), cond)
                v = alpha * v[:b] + (1 - alpha) * v[b:]
            else:
                v = self.velocity(x, ts[i].expand(b), cond)
            x = x + v * dt
            traj.append(x)
        return x, torch.stack(traj)
