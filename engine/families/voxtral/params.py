"""params.json of the released Voxtral TTS checkpoint -> our strict ModelConfig.

The file is Mistral's, not ours, so it is read against the schema of the release
(mistralai/Voxtral-4B-TTS-2603): every key must be known, every value the architecture depends on
is checked, and the first problem is reported with its JSON path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.config import (
    BackboneConfig,
    CodecConfig,
    ConfigError,
    FlowHeadConfig,
    ModelConfig,
    SamplingDefaults,
    TokensConfig,
    TTSConfig,
)

DEFAULT_STEPS = 7  # n_decoding_steps is absent from the release; the reference serving code uses 7
DEFAULT_GUIDANCE = 1.2  # the reference serving code's default cfg_alpha
DEFAULT_ENCODER = {"encoder_transformer_lengths_str": "2,2,2,2", "encoder_convs_kernels_str": "4,4,4,3",
                   "encoder_convs_strides_str": "2,2,2,1"}

# key -> type (a dict is a nested section). Optional keys are listed in OPTIONAL.
_BACKBONE = {"dim": int, "n_layers": int, "head_dim": int, "hidden_dim": int, "n_heads": int, "n_kv_heads": int,
             "rope_theta": float, "norm_eps": float, "vocab_size": int, "max_seq_len": int, "model_type": str,
             "max_position_embeddings": int}
_ACOUSTIC = {"input_dim": int, "dim": int, "n_layers": int, "head_dim": int, "hidden_dim": int, "n_heads": int,
             "n_kv_heads": int, "use_biases": bool, "rope_theta": float, "sigma": float, "sigma_max": float,
             "norm_eps": float, "n_decoding_steps": int}
_ENCODING = {"codebook_pattern": str, "interleave_audio_tokens_per_segment": int,
             "interleave_text_tokens_per_segment": int, "single_trailing_segment": bool, "num_codebooks": int,
             "sampling_rate": int, "frame_rate": float}
_AUDIO_MODEL = {"semantic_codebook_size": int, "acoustic_codebook_size": int, "n_acoustic_codebook": int,
                "audio_encoding_args": _ENCODING, "audio_token_id": int, "begin_audio_token_id": int,
                "input_embedding_concat_type": str, "acoustic_transformer_args": _ACOUSTIC, "p_uncond": float,
                "text_feature_bugged": bool, "condition_dropped_token_id": int}
_TOKENIZER = {"channels": int, "sampling_rate": int, "pretransform_patch_size": int, "patch_proj_kernel_size": int,
              "semantic_codebook_size": int, "semantic_dim": int, "acoustic_codebook_size": int, "acoustic_dim": int,
              "conv_weight_norm": bool, "causal": bool, "attn_sliding_window_size": int,
              "half_attn_window_upon_downsampling": bool, "dim": int, "hidden_dim": int, "head_dim": int,
              "n_heads": int, "n_kv_heads": int, "qk_norm_eps": float, "qk_norm": bool, "use_biases": bool,
              "norm_eps": float, "layer_scale": bool, "layer_scale_init": float,
              "decoder_transformer_lengths_str": str, "decoder_convs_kernels_str": str,
              "decoder_convs_strides_str": str, "encoder_transformer_lengths_str": str,
              "encoder_convs_kernels_str": str, "encoder_convs_strides_str": str, "voice": dict}
_MULTIMODAL = {"bos_token_id": int, "audio_model_args": _AUDIO_MODEL, "audio_tokenizer_args": _TOKENIZER}
SCHEMA = {**_BACKBONE, "multimodal": _MULTIMODAL}
OPTIONAL = {"acoustic_transformer_args.norm_eps", "acoustic_transformer_args.n_decoding_steps",
            "audio_tokenizer_args.encoder_transformer_lengths_str", "audio_tokenizer_args.encoder_convs_kernels_str",
            "audio_tokenizer_args.encoder_convs_strides_str", "max_position_embeddings", "model_type"}

# values the implementation depends on: (path, expected)
_REQUIRED_VALUES = [
    ("multimodal.audio_model_args.audio_encoding_args.codebook_pattern", "parallel"),
    ("multimodal.audio_model_args.input_embedding_concat_type", "sum"),
    ("multimodal.audio_model_args.acoustic_transformer_args.use_biases", False),
    ("multimodal.audio_tokenizer_args.channels", 1),
    ("multimodal.audio_tokenizer_args.conv_weight_norm", True),
    ("multimodal.audio_tokenizer_args.causal", True),
    ("multimodal.audio_tokenizer_args.half_attn_window_upon_downsampling", True),
    ("multimodal.audio_tokenizer_args.qk_norm", True),
    ("multimodal.audio_tokenizer_args.use_biases", False),
    ("multimodal.audio_tokenizer_args.layer_scale", True),
]


@dataclass(frozen=True)
class VoxtralParams:
    """What params.json says: our model config, the preset voice ids, and the raw JSON."""

    config: ModelConfig
    voice_ids: dict[str, int]  # preset name -> speaker id, as in params.json
    raw: dict[str, Any]


def read_params(path: Path, name: str) -> VoxtralParams:
    """Read and check ``params.json``; raises ConfigError naming the file and the JSON path."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"{path} is not readable JSON: {e}") from e
    return parse_params(raw, name, str(path))


def parse_params(raw: Any, name: str, where: str = "params.json") -> VoxtralParams:
    _check_schema(raw, SCHEMA, where, "")
    for dotted, expected in _REQUIRED_VALUES:
        got = _get(raw, dotted)
        if got != expected:
            raise ConfigError(f"{where}: {dotted} is {got!r}; this loader implements only {expected!r}")
    mm = raw["multimodal"]
    am, tk = mm["audio_model_args"], mm["audio_tokenizer_args"]
    at, enc = am["acoustic_transformer_args"], am["audio_encoding_args"]
    if enc["num_codebooks"] != 1 + am["n_acoustic_codebook"]:
        raise ConfigError(f"{where}: num_codebooks {enc['num_codebooks']} != 1 + n_acoustic_codebook")
    if at["input_dim"] != raw["dim"] or at["dim"] != raw["dim"]:
        raise ConfigError(f"{where}: the acoustic transformer's input_dim and dim must equal the backbone dim "
                          f"{raw['dim']} (got {at['input_dim']}, {at['dim']})")
    if tk["n_kv_heads"] != tk["n_heads"]:
        raise ConfigError(f"{where}: the codec attention is multi-head (n_kv_heads == n_heads), got {tk['n_kv_heads']}")
    if (am["semantic_codebook_size"], am["acoustic_codebook_size"], am["n_acoustic_codebook"]) != (
            tk["semantic_codebook_size"], tk["acoustic_codebook_size"], tk["acoustic_dim"]):
        raise ConfigError(f"{where}: audio_model_args and audio_tokenizer_args disagree on the codebooks")
    voices = tk["voice"]
    for v, i in voices.items():
        if not isinstance(i, int) or isinstance(i, bool):
            raise ConfigError(f"{where}: multimodal.audio_tokenizer_args.voice.{v} must be an int id, got {i!r}")
    enc_args = {k: tk.get(k, d) for k, d in DEFAULT_ENCODER.items()}
    cfg = ModelConfig(
        name=name,
        family="voxtral",
        trained=True,
        note="Voxtral TTS (Mistral AI), weights CC BY-NC 4.0: preset voices only (no codec encoder was released)",
        tts=TTSConfig(
            backbone=BackboneConfig(
                dim=raw["dim"], n_layers=raw["n_layers"], n_heads=raw["n_heads"], n_kv_heads=raw["n_kv_heads"],
                head_dim=raw["head_dim"], hidden_dim=raw["hidden_dim"], rope_theta=float(raw["rope_theta"]),
                norm_eps=float(raw["norm_eps"]), vocab_size=raw["vocab_size"], max_seq_len=raw["max_seq_len"]),
            flow=FlowHeadConfig(
                dim=at["dim"], n_layers=at["n_layers"], n_heads=at["n_heads"], n_kv_heads=at["n_kv_heads"],
                head_dim=at["head_dim"], hidden_dim=at["hidden_dim"], norm_eps=float(at.get("norm_eps", 1e-5))),
            tokens=TokensConfig(bos=mm["bos_token_id"], audio=am["audio_token_id"],
                                begin_audio=am["begin_audio_token_id"]),
            semantic_codebook_size=am["semantic_codebook_size"],
            acoustic_dim=am["n_acoustic_codebook"],
            acoustic_levels=am["acoustic_codebook_size"],
            tokenizer="tekken",
        ),
        codec=CodecConfig(
            sample_rate=tk["sampling_rate"], patch_size=tk["pretransform_patch_size"],
            patch_proj_kernel_size=tk["patch_proj_kernel_size"], dim=tk["dim"], hidden_dim=tk["hidden_dim"],
            n_heads=tk["n_heads"], head_dim=tk["head_dim"], norm_eps=float(tk["norm_eps"]),
            qk_norm_eps=float(tk["qk_norm_eps"]), layer_scale_init=float(tk["layer_scale_init"]),
            semantic_dim=tk["semantic_dim"], semantic_codebook_size=tk["semantic_codebook_size"],
            acoustic_dim=tk["acoustic_dim"], acoustic_levels=tk["acoustic_codebook_size"],
            sliding_window=tk["attn_sliding_window_size"],
            encoder_transformer_lengths=_ints(enc_args["encoder_transformer_lengths_str"], where),
            encoder_kernels=_ints(enc_args["encoder_convs_kernels_str"], where),
            encoder_strides=_ints(enc_args["encoder_convs_strides_str"], where),
            decoder_transformer_lengths=_ints(tk["decoder_transformer_lengths_str"], where),
            decoder_kernels=_ints(tk["decoder_convs_kernels_str"], where),
            decoder_strides=_ints(tk["decoder_convs_strides_str"], where),
            has_encoder=False,
        ),
        sampling=SamplingDefaults(steps=at.get("n_decoding_steps", DEFAULT_STEPS), guidance=DEFAULT_GUIDANCE,
                                  temperature=1.0),
    )
    c = cfg.codec
    if not len(c.decoder_transformer_lengths) == len(c.decoder_kernels) == len(c.decoder_strides):
        raise ConfigError(f"{where}: the decoder_*_str lists differ in length")
    if tk["sampling_rate"] != enc["sampling_rate"]:
        raise ConfigError(f"{where}: the codec and the audio encoding disagree on the sampling rate")
    return VoxtralParams(cfg.check(), dict(voices), raw)


def _ints(text: str, where: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(","))
    except ValueError as e:
        raise ConfigError(f"{where}: {text!r} is not a comma-separated list of integers") from e


def _get(raw: dict[str, Any], dotted: str) -> Any:
    node: Any = raw
    for part in dotted.split("."):
        node = node[part]
    return node


def _check_schema(data: Any, schema: dict[str, Any], where: str, path: str) -> None:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: {path or 'the top level'} must be an object")
    unknown = sorted(set(data) - set(schema))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(path + k for k in unknown)} (this loader knows the "
                          "Voxtral-4B-TTS-2603 schema; a different model needs a different loader)")
    section = path.rstrip(".").rsplit(".", 1)[-1]
    for key, tp in schema.items():
        full = path + key
        if key not in data:
            if f"{section}.{key}" in OPTIONAL or key in OPTIONAL:
                continue
            raise ConfigError(f"{where}: missing key {full}")
        value = data[key]
        if isinstance(tp, dict):
            _check_schema(value, tp, where, full + ".")
        elif tp is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{where}: {full} must be a number, got {value!r}")
        elif type(value) is not tp:
            raise ConfigError(f"{where}: {full} must be {tp.__name__}, got {value!r}")
