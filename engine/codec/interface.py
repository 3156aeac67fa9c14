"""The codec as the rest of the engine sees it: numpy audio in any sample rate <-> raw codes.

Codes are int64 [T, 1 + K] (semantic id, then K FSQ levels) at 12.5 frames per second.
"""

from __future__ import annotations

import numpy as np
import soxr
import torch

from engine.api import FRAME_RATE, EngineError
from engine.codec import world
from engine.codec.audio_stream import AudioStream, decode_audio
from engine.codec.voice_match import VoiceMatch
from engine.codec.voxtral_codec import VoxtralCodec


class AudioCodec:
    def __init__(self, codec: VoxtralCodec, device: torch.device) -> None:
        self.codec, self.device = codec, device

    @property
    def sample_rate(self) -> int:
        return self.codec.cfg.sample_rate

    @property
    def frame_rate(self) -> float:
        return FRAME_RATE

    @property
    def samples_per_frame(self) -> int:
        return self.codec.samples_per_frame

    @property
    def can_encode(self) -> bool:
        return self.codec.cfg.has_encoder

    @torch.inference_mode()
    def encode(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """audio [n] or [n, channels] at ``sample_rate`` -> codes [ceil(n' / spf), 1 + K]."""
        if not self.can_encode:
            raise EngineError("this model's codec has no encoder, so it cannot take a reference clip")
        x = np.asarray(audio, dtype=np.float32)
        if x.ndim == 2:
            x = x.mean(axis=1)
        if x.ndim != 1 or x.size == 0:
            raise EngineError("audio to encode must be a non-empty mono or multichannel signal")
        if sample_rate != self.sample_rate:
            x = soxr.resample(x, sample_rate, self.sample_rate).astype(np.float32)
        if self.codec.cfg.io == "world":
            codes = self.codec.quantizer.encode(self.codec.encode_steps(self.feature_steps(world.analyze(x))))
        else:
            codes = self.codec.encode(torch.from_numpy(x)[None].to(self.device))  # (1, 1 + K, T)
        return codes[0].T.cpu().numpy()

    def feature_steps(self, features: np.ndarray) -> torch.Tensor:
        """WORLD features [n, feature_dim] -> the encoder's input [1, feature_dim, ceil(n / 16) * 16],
        the last step repeated to whole frames."""
        steps = torch.from_numpy(np.asarray(features, dtype=np.float32)).T[None].to(self.device)
        return torch.nn.functional.pad(steps, (0, (-steps.shape[-1]) % (self.samples_per_frame // world.HOP)),
                                       mode="replicate")

    @torch.inference_mode()
    def decode(self, codes: np.ndarray, match: VoiceMatch | None = None) -> np.ndarray:
        """codes [T, 1 + K] -> float32 audio [T * samples_per_frame] in [-1, 1], matched to a voice if given."""
        c = torch.as_tensor(np.asarray(codes), dtype=torch.long, device=self.device)
        return decode_audio(self.codec, c.T, match)

    def stream_decoder(self, context: int = 25, match: VoiceMatch | None = None) -> AudioStream:
        return AudioStream(self.codec, context, match)
