"""Explicit device, precision and thread count (set when an engine starts, never at import)."""

from __future__ import annotations

import os
import re

import torch

from engine.api import EngineError

_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def resolve_device(spec: str = "auto") -> torch.device:
    """'auto' (CUDA when present), 'cpu', 'cuda' or 'cuda:N' -> torch.device; EngineError otherwise."""
    spec = (spec or "auto").strip().lower()
    if not _DEVICE.match(spec):
        raise EngineError(f"unknown device {spec!r}: use auto, cpu, cuda or cuda:N")
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            raise EngineError(f"device {spec} asked for, but this machine has no usable CUDA GPU")
        dev = torch.device(spec)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise EngineError(f"device {spec} asked for, but there are {torch.cuda.device_count()} GPU(s)")
        return dev
    return torch.device("cpu")


def resolve_dtype(spec: str, device: torch.device) -> torch.dtype:
    """'auto' = bf16 on CUDA, fp32 on CPU; or 'fp32' / 'bf16' / 'fp16'."""
    table = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    if spec == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if spec not in table:
        raise EngineError(f"unknown precision {spec!r}: use auto, fp32, bf16 or fp16")
    return table[spec]


def default_threads() -> int:
    """One core fewer than the machine has (at most 8): the app's own thread needs one, and torch's
    spinning workers slow down 10-100x when they have to share their cores (measured on 2 cores)."""
    return max(1, min((os.cpu_count() or 1) - 1, 8))


def apply_threads(n: int | None) -> int:
    n = n or default_threads()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def describe(device: torch.device, dtype: torch.dtype) -> str:
    name = "CPU" if device.type == "cpu" else torch.cuda.get_device_name(device)
    return f"{device} ({name}, {str(dtype).removeprefix('torch.')})"
