"""``timbre train decoder``: fine-tune the codec's decoder on the TTS's own acoustic values.

The flow head's samples lie near the codec's acoustic values but not on them, the way a TTS's
predicted mels differ from real ones; a vocoder is fine-tuned on predicted mels for the same reason.
Teacher forcing gives the TTS's samples frame for frame against a training clip, so the decoder
learns to turn them into that clip's true WORLD features. The encoder and the quantiser stay frozen:
the codes, the trained TTS and every voice made from the codec stay valid. A share of the crops
keeps the true codes, so decoding a clip's own codes (cloning, the codec round trip) stays good.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from engine.codec.voxtral_codec import VoxtralCodec
from engine.device import describe
from engine.model_files import file_hash
from engine.nn.tts_model import VoxtralTTS
from engine.train.checkpoint import STATE_NAME, load_checkpoint, read_run_state
from engine.train.codec_train import (CODEC_FILE, HeldOutRoundTrip, export_codec, feature_weights, l1_losses,
                                      load_trained_codec, standardised_features)
from engine.train.corpus import STEPS_PER_FRAME, load_clips
from engine.train.errors import TrainingError
from engine.train.feature_critic import JUDGED, FeatureCritic, critic_loss, decoder_adversarial_loss
from engine.train.loop import cosine_lr, held_out_checks, held_out_so_far, run_steps, training_device
from engine.train.sizes import SAMPLING, tts_config
from engine.train.tts_train import (CODES_FILE, encode_corpus, items_by_speaker, make_items, own_predictions,
                                   sample_items)

CROP_FRAMES = 25
BATCH = 12
PREDICTED_SHARE = 0.7  # crops decoded from the TTS's samples; the rest from the clip's own codes


def load_tts_run(run: Path, codec_cfg) -> VoxtralTTS:
    """The last checkpoint of a TTS run folder, in eval mode."""
    model = VoxtralTTS(tts_config(read_run_state(run)["extra"]["size"], codec_cfg))
    load_checkpoint(run, {"tts": model}, None)
    return model.eval()


def grow_decoder(codec: VoxtralCodec, layers: tuple[int, ...]) -> VoxtralCodec:
    """The codec with ``layers`` transformer layers at each of its decoder's rates (12.5 Hz first), each
    at least as many as it has. Every trained weight is kept; the new layers' residual branches start
    scaled by the layer-scale init (0.01), so the grown decoder starts as the old one, nearly."""
    have = tuple(codec.cfg.decoder_transformer_lengths)
    if len(layers) != len(have) or any(n < h for n, h in zip(layers, have)):
        raise TrainingError(f"--decoder-layers needs {len(have)} numbers, each at least the codec's own "
                            f"{','.join(map(str, have))}; got {','.join(map(str, layers))}")
    grown = VoxtralCodec(replace(codec.cfg, decoder_transformer_lengths=tuple(layers)))
    missing, unexpected = grown.load_state_dict(codec.state_dict(), strict=False)
    if unexpected or any(not k.startswith("decoder_blocks.") for k in missing):
        raise AssertionError(f"growing the decoder moved weights: missing {missing}, unexpected {unexpected}")
    return grown.train(codec.training)


def adversarial_losses(critic: FeatureCritic, critic_opt: torch.optim.Optimizer, real: torch.Tensor,
                       fake: torch.Tensor) -> dict[str, torch.Tensor]:
    """Update the critic on one batch of standardised features [B, F, S] (true and decoded), then score the
    decoded ones with the critic frozen: {"critic": its loss before the update, "adversarial": the decoder's}."""
    critic_opt.zero_grad(set_to_none=True)
    c_loss = critic_loss(critic, real, fake)
    c_loss.backward()
    torch.nn.utils.clip_grad_norm_(critic.parameters(), 1.0)
    critic_opt.step()
    critic_opt.zero_grad(set_to_none=True)  # run_steps clips the norm of every module's gradients
    critic.requires_grad_(False)
    try:
        adv = decoder_adversarial_loss(critic, real, fake)
    finally:
        critic.requires_grad_(True)
    return {"critic": c_loss.detach(), "adversarial": adv}


def lr_at(step: int, total: int) -> float:
    return cosine_lr(step, total, peak=4e-4, warmup=100, floor=0.1)


def train_decoder(data: Path, codec_dir: Path, tts_dir: Path, out: Path, steps: int, threads: int = 2, seed: int = 0,
                  export: Path | None = None, log=print, batch: int = BATCH, low_envelope: float = 1.0,
                  decoder_layers: tuple[int, ...] | None = None, sample_steps: int | None = None,
                  listen: int | None = None, device: str = "auto", adversarial: float = 0.0) -> dict[str, float]:
    """Fine-tune (or resume) the decoder of ``codec_dir`` for the TTS run ``tts_dir``; ``out`` becomes a
    codec run folder. ``export``: also write the model folder (this TTS with the new decoder).
    ``low_envelope`` weights the loss on the envelope's first dimensions (the words) against the rest.
    ``decoder_layers``: first grow the decoder to this many transformer layers per rate (``grow_decoder``).
    ``sample_steps``: the flow steps the TTS's values are drawn with (None: the exported model's default).
    ``listen``: held-out sentences each checkpoint reads aloud through the decoder (as ``train_tts``).
    ``adversarial``: weight of a feature critic's loss (``feature_critic``; 0: none). The critic is
    checkpointed with the run; its optimiser's moments start afresh on resuming.
    ``device``: see ``training_device``."""
    from engine.train.held_out_reading import HeldOutReading

    sample_steps = SAMPLING.steps if sample_steps is None else sample_steps
    torch.set_num_threads(threads)
    dev = training_device(device)
    codec = load_trained_codec(codec_dir)
    if decoder_layers is not None:
        codec = grow_decoder(codec, decoder_layers)
    codec.to(dev)
    tts = load_tts_run(tts_dir, codec.cfg).to(dev)
    clips = load_clips(data, "train")
    codes = encode_corpus(codec, clips, tts_dir / CODES_FILE, file_hash(codec_dir / CODEC_FILE), log)
    items = [it for it in make_items(clips, codes) if len(it.codes) >= CROP_FRAMES]
    if not items:
        raise TrainingError(f"no training clips of {CROP_FRAMES} frames or more in {data}")
    features = {c.name: c.features for c in clips}
    by_speaker = items_by_speaker(items)
    frozen = ("encoder_blocks", "input_proj", "quantizer")
    for name, p in codec.named_parameters():
        p.requires_grad_(not name.startswith(frozen))
    params = [p for p in codec.parameters() if p.requires_grad]
    torch.manual_seed(seed)
    opt = torch.optim.AdamW(params, lr=4e-4, weight_decay=0.0)
    if (out / STATE_NAME).is_file() and (read_run_state(out)["extra"].get("adversarial", 0.0) > 0) != (adversarial > 0):
        raise TrainingError(f"{out} was started {'with' if adversarial == 0 else 'without'} --adversarial; resume it "
                            f"the same way, or start a new --out")
    modules: dict[str, torch.nn.Module] = {"codec": codec}
    if adversarial > 0:
        modules["critic"] = FeatureCritic().to(dev)
        critic_opt = torch.optim.AdamW(modules["critic"].parameters(), lr=2e-4, betas=(0.5, 0.9), weight_decay=0.0)
    state = load_checkpoint(out, modules, opt)
    start = state["step"] if state else 0
    log(f"decoder: {sum(p.numel() for p in params) / 1e6:.2f}M of {sum(p.numel() for p in codec.parameters()) / 1e6:.2f}M "
        f"codec parameters, {len(items)} clips; steps {start} -> {steps} on {describe(dev, torch.float32)}")

    weights = feature_weights(low_envelope)

    def losses_at(rng: np.random.Generator, gen: torch.Generator) -> dict[str, torch.Tensor]:
        chosen, refs = sample_items(items, by_speaker, rng, batch)
        starts = [int(rng.integers(0, len(it.codes) - CROP_FRAMES + 1)) for it in chosen]
        # the TTS samples only the clips whose crop decodes its values (the costly pass of a step)
        picked = [i for i in range(len(chosen)) if rng.random() < PREDICTED_SHARE]
        predicted = dict(zip(picked, own_predictions(tts, [chosen[i] for i in picked], [refs[i] for i in picked],
                                                     gen, sample_steps, semantic=False))) if picked else {}
        latents, targets = [], []
        for i, (it, a) in enumerate(zip(chosen, starts)):
            crop = predicted.get(i, it.codes)[a:a + CROP_FRAMES]
            latents.append(codec.quantizer.decode(crop.T[None].long().to(dev))[0])
            f = features[it.clip][a * STEPS_PER_FRAME:(a + CROP_FRAMES) * STEPS_PER_FRAME]
            targets.append(torch.from_numpy(np.ascontiguousarray(f.T)))
        pred, target = standardised_features(codec, torch.stack(latents), torch.stack(targets).to(dev))
        feat, delta = l1_losses(pred, target, weights)
        losses = {"loss": feat + 0.5 * delta, "feat": feat, "delta": delta}
        if adversarial > 0:
            losses.update(adversarial_losses(modules["critic"], critic_opt, target[:, JUDGED], pred[:, JUDGED]))
            losses["loss"] = losses["loss"] + adversarial * losses["adversarial"]
        return losses

    extra = {"data": str(data), "codec": str(codec_dir), "tts": str(tts_dir), "low_envelope": low_envelope,
             "decoder_layers": list(codec.cfg.decoder_transformer_lengths), "sample_steps": sample_steps,
             "batch": batch, "device": dev.type, "adversarial": adversarial,
             **held_out_so_far(state)}
    round_trip = HeldOutRoundTrip.from_corpus(data)
    # a finished run only exports: the reading (resemblyzer) is not built
    reading = HeldOutReading.from_corpus(data, out, listen) if start < steps else None
    # the decoder's round trip of held-out clips, and the TTS read through it
    validate = held_out_checks(None if round_trip is None else lambda: round_trip(codec),
                               None if reading is None else lambda: reading(tts, codec, codes))
    avg = run_steps(out, start, steps, modules, opt, losses_at, lr_at, seed, extra, log, validate=validate)
    if reading is not None:
        reading.discard()
    codec.eval()
    export_codec(out, codec)
    log(f"decoder: exported {out / CODEC_FILE}")
    if export is not None:
        from engine.train.export import export_model

        export_model(export, tts, codec, data, codes, log=log)
    return avg
