"""Codes -> audio for both kinds of codec: waveform codecs decode samples directly; WORLD codecs
decode vocoder features that the WORLD synthesiser renders.

Streaming: each push decodes the new frames with ``context`` frames of codes before them (the
decoder is causal, so its features equal the offline decode) and, for WORLD, renders them so that the
chunks join as one rendering of the whole clip would (``world_stream``).
"""

from __future__ import annotations

import numpy as np
import torch

from engine.codec import world
from engine.codec.voice_match import VoiceMatch
from engine.codec.voxtral_codec import StreamingDecoder, VoxtralCodec
from engine.codec.world_stream import WorldStream


def decode_audio(codec: VoxtralCodec, codes: torch.Tensor, match: VoiceMatch | None = None) -> np.ndarray:
    """Raw codes [1 + K, T] -> float32 audio [T * samples_per_frame] in [-1, 1], offline. ``match``: the
    voice's correction of a WORLD codec's features (``voice_match``)."""
    out = codec.decode(codes[None].long())[0]
    if codec.cfg.io == "world":
        return world.synthesize(matched(out.T.float().cpu().numpy(), match))
    return out.float().clamp(-1.0, 1.0).cpu().numpy()


def matched(features: np.ndarray, match: VoiceMatch | None) -> np.ndarray:
    return features if match is None else match.apply(features)


class AudioStream:
    def __init__(self, codec: VoxtralCodec, context: int = 25, match: VoiceMatch | None = None) -> None:
        self.codec, self.match = codec, match
        self.decoder = StreamingDecoder(codec, context)
        self.vocoder = WorldStream()

    @torch.inference_mode()
    def push(self, codes: torch.Tensor) -> np.ndarray:
        """New raw codes [n, 1 + K] -> their audio, float32 [n * samples_per_frame]."""
        out = self.decoder.push(codes)
        if self.codec.cfg.io != "world":
            return out.float().clamp(-1.0, 1.0).cpu().numpy()
        return self.vocoder.push(matched(out.T.float().cpu().numpy(), self.match))  # features (n * 16, 43)
