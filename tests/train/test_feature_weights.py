"""The decoder's loss can weigh the envelope's first dimensions, which carry the words, above the rest."""

import torch

from engine.codec.voxtral_codec import VoxtralCodec
from engine.train.codec_train import FEATURE_WEIGHTS, LOW_ENVELOPE_DIMS, feature_losses, feature_weights
from engine.train.sizes import CODEC_SIZES


def test_low_envelope_weight_scales_only_the_first_envelope_dimensions():
    assert torch.equal(feature_weights(), FEATURE_WEIGHTS)
    w = feature_weights(4.0)
    low = slice(2, 2 + LOW_ENVELOPE_DIMS)
    assert torch.equal(w[low], 4.0 * FEATURE_WEIGHTS[low])
    rest = torch.ones(len(w), dtype=torch.bool)
    rest[low] = False
    assert torch.equal(w[rest], FEATURE_WEIGHTS[rest])


def test_an_error_in_the_low_envelope_costs_more_once_weighted():
    torch.manual_seed(0)
    codec = VoxtralCodec(CODEC_SIZES["tiny"]).eval()
    latent = torch.randn(1, codec.cfg.semantic_dim + codec.cfg.acoustic_dim, 4)
    with torch.no_grad():
        exact = codec.decode_steps(latent)  # (1, 43, 64): the target the decoder hits exactly
        low_wrong, high_wrong = exact.clone(), exact.clone()
        low_wrong[:, 2:2 + LOW_ENVELOPE_DIMS] += codec.feature_std[2:2 + LOW_ENVELOPE_DIMS, None]
        high_wrong[:, 2 + LOW_ENVELOPE_DIMS:2 + 2 * LOW_ENVELOPE_DIMS] += codec.feature_std[
            2 + LOW_ENVELOPE_DIMS:2 + 2 * LOW_ENVELOPE_DIMS, None]
        assert feature_losses(codec, latent, exact)[0] < 1e-6

        def ratio(weights):
            return feature_losses(codec, latent, low_wrong, weights)[0] / feature_losses(codec, latent, high_wrong, weights)[0]

        torch.testing.assert_close(ratio(feature_weights(1.0)), torch.tensor(1.0))  # same size, same cost
        torch.testing.assert_close(ratio(feature_weights(4.0)), torch.tensor(4.0))


def test_the_codec_trainer_scores_its_features_with_the_weights_it_was_given():
    from engine.train.codec_train import PHONE_POINTS, CodecTrainer

    cfg = CODEC_SIZES["tiny"]
    torch.manual_seed(0)
    plain = CodecTrainer(cfg)
    weighted = CodecTrainer(cfg, feature_weights(4.0))
    weighted.load_state_dict(plain.state_dict())
    feats = torch.randn(2, 43, 4 * 16)
    units = torch.zeros(2, 4, PHONE_POINTS, dtype=torch.long)
    losses = [t.losses(feats, units, torch.Generator().manual_seed(1))["feat"] for t in (plain, weighted)]
    assert torch.equal(plain.weights, FEATURE_WEIGHTS)
    assert not torch.isclose(losses[0], losses[1])
