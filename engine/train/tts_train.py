"""``timbre train tts``: the Voxtral-layout TTS on the trained codec's frames.

A training sequence is the inference prompt followed by the clip's frames (teacher forcing):
``[BOS][BEGIN_AUDIO][AUDIO]*(N+1)[NEXT_AUDIO_TEXT] units [REPEAT_AUDIO_TEXT][BEGIN_AUDIO] f0 .. f(T-1)``,
the [AUDIO] rows being another clip of the same speaker (N frames plus the END row). The hidden
state before frame t predicts its semantic token (softmax), its acoustic values (flow matching,
the condition dropped 10% of the time for guidance) and how far the text pointer advances; the
hidden after the last frame predicts END. Aligned text: the unit under the pointer (from forced
alignment) is added to each audio position.

Exposure bias: the model memorises the true frames of its training sentences, and when running on its
own it is fed its own near-miss tokens, which derail what follows. So the *input* frames (never the
targets or the voice prompt) are corrupted the way its own predictions are wrong (``InputCorruption``):
a share of semantic tokens is swapped for one of the codec's nearest codebook entries, acoustic levels
are jittered, and a few frames are blanked so the text stream has to carry the words. A share of the
prompt's text units is swapped too (the aligned stream stays true): otherwise the model recognises a
training sentence from its prompt and recalls its frames instead of reading the unit under the pointer.
With ``self_feed`` a share of the input frames first becomes the model's own teacher-forced prediction of
that frame (``self_fed``: parallel scheduled sampling), so it also sees its real near misses.
"""

from __future__ import annotations

import shutil

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from safetensors.torch import save_file

from engine.atomic import write_atomic
from engine.codec.voxtral_codec import VoxtralCodec
from engine.device import describe
from engine.model_files import file_hash
from engine.nn.fsq import fsq_decode, fsq_encode
from engine.nn.layers import TransformerBlock
from engine.nn.tts_model import END, N_SPECIAL, VoxtralTTS
from engine.phonemes import SYMBOLS
from engine.train.checkpoint import load_checkpoint
from engine.train.codec_train import CODEC_FILE, load_trained_codec
from engine.train.corpus import STEPS_PER_FRAME, Clip, load_clips
from engine.train.errors import TrainingError
from engine.train.loop import (adopt_at_step_zero, check_zero_steps, cosine_lr, held_out_checks, run_extra, run_steps,
                              training_device)
from engine.train.sizes import SAMPLING, tts_config
from engine.train.tts_init import start_tts_from

REF_FRAMES = 50  # 4 s of reference voice
MAX_FRAMES = 100  # longer clips are left out of TTS training
BATCH = 16
FLOW_REPEATS = 4
COND_DROP = 0.1
CODES_FILE = "codes.safetensors"
HELD_OUT_CODES_FILE = "held_out_codes.safetensors"
HELD_OUT_CLIPS = 96  # eval-split clips the held-out loss averages over (a few seconds per checkpoint)
SEMANTIC_SWAP = 0.3  # share of input frames whose semantic token becomes a near neighbour
NEIGHBOURS = 8  # nearest codebook entries (codec semantic space) a swapped token is drawn from
ACOUSTIC_JITTER = 0.2  # share of input acoustic values moved one FSQ level
FRAME_BLANK = 0.1  # share of input frames whose embedding is zeroed
TEXT_SWAP = 0.15  # share of the prompt's text units swapped for a random unit


@dataclass
class InputCorruption:
    """Corrupts teacher-forced input frames like the model's own predictions (see module doc)."""

    neighbours: torch.Tensor  # (S, NEIGHBOURS) raw semantic ids, nearest first (self excluded)
    levels: int
    swap: float  # shares, as above; from_codec scales the defaults
    jitter: float
    blank: float
    text: float

    @classmethod
    def from_codec(cls, codec: VoxtralCodec, scale: float = 1.0) -> "InputCorruption":
        """The codec's nearest-neighbour table; ``scale`` multiplies every default share."""
        cb = codec.quantizer.semantic_codebook.codebook.detach().float()  # (S, semantic_dim)
        dist = torch.cdist(cb, cb).fill_diagonal_(float("inf"))
        k = min(NEIGHBOURS, len(cb) - 1)
        return cls(dist.topk(k, largest=False).indices.cpu(), codec.cfg.acoustic_levels, SEMANTIC_SWAP * scale,
                   ACOUSTIC_JITTER * scale, FRAME_BLANK * scale, TEXT_SWAP * scale)

    def prompt_text(self, units: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """SYMBOLS indices [L] -> the same with a share swapped for random units (prompt only)."""
        swap = torch.rand(units.shape, generator=generator) < self.text
        return torch.where(swap, torch.randint(0, len(SYMBOLS), units.shape, generator=generator), units)

    def __call__(self, codes: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Raw codes [T, 1 + K] -> (corrupted raw codes [T, 1 + K], frame keep mask [T, 1] float)."""
        t = codes.shape[0]
        out = codes.clone()
        swap = torch.rand(t, generator=generator) < self.swap
        pick = torch.randint(0, self.neighbours.shape[1], (t,), generator=generator)
        out[swap, 0] = self.neighbours[codes[swap, 0].long(), pick[swap]].to(out.dtype)
        ac = out[:, 1:]
        move = torch.rand(ac.shape, generator=generator) < self.jitter
        step = torch.randint(0, 2, ac.shape, generator=generator) * 2 - 1
        out[:, 1:] = torch.where(move, (ac + step).clamp(0, self.levels - 1), ac)
        keep = (torch.rand(t, 1, generator=generator) >= self.blank).float()
        return out, keep


@dataclass
class Item:
    clip: str
    speaker: str
    units: torch.Tensor  # (L,) SYMBOLS indices
    codes: torch.Tensor  # (T, 1 + K) raw codes
    pointer: torch.Tensor  # (T,) unit index at each frame


@torch.no_grad()
def encode_corpus(codec: VoxtralCodec, clips: list[Clip], cache: Path, codec_hash: str, log=print
                  ) -> dict[str, torch.Tensor]:
    """Raw codes [T, 1 + K] of every clip, cached in ``cache`` for this codec."""
    codes: dict[str, torch.Tensor] = {}
    if cache.is_file():
        from safetensors import safe_open

        with safe_open(str(cache), "pt") as f:
            if f.metadata().get("codec_hash") == codec_hash:
                codes = {k: f.get_tensor(k) for k in f.keys()}
    todo = [c for c in clips if c.name not in codes]
    if todo:
        log(f"tts: encoding {len(todo)} clips with the codec")
        dev = codec.feature_mean.device
        for c in todo:
            n = c.frames * STEPS_PER_FRAME
            x = torch.from_numpy(c.features[:n].T)[None].to(dev)
            codes[c.name] = codec.quantizer.encode(codec.encode_steps(x))[0].T.cpu().contiguous()
        write_atomic(cache, lambda p: save_file(codes, str(p), metadata={"codec_hash": codec_hash,
                                                                           "format_version": "1"}))
    return codes


def make_items(clips: list[Clip], codes: dict[str, torch.Tensor]) -> list[Item]:
    items = []
    for c in clips:
        if c.frames < 2 or c.frames > MAX_FRAMES or c.name not in codes:
            continue
        items.append(Item(c.name, c.meta["speaker"], torch.from_numpy(c.unit_ids()), codes[c.name][: c.frames],
                          torch.from_numpy(c.frame_units())))
    return items


class Batch:
    """Padded inputs and targets of a batch (see module doc for the layout)."""

    def __init__(self, model: VoxtralTTS, items: list[Item], refs: list[torch.Tensor],
                 corrupt: InputCorruption | None = None, generator: torch.Generator | None = None,
                 fed: list[torch.Tensor] | None = None) -> None:
        """``fed``: per item the raw codes [T, 1 + K] its input frames show (default: its own true codes;
        the targets are always the true ones); ``corrupt`` then corrupts those. Codes, units and targets stay
        on the CPU (where the corruption draws); only what the model embeds goes to its device."""
        cfg = model.cfg
        tok = cfg.tokens
        dev = model.tok_embeddings.weight.device
        rows, self.sem_pos, self.sem_tgt, self.ac_pos, self.ac_tgt, self.adv_pos, self.adv_tgt = [], [], [], [], [], [], []
        for b, (it, ref) in enumerate(zip(items, refs)):
            text = (it.units + tok.text_offset).long()
            voice = model.voice_rows(ref.to(dev))  # (N + 1, D)
            prompt_text = text if corrupt is None else corrupt.prompt_text(it.units, generator).long() + tok.text_offset
            ids = model.prompt_ids(prompt_text.tolist(), voice.shape[0])
            x = model.embed_prompt(ids, voice)[0]  # (P, D)
            shown = it.codes if fed is None else fed[b]
            if corrupt is None:
                frames = model.audio_embeddings(shown.long().to(dev) + N_SPECIAL)  # (T, D)
            else:
                inputs, keep = corrupt(shown, generator)
                frames = model.audio_embeddings(inputs.long().to(dev) + N_SPECIAL) * keep.to(dev)
            x = torch.cat([x, frames])
            p0, t = len(ids) - 1, len(it.codes)
            pointer = torch.cat([it.pointer, torch.tensor([len(text)])])  # (T + 1,): past the end after the last frame
            stream = model.text_stream(text.to(dev), pointer.to(dev))  # (T + 1, D)
            x = torch.cat([x[:p0], x[p0:] + stream])
            rows.append(x)
            pos = torch.arange(p0, p0 + t + 1)
            self.sem_pos.append(pos)
            self.sem_tgt.append(torch.cat([it.codes[:, 0] + N_SPECIAL, torch.tensor([END])]))
            self.ac_pos.append(pos[:-1])
            self.ac_tgt.append(it.codes[:, 1:])
            adv = torch.cat([pointer[1:-1] - pointer[:-2], (len(text) - pointer[-2:-1])]).clamp(0, cfg.max_advance)
            self.adv_pos.append(pos[:-1])
            self.adv_tgt.append(adv)
        length = max(len(r) for r in rows)
        self.x = torch.stack([F.pad(r, (0, 0, 0, length - len(r))) for r in rows])  # (B, L, D)

    def gather(self, h: torch.Tensor, which: str) -> torch.Tensor:
        pos = getattr(self, f"{which}_pos")
        return torch.cat([h[b, p.to(h.device)] for b, p in enumerate(pos)])

    def targets(self, which: str, device: torch.device) -> torch.Tensor:
        """The ``sem`` [N], ``ac`` [N, K] or ``adv`` [N] targets of the whole batch, on ``device``."""
        return torch.cat(getattr(self, f"{which}_tgt")).to(device)


@torch.no_grad()
def own_predictions(model: VoxtralTTS, items: list[Item], refs: list[torch.Tensor], generator: torch.Generator,
                    steps: int = SAMPLING.steps, semantic: bool = True) -> list[torch.Tensor]:
    """Teacher-forced one-frame predictions: for each item its codes [T, 1 + K] with each frame as the model
    draws it after the true frames before it: acoustic levels from the flow head (``steps`` flow steps, the
    default guidance and temperature) and, if ``semantic``, the greedy semantic token (where that is not a
    frame's token, e.g. END, the true one stays)."""
    batch = Batch(model, items, refs)
    h = model.backbone(batch.x)
    hidden = batch.gather(h, "ac")  # (sum T, D)
    noise = torch.randn(hidden.shape[0], model.cfg.acoustic_dim, generator=generator).to(hidden)
    x, _ = model.acoustic_transformer.sample(hidden, noise * SAMPLING.temperature, steps, SAMPLING.guidance)
    levels = fsq_encode(x.clamp(-1, 1), model.cfg.acoustic_levels).cpu()
    tokens = model.acoustic_transformer.semantic_logits(hidden).argmax(-1).cpu() - N_SPECIAL if semantic else None
    out, start = [], 0
    for it in items:
        codes = it.codes.clone()
        n = len(codes)
        codes[:, 1:] = levels[start:start + n]
        if tokens is not None:
            t = tokens[start:start + n]
            codes[:, 0] = torch.where(t >= 0, t, codes[:, 0].long()).to(codes.dtype)
        out.append(codes)
        start += n
    return out


def self_fed(model: VoxtralTTS, items: list[Item], refs: list[torch.Tensor], share: float,
             generator: torch.Generator) -> list[torch.Tensor]:
    """Input codes with a ``share`` of each item's frames replaced by the model's own prediction of them
    (parallel scheduled sampling: the model learns to go on from its own near misses, not only from
    ``InputCorruption``'s imitation of them)."""
    was_training = model.training
    own = own_predictions(model.eval(), items, refs, generator)
    model.train(was_training)
    return [torch.where(torch.rand(len(o), 1, generator=generator) < share, o, it.codes) for it, o in zip(items, own)]


def tts_losses(model: VoxtralTTS, batch: Batch, generator: torch.Generator) -> dict[str, torch.Tensor]:
    h = model.backbone(batch.x)  # (B, L, D)
    head = model.acoustic_transformer
    sem_logits = head.semantic_logits(batch.gather(h, "sem"))
    semantic = F.cross_entropy(sem_logits, batch.targets("sem", h.device))
    adv_logits = model.text_stream.advance_head(batch.gather(h, "adv"))
    adv_tgt = batch.targets("adv", h.device)
    advance = F.cross_entropy(adv_logits, adv_tgt)
    hc = batch.gather(h, "ac")  # (N, D)
    x1 = fsq_decode(batch.targets("ac", h.device), model.cfg.acoustic_levels)  # (N, K) in [-1, 1]
    cond = head.llm_projection(hc)
    # random draws on the CPU generator (the same on every device), then moved to the model's device
    keep = (torch.rand(cond.shape[0], 1, generator=generator) >= COND_DROP).to(cond)
    cond = (cond * keep).repeat(FLOW_REPEATS, 1)
    x1 = x1.repeat(FLOW_REPEATS, 1)
    x0 = torch.randn(x1.shape, generator=generator).to(x1)
    t = torch.rand(x1.shape[0], generator=generator).to(x1)
    xt = (1 - t[:, None]) * x0 + t[:, None] * x1
    flow = F.mse_loss(head.velocity(xt, t, cond), x1 - x0)
    total = semantic + 0.5 * advance + flow
    acc = (adv_logits.argmax(-1) == adv_tgt).float().mean()
    return {"loss": total, "semantic": semantic, "advance": advance, "flow": flow, "adv_acc": acc}


def items_by_speaker(items: list[Item]) -> dict[str, list[int]]:
    """Indices into ``items`` of each speaker's clips (where sample_items draws reference voices)."""
    by_speaker: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        by_speaker.setdefault(it.speaker, []).append(i)
    return by_speaker


def reference_crop(items: list[Item], by_speaker: dict[str, list[int]], i: int, rng: np.random.Generator
                   ) -> torch.Tensor:
    """Raw codes [<= REF_FRAMES, 1 + K]: a crop of another clip of ``items[i]``'s speaker (its voice prompt)."""
    pool = by_speaker[items[i].speaker]
    j = pool[int(rng.integers(0, len(pool)))]
    if items[j].clip == items[i].clip and len(pool) > 1:
        j = pool[(pool.index(j) + 1) % len(pool)]
    ref = items[j].codes
    n = min(REF_FRAMES, len(ref))
    start = int(rng.integers(0, len(ref) - n + 1))
    return ref[start:start + n]


def sample_items(items: list[Item], by_speaker: dict[str, list[int]], rng: np.random.Generator, batch: int
                 ) -> tuple[list[Item], list[torch.Tensor]]:
    """A batch of items and, for each, a reference crop from another clip of its speaker."""
    chosen = [int(i) for i in rng.integers(0, len(items), batch)]
    refs = [reference_crop(items, by_speaker, i, rng) for i in chosen]  # one draw per item, in order
    return [items[i] for i in chosen], refs


class HeldOutLoss:
    """The TTS's losses on clips of sentences it never trains on (the corpus's eval split, training voices
    only), fed true frames: where the training loss keeps falling and this one rises, the model is
    memorising its training sentences (runs like that read held-out text worse). Fixed clips, voice
    prompts and flow noise, so the figures compare across checkpoints, and across runs on one codec."""

    def __init__(self, items: list[Item], batch: int = BATCH) -> None:
        by_speaker = items_by_speaker(items)
        rng = np.random.default_rng(0)
        refs = [reference_crop(items, by_speaker, i, rng) for i in range(len(items))]
        self.batches = [(items[i:i + batch], refs[i:i + batch]) for i in range(0, len(items), batch)]

    @classmethod
    def from_corpus(cls, data: Path, codec: VoxtralCodec, cache: Path, codec_hash: str, log=print,
                    n: int = HELD_OUT_CLIPS) -> "HeldOutLoss | None":
        """Up to ``n`` eval-split clips (a fixed draw), encoded once into ``cache``; None if the corpus has none."""
        clips = [c for c in load_clips(data, "eval") if 2 <= c.frames <= MAX_FRAMES]
        if not clips:
            return None
        rng = np.random.default_rng(0)
        clips = [clips[i] for i in sorted(rng.choice(len(clips), min(n, len(clips)), replace=False))]
        return cls(make_items(clips, encode_corpus(codec, clips, cache, codec_hash, log)))

    @torch.no_grad()
    def __call__(self, model: VoxtralTTS) -> dict[str, float]:
        """Mean losses over the held-out clips (call with the model in eval mode: no dropout)."""
        gen = torch.Generator().manual_seed(0)
        totals: dict[str, float] = {}
        n = 0
        for chosen, refs in self.batches:
            for k, v in tts_losses(model, Batch(model, chosen, refs), gen).items():
                totals[k] = totals.get(k, 0.0) + float(v) * len(chosen)
            n += len(chosen)
        return {k: v / n for k, v in totals.items() if k != "adv_acc"}


def set_residual_dropout(module: nn.Module, p: float) -> None:
    """Residual dropout ``p`` in every transformer block under ``module`` (active in training mode only)."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {p}")
    for block in module.modules():
        if isinstance(block, TransformerBlock):
            block.residual_dropout = p


PEAK_LR = 1e-3


def lr_schedule(peak: float = PEAK_LR):
    """Warm up over 300 steps to ``peak``, then cosine down to 5 % of it."""
    return lambda step, total: cosine_lr(step, total, peak=peak, warmup=300, floor=0.05)


def train_tts(data: Path, codec_dir: Path, out: Path, steps: int, size: str = "mini", threads: int = 2,
              seed: int = 0, export: Path | None = None, log=print, batch: int = BATCH, init: Path | None = None,
              input_noise: float = 1.0, dropout: float = 0.0, lr: float = PEAK_LR, listen: int | None = None,
              self_feed: float = 0.0, device: str = "auto") -> dict[str, float]:
    """Train (or resume) a TTS run in ``out``. ``init``: a TTS run folder whose last checkpoint starts a
    new run (e.g. after the codec was retrained: the text alignment carries over, the codes are relearnt),
    or an exported model folder whose TTS does (e.g. the shipped model, fine-tuned on new data).
    ``input_noise`` scales the input-frame corruption shares (0: true frames only); ``dropout`` is the
    backbone's residual dropout during training (against memorising the training sentences); ``lr`` the
    peak learning rate (lower it to continue a run with ``init`` on more data without undoing it).
    ``listen``: held-out sentences the checkpoints read aloud (``HeldOutReading``; None: its default, 0: none).
    ``self_feed``: the share of input frames replaced by the model's own predictions (``self_fed``; 0: none).
    ``device``: see ``training_device``."""
    from engine.train.held_out_reading import HeldOutReading

    check_zero_steps(steps, init)
    torch.set_num_threads(threads)
    dev = training_device(device)
    codec = load_trained_codec(codec_dir).to(dev)
    out.mkdir(parents=True, exist_ok=True)
    codec_hash = file_hash(codec_dir / CODEC_FILE)
    for name in (CODES_FILE, HELD_OUT_CODES_FILE):
        if init is not None and (init / name).is_file() and not (out / name).exists():
            # the init run's encoded corpus (minutes per 10k clips); encode_corpus ignores it if its codec differs
            write_atomic(out / name, lambda p, name=name: shutil.copyfile(init / name, p))

    def read_corpus() -> tuple[dict[str, torch.Tensor], list[Item], dict[str, list[int]]]:
        clips = load_clips(data, "train")
        codes = encode_corpus(codec, clips, out / CODES_FILE, codec_hash, log)
        items = make_items(clips, codes)
        if not items:
            raise TrainingError(f"no usable training clips in {data}")
        return codes, items, items_by_speaker(items)

    codes, items, by_speaker = read_corpus()
    torch.manual_seed(seed)
    model = VoxtralTTS(tts_config(size, codec.cfg))
    set_residual_dropout(model.backbone, dropout)
    model.to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98), weight_decay=0.01)
    state = load_checkpoint(out, {"tts": model}, opt)
    if state is None and init is not None:
        start_tts_from(model, init, size)
        log(f"tts: starting from {init}")
    start = state["step"] if state else 0
    log(f"tts {size}: {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters, {len(items)} clips, "
        f"{len(by_speaker)} speakers; steps {start} -> {steps} on {describe(dev, torch.float32)}")
    corpus = {"codes": codes, "items": items, "by_speaker": by_speaker}

    def rescan() -> None:
        corpus["codes"], corpus["items"], corpus["by_speaker"] = read_corpus()

    corrupt = None
    if input_noise > 0:
        corrupt = InputCorruption.from_codec(codec, input_noise)

    def losses_at(rng: np.random.Generator, gen: torch.Generator) -> dict[str, torch.Tensor]:
        chosen, refs = sample_items(corpus["items"], corpus["by_speaker"], rng, batch)
        fed = self_fed(model, chosen, refs, self_feed, gen) if self_feed > 0 else None
        return tts_losses(model, Batch(model, chosen, refs, corrupt, gen, fed), gen)

    extra = {**run_extra(size, state, init, data), "codec": str(codec_dir), "input_noise": input_noise,
             "dropout": dropout, "lr": lr, "self_feed": self_feed, "batch": batch, "device": dev.type}
    adopt_at_step_zero(out, steps, state, {"tts": model}, opt, extra)
    held_out = reading = None
    if start < steps:  # a finished run only exports: its checks (the held-out codes, resemblyzer) are not built
        held_out = HeldOutLoss.from_corpus(data, codec, out / HELD_OUT_CODES_FILE, codec_hash, log)
        reading = HeldOutReading.from_corpus(data, out, listen)
    validate = held_out_checks(None if held_out is None else lambda: held_out(model),
                               None if reading is None else lambda: reading(model, codec, corpus["codes"]))
    avg = run_steps(out, start, steps, {"tts": model}, opt, losses_at, lr_schedule(lr), seed, extra, log, rescan,
                    validate=validate)
    if reading is not None:
        reading.discard()
    codes = corpus["codes"]
    if export is not None:
        from engine.train.export import export_model

        export_model(export, model, codec, data, codes, log=log)
    return avg
