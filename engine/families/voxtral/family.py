"""The Voxtral family as the engine sees it: a checked folder loaded into a LoadedModel."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import torch

from engine.config import ModelConfig
from engine.families.voxtral.checkpoint import CPU_WARNING, WEIGHTS, inspect_folder, load_checkpoint
from engine.families.voxtral.prompt import TekkenPrompter
from engine.model_files import LoadedModel, file_hash
from engine.model_registry import cached_hash

log = logging.getLogger(__name__)

BIG_MODEL_PARAMETERS = 1_000_000_000
"""Above this many parameters, running on the CPU earns the speed-and-memory warning."""


def cpu_warning(cfg: ModelConfig, device: torch.device) -> str | None:
    """The warning to show when a big Voxtral model runs on the CPU (None when it does not apply)."""
    b = cfg.tts.backbone
    approx = b.n_layers * (2 * b.dim * b.n_heads * b.head_dim + 2 * b.dim * b.n_kv_heads * b.head_dim
                           + 3 * b.dim * b.hidden_dim) + b.vocab_size * b.dim
    return CPU_WARNING if device.type == "cpu" and approx > BIG_MODEL_PARAMETERS else None


def default_voice(voice_ids: dict[str, int]) -> str:
    """The voice behind 'default': the preset with the lowest speaker id."""
    return min(voice_ids, key=lambda v: (voice_ids[v], v))


def load_voxtral(folder: Path, name: str, device: torch.device, dtype: torch.dtype) -> LoadedModel:
    """Check, then load a released Voxtral folder (bf16 on CUDA, fp32 on the CPU by the engine's choice)."""
    checked = inspect_folder(folder, name)
    cfg = checked.params.config
    warning = cpu_warning(cfg, device)
    if warning:
        log.warning(warning)
    tts, codec = load_checkpoint(checked, device, dtype)
    weights = folder / WEIGHTS
    model_hash = cached_hash(folder, weights) or file_hash(weights)
    prompter = TekkenPrompter(name, checked.tokenizer, checked.voices, default_voice(checked.params.voice_ids), device)
    if warning:
        cfg = replace(cfg, note=f"{cfg.note}. WARNING: {warning}")
    return LoadedModel(name, folder, cfg, tts, codec, model_hash, {}, prompter)
