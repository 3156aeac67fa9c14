"""Model sizes for ``timbre train``: ``mini`` is the shipped timbre-mini (trains on two CPU cores), ``base`` is
the size to train on a GPU (about 8x mini's parameters; Voxtral's 36 acoustic values, which measured better
than mini's 24 on this codec: docs/codec.md), ``tiny`` is for the tests."""

from __future__ import annotations

from engine.codec import world
from engine.config import BackboneConfig, CodecConfig, FlowHeadConfig, SamplingDefaults, TTSConfig
from engine.phonemes import SYMBOLS

# 5 ms WORLD steps; 16 steps per 80 ms frame (strides 2 x 2 x 2 x 2)
_WORLD = dict(sample_rate=world.SAMPLE_RATE, patch_size=world.HOP, io="world", feature_dim=world.FEATURE_DIM,
              encoder_kernels=(4, 4, 4, 4), encoder_strides=(2, 2, 2, 2), decoder_kernels=(3, 4, 4, 4, 4),
              decoder_strides=(1, 2, 2, 2, 2), sliding_window=32)

CODEC_SIZES = {
    "mini": CodecConfig(**_WORLD, dim=128, hidden_dim=320, n_heads=4, head_dim=32, semantic_dim=16,
                        semantic_codebook_size=512, acoustic_dim=24,
                        # transformers only at 12.5-50 Hz; the 100 and 200 Hz stages are convolutions (CPU budget)
                        encoder_transformer_lengths=(0, 0, 1, 1), decoder_transformer_lengths=(2, 1, 1, 0, 0)),
    "base": CodecConfig(**_WORLD, dim=256, hidden_dim=768, n_heads=8, head_dim=32, semantic_dim=32,
                        semantic_codebook_size=1024, acoustic_dim=36,
                        encoder_transformer_lengths=(0, 1, 2, 2), decoder_transformer_lengths=(4, 2, 2, 1, 0)),
    "tiny": CodecConfig(**_WORLD, dim=32, hidden_dim=64, n_heads=2, head_dim=16, semantic_dim=8,
                        semantic_codebook_size=64, acoustic_dim=8, encoder_transformer_lengths=(1, 1, 1, 1),
                        decoder_transformer_lengths=(1, 1, 1, 1, 1)),
}

SIZES = tuple(CODEC_SIZES)
_TEXT_VOCAB = 64 + len(SYMBOLS)


def tts_config(size: str, codec: CodecConfig) -> TTSConfig:
    common = dict(semantic_codebook_size=codec.semantic_codebook_size, acoustic_dim=codec.acoustic_dim,
                  acoustic_levels=codec.acoustic_levels, tokenizer="phones", aligned_text=True)
    if size == "mini":
        return TTSConfig(
            backbone=BackboneConfig(dim=256, n_layers=4, n_heads=4, n_kv_heads=2, head_dim=64, hidden_dim=768,
                                    vocab_size=128, max_seq_len=2048),
            flow=FlowHeadConfig(dim=128, n_layers=1, n_heads=4, n_kv_heads=2, head_dim=32, hidden_dim=384),
            **common)
    if size == "base":
        return TTSConfig(
            backbone=BackboneConfig(dim=512, n_layers=8, n_heads=8, n_kv_heads=4, head_dim=64, hidden_dim=1536,
                                    vocab_size=128, max_seq_len=2048),
            flow=FlowHeadConfig(dim=256, n_layers=2, n_heads=8, n_kv_heads=4, head_dim=32, hidden_dim=768),
            **common)
    if size == "tiny":
        return TTSConfig(
            backbone=BackboneConfig(dim=64, n_layers=2, n_heads=4, n_kv_heads=2, head_dim=16, hidden_dim=128,
                                    vocab_size=128, max_seq_len=1024),
            flow=FlowHeadConfig(dim=64, n_layers=1, n_heads=4, n_kv_heads=2, head_dim=16, hidden_dim=128),
            **common)
    raise ValueError(f"unknown size {size!r}: {' or '.join(SIZES)}")


# The defaults a trained model is exported with. One flow step: on timbre-mini, one Euler step from the
# noise lands on the flow head's conditional mean, which pocketsphinx understands better (WER -0.04 to
# -0.06 for joe, slt and kal16 on 120 unseen sentences) and DNSMOS rates higher than the 8-step samples,
# at a similarity within 0.01 (docs/sampling.md)
SAMPLING = SamplingDefaults(steps=1, guidance=1.2, temperature=1.0)
assert _TEXT_VOCAB <= 128
