"""The held-out figures of the training stages: eval-split clips only, a fixed draw, the same figure every time."""

import torch

from engine.codec.voxtral_codec import VoxtralCodec
from engine.nn.tts_model import VoxtralTTS
from engine.train.corpus import load_clips, read_plan
from engine.train.sizes import CODEC_SIZES, tts_config
from engine.train.tts_train import HeldOutLoss


def test_held_out_loss_reads_only_unseen_sentences_of_training_voices_and_is_repeatable(corpus, tmp_path):
    torch.manual_seed(0)
    codec = VoxtralCodec(CODEC_SIZES["tiny"])
    cache, logs = tmp_path / "held.safetensors", []
    held = HeldOutLoss.from_corpus(corpus, codec, cache, "codec-a", log=logs.append)
    names = [it.clip for chosen, _ in held.batches for it in chosen]
    eval_clips = {c.name: c for c in load_clips(corpus, "eval")}
    train_texts = {c.meta["text"] for c in load_clips(corpus, "train")}
    held_out_voices = set(read_plan(corpus)["held_out_speakers"])
    assert names and set(names) <= set(eval_clips)
    assert not {eval_clips[n].meta["text"] for n in names} & train_texts  # sentences it never trains on
    assert not {eval_clips[n].meta["speaker"] for n in names} & held_out_voices
    assert any("encoding" in line for line in logs) and cache.is_file()

    model = VoxtralTTS(tts_config("tiny", codec.cfg)).eval()
    first = held(model)
    assert set(first) == {"loss", "semantic", "advance", "flow"} and all(v > 0 for v in first.values())
    assert held(model) == first  # fixed prompts and flow noise

    logs2 = []
    again = HeldOutLoss.from_corpus(corpus, codec, cache, "codec-a", log=logs2.append)
    assert [it.clip for chosen, _ in again.batches for it in chosen] == names  # the same draw, codes from the cache
    assert not any("encoding" in line for line in logs2)
    assert again(model) == first
    with torch.no_grad():  # a different model scores differently on the same clips
        model.acoustic_transformer.semantic_codebook_output.weight.mul_(2.0)
    assert held(model)["semantic"] != first["semantic"]


def test_the_codec_round_trip_of_held_out_clips_is_fixed_and_leaves_the_codec_as_it_was(corpus):
    from engine.train.codec_train import HeldOutRoundTrip

    torch.manual_seed(0)
    codec = VoxtralCodec(CODEC_SIZES["tiny"])
    before = {k: v.clone() for k, v in codec.state_dict().items()}
    held = HeldOutRoundTrip.from_corpus(corpus, crops=6)
    first = held(codec)
    assert set(first) == {"feat", "delta"} and all(v > 0 for v in first.values())
    assert HeldOutRoundTrip.from_corpus(corpus, crops=6)(codec) == first  # the same crops, no dither
    assert all(torch.equal(before[k], v) for k, v in codec.state_dict().items())  # no codebook update
    with torch.no_grad():  # a different decoder scores differently on the same crops
        next(p for n, p in codec.named_parameters() if n.startswith("decoder")).mul_(1.5)
    assert held(codec)["feat"] != first["feat"]
