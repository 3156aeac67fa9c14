"""Training on a GPU: every stage takes ``--device``; its random draws stay on the CPU generators and every
tensor a training step computes with reaches the model's device.

No GPU here, so placement is checked on PyTorch's ``meta`` device: like a CUDA tensor, a meta tensor
refuses to meet a CPU tensor in an op ("Tensor on device cpu is not on the expected device meta"), and
it computes shapes only, so a whole step runs in milliseconds. What needs real numbers (the codebook's
dead-code restart, ``.item()``) is left to the CPU runs of the smoke test.
"""

import pytest
import torch

from engine.api import EngineError
from engine.codec.voxtral_codec import VoxtralCodec
from engine.nn.tts_model import VoxtralTTS
from engine.train.codec_train import CROP_FRAMES, CodecTrainer, HeldOutRoundTrip, PHONE_POINTS, feature_losses
from engine.train.corpus import STEPS_PER_FRAME
from engine.train.loop import training_device
from engine.train.sizes import CODEC_SIZES, tts_config
from engine.train.tts_train import Batch, InputCorruption, Item, tts_losses

META = torch.device("meta")


def _codes(t: int, cfg, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    sem = torch.randint(0, cfg.semantic_codebook_size, (t, 1), generator=g)
    return torch.cat([sem, torch.randint(0, cfg.acoustic_levels, (t, cfg.acoustic_dim), generator=g)], 1)


def test_device_names_resolve_and_a_missing_gpu_is_a_clear_error():
    assert training_device("cpu") == torch.device("cpu")
    assert training_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(EngineError, match="unknown device 'gpu'"):
        training_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(EngineError, match="no usable CUDA GPU"):
            training_device("cuda")


def test_a_codec_step_computes_on_the_codecs_device():
    cfg = CODEC_SIZES["tiny"]
    trainer = CodecTrainer(cfg).to(META)
    feats = torch.randn(3, cfg.feature_dim, CROP_FRAMES * STEPS_PER_FRAME, device=META)
    units = torch.zeros(3, CROP_FRAMES, PHONE_POINTS, dtype=torch.long, device=META)
    latent = trainer.codec.encode_steps(feats)
    dec_in, ids, commit = trainer.quantize(latent, torch.Generator().manual_seed(0))  # CPU draws
    feat, delta = feature_losses(trainer.codec, dec_in, feats, trainer.weights)
    phone = trainer.phone_loss(dec_in[:, :cfg.semantic_dim], units)
    assert {t.device for t in (dec_in, ids, commit, feat, delta, phone)} == {META}
    assert dec_in.shape == latent.shape == (3, cfg.semantic_dim + cfg.acoustic_dim, CROP_FRAMES)


def test_the_held_out_round_trip_moves_its_crops_to_the_codec():
    cfg = CODEC_SIZES["tiny"]
    check = HeldOutRoundTrip.__new__(HeldOutRoundTrip)
    check.feats = torch.randn(2, cfg.feature_dim, CROP_FRAMES * STEPS_PER_FRAME)  # built on the CPU
    codec = VoxtralCodec(cfg).to(META)
    # the round trip itself runs on the meta device; only turning the losses into numbers cannot
    with pytest.raises(RuntimeError, match="item.. cannot be called on meta tensors"):
        check(codec)


def test_a_tts_step_embeds_cpu_codes_on_the_models_device():
    """Codes, text units, the corruption and the targets live on the CPU; the batch and losses on the model's device."""
    cfg = CODEC_SIZES["tiny"]
    model = VoxtralTTS(tts_config("tiny", cfg)).to(META)
    items = [Item(f"c{i}", "s", torch.arange(5 + i), _codes(20 + i, cfg, i), torch.arange(20 + i) // 5)
             for i in range(2)]
    refs = [_codes(8, cfg, 10 + i) for i in range(2)]
    neighbours = torch.randint(0, cfg.semantic_codebook_size, (cfg.semantic_codebook_size, 4))
    corrupt = InputCorruption(neighbours, cfg.acoustic_levels, 0.3, 0.2, 0.1, 0.15)
    gen = torch.Generator().manual_seed(0)
    batch = Batch(model, items, refs, corrupt, gen)
    assert batch.x.device == META
    assert all(t.device.type == "cpu" for t in batch.sem_tgt + batch.ac_tgt + batch.adv_tgt)
    losses = tts_losses(model, batch, gen)
    assert {v.device for v in losses.values()} == {META}
    assert set(losses) == {"loss", "semantic", "advance", "flow", "adv_acc"}


def _loss_after_steps(module: torch.nn.Module, loss_of, steps: int) -> tuple[float, float]:
    """The loss before and after ``steps`` AdamW steps on one fixed batch (the same random draws each time)."""
    opt = torch.optim.AdamW([p for p in module.parameters() if p.requires_grad], lr=1e-3)
    first = None
    for _ in range(steps + 1):
        loss = loss_of()
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    return first, loss.item()


def test_the_gpu_size_fits_together_and_learns():
    """``--size base`` is for GPUs (not trained here): its codec and TTS fit together and their losses fall."""
    cfg = CODEC_SIZES["base"]
    torch.manual_seed(0)
    trainer = CodecTrainer(cfg)
    feats = torch.randn(2, cfg.feature_dim, CROP_FRAMES * STEPS_PER_FRAME)
    units = torch.zeros(2, CROP_FRAMES, PHONE_POINTS, dtype=torch.long)
    before, after = _loss_after_steps(
        trainer, lambda: trainer.losses(feats, units, torch.Generator().manual_seed(0))["loss"], 3)
    assert after < before
    model = VoxtralTTS(tts_config("base", cfg))
    assert model.cfg.acoustic_dim == cfg.acoustic_dim == 36
    items = [Item("c", "s", torch.arange(6), _codes(12, cfg, 0), torch.arange(12) // 2)]
    refs = [_codes(6, cfg, 1)]
    before, after = _loss_after_steps(
        model, lambda: tts_losses(model, Batch(model, items, refs), torch.Generator().manual_seed(0))["loss"], 3)
    assert after < before


def test_the_cli_offers_the_sizes_the_trainer_knows():
    from engine.train import cli
    from engine.train.sizes import SIZES

    assert cli.SIZES == SIZES
