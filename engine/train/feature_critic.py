"""An adversarial critic of decoded WORLD features, for the decoder stage (``--adversarial``).

The decoder is trained with L1 losses, which pull each 5 ms step towards the mean of what could follow
its latent: the decoded envelope hardly moves within a frame (its higher coded dimensions move 14 % as
much from step to step as the originals'). A critic that tells decoded feature sequences from true ones
penalises that smoothness itself, the way HiFi-GAN's discriminators sharpen a vocoder trained on a mel
loss. Least-squares GAN losses, plus feature matching on the critic's hidden layers.

Measured on timbre-mini's codec (docs/codec.md): no gain. A weak critic leaves the envelope as it was; a
strong one makes it move, with noise, because it cannot know which movement the latent stands for.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from engine.codec.world import ENVELOPE_DIMS

FEATURE_MATCHING = 2.0  # feature matching's weight against the adversarial term, as HiFi-GAN weighs them
JUDGED = slice(2, 2 + ENVELOPE_DIMS)
"""The features the critic sees: the coded envelope, the smoothed part."""


class FeatureCritic(nn.Module):
    """Strided 1-D convolutions over standardised features [B, F, T] (``JUDGED``) -> (scores [B, 1, T / 8],
    hidden maps, one per layer). About 0.2 M parameters."""

    def __init__(self, n_features: int = ENVELOPE_DIMS, width: int = 96) -> None:
        super().__init__()
        chans = [n_features, width, width, 2 * width, 2 * width]
        self.layers = nn.ModuleList(
            weight_norm(nn.Conv1d(a, b, 5, stride=1 if i == 0 else 2, padding=2))
            for i, (a, b) in enumerate(zip(chans[:-1], chans[1:]))
        )
        self.out = weight_norm(nn.Conv1d(chans[-1], 1, 3, padding=1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        maps = []
        for layer in self.layers:
            x = F.leaky_relu(layer(x), 0.2)
            maps.append(x)
        return self.out(x), maps


def critic_loss(critic: FeatureCritic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Least-squares critic loss: true sequences [B, F, T] towards 1, decoded ones (detached) towards 0."""
    real_score, _ = critic(real)
    fake_score, _ = critic(fake.detach())
    return ((real_score - 1) ** 2).mean() + (fake_score ** 2).mean()


def decoder_adversarial_loss(critic: FeatureCritic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The decoder's side: decoded sequences [B, F, T] scored towards 1, and their hidden maps matched to
    the true sequences' (L1). The critic's own weights get no gradient from it (frozen by the caller)."""
    fake_score, fake_maps = critic(fake)
    with torch.no_grad():
        _, real_maps = critic(real)
    matching = sum((f - r).abs().mean() for f, r in zip(fake_maps, real_maps)) / len(fake_maps)
    return ((fake_score - 1) ** 2).mean() + FEATURE_MATCHING * matching
