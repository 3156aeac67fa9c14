"""What the codec is trained to carry: every phone of a frame in its semantic token, and speech from
that token when the acoustic values are missing or noisy."""

import numpy as np
import pytest
import torch

from engine.phonemes import SYMBOLS
from engine.train.codec_train import ACOUSTIC_DROP, ACOUSTIC_NOISE, corrupt_acoustic, train_codec
from engine.train.corpus import Clip
from engine.train.errors import TrainingError


def _clip(units: list[str], durations_10ms: list[int]) -> Clip:
    steps = sum(durations_10ms) * 2
    return Clip({"clip": "c", "units": units, "durations_10ms": durations_10ms}, np.zeros((steps, 43), np.float32))


def test_frame_unit_points_name_every_phone_inside_a_frame():
    a, b, c = SYMBOLS[5], SYMBOLS[6], SYMBOLS[7]
    clip = _clip([a, b, c], [4, 4, 8])  # 40 + 40 + 80 ms: frame 0 holds a then b, frame 1 only c
    ids = {s: i for i, s in enumerate(SYMBOLS)}
    points = clip.frame_unit_points(4)  # instants at 10, 30, 50, 70 ms of each frame
    assert points.shape == (2, 4)
    assert points[0].tolist() == [ids[a], ids[a], ids[b], ids[b]]
    assert points[1].tolist() == [ids[c]] * 4
    # the centre point matches the one-per-frame targets the TTS aligns to
    assert clip.unit_ids()[clip.frame_units()].tolist() == [ids[b], ids[c]]


def test_corrupt_acoustic_drops_noises_and_keeps_the_rest_with_gradients():
    g = torch.Generator().manual_seed(0)
    a = (torch.rand(4000, 3, 5, generator=g) * 2 - 1).requires_grad_(True)
    out = corrupt_acoustic(a, generator=torch.Generator().manual_seed(1))
    zeroed = (out == 0).flatten(1).all(1)
    kept = (out == a).flatten(1).all(1)
    noised = ~zeroed & ~kept
    assert abs(zeroed.float().mean().item() - ACOUSTIC_DROP) < 0.03
    assert abs(noised.float().mean().item() - ACOUSTIC_NOISE) < 0.03
    out.sum().backward()
    assert (a.grad[kept] == 1).all() and (a.grad[zeroed] == 0).all()


def test_corrupt_acoustic_takes_its_shares_and_none_keeps_every_value():
    a = torch.rand(4000, 3, 5, generator=torch.Generator().manual_seed(0)) * 2 - 1
    out = corrupt_acoustic(a, 0.1, 0.05, torch.Generator().manual_seed(1))
    zeroed, kept = (out == 0).flatten(1).all(1), (out == a).flatten(1).all(1)
    assert abs(zeroed.float().mean().item() - 0.1) < 0.02
    assert abs((~zeroed & ~kept).float().mean().item() - 0.05) < 0.02
    assert torch.equal(corrupt_acoustic(a, 0.0, 0.0, torch.Generator().manual_seed(1)), a)


def test_shares_that_add_up_to_more_than_every_crop_are_refused(tmp_path):
    with pytest.raises(TrainingError, match="together at most 1"):
        train_codec(tmp_path, tmp_path / "run", 1, acoustic_drop=0.7, acoustic_noise=0.5)
    assert not (tmp_path / "run").exists()
