"""The optimisation loop shared by the training stages: per-step seeding (so a resumed run draws
the same batches), learning-rate schedule, clipping, smoothed losses with progress and ETA, and a
checkpoint every few minutes and at the end."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engine.train.checkpoint import save_checkpoint
from engine.train.lineage import init_record
from engine.train.progress import Progress

CHECKPOINT_SECONDS = 300
RESCAN_EVERY = 250


def cosine_lr(step: int, total: int, peak: float, warmup: int, floor: float) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    frac = (step - warmup) / max(1, total - warmup)
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))


def run_extra(size: str, state: dict | None, init: Path | None, data: Path) -> dict:
    """What a run's checkpoints record besides the weights: its size, its corpus and the run it started
    from (kept on resume, so the model card can name every run in the chain and what it read)."""
    extra = {"size": size, "data": str(data)}
    previous = (state or {}).get("extra", {})
    if previous.get("init"):  # a resumed run keeps what it started from
        extra |= {k: previous[k] for k in ("init", "init_model") if k in previous}
    elif init is not None:
        extra |= init_record(init)
    return extra


def run_steps(out: Path, start: int, steps: int, modules: dict[str, nn.Module], opt: torch.optim.Optimizer,
              losses_at: Callable[[np.random.Generator, torch.Generator], dict[str, torch.Tensor]],
              lr_at: Callable[[int, int], float], seed: int, extra: dict, log: Callable[[str], None],
              rescan: Callable[[], None] | None = None) -> dict[str, float]:
    """Steps ``start``..``steps``; ``losses_at(rng, generator)`` returns the step's losses ("loss" is
    minimised); ``rescan`` is called every RESCAN_EVERY steps (a corpus may still be growing)."""
    progress = Progress(steps, log, start=start, every=30.0)
    params = [p for m in modules.values() for p in m.parameters()]
    gen = torch.Generator()
    avg: dict[str, float] = {}
    t_ckpt = time.monotonic()
    for m in modules.values():
        m.train()
    for step in range(start, steps):
        if rescan is not None and step % RESCAN_EVERY == 0 and step > start:
            rescan()
        gen.manual_seed(seed * 1_000_003 + step)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps)
        losses = losses_at(np.random.default_rng([seed, step]), gen)
        opt.zero_grad(set_to_none=True)
        losses["loss"].backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        for k, v in losses.items():
            avg[k] = 0.98 * avg.get(k, v.item()) + 0.02 * v.item()
        progress.step(1, f"step {step + 1} " + " ".join(f"{k} {v:.4f}" for k, v in avg.items()))
        if time.monotonic() - t_ckpt > CHECKPOINT_SECONDS or step + 1 == steps:
            save_checkpoint(out, step + 1, modules, opt, {**extra, "losses": avg})
            t_ckpt = time.monotonic()
    return avg
