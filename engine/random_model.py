"""Random-weight models of the architecture: the placeholder built-in model, test and bench sizes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from engine.codec.voxtral_codec import VoxtralCodec
from engine.config import BackboneConfig, CodecConfig, FlowHeadConfig, ModelConfig, TTSConfig
from engine.model_files import build_modules, save_model
from engine.nn.tts_model import END, VoxtralTTS

TINY = ModelConfig(name="tiny-random", note="untrained random weights: output is noise, not speech")

SMALL_20M = ModelConfig(
    name="small-random-20m",
    note="untrained random weights at about 20M parameters (benchmarks only)",
    tts=TTSConfig(
        backbone=BackboneConfig(dim=384, n_layers=8, n_heads=6, n_kv_heads=2, head_dim=64, hidden_dim=1024),
        flow=FlowHeadConfig(dim=256, n_layers=3, n_heads=4, n_kv_heads=2, head_dim=64, hidden_dim=768),
        semantic_codebook_size=512, acoustic_dim=16,
    ),
    codec=CodecConfig(sample_rate=24_000, patch_size=240, dim=128, hidden_dim=384, n_heads=4, head_dim=32,
                      semantic_dim=32, semantic_codebook_size=512, acoustic_dim=16),
)

SIZES = {"tiny": TINY, "20m": SMALL_20M}


def random_modules(cfg: ModelConfig, seed: int = 0) -> tuple[VoxtralTTS, VoxtralCodec]:
    """Seeded random modules. END is never the argmax (its row is zero), so the max-frames guard ends
    generation: an untrained model cannot know when speech is over."""
    torch.manual_seed(seed)
    tts, codec = build_modules(cfg.check())
    with torch.no_grad():
        tts.acoustic_transformer.semantic_codebook_output.weight[END] = 0.0
        # EMA-style codebook: spread the code vectors so the VQ actually uses many codes
        codec.quantizer.semantic_codebook.embedding_sum.normal_(0.0, 1.0)
    return tts, codec


def write_random_model(folder: Path, cfg: ModelConfig = TINY, seed: int = 0) -> Path:
    tts, codec = random_modules(cfg, seed)
    g = torch.Generator().manual_seed(seed + 1)
    k, s, lv = cfg.tts.acoustic_dim, cfg.tts.semantic_codebook_size, cfg.tts.acoustic_levels
    voice = torch.cat([torch.randint(0, s, (12, 1), generator=g), torch.randint(0, lv, (12, k), generator=g)], 1)
    save_model(folder, cfg, tts, codec, voices={"default": voice})
    return folder


def named(cfg: ModelConfig, name: str) -> ModelConfig:
    return replace(cfg, name=name)
