"""Voice match: a per-voice correction of a WORLD codec's decoded features, fitted on the voice's clip.

One decoder renders every voice, and a small one pulls each voice toward the average of the voices it
learned: formants drift toward the middle, pitch toward the common range, and every feature moves less
than it should (the over-smoothing of a regression). Both show in the voice's own clip: analysed, it
gives the voice's true feature statistics; encoded and decoded, it gives what the decoder makes of the
voice. A per-feature affine map that takes the second onto the first (mean and spread over voiced 5 ms
steps) then corrects every render in that voice, step by step, so it streams. Measured on the shipped
model on unseen sentences (docs/voices.md): the held-out voice's clone +0.11 similarity to its clip
(margin over the default voice +0.03 -> +0.12), kal16 0.72-0.74 -> 0.82 and joe 0.67-0.70 -> 0.72-0.74
similarity to their reference clips, no voice's WER higher there (joe's is higher on timbre eval's 30
sentences at one seed and on the pangram: the figures and the spread cap's trade-off are in the doc).

Only the log f0, the coded envelope and the aperiodicity move; voicing is kept. Waveform codecs have no
features to correct.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import soxr
import torch

from engine.codec import world
from engine.codec.voxtral_codec import VoxtralCodec

MIN_VOICED_STEPS = 200  # 1 s of voiced speech: fewer gives statistics that describe the words, not the voice
SCALE_RANGE = (0.5, 2.0)  # a spread ratio outside it is a bad clip, not a voice
MOVED = np.array([0, *range(2, world.FEATURE_DIM)])  # every feature but voicing (index 1)


@dataclass(frozen=True)
class VoiceMatch:
    """``matched = decoded * scale + shift`` per WORLD feature; scale, shift float32 [43]."""

    scale: np.ndarray
    shift: np.ndarray

    def apply(self, features: np.ndarray) -> np.ndarray:
        """WORLD features [T, 43] -> the same, matched to the voice."""
        return (features * self.scale + self.shift).astype(np.float32)

    def tensors(self) -> dict[str, torch.Tensor]:
        """For a model's voice file (``match_scale``, ``match_shift``)."""
        return {"match_scale": torch.from_numpy(self.scale.copy()), "match_shift": torch.from_numpy(self.shift.copy())}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor]) -> VoiceMatch | None:
        """The match stored in a voice file's tensors, or None when it has none (or a wrong one)."""
        scale, shift = tensors.get("match_scale"), tensors.get("match_shift")
        if scale is None or shift is None or scale.shape != (world.FEATURE_DIM,) or shift.shape != scale.shape:
            return None
        return cls(scale.float().numpy(), shift.float().numpy())


def voiced_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Mean and standard deviation [43] of features [T, 43] over their voiced steps; None under
    MIN_VOICED_STEPS of them."""
    voiced = features[features[:, 1] > 0.5]
    if len(voiced) < MIN_VOICED_STEPS:
        return None
    return voiced.mean(axis=0), voiced.std(axis=0)


@torch.inference_mode()
def round_trip_features(codec: VoxtralCodec, features: np.ndarray) -> np.ndarray:
    """WORLD features [T, 43] -> the codec's decode of their codes [T, 43]."""
    steps_per_frame = codec.samples_per_frame // world.HOP
    device = next(codec.parameters()).device
    x = torch.from_numpy(np.asarray(features, dtype=np.float32)).T[None].to(device)
    x = torch.nn.functional.pad(x, (0, (-x.shape[-1]) % steps_per_frame), mode="replicate")
    decoded = codec.decode(codec.quantizer.encode(codec.encode_steps(x)))[0].T.float().cpu().numpy()
    return decoded[: len(features)]


def fit_voice_match(codec: VoxtralCodec, audio: np.ndarray, sample_rate: int) -> VoiceMatch | None:
    """A voice's clip, mono float audio [n] at ``sample_rate`` -> its match for this WORLD codec; None when
    the codec has no encoder or features, or the clip has too little voiced speech to say."""
    if codec.cfg.io != "world" or not codec.cfg.has_encoder:
        return None
    audio = np.asarray(audio, dtype=np.float32)
    if sample_rate != world.SAMPLE_RATE:
        audio = soxr.resample(audio, sample_rate, world.SAMPLE_RATE).astype(np.float32)
    return match_features(codec, world.analyze(audio))


def match_features(codec: VoxtralCodec, clips: np.ndarray | Sequence[np.ndarray],
                   scale_range: tuple[float, float] = SCALE_RANGE) -> VoiceMatch | None:
    """``fit_voice_match`` from WORLD features [T, 43] of one clip, or of several clips of the voice (a
    training corpus stores them): the statistics pool every clip's voiced steps, each clip coded on its own.
    ``scale_range``: the bounds of the ratio of spreads (scripts/voice_match_cap.py measures others)."""
    clips = [clips] if isinstance(clips, np.ndarray) else list(clips)
    want = voiced_statistics(np.concatenate(clips))
    got = voiced_statistics(np.concatenate([round_trip_features(codec, c) for c in clips]))
    if want is None or got is None:
        return None
    return moment_match(want, got, scale_range)


def moment_match(want: tuple[np.ndarray, np.ndarray], got: tuple[np.ndarray, np.ndarray],
                 scale_range: tuple[float, float] = SCALE_RANGE) -> VoiceMatch:
    """The match that maps voiced statistics ``got`` (mean, std [43], as ``voiced_statistics`` gives
    them) onto ``want``, every feature but voicing, the ratio of spreads held within ``scale_range``."""
    (want_mean, want_std), (got_mean, got_std) = want, got
    scale, shift = np.ones(world.FEATURE_DIM, np.float32), np.zeros(world.FEATURE_DIM, np.float32)
    scale[MOVED] = np.clip(want_std[MOVED] / np.maximum(got_std[MOVED], 1e-6), *scale_range)
    shift[MOVED] = want_mean[MOVED] - got_mean[MOVED] * scale[MOVED]
    return VoiceMatch(scale, shift)
