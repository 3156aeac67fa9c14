"""The TTS's input frames are corrupted like its own predictions (exposure bias); targets stay true."""

import pytest
import torch

from engine.codec.voxtral_codec import VoxtralCodec
from engine.nn.tts_model import N_SPECIAL, VoxtralTTS
from engine.train.sizes import CODEC_SIZES, tts_config
from engine.train.tts_train import Batch, InputCorruption, Item, own_predictions, self_fed, set_residual_dropout


def _codec() -> VoxtralCodec:
    torch.manual_seed(0)
    return VoxtralCodec(CODEC_SIZES["tiny"])


def _codes(t: int, cfg, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    sem = torch.randint(0, cfg.semantic_codebook_size, (t, 1), generator=g)
    return torch.cat([sem, torch.randint(0, cfg.acoustic_levels, (t, cfg.acoustic_dim), generator=g)], 1)


def test_swapped_tokens_are_near_neighbours_and_acoustic_levels_move_one_step():
    codec = _codec()
    corrupt = InputCorruption.from_codec(codec)
    cb = codec.quantizer.semantic_codebook.codebook.detach()
    dist = torch.cdist(cb, cb)
    k = corrupt.neighbours.shape[1]
    for s in (0, 7, 40):  # each list is the k nearest other entries
        others = dist[s].clone()
        others[s] = float("inf")
        assert set(corrupt.neighbours[s].tolist()) == set(others.topk(k, largest=False).indices.tolist())

    codes = _codes(4000, codec.cfg)
    out, keep = corrupt(codes, torch.Generator().manual_seed(1))
    swapped = out[:, 0] != codes[:, 0]
    assert abs(swapped.float().mean().item() - corrupt.swap) < 0.03
    for i in swapped.nonzero()[:50, 0].tolist():
        assert out[i, 0].item() in corrupt.neighbours[codes[i, 0]].tolist()
    moved = out[:, 1:] != codes[:, 1:]
    assert (out[:, 1:] - codes[:, 1:])[moved].abs().max() == 1
    assert out[:, 1:].min() >= 0 and out[:, 1:].max() < codec.cfg.acoustic_levels
    assert 0.5 * corrupt.jitter < moved.float().mean().item() <= corrupt.jitter + 0.02  # edges clamp some moves
    assert abs((1 - keep.mean().item()) - corrupt.blank) < 0.03


def test_batch_corrupts_inputs_only_and_no_corruption_means_true_frames():
    codec = _codec()
    torch.manual_seed(0)
    model = VoxtralTTS(tts_config("tiny", codec.cfg))
    codes = _codes(30, codec.cfg, seed=2)
    item = Item("c", "s", torch.arange(5), codes, torch.arange(30) // 6)
    ref = _codes(10, codec.cfg, seed=3)
    clean = Batch(model, [item], [ref])
    corrupt = InputCorruption.from_codec(codec)
    corrupt.text = 0.5
    noisy = Batch(model, [item], [ref], corrupt, torch.Generator().manual_seed(0))
    assert torch.equal(torch.cat(clean.sem_tgt), torch.cat(noisy.sem_tgt))
    assert torch.equal(torch.cat(clean.sem_tgt)[:-1], codes[:, 0] + N_SPECIAL)
    assert torch.equal(torch.cat(clean.ac_tgt), torch.cat(noisy.ac_tgt))
    p0 = clean.sem_pos[0][0].item()
    n_voice = len(ref) + 1
    voice = slice(2, 2 + n_voice)  # after [BOS] [BEGIN_AUDIO]
    text = slice(3 + n_voice, p0 - 1)  # after [NEXT_AUDIO_TEXT], before [REPEAT_AUDIO_TEXT]
    assert torch.equal(clean.x[0, voice], noisy.x[0, voice])  # the voice prompt stays clean
    assert not torch.equal(clean.x[0, text], noisy.x[0, text])  # the prompt's text does not
    assert not torch.equal(clean.x[0, p0 + 1:], noisy.x[0, p0 + 1:])  # nor do the fed-back frames


def test_self_feeding_shows_the_models_own_frame_predictions_and_keeps_the_targets_true():
    codec = _codec()
    torch.manual_seed(0)
    model = VoxtralTTS(tts_config("tiny", codec.cfg))
    items = [Item(f"c{i}", "s", torch.arange(5), _codes(30 + i, codec.cfg, seed=i), torch.arange(30 + i) // 7)
             for i in range(2)]
    refs = [_codes(10, codec.cfg, seed=5)] * 2
    own = own_predictions(model, items, refs, torch.Generator().manual_seed(0))
    assert [o.shape for o in own] == [it.codes.shape for it in items]
    size = codec.cfg.semantic_codebook_size
    assert all(0 <= int(o[:, 0].min()) and int(o[:, 0].max()) < size for o in own)
    assert any(not torch.equal(o[:, 0], it.codes[:, 0]) for o, it in zip(own, items))  # an untrained model errs
    # the semantic token is the greedy prediction at each frame's position
    batch = Batch(model, items, refs)
    with torch.no_grad():
        greedy = model.acoustic_transformer.semantic_logits(batch.gather(model.backbone(batch.x), "ac")).argmax(-1)
    frame_token = greedy >= N_SPECIAL
    assert torch.equal(torch.cat(own)[:, 0][frame_token], greedy[frame_token] - N_SPECIAL)
    acoustic_only = own_predictions(model, items, refs, torch.Generator().manual_seed(0), semantic=False)
    assert all(torch.equal(a[:, 0], it.codes[:, 0]) for a, it in zip(acoustic_only, items))
    assert all(torch.equal(a[:, 1:], o[:, 1:]) for a, o in zip(acoustic_only, own))  # the same flow draws

    model.train()
    none = self_fed(model, items, refs, 0.0, torch.Generator().manual_seed(1))
    assert all(torch.equal(f, it.codes) for f, it in zip(none, items)) and model.training
    half = torch.cat(self_fed(model, items, refs, 0.5, torch.Generator().manual_seed(1)))
    # the same generator draws the same flow noise first
    true = torch.cat([it.codes for it in items])
    pred = torch.cat(own_predictions(model, items, refs, torch.Generator().manual_seed(1)))
    from_own = (half == pred).all(1) & ~(half == true).all(1)
    assert ((half == true).all(1) | (half == pred).all(1)).all()  # whole frames, either true or the model's
    assert 0.25 < from_own.float().mean().item() < 0.75
    fed = Batch(model, items, refs, fed=self_fed(model, items, refs, 1.0, torch.Generator().manual_seed(1)))
    assert torch.equal(torch.cat(fed.sem_tgt), torch.cat(batch.sem_tgt))  # the targets stay the true frames
    assert torch.equal(torch.cat(fed.ac_tgt), torch.cat(batch.ac_tgt))
    assert not torch.equal(fed.x, batch.x)


def test_prompt_text_swaps_a_share_of_units_for_valid_ones():
    from engine.phonemes import SYMBOLS

    corrupt = InputCorruption.from_codec(_codec())
    units = torch.randint(0, len(SYMBOLS), (5000,), generator=torch.Generator().manual_seed(0))
    out = corrupt.prompt_text(units, torch.Generator().manual_seed(1))
    assert out.min() >= 0 and out.max() < len(SYMBOLS)
    changed = (out != units).float().mean().item()  # a swap may draw the same unit back
    assert corrupt.text * (1 - 2 / len(SYMBOLS)) - 0.03 < changed < corrupt.text + 0.01


def test_residual_dropout_acts_in_training_mode_only_and_only_where_it_was_set():
    codec = _codec()
    torch.manual_seed(0)
    model = VoxtralTTS(tts_config("tiny", codec.cfg))
    x = torch.randn(1, 12, model.cfg.backbone.dim)
    model.eval()
    before = model.backbone(x)
    set_residual_dropout(model.backbone, 0.5)
    assert all(b.residual_dropout == 0.5 for b in model.backbone.layers)
    assert all(b.residual_dropout == 0.0 for b in model.acoustic_transformer.modules() if hasattr(b, "residual_dropout"))
    assert torch.equal(model.backbone(x), before)  # inference is untouched
    model.train()
    torch.manual_seed(1)
    a = model.backbone(x)
    torch.manual_seed(2)
    b = model.backbone(x)
    assert not torch.allclose(a, b) and not torch.allclose(a, before)
    with pytest.raises(ValueError, match="dropout must be in"):
        set_residual_dropout(model.backbone, 1.0)


@pytest.mark.parametrize("stage, flag, value, message", [
    ("tts", "--dropout", "1.5", "must be in [0, 1), got 1.5"),
    ("tts", "--lr", "0", "must be in (0, 0.01], got 0"),
    ("tts", "--lr", "0.5", "must be in (0, 0.01], got 0.5"),
    ("tts", "--lr", "nan", "must be in (0, 0.01], got nan"),
    ("decoder", "--low-envelope-weight", "0", "must be in (0, 100], got 0"),
    ("codec", "--acoustic-drop", "1.5", "must be in [0, 1), got 1.5"),
    ("codec", "--acoustic-noise", "-0.1", "must be in [0, 1), got -0.1"),
    ("decoder", "--sample-steps", "0", "must be from 1 to 32, got 0"),
    ("decoder", "--sample-steps", "2.5", "must be a whole number, got 2.5"),
])
def test_a_training_number_out_of_range_is_refused_before_any_work(capsys, stage, flag, value, message):
    from engine.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["train", stage, "--data", "/nonexistent", flag, value])
    assert exit_.value.code == 2
    assert f"{flag}: {message}" in capsys.readouterr().err
