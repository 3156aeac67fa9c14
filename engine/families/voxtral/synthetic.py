"""Random checkpoints in exactly the released layout, for tests, parity runs and benchmarks.

``write_checkpoint`` writes a folder a user would download (consolidated.safetensors, params.json,
tekken.json, voice_embedding/<name>.pt) with the release's file names, tensor names, params.json
schema and special-token ids, at any size: ``tiny_params()`` shrinks every dimension (still 37 codes
per frame at 24 kHz) so the whole pipeline runs on a CPU in seconds. Random weights: noise, not speech.
"""

from __future__ import annotations

import base64
import copy
import json
import math
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from engine.families.voxtral.keys import release_manifest
from engine.families.voxtral.params import parse_params
from engine.families.voxtral.voices import VOICES_DIR

# speaker ids and [AUDIO] token counts of the 20 released voices
RELEASE_VOICES = {
    "casual_female": (0, 214), "casual_male": (1, 147), "cheerful_female": (2, 132), "neutral_female": (3, 218),
    "neutral_male": (4, 169), "pt_male": (5, 144), "pt_female": (6, 175), "nl_male": (7, 138),
    "nl_female": (8, 146), "it_male": (9, 168), "it_female": (10, 172), "fr_male": (11, 97),
    "fr_female": (12, 97), "es_male": (13, 208), "es_female": (14, 138), "de_male": (15, 163),
    "de_female": (16, 147), "ar_male": (17, 67), "hi_male": (18, 94), "hi_female": (19, 86),
}

# params.json of mistralai/Voxtral-4B-TTS-2603 (the schema and values of the release)
RELEASE_PARAMS: dict[str, Any] = {
    "dim": 3072, "n_layers": 26, "head_dim": 128, "hidden_dim": 9216, "n_heads": 32, "n_kv_heads": 8,
    "rope_theta": 1000000.0, "norm_eps": 1e-05, "vocab_size": 131072, "max_seq_len": 65536,
    "model_type": "voxtral_tts", "max_position_embeddings": 128000,
    "multimodal": {
        "bos_token_id": 1,
        "audio_model_args": {
            "semantic_codebook_size": 8192, "acoustic_codebook_size": 21, "n_acoustic_codebook": 36,
            "audio_encoding_args": {
                "codebook_pattern": "parallel", "interleave_audio_tokens_per_segment": 8192,
                "interleave_text_tokens_per_segment": 8192, "single_trailing_segment": False, "num_codebooks": 37,
                "sampling_rate": 24000, "frame_rate": 12.5},
            "audio_token_id": 24, "begin_audio_token_id": 25, "input_embedding_concat_type": "sum",
            "acoustic_transformer_args": {
                "input_dim": 3072, "dim": 3072, "n_layers": 3, "head_dim": 128, "hidden_dim": 9216, "n_heads": 32,
                "n_kv_heads": 8, "use_biases": False, "rope_theta": 10000.0, "sigma": 1e-05, "sigma_max": 1.0},
            "p_uncond": 0.0, "text_feature_bugged": False, "condition_dropped_token_id": 42},
        "audio_tokenizer_args": {
            "channels": 1, "sampling_rate": 24000, "pretransform_patch_size": 240, "patch_proj_kernel_size": 7,
            "semantic_codebook_size": 8192, "semantic_dim": 256, "acoustic_codebook_size": 21, "acoustic_dim": 36,
            "conv_weight_norm": True, "causal": True, "attn_sliding_window_size": 16,
            "half_attn_window_upon_downsampling": True, "dim": 1024, "hidden_dim": 4096, "head_dim": 128,
            "n_heads": 8, "n_kv_heads": 8, "qk_norm_eps": 1e-06, "qk_norm": True, "use_biases": False,
            "norm_eps": 0.01, "layer_scale": True, "layer_scale_init": 0.01,
            "decoder_transformer_lengths_str": "2,2,2,2", "decoder_convs_kernels_str": "3,4,4,4",
            "decoder_convs_strides_str": "1,2,2,2",
            "voice": {name: i for name, (i, _) in RELEASE_VOICES.items()}}}}

# tekken special tokens by rank, as the release numbers them (the rest are <SPECIAL_i> fillers)
SPECIALS = {0: "<unk>", 1: "<s>", 2: "</s>", 3: "[INST]", 4: "[/INST]", 5: "[AVAILABLE_TOOLS]",
            6: "[/AVAILABLE_TOOLS]", 7: "[TOOL_RESULTS]", 8: "[/TOOL_RESULTS]", 9: "[TOOL_CALLS]", 10: "[IMG]",
            11: "<pad>", 12: "[IMG_BREAK]", 13: "[IMG_END]", 14: "[PREFIX]", 15: "[MIDDLE]", 16: "[SUFFIX]",
            17: "[SYSTEM_PROMPT]", 18: "[/SYSTEM_PROMPT]", 19: "[TOOL_CONTENT]", 24: "[AUDIO]",
            25: "[BEGIN_AUDIO]", 26: "[OUTPUT_AUDIO]", 32: "[ARGS]", 33: "[CALL_ID]",
            34: "[TRANSCRIBE]", 35: "[REPEAT_AUDIO_TEXT]", 36: "[NEXT_AUDIO_TEXT]"}
N_SPECIAL = 1000
PATTERN = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?"
           r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+"
           r"|\s+(?!\S)|\s+")
MERGES = ["th", "he", "in", "er", "an", " t", " a", "re", "on", " th", "the", " the", "en", "at", "ou", "ed",
          "nd", " s", " w", "is", "or", "it", "es", "ing", " o", " c", "ar", "le", "ll", "ch", " b", " f"]


def tiny_params(voice_rows: int = 10) -> dict[str, Any]:
    """The release's params.json with every dimension shrunk (37 codes per frame, 24 kHz, same layout)."""
    p = copy.deepcopy(RELEASE_PARAMS)
    p.update(dim=64, n_layers=2, head_dim=32, hidden_dim=128, n_heads=4, n_kv_heads=2,
             vocab_size=N_SPECIAL + 256 + len(MERGES) - 8, max_seq_len=2048)
    am = p["multimodal"]["audio_model_args"]
    am["semantic_codebook_size"] = 126
    am["acoustic_transformer_args"].update(input_dim=64, dim=64, n_layers=3, head_dim=16, hidden_dim=128,
                                           n_heads=4, n_kv_heads=2)
    tk = p["multimodal"]["audio_tokenizer_args"]
    tk.update(semantic_codebook_size=126, semantic_dim=8, dim=32, hidden_dim=64, head_dim=4, n_heads=8, n_kv_heads=8,
              )
    p["_voice_rows"] = voice_rows  # not in params.json: how many rows the biggest voice gets
    return p


def voice_counts(params: dict[str, Any]) -> dict[str, int]:
    """[AUDIO] tokens per voice: the release's counts, scaled down for shrunken checkpoints."""
    if params["dim"] == RELEASE_PARAMS["dim"]:
        return {n: c for n, (_, c) in RELEASE_VOICES.items()}
    biggest = max(c for _, c in RELEASE_VOICES.values())
    scale = params.get("_voice_rows", 10) / biggest
    return {n: max(2, round(c * scale)) for n, (_, c) in RELEASE_VOICES.items()}


def tekken_json(vocab_size: int, voices: dict[str, int]) -> dict[str, Any]:
    """A small tekken.json (format v7) with the release's special ids and audio section."""
    tokens = [bytes([i]) for i in range(256)] + [m.encode() for m in MERGES]
    vocab = [{"rank": i, "token_bytes": base64.b64encode(t).decode(), "token_str": t.decode("utf-8", "replace")}
             for i, t in enumerate(tokens)]
    n_named = max(SPECIALS) + 1
    specials = [{"rank": i, "token_str": SPECIALS.get(i, f"<SPECIAL_{i}>"), "is_control": True} for i in range(n_named)]
    return {
        "config": {"pattern": PATTERN, "num_vocab_tokens": len(vocab), "default_vocab_size": vocab_size,
                   "default_num_special_tokens": N_SPECIAL, "version": "v7"},
        "vocab": vocab,  # longer than vocab_size - specials, as in the release (the tail is cut)
        "special_tokens": specials,
        "audio": {"sampling_rate": 24000, "frame_rate": 12.5,
                  "audio_encoding_config": {"num_mel_bins": 128, "hop_length": 160, "window_size": 400},
                  "chunk_length_s": 30.0, "voice_num_audio_tokens": dict(voices)},
    }


def fill_random_(name: str, t: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Fill tensor ``t`` (the release's tensor ``name``) in place with random but well-scaled values."""
    shape = tuple(t.shape)
    if name.endswith("norm.weight"):
        return t.normal_(1.0, 0.1, generator=generator)
    if name.endswith(("attention_scale", "ffn_scale")):
        return t.normal_(0.1, 0.02, generator=generator)
    if name.endswith("cluster_usage"):
        return t.uniform_(0.5, 2.5, generator=generator)
    if name.endswith("original0") or "embeddings" in name or name.endswith("embedding_sum"):
        return t.normal_(0.0, 1.0, generator=generator)  # weight-norm g may be negative, as in the release
    fan_in = shape[1] * (shape[2] if len(shape) > 2 else 1)
    return t.normal_(0.0, 1.0 / math.sqrt(fan_in), generator=generator)


def random_release_tensors(params: dict[str, Any], seed: int = 0) -> dict[str, torch.Tensor]:
    """Every tensor of the released layout for ``params``, random but well scaled, in bf16."""
    cfg = parse_params(_public(params), "synthetic").config
    g = torch.Generator().manual_seed(seed)
    return {name: fill_random_(name, torch.empty(shape), g).to(torch.bfloat16).contiguous()
            for name, shape in release_manifest(cfg).items()}


def write_checkpoint(folder: Path, params: dict[str, Any] | None = None, seed: int = 0) -> Path:
    """Write a random checkpoint folder in the released layout (default: ``tiny_params()``)."""
    params = params if params is not None else tiny_params()
    folder.mkdir(parents=True, exist_ok=True)
    public = _public(params)
    save_file(random_release_tensors(params, seed), str(folder / "consolidated.safetensors"))
    (folder / "params.json").write_text(json.dumps(public, indent=2) + "\n", encoding="utf-8")
    counts = voice_counts(params)
    (folder / "tekken.json").write_text(json.dumps(tekken_json(public["vocab_size"], counts)), encoding="utf-8")
    vdir = folder / VOICES_DIR
    vdir.mkdir(exist_ok=True)
    g = torch.Generator().manual_seed(seed + 1)
    for name, n in counts.items():
        torch.save((torch.randn(n, public["dim"], generator=g) * 0.5).to(torch.bfloat16), vdir / f"{name}.pt")
    return folder


def _public(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if not k.startswith("_")}
