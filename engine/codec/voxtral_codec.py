"""The Voxtral codec at any size: patch conv, windowed-ALiBi transformers, strided causal convs,
a semantic VQ and an FSQ for the acoustic values. 12.5 frames per second.

Raw codes per frame: [semantic id 0..S-1, K acoustic levels 0..L-1] -> int64 [B, 1 + K, T].
"""

from __future__ import annotations

import torch
from torch import nn

from engine.codec.layers import CausalConv1d, CausalConvTranspose1d, CodecTransformer, fold_weight_norm
from engine.config import CodecConfig
from engine.nn.fsq import fsq_decode, fsq_encode


class SemanticVQ(nn.Module):
    """Codebook kept as EMA statistics: codebook = embedding_sum / max(cluster_usage, 1e-5)."""

    def __init__(self, size: int, dim: int) -> None:
        super().__init__()
        self.register_buffer("embedding_sum", torch.randn(size, dim))
        self.register_buffer("cluster_usage", torch.ones(size))

    @property
    def codebook(self) -> torch.Tensor:
        return self.embedding_sum / self.cluster_usage.clamp(min=1e-5)[:, None]

    def encode(self, z: torch.Tensor) -> torch.Tensor:
        """z [B, d, T] -> nearest code ids [B, T] (L2)."""
        flat = z.transpose(1, 2)  # (B, T, d)
        cb = self.codebook.to(flat.dtype)
        return torch.cdist(flat, cb[None].expand(flat.shape[0], -1, -1)).argmin(-1)

    def decode(self, ids: torch.Tensor) -> torch.Tensor:
        """ids [B, T] -> [B, d, T]."""
        return self.codebook[ids].transpose(1, 2)


class Quantizer(nn.Module):
    def __init__(self, cfg: CodecConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.semantic_codebook = SemanticVQ(cfg.semantic_codebook_size, cfg.semantic_dim)

    def encode(self, latent: torch.Tensor) -> torch.Tensor:
        """latent [B, semantic_dim + K, T] -> raw codes [B, 1 + K, T]."""
        sd = self.cfg.semantic_dim
        sem = self.semantic_codebook.encode(latent[:, :sd])
        ac = fsq_encode(torch.tanh(latent[:, sd:]), self.cfg.acoustic_levels)
        return torch.cat([sem[:, None], ac], dim=1)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """raw codes [B, 1 + K, T] -> latent [B, semantic_dim + K, T]."""
        sem = self.semantic_codebook.decode(codes[:, 0])
        ac = fsq_decode(codes[:, 1:], self.cfg.acoustic_levels).to(sem.dtype)
        return torch.cat([sem, ac], dim=1)


def _transformer(cfg: CodecConfig, n_layers: int, window: int) -> CodecTransformer:
    return CodecTransformer(n_layers, window, cfg.dim, cfg.hidden_dim, cfg.n_heads, cfg.head_dim, cfg.norm_eps,
                            cfg.qk_norm_eps, cfg.layer_scale_init)


class VoxtralCodec(nn.Module):
    def __init__(self, cfg: CodecConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.quantizer = Quantizer(cfg)
        if cfg.io == "world":  # WORLD features are standardised inside the codec (waveform codecs have none)
            self.register_buffer("feature_mean", torch.zeros(cfg.io_channels))
            self.register_buffer("feature_std", torch.ones(cfg.io_channels))
        if cfg.has_encoder:
            self.input_proj = CausalConv1d(cfg.io_channels, cfg.dim, cfg.patch_proj_kernel_size)
            blocks: list[nn.Module] = []
            window = cfg.sliding_window
            last = len(cfg.encoder_strides) - 1
            for i, (n, k, s) in enumerate(zip(cfg.encoder_transformer_lengths, cfg.encoder_kernels,
                                              cfg.encoder_strides)):
                blocks.append(_transformer(cfg, n, window))
                blocks.append(CausalConv1d(cfg.dim, cfg.latent_dim if i == last else cfg.dim, k, s))
                window = max(1, window // s)
            self.encoder_blocks = nn.ModuleList(blocks)
        # decoder: conv, then (transformer, upsampling conv)* , transformer
        window = max(1, cfg.sliding_window)
        for s in cfg.encoder_strides if cfg.has_encoder else cfg.decoder_strides:
            window = max(1, window // s)
        dec: list[nn.Module] = [CausalConv1d(cfg.latent_dim, cfg.dim, cfg.decoder_kernels[0],
                                             cfg.decoder_strides[0], pad_mode="replicate")]
        for i, n in enumerate(cfg.decoder_transformer_lengths):
            dec.append(_transformer(cfg, n, window))
            if i + 1 < len(cfg.decoder_kernels):
                k, s = cfg.decoder_kernels[i + 1], cfg.decoder_strides[i + 1]
                dec.append(CausalConvTranspose1d(cfg.dim, cfg.dim, k, s))
                window *= s
        self.decoder_blocks = nn.ModuleList(dec)
        self.output_proj = CausalConv1d(cfg.dim, cfg.io_channels, cfg.patch_proj_kernel_size, pad_mode="reflect")

    @property
    def samples_per_frame(self) -> int:
        return self.cfg.samples_per_frame

    def fold_weight_norm(self) -> int:
        return fold_weight_norm(self)

    def patchify(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, n] -> patches [B, patch, ceil(n / spf) * spf / patch] (zero-padded to whole frames)."""
        n = audio.shape[-1]
        audio = nn.functional.pad(audio, (0, (-n) % self.samples_per_frame))
        return audio.view(audio.shape[0], -1, self.cfg.patch_size).transpose(1, 2)

    def encode_steps(self, x: torch.Tensor) -> torch.Tensor:
        """Input steps [B, io_channels, T * steps_per_frame] (patches, or raw WORLD features) ->
        continuous latent [B, semantic_dim + K, T]."""
        if not self.cfg.has_encoder:
            raise RuntimeError("this codec has no encoder")
        if self.cfg.io == "world":
            x = (x - self.feature_mean[:, None]) / self.feature_std[:, None]
        x = self.input_proj(x)
        for block in self.encoder_blocks:
            x = block(x)
        return x

    def encode_latent(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, n] at cfg.sample_rate -> continuous latent [B, semantic_dim + K, ceil(n / spf)]."""
        if self.cfg.io != "waveform":
            raise RuntimeError("a world codec encodes WORLD features: use encode_steps")
        return self.encode_steps(self.patchify(audio))

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, n] -> raw codes [B, 1 + K, T], T = ceil(n / samples_per_frame)."""
        return self.quantizer.encode(self.encode_latent(audio))

    def decode_steps(self, latent: torch.Tensor) -> torch.Tensor:
        """latent [B, semantic_dim + K, T] -> output steps [B, io_channels, T * steps_per_frame]
        (waveform patches, or WORLD features in their natural units)."""
        x = latent
        for block in self.decoder_blocks:
            x = block(x)
        x = self.output_proj(x)
        if self.cfg.io == "world":
            x = x * self.feature_std[:, None] + self.feature_mean[:, None]
        return x

    def decode_latent(self, latent: torch.Tensor) -> torch.Tensor:
        """latent [B, semantic_dim + K, T] -> audio [B, T * samples_per_frame] (waveform io), or
        WORLD features [B, feature_dim, T * steps_per_frame] (world io)."""
        x = self.decode_steps(latent)
        if self.cfg.io == "world":
            return x
        return x.transpose(1, 2).reshape(x.shape[0], -1)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """raw codes [B, 1 + K, T] -> decode_latent's output."""
        return self.decode_latent(self.quantizer.decode(codes))


class StreamingDecoder:
    """Decodes frames as they arrive, each chunk with ``context`` frames of left context.

    The decoder is causal with a finite receptive field (~21 frames for the Voxtral layout), so with
    enough context the concatenated chunks equal the offline decode. State: the frames seen so far.
    """

    def __init__(self, codec: VoxtralCodec, context: int = 25) -> None:
        self.codec, self.context = codec, context
        self.frames: list[torch.Tensor] = []  # each (1 + K,)

    def reset(self) -> None:
        self.frames.clear()

    @torch.inference_mode()
    def push(self, codes: torch.Tensor) -> torch.Tensor:
        """New raw codes [n, 1 + K] -> the n frames' audio [n * samples_per_frame] (waveform io), or
        their WORLD features [feature_dim, n * steps_per_frame] (world io)."""
        n = codes.shape[0]
        if n == 0:
            return torch.zeros(0)
        ctx = self.frames[-self.context:] if self.context else []
        window = torch.cat([torch.stack(ctx), codes]) if ctx else codes
        self.frames.extend(codes.unbind(0))
        del self.frames[: max(0, len(self.frames) - self.context)]
        out = self.codec.decode(window.T[None])[0]
        per_frame = out.shape[-1] // window.shape[0]
        return out[..., len(ctx) * per_frame:]
