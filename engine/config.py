"""Strict, typed model configuration that travels with the weights (``config.json`` beside them).

Unknown keys are errors; a missing key falls back to the field default only where one exists.
The same classes describe the 4B Voxtral checkpoint and our small built-in models.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from engine.api import EngineError

MODEL_FORMAT_VERSION = 1


class ConfigError(EngineError):
    """A config file that does not match the schema."""


@dataclass(frozen=True)
class BackboneConfig:
    """Mistral-style decoder: RMSNorm, GQA, interleaved-pair RoPE, SwiGLU, tied text embedding."""

    dim: int = 64
    n_layers: int = 2
    n_heads: int = 4
    n_kv_heads: int = 2
    head_dim: int = 16
    hidden_dim: int = 128
    rope_theta: float = 1_000_000.0
    norm_eps: float = 1e-5
    vocab_size: int = 384
    max_seq_len: int = 4096


@dataclass(frozen=True)
class FlowHeadConfig:
    """The 3-token bidirectional flow-matching transformer that draws the acoustic values."""

    dim: int = 64
    n_layers: int = 1
    n_heads: int = 4
    n_kv_heads: int = 2
    head_dim: int = 16
    hidden_dim: int = 128
    norm_eps: float = 1e-5


@dataclass(frozen=True)
class TokensConfig:
    """Special token ids of the Voxtral prompt layout (ids as in tekken.json)."""

    bos: int = 1
    audio: int = 24
    begin_audio: int = 25
    repeat_audio_text: int = 35
    next_audio_text: int = 36
    text_offset: int = 64
    """Character tokenizer only: byte b becomes id ``text_offset + b``."""


@dataclass(frozen=True)
class TTSConfig:
    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    flow: FlowHeadConfig = field(default_factory=FlowHeadConfig)
    tokens: TokensConfig = field(default_factory=TokensConfig)
    semantic_codebook_size: int = 64
    acoustic_dim: int = 8
    acoustic_levels: int = 21
    tokenizer: str = "bytes"
    """``bytes`` (UTF-8 bytes, built in), ``phones`` (CMU-lexicon phones; the model folder has
    lexicon.txt.gz) or ``tekken`` (the released checkpoint's tokenizer)."""
    aligned_text: bool = False
    """Alignment aid: every audio position also sees the text unit under a pointer (and the next
    one), and an advance head moves the pointer 0..max_advance units per frame; speech ends when
    the pointer passes the last unit."""
    max_advance: int = 4


@dataclass(frozen=True)
class CodecConfig:
    """Voxtral codec: patch conv, windowed-ALiBi transformer blocks, (transposed) causal convs.

    Frame rate is ``sample_rate / patch_size / prod(strides)`` and must equal 12.5 Hz.
    """

    sample_rate: int = 16_000
    patch_size: int = 160
    patch_proj_kernel_size: int = 7
    dim: int = 32
    hidden_dim: int = 64
    n_heads: int = 2
    head_dim: int = 16
    norm_eps: float = 1e-2
    qk_norm_eps: float = 1e-6
    layer_scale_init: float = 0.01
    semantic_dim: int = 8
    semantic_codebook_size: int = 64
    acoustic_dim: int = 8
    acoustic_levels: int = 21
    sliding_window: int = 16
    encoder_transformer_lengths: tuple[int, ...] = (1, 1, 1, 1)
    encoder_kernels: tuple[int, ...] = (4, 4, 4, 3)
    encoder_strides: tuple[int, ...] = (2, 2, 2, 1)
    decoder_transformer_lengths: tuple[int, ...] = (1, 1, 1, 1)
    decoder_kernels: tuple[int, ...] = (3, 4, 4, 4)
    decoder_strides: tuple[int, ...] = (1, 2, 2, 2)
    has_encoder: bool = True
    io: str = "waveform"
    """``waveform``: patches of ``patch_size`` samples in and out (Voxtral). ``world``: WORLD vocoder
    features (``feature_dim`` per ``patch_size`` samples) in and out, rendered by a DSP synthesiser."""
    feature_dim: int = 43

    @property
    def io_channels(self) -> int:
        """Channels per step at the codec's input and output (patch samples or feature dims)."""
        return self.patch_size if self.io == "waveform" else self.feature_dim

    @property
    def samples_per_frame(self) -> int:
        n = self.patch_size
        for s in self.decoder_strides:
            n *= s
        return n

    @property
    def latent_dim(self) -> int:
        return self.semantic_dim + self.acoustic_dim


@dataclass(frozen=True)
class SamplingDefaults:
    steps: int = 8
    guidance: float = 1.2
    temperature: float = 1.0
    unsupported: tuple[str, ...] = ()
    """Sampling parameters this model cannot honour, as "field: reason" (the studio disables them)."""

    def unsupported_pairs(self) -> tuple[tuple[str, str], ...]:
        pairs = []
        for entry in self.unsupported:
            name, _, reason = entry.partition(":")
            pairs.append((name.strip(), reason.strip() or "not supported by this model"))
        return tuple(pairs)


@dataclass(frozen=True)
class ModelConfig:
    name: str = "tiny-random"
    family: str = "timbre"
    format_version: int = MODEL_FORMAT_VERSION
    trained: bool = False
    note: str = ""
    tts: TTSConfig = field(default_factory=TTSConfig)
    codec: CodecConfig = field(default_factory=CodecConfig)
    sampling: SamplingDefaults = field(default_factory=SamplingDefaults)

    def check(self) -> "ModelConfig":
        """Cross-field checks; raises ConfigError."""
        if self.format_version != MODEL_FORMAT_VERSION:
            raise ConfigError(
                f"model format version {self.format_version} is not supported (this engine reads "
                f"version {MODEL_FORMAT_VERSION})"
            )
        c, t = self.codec, self.tts
        rate = c.sample_rate / c.samples_per_frame
        if abs(rate - 12.5) > 1e-9:
            raise ConfigError(f"codec frame rate is {rate} Hz; the Voxtral family runs at 12.5 Hz")
        if (c.semantic_codebook_size, c.acoustic_dim, c.acoustic_levels) != (
            t.semantic_codebook_size,
            t.acoustic_dim,
            t.acoustic_levels,
        ):
            raise ConfigError("codec and TTS disagree on codebook size, acoustic dim or FSQ levels")
        if c.io not in ("waveform", "world"):
            raise ConfigError(f"codec io must be waveform or world, got {c.io!r}")
        if len(c.decoder_transformer_lengths) != len(c.decoder_kernels) or len(c.decoder_kernels) != len(
                c.decoder_strides):
            raise ConfigError("codec decoder lengths, kernels and strides must have one entry per stage")
        b = t.backbone
        if b.n_heads % b.n_kv_heads or t.flow.n_heads % t.flow.n_kv_heads:
            raise ConfigError("n_heads must be a multiple of n_kv_heads")
        if b.head_dim % 2:
            raise ConfigError("backbone head_dim must be even for RoPE")
        if t.flow.dim % 2:
            raise ConfigError("flow dim must be even for the cos|sin time embedding")
        return self


def from_dict(cls: type, data: Any, where: str = "config") -> Any:
    """Build dataclass ``cls`` from plain JSON data; unknown keys and wrong types raise ConfigError."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be an object, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _coerce(hints[name], value, f"{where}.{name}")
    return cls(**kwargs)


def _coerce(tp: Any, value: Any, where: str) -> Any:
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, where)
    origin = typing.get_origin(tp)
    if origin is tuple:
        (item,) = {a for a in typing.get_args(tp) if a is not Ellipsis}
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} must be a list")
        return tuple(_coerce(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        tp = next(a for a in args if a is not type(None))
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if tp in (int, str, bool) and (type(value) is tp):
        return value
    raise ConfigError(f"{where} must be {getattr(tp, '__name__', tp)}, got {value!r}")


def to_dict(obj: Any) -> Any:
    """Plain JSON data of a config dataclass (tuples become lists)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple):
        return [to_dict(v) for v in obj]
    return obj
