"""The decoder stage's feature critic: it learns to tell smoothed feature sequences from sharp ones, and
its loss on the decoder's side moves the decoder, never the critic."""

import torch
import torch.nn.functional as F

from engine.train.decoder_train import adversarial_losses
from engine.train.feature_critic import FeatureCritic, critic_loss, decoder_adversarial_loss


def _sharp_and_smoothed(seed: int, batch: int = 8, steps: int = 160) -> tuple[torch.Tensor, torch.Tensor]:
    """Standardised-looking envelope sequences [B, 40, S]: white noise, and the same noise smoothed over 9 steps
    and scaled back to unit variance (the decoder's fault: same level, less movement)."""
    real = torch.randn(batch, 40, steps, generator=torch.Generator().manual_seed(seed))
    smooth = F.avg_pool1d(real, 9, stride=1, padding=4, count_include_pad=False)
    return real, smooth / smooth.std()


def test_the_critic_learns_to_score_sharp_sequences_above_smoothed_ones():
    torch.manual_seed(0)
    critic = FeatureCritic()
    opt = torch.optim.AdamW(critic.parameters(), lr=2e-4, betas=(0.5, 0.9))
    real, fake = _sharp_and_smoothed(100)
    with torch.no_grad():
        first = critic_loss(critic, real, fake).item()
    for step in range(60):
        opt.zero_grad()
        critic_loss(critic, *_sharp_and_smoothed(step)).backward()
        opt.step()
    with torch.no_grad():
        last = critic_loss(critic, real, fake).item()
        real_score, fake_score = critic(real)[0].mean().item(), critic(fake)[0].mean().item()
    assert last < 0.5 * first
    assert real_score > fake_score + 0.5


def test_the_decoders_loss_moves_the_decoded_features_and_not_the_critic():
    critic = FeatureCritic()
    real, smooth = _sharp_and_smoothed(1)
    fake = smooth.clone().requires_grad_(True)
    critic.requires_grad_(False)
    loss = decoder_adversarial_loss(critic, real, fake)
    loss.backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    assert all(p.grad is None for p in critic.parameters())
    # feature matching: a decoded sequence equal to the true one matches every hidden map exactly
    with torch.no_grad():
        same = decoder_adversarial_loss(critic, real, real)
        _, maps = critic(real)
        assert torch.isclose(same, ((critic(real)[0] - 1) ** 2).mean())
        assert len(maps) == len(critic.layers)


def test_one_adversarial_step_updates_the_critic_and_leaves_it_no_gradient():
    torch.manual_seed(0)
    critic = FeatureCritic()
    opt = torch.optim.AdamW(critic.parameters(), lr=1e-3)
    real, smooth = _sharp_and_smoothed(2)
    fake = smooth.clone().requires_grad_(True)
    before = [p.detach().clone() for p in critic.parameters()]
    out = adversarial_losses(critic, opt, real, fake)
    assert set(out) == {"critic", "adversarial"}
    assert not out["critic"].requires_grad and out["adversarial"].requires_grad
    assert any(not torch.equal(a, b) for a, b in zip(before, critic.parameters()))
    # run_steps clips the norm of every module's gradients after the decoder's backward: the critic's
    # own update must leave nothing there, and the decoder's loss must add nothing to it
    assert all(p.grad is None for p in critic.parameters())
    out["adversarial"].backward()
    assert all(p.grad is None for p in critic.parameters()) and fake.grad is not None
    assert all(p.requires_grad for p in critic.parameters())  # unfrozen for its next update
