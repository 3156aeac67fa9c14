"""The optimisation loop shared by the training stages: per-step seeding (so a resumed run draws
the same batches), learning-rate schedule, clipping, smoothed losses with progress and ETA, and a
checkpoint every few minutes and at the end."""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engine.train.checkpoint import save_checkpoint
from engine.train.errors import TrainingError
from engine.train.lineage import init_record
from engine.train.progress import Progress

CHECKPOINT_SECONDS = 300
RESCAN_EVERY = 250


def training_device(spec: str = "auto") -> torch.device:
    """Where a stage trains: 'auto' (a CUDA GPU when there is one), 'cpu', 'cuda' or 'cuda:N'. Random draws
    stay on the CPU generators (a run draws the same batches on any device); matmuls on a GPU use TF32."""
    from engine.device import resolve_device

    device = resolve_device(spec)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return device


def cosine_lr(step: int, total: int, peak: float, warmup: int, floor: float) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    frac = (step - warmup) / max(1, total - warmup)
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))


def run_extra(size: str, state: dict | None, init: Path | None, data: Path) -> dict:
    """What a run's checkpoints record besides the weights: its size, its corpus and the run it started
    from (kept on resume, so the model card can name every run in the chain and what it read), and
    its held-out losses so far."""
    extra = {"size": size, "data": str(data), **held_out_so_far(state)}
    previous = (state or {}).get("extra", {})
    if previous.get("init"):  # a resumed run keeps what it started from
        extra |= {k: previous[k] for k in ("init", "init_model") if k in previous}
    elif init is not None:
        extra |= init_record(init)
    return extra


def check_zero_steps(steps: int, init: Path | None) -> None:
    """``--steps 0`` means "take ``--init``'s weights as they are" (a voice fine-tune keeps the model's
    codec, or its TTS, and trains the rest); without ``--init`` there is nothing to take."""
    if steps == 0 and init is None:
        raise TrainingError("--steps 0 takes an existing run's or model's weights as they are: name them with --init")


def adopt_at_step_zero(out: Path, steps: int, state: dict | None, modules: dict[str, nn.Module],
                       opt: torch.optim.Optimizer, extra: dict) -> None:
    """A ``--steps 0`` run saves its starting weights as step 0, so that it is a run like any other: later
    stages load it, and the model card names where its weights came from."""
    if steps == 0 and state is not None and state["step"] > 0:
        raise TrainingError(f"{out} already holds a run trained to step {state['step']}; --steps 0 takes --init's "
                            "weights as they are: give it a new --out")
    if steps == 0 and state is None:
        save_checkpoint(out, 0, modules, opt, {**extra, "losses": {}})


def held_out_so_far(state: dict | None) -> dict:
    """A resumed run's held-out curve, so that it spans sittings (empty for a new run)."""
    previous = (state or {}).get("extra", {})
    return {"held_out_history": previous["held_out_history"]} if "held_out_history" in previous else {}


def held_out_checks(*checks: Callable[[], dict[str, float]] | None) -> Callable[[], dict[str, float]] | None:
    """``run_steps``'s ``validate`` from a stage's held-out checks (None: a check the stage does not have):
    their figures in one dict, or None if there is no check at all."""
    present = [c for c in checks if c is not None]
    if not present:
        return None
    return lambda: {k: v for check in present for k, v in check().items()}


def _figures(losses: dict[str, float]) -> str:
    return " ".join(f"{k} {v:.4f}" for k, v in losses.items())


def run_steps(out: Path, start: int, steps: int, modules: dict[str, nn.Module], opt: torch.optim.Optimizer,
              losses_at: Callable[[np.random.Generator, torch.Generator], dict[str, torch.Tensor]],
              lr_at: Callable[[int, int], float], seed: int, extra: dict, log: Callable[[str], None],
              rescan: Callable[[], None] | None = None,
              validate: Callable[[], dict[str, float]] | None = None) -> dict[str, float]:
    """Steps ``start``..``steps``; ``losses_at(rng, generator)`` returns the step's losses ("loss" is
    minimised); ``rescan`` is called every RESCAN_EVERY steps (a corpus may still be growing);
    ``validate()`` (modules in eval mode) returns held-out losses, logged at the start and at every
    checkpoint, and kept in the checkpoint with their history (``held_out``, ``held_out_history``)."""
    progress = Progress(steps, log, start=start, every=30.0)
    params = [p for m in modules.values() for p in m.parameters()]
    gen = torch.Generator()
    avg: dict[str, float] = {}
    t_ckpt = time.monotonic()
    history = list(extra.get("held_out_history", []))

    def held_out(step: int) -> dict:
        for m in modules.values():
            m.eval()
        losses = validate()
        for m in modules.values():
            m.train()
        log(f"held-out at step {step}: {_figures(losses)}")
        history.append({"step": step, **{k: round(v, 4) for k, v in losses.items()}})
        return {"held_out": losses, "held_out_history": history}

    if validate is not None and start < steps and not (history and history[-1]["step"] == start):
        held_out(start)  # a resumed run's last checkpoint already holds this step's figures
    for m in modules.values():
        m.train()
    with _InterruptBetweenSteps() as interrupt:
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
            progress.step(1, f"step {step + 1} {_figures(avg)}")
            stopping = interrupt.asked  # Ctrl-C: keep every finished step, then stop as asked
            if stopping or time.monotonic() - t_ckpt > CHECKPOINT_SECONDS or step + 1 == steps:
                if validate is None:
                    checked = {}
                elif stopping:  # a stop is not held up by the held-out checks; it keeps the curve so far
                    checked = {"held_out_history": history}
                else:
                    checked = held_out(step + 1)
                save_checkpoint(out, step + 1, modules, opt, {**extra, "losses": avg, **checked})
                t_ckpt = time.monotonic()
            if stopping:
                log(f"interrupted: saved step {step + 1} in {out}; the same command continues from it")
                raise KeyboardInterrupt
    return avg


class _InterruptBetweenSteps:
    """While training in the main thread, the first Ctrl-C (SIGINT) or SIGTERM only sets ``asked``: the step
    under way finishes (a step cut in the middle of the optimizer's update cannot be saved) and ``run_steps``
    saves it before stopping. A second signal acts at once, as usual. A signal the process ignores (a run
    started with ``nohup … &`` ignores SIGINT) stays ignored."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.asked = False
        self._previous: dict[int, object] = {}

    def _ask(self, signum, frame) -> None:
        self.asked = True
        self._restore()  # the next signal is not deferred

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def __enter__(self) -> "_InterruptBetweenSteps":
        if threading.current_thread() is threading.main_thread():
            self._previous = {signum: signal.signal(signum, self._ask) for signum in self.SIGNALS
                              if signal.getsignal(signum) is not signal.SIG_IGN}
        return self

    def __exit__(self, *exc) -> None:
        self._restore()
