"""Smoke runs of every training stage on a tiny corpus: a few steps, the loss goes down, runs resume."""

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from engine.train.codec_train import (ACOUSTIC_NOISE, CodecTrainer, load_trained_codec, phone_head_of, sample_batch,
                                      train_codec)
from engine.train.checkpoint import read_run_state
from engine.train.corpus import load_clips, read_plan
from engine.train.errors import TrainingError
from engine.train.tts_train import Batch, items_by_speaker, make_items, sample_items, train_tts, tts_losses


def test_corpus_has_every_speaker_aligned_features_and_a_manifest(corpus):
    manifest = json.loads((corpus / "manifest.json").read_text())
    assert manifest["format_version"] == 1
    speakers = {c["speaker"] for c in manifest["clips"]}
    assert {"flite-slt", "flite-kal16", "flite-slt~a", "piper-joe", "flite-awb"} <= speakers
    held_out = [c for c in manifest["clips"] if c["speaker"] == "flite-awb"]
    assert held_out and all(c["split"] == "eval" for c in held_out)
    for c in manifest["clips"]:
        assert c["voice_licence"] and c["text_licence"] and c["source"]
        assert abs(sum(c["durations_10ms"]) - c["seconds"] * 100) <= 1 and len(c["units"]) == len(c["durations_10ms"])
        audio, sr = sf.read(str(corpus / c["audio"]))
        assert sr == 16000 and abs(len(audio) / sr - c["seconds"]) < 0.01
    eval_sentences = {c["sentence"] for c in manifest["clips"] if c["split"] == "eval"}
    train_sentences = {c["sentence"] for c in manifest["clips"] if c["split"] == "train"}
    assert not eval_sentences & train_sentences
    clips = load_clips(corpus, "train")
    assert clips and all(c.features.shape[1] == 43 for c in clips)
    assert "flite-awb" not in {c.meta["speaker"] for c in clips} and read_plan(corpus)["held_out_speakers"] == ["flite-awb"]


def test_corpus_resumes_without_redoing_shards(corpus, smoke_plan):
    from engine.train.data import make_corpus

    before = {p.name: p.stat().st_mtime_ns for p in (corpus / "shards").iterdir()}
    manifest = json.loads((corpus / "manifest.json").read_text())
    lines = []
    make_corpus(corpus, smoke_plan, workers=1, log=lines.append)
    assert "0 shards to make" in lines[0]
    assert {p.name: p.stat().st_mtime_ns for p in (corpus / "shards").iterdir()} == before
    # the same corpus keeps its creation time (the model card names it) ...
    assert json.loads((corpus / "manifest.json").read_text()) == manifest
    # ... and a manifest that differs gets a new one
    (corpus / "manifest.json").write_text(json.dumps({**manifest, "created": "then", "clips": manifest["clips"][1:]}))
    make_corpus(corpus, smoke_plan, workers=1, log=lines.append)
    remade = json.loads((corpus / "manifest.json").read_text())
    assert remade["clips"] == manifest["clips"] and remade["created"] != "then"


def _fixed_codec_loss(trainer, clips):
    feats, units = sample_batch(clips, np.random.default_rng(123), batch=8)
    with torch.no_grad():
        return trainer.losses(feats, units, torch.Generator().manual_seed(0))


def test_codec_training_lowers_the_loss_and_resumes(corpus, tmp_path):
    clips = load_clips(corpus, "train")
    run = tmp_path / "codec"
    logs = []
    train_codec(corpus, run, 8, "tiny", threads=2, seed=0, log=logs.append, batch=8)
    assert (run / "state.json").is_file() and json.loads((run / "state.json").read_text())["step"] == 8
    train_codec(corpus, run, 60, "tiny", threads=2, seed=0, log=logs.append, batch=8)
    assert any("steps 8 -> 60" in line for line in logs)  # resumed, not restarted
    # the round trip of held-out clips is scored at the start of each sitting and at the end, and falls
    history = read_run_state(run)["extra"]["held_out_history"]
    assert [h["step"] for h in history] == [0, 8, 60] and history[-1]["feat"] < history[0]["feat"]
    assert any("ETA" in line and "loss" in line for line in logs)
    torch.manual_seed(0)
    fresh = CodecTrainer(load_trained_codec(run).cfg)
    trained = CodecTrainer(load_trained_codec(run).cfg)
    trained.codec = load_trained_codec(run)
    fresh.codec.feature_mean.copy_(trained.codec.feature_mean)
    fresh.codec.feature_std.copy_(trained.codec.feature_std)
    assert _fixed_codec_loss(trained, clips)["feat"] < _fixed_codec_loss(fresh, clips)["feat"]
    # a new run can start from a trained codec (fine-tuning); the init's size wins over --size
    tuned_run = tmp_path / "codec-tuned"
    train_codec(corpus, tuned_run, 2, "mini", threads=2, seed=0, log=logs.append, batch=8, init=run,
                acoustic_drop=0.0)
    assert any("steps 0 -> 2" in line for line in logs)
    shares = json.loads((tuned_run / "state.json").read_text())["extra"]
    # the fine-tune starts with the run's phone classifier, not a random one (the semantic tokens stay put)
    source, tuned_head = phone_head_of(run)["weight"], phone_head_of(tuned_run)["weight"]
    fresh_head = CodecTrainer(load_trained_codec(run).cfg).phone_head.weight
    assert (tuned_head - source).abs().max() < 0.01 < (fresh_head - source).abs().max()
    assert phone_head_of(tmp_path) is None  # not a run: a fresh classifier
    assert (shares["acoustic_drop"], shares["acoustic_noise"]) == (0.0, ACOUSTIC_NOISE)  # for the model card
    tuned = CodecTrainer(load_trained_codec(run).cfg)
    tuned.codec = load_trained_codec(tuned_run)
    assert tuned.codec.cfg == trained.codec.cfg
    assert _fixed_codec_loss(tuned, clips)["feat"] < _fixed_codec_loss(fresh, clips)["feat"]


def test_tts_training_lowers_the_loss_resumes_and_exports_a_model_that_speaks(corpus, tmp_path):
    from engine.engine import Engine, EngineConfig
    from engine.train.held_out_reading import SCRATCH_MODEL
    from engine.train.tts_train import CODES_FILE

    codec_run = tmp_path / "codec"
    train_codec(corpus, codec_run, 20, "tiny", threads=2, seed=0, log=lambda *_: None, batch=8)
    run, model_dir = tmp_path / "tts", tmp_path / "model"
    logs = []
    train_tts(corpus, codec_run, run, 5, "tiny", threads=2, seed=0, log=logs.append, batch=8, listen=2)
    train_tts(corpus, codec_run, run, 80, "tiny", threads=2, seed=0, export=model_dir, log=logs.append, batch=8,
              listen=2)
    assert any("steps 5 -> 80" in line for line in logs)
    # held-out sentences are scored at the start and at every checkpoint, and the curve spans both sittings
    held = read_run_state(run)["extra"]
    assert [h["step"] for h in held["held_out_history"]] == [0, 5, 80]
    assert round(held["held_out"]["semantic"], 4) == held["held_out_history"][-1]["semantic"] != held["held_out_history"][0]["semantic"]
    assert any(line.startswith("held-out at step 80: loss ") for line in logs)
    # ... and read aloud: the checkpoint's takes of the held-out sentences, heard by pocketsphinx
    assert all(0.0 <= h["wer"] and -1.0 <= h["similarity"] <= 1.0 for h in held["held_out_history"])
    assert any(" wer " in line and " similarity " in line for line in logs if line.startswith("held-out at step 80"))
    assert not (run / SCRATCH_MODEL).exists()  # the model the checks read through goes when the run ends

    from safetensors.torch import load_file, save_file

    from engine.model_files import VOICES_DIR, load_model
    from engine.train.export import refit_voice_matches

    # every voice of the exported model carries its feature correction, fitted on its longest clips
    exported = load_model(str(model_dir), torch.device("cpu"), torch.float32)
    assert set(exported.voice_matches) == set(exported.voices)
    # a model exported without them (before they existed) gets the same ones from its corpus
    voice_files = sorted((model_dir / VOICES_DIR).glob("*.safetensors"))
    for path in voice_files:
        save_file({"codes": load_file(str(path))["codes"]}, str(path), metadata={"format_version": "1"})
    assert not load_model(str(model_dir), torch.device("cpu"), torch.float32).voice_matches
    refit_voice_matches(model_dir, corpus, log=lambda *_: None)
    refitted = load_model(str(model_dir), torch.device("cpu"), torch.float32).voice_matches
    assert set(refitted) == set(exported.voice_matches)
    for name, match in refitted.items():
        np.testing.assert_allclose(match.shift, exported.voice_matches[name].shift, atol=1e-4)
    # a voice whose codes are not from its corpus clip (a regenerated corpus, another piper take) is fitted
    # on the corpus's clip all the same, and the log says so; a voice the corpus does not have is refused
    codes_of = load_file(str(voice_files[0]))["codes"]
    save_file({"codes": codes_of.flip(0).contiguous()}, str(voice_files[0]))
    said = []
    refit_voice_matches(model_dir, corpus, log=said.append)
    assert [line for line in said if "another take" in line] == [said[0]] and voice_files[0].stem in said[0]
    save_file({"codes": codes_of}, str(voice_files[0]))
    save_file({"codes": codes_of}, str(model_dir / VOICES_DIR / "nobody.safetensors"))
    with pytest.raises(TrainingError, match="no reference clip for .* 'nobody'"):
        refit_voice_matches(model_dir, corpus, log=lambda *_: None)
    (model_dir / VOICES_DIR / "nobody.safetensors").unlink()

    codes = load_file(str(run / CODES_FILE))
    items = make_items(load_clips(corpus, "train"), codes)
    chosen, refs = sample_items(items, items_by_speaker(items), np.random.default_rng(5), 8)
    trained = load_model(str(model_dir), torch.device("cpu"), torch.float32).tts
    torch.manual_seed(0)
    from engine.nn.tts_model import VoxtralTTS

    fresh = VoxtralTTS(trained.cfg)
    with torch.no_grad():
        after = tts_losses(trained, Batch(trained, chosen, refs), torch.Generator().manual_seed(0))
        before = tts_losses(fresh, Batch(fresh, chosen, refs), torch.Generator().manual_seed(0))
    assert after["loss"] < before["loss"] and after["advance"] < before["advance"]

    # a new run can start from the trained one's weights (after a codec retrain, say)
    tuned_run = tmp_path / "tts-tuned"
    seen = len(logs)
    train_tts(corpus, codec_run, tuned_run, 1, "tiny", threads=2, seed=0, log=logs.append, batch=8, init=run,
              listen=0)  # its reading is tested above
    assert any(f"starting from {run}" in line for line in logs)
    assert any("encoding" in line for line in logs[:seen])
    assert not any("encoding" in line for line in logs[seen:])  # same codec: the init run's codes are reused
    from engine.train.checkpoint import load_checkpoint

    tuned = VoxtralTTS(trained.cfg)
    load_checkpoint(tuned_run, {"tts": tuned}, None)
    with torch.no_grad():
        continued = tts_losses(tuned, Batch(tuned, chosen, refs), torch.Generator().manual_seed(0))
    assert continued["advance"] < before["advance"]

    # the decoder fine-tune on the TTS's own acoustic values: encoder frozen, decoder loss down
    from engine.train.codec_train import feature_losses
    from engine.train.decoder_train import CROP_FRAMES, train_decoder
    from engine.train.tts_train import own_predictions

    decoder_run, tuned_model = tmp_path / "decoder", tmp_path / "model-tuned"
    train_decoder(corpus, codec_run, run, decoder_run, 40, threads=2, seed=0, export=tuned_model, listen=2,
                  log=logs.append, batch=4, sample_steps=2)
    assert any("decoder:" in line and "steps 0 -> 40" in line for line in logs)
    assert read_run_state(decoder_run)["extra"]["sample_steps"] == 2  # the model card names it
    # each checkpoint scores the decoder's round trip of held-out clips and reads held-out sentences through it
    last = read_run_state(decoder_run)["extra"]["held_out"]
    assert set(last) == {"feat", "delta", "wer", "similarity"}
    assert any(line.startswith("held-out at step 40: feat ") and " wer " in line for line in logs)
    before_codec, after_codec = load_trained_codec(codec_run), load_trained_codec(decoder_run)
    before_sd, after_sd = before_codec.state_dict(), after_codec.state_dict()
    assert all(torch.equal(before_sd[k], after_sd[k]) for k in before_sd if k.startswith(("encoder", "input_proj", "quantizer")))
    assert any(not torch.equal(before_sd[k], after_sd[k]) for k in before_sd if k.startswith("decoder"))
    long_items = [it for it in chosen if len(it.codes) >= CROP_FRAMES][:4]
    long_refs = [r for it, r in zip(chosen, refs) if len(it.codes) >= CROP_FRAMES][:4]
    with torch.no_grad():
        pred = own_predictions(trained.eval(), long_items, long_refs, torch.Generator().manual_seed(0), semantic=False)
        # the values are drawn with the steps asked for: the same noise integrated in 8 steps lands elsewhere
        eight = own_predictions(trained, long_items, long_refs, torch.Generator().manual_seed(0), steps=8,
                                semantic=False)
        assert any(not torch.equal(a, b) for a, b in zip(pred, eight))
        latents = torch.stack([before_codec.quantizer.decode(p[:CROP_FRAMES].T[None].long())[0] for p in pred])
        clips_by_name = {c.name: c for c in load_clips(corpus, "train")}
        feats = torch.stack([torch.from_numpy(np.ascontiguousarray(clips_by_name[it.clip].features[:CROP_FRAMES * 16].T))
                             for it in long_items])
        assert feature_losses(after_codec, latents, feats)[0] < feature_losses(before_codec, latents, feats)[0]
    assert load_model(str(tuned_model), torch.device("cpu"), torch.float32).config.trained

    # --adversarial: a critic of the decoded features trains beside the decoder, is checkpointed, resumes
    from engine.train.feature_critic import FeatureCritic

    adv_run = tmp_path / "decoder-adversarial"
    train_decoder(corpus, codec_run, run, adv_run, 2, threads=2, seed=0, listen=0, log=logs.append, batch=4,
                  sample_steps=1, adversarial=0.1)
    critics = [FeatureCritic(), FeatureCritic()]
    load_checkpoint(adv_run, {"critic": critics[0]}, None)
    train_decoder(corpus, codec_run, run, adv_run, 4, threads=2, seed=0, listen=0, log=logs.append, batch=4,
                  sample_steps=1, adversarial=0.1)
    load_checkpoint(adv_run, {"critic": critics[1]}, None)
    first, second = (c.state_dict().values() for c in critics)
    assert any(not torch.equal(a, b) for a, b in zip(first, second))
    adv_extra = read_run_state(adv_run)["extra"]
    assert adv_extra["adversarial"] == 0.1 and {"critic", "adversarial"} <= set(adv_extra["losses"])
    with pytest.raises(TrainingError, match="started without --adversarial"):
        train_decoder(corpus, codec_run, run, decoder_run, 41, threads=2, seed=0, listen=0, log=logs.append,
                      batch=4, adversarial=0.1)

    engine = Engine(EngineConfig(model=str(model_dir), device="cpu", threads=2))
    info = engine.load()
    assert info.trained and "default" in info.voices and info.can_clone
    from engine.api import SamplingParams, SynthesisRequest

    done = engine.render(SynthesisRequest("Hello there.", params=SamplingParams(seed=3, max_seconds=4.0)))
    assert done.audio.size > 0 and done.sample_rate == 16000

    # an exported model folder starts new runs too (the shipped model, fine-tuned): the weights it
    # starts from are the model's, and the run records which model (by hash) for the model card
    from engine.model_files import WEIGHTS_NAME, file_hash

    shipped = load_model(str(model_dir), torch.device("cpu"), torch.float32)
    codec_from_model, tts_from_model = tmp_path / "codec-from-model", tmp_path / "tts-from-model"
    train_codec(corpus, codec_from_model, 1, "tiny", threads=2, seed=0, log=logs.append, batch=8, init=model_dir)
    train_tts(corpus, codec_run, tts_from_model, 1, "tiny", threads=2, seed=0, log=logs.append, batch=8,
              init=model_dir)
    for run_dir in (codec_from_model, tts_from_model):
        extra = read_run_state(run_dir)["extra"]
        assert extra["init"] == str(model_dir)
        assert extra["init_model"] == {"hash": file_hash(model_dir / WEIGHTS_NAME), "commands": []}  # it has no card
    started = VoxtralTTS(trained.cfg)
    load_checkpoint(tts_from_model, {"tts": started}, None)
    # one warm-up step (learning rate 1/300 of its peak) away from the model's weights, far from a fresh model's
    w = "backbone.layers.0.attention.wq.weight"
    model_w, started_w, fresh_w = shipped.tts.state_dict()[w], started.state_dict()[w], fresh.state_dict()[w]
    assert (started_w - model_w).abs().max() < 1e-3 < (fresh_w - model_w).abs().max()
    enc = "encoder_blocks.0.layers.0.attention.wq.weight"  # the codec in the model is codec_run's
    assert (load_trained_codec(codec_from_model).state_dict()[enc] - before_sd[enc]).abs().max() < 1e-3
    with pytest.raises(TrainingError, match="is not the 'mini' size"):
        train_tts(corpus, codec_run, tmp_path / "tts-wrong-size", 1, "mini", threads=2, seed=0, log=logs.append,
                  batch=8, init=model_dir)


def test_a_grown_decoder_starts_as_the_old_one_and_keeps_every_weight():
    from engine.train.decoder_train import grow_decoder
    from engine.codec.voxtral_codec import VoxtralCodec
    from engine.train.sizes import CODEC_SIZES

    torch.manual_seed(0)
    codec = VoxtralCodec(CODEC_SIZES["tiny"]).eval()
    have = codec.cfg.decoder_transformer_lengths
    more = tuple(n + (i >= len(have) - 2) for i, n in enumerate(have))  # one more layer at the two fastest rates
    grown = grow_decoder(codec, more).eval()
    assert grown.cfg.decoder_transformer_lengths == more
    old = codec.state_dict()
    assert all(torch.equal(old[k], v) for k, v in grown.state_dict().items() if k in old)
    assert len(grown.state_dict()) > len(old)
    latent = torch.randn(1, codec.cfg.latent_dim, 6)
    with torch.no_grad():
        a, b = codec.decode_latent(latent), grown.decode_latent(latent)
    # the new layers' branches start scaled by 0.01: close to the old decoder, not equal to it
    assert 0 < (a - b).abs().max() < 0.1 * a.abs().max()
    with pytest.raises(TrainingError, match="each at least the codec's own"):
        grow_decoder(codec, tuple(max(0, n - 1) for n in have[:-1]) + (have[-1],) if any(have) else (0,))
    with pytest.raises(TrainingError, match=f"needs {len(have)} numbers"):
        grow_decoder(codec, have + (1,))
