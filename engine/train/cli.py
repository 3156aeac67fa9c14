"""``timbre train data|codec|tts|decoder|card``, ``timbre eval`` and ``timbre codec-probe``: argument
parsing only; the work lives in the stage modules (imported when a stage runs, so the plain CLI stays light)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

DEFAULT_DATA = "data/corpus"
DEFAULT_RUNS = "data/runs"
SIZES = ("mini", "base", "tiny")  # engine.train.sizes.SIZES, without importing torch for the plain CLI
SIZE_HELP = "mini (the built-in model; two CPU cores), base (about 8x larger: for a GPU) or tiny (tests)"
LOW_ENVELOPE_HELP = "loss weight of the WORLD envelope's first 10 dimensions, which carry the words (default 1)"


def _bounded(ok: Callable[[float], bool], interval: str) -> Callable[[str], float]:
    """An argparse type: a number that ``ok`` accepts, checked before any stage loads its corpus."""
    def parse(text: str) -> float:
        value = float(text)
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be in {interval}, got {text}")
        return value
    return parse


_share = _bounded(lambda v: 0.0 <= v < 1.0, "[0, 1)")
_learning_rate = _bounded(lambda v: 0.0 < v <= 0.01, "(0, 0.01]")
_weight = _bounded(lambda v: 0.0 < v <= 100.0, "(0, 100]")


def _whole_number(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``lo`` to ``hi``."""
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text}") from None
        if not lo <= n <= hi:
            raise argparse.ArgumentTypeError(f"must be from {lo} to {hi}, got {text}")
        return n
    return parse


_sentence_count = _whole_number(0, 1000)
_steps = _whole_number(1, 100_000_000)
_steps_or_none = _whole_number(0, 100_000_000)
ZERO_STEPS_HELP = "training steps; 0 with --init takes those weights as they are (a voice fine-tune keeps them)"
_threads = _whole_number(1, 256)
_workers = _whole_number(0, 256)
_scale = _bounded(lambda v: 0.0 < v <= 100.0, "(0, 100]")
_up_to_ten = _bounded(lambda v: 0.0 <= v <= 10.0, "[0, 10]")  # --input-noise, --adversarial (0: off)


def _flow_steps(text: str) -> int:
    from engine.api import SamplingParams

    return _whole_number(*SamplingParams.STEPS_RANGE)(text)


def _flow_step_counts(text: str) -> list[int]:
    """An argparse type: comma-separated flow step counts (``--steps-table``), checked before minutes of rendering."""
    return [_flow_steps(part.strip()) for part in text.split(",")]


def _add_listen(stage: argparse.ArgumentParser) -> None:
    stage.add_argument("--listen", type=_sentence_count, default=None,
                       help="held-out sentences each checkpoint reads aloud, scored by WER and similarity (default "
                       "24, about a second each; 0: none)")


def _add_device(stage: argparse.ArgumentParser) -> None:
    stage.add_argument("--device", default="auto", help="auto (a CUDA GPU when there is one), cpu, cuda or cuda:N")
    stage.add_argument("--batch", type=_whole_number(1, 4096), help="clips per step (default: the stage's own; raise "
                       "it on a GPU)")


def _layer_counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(n) for n in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be whole numbers separated by commas, got {text}") from None
    if any(n < 0 or n > 8 for n in counts):
        raise argparse.ArgumentTypeError(f"each must be from 0 to 8, got {text}")
    return counts


def add_train_parser(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="rebuild the built-in model: corpus, codec, TTS")
    stages = train.add_subparsers(dest="stage", required=True)

    data = stages.add_parser("data", help="make the training corpus with the teacher voices")
    data.add_argument("--out", default=DEFAULT_DATA, help="corpus folder (kept out of git)")
    data.add_argument("--scale", type=_scale, default=1.0, help="multiply the clips per speaker")
    data.add_argument("--workers", type=_whole_number(1, 256), default=2)
    data.add_argument("--eval-sentences", type=_whole_number(1, 1000), default=30)
    data.add_argument("--seed", type=int, default=0)
    data.add_argument("--extra-sentences", type=_whole_number(0, 1_000_000), default=0,
                      help="also read this many sentences of the extra pool (more fortune files, the Linux manual "
                           "pages), each once; adds distinct text without changing the base clips")

    rec = stages.add_parser("recordings", help="make a one-speaker corpus from your own recordings (to fine-tune "
                            "a model on that voice)")
    rec.add_argument("--in", dest="recordings", required=True,
                     help="folder with metadata.csv (name|transcript lines, audio in wavs/) or audio files each with "
                          "a .txt transcript beside it")
    rec.add_argument("--speaker", required=True, help="the voice's name in the model (lower-case letters, digits, "
                     "hyphens)")
    rec.add_argument("--licence", required=True, help="the terms the recordings are used under, e.g. 'recorded "
                     "by Ana Ruiz for Acme, consent form 2026-11-02' (kept with every clip and in the model card)")
    rec.add_argument("--out", required=True, help="corpus folder (kept out of git)")
    rec.add_argument("--trust-transcripts", action="store_true", help="keep clips whose transcript pocketsphinx "
                     "does not hear (by default they are left out: a transcript of another clip would teach wrong "
                     "words; pocketsphinx also misses some right ones)")

    codec = stages.add_parser("codec", help="train the WORLD-feature codec")
    codec.add_argument("--data", default=DEFAULT_DATA)
    codec.add_argument("--out", default=f"{DEFAULT_RUNS}/codec")
    codec.add_argument("--steps", type=_steps_or_none, default=6000, help=ZERO_STEPS_HELP)
    codec.add_argument("--size", default="mini", choices=SIZES, help=SIZE_HELP)
    codec.add_argument("--threads", type=_threads, default=2)
    codec.add_argument("--seed", type=int, default=0)
    codec.add_argument("--init", help="start a new run from this codec run folder, or from the codec of this model "
                       "folder (e.g. assets/timbre-mini): fine-tuning")
    codec.add_argument("--low-envelope-weight", type=_weight, default=1.0, help=LOW_ENVELOPE_HELP)
    codec.add_argument("--acoustic-drop", type=_share, help="share of training crops decoded with their acoustic "
                       "values zeroed, so that the words come from the semantic token (default 0.3)")
    codec.add_argument("--acoustic-noise", type=_share, help="share of training crops decoded with noised acoustic "
                       "values (default 0.2)")
    _add_device(codec)

    tts = stages.add_parser("tts", help="train the TTS model on the codec's frames")
    tts.add_argument("--data", default=DEFAULT_DATA)
    tts.add_argument("--codec", default=f"{DEFAULT_RUNS}/codec")
    tts.add_argument("--out", default=f"{DEFAULT_RUNS}/tts")
    tts.add_argument("--steps", type=_steps_or_none, default=20000, help=ZERO_STEPS_HELP)
    tts.add_argument("--size", default="mini", choices=SIZES, help=SIZE_HELP)
    tts.add_argument("--threads", type=_threads, default=2)
    tts.add_argument("--seed", type=int, default=0)
    tts.add_argument("--export", help="also write a model folder here when done (e.g. assets/timbre-mini)")
    tts.add_argument("--init", help="start a new run from this TTS run folder's last checkpoint, or from the TTS of "
                     "this model folder (e.g. assets/timbre-mini); on a codec with more acoustic values the TTS is "
                     "widened, starting as the old one on the old values")
    tts.add_argument("--input-noise", type=_up_to_ten, default=1.0,
                     help="scale of the input-frame corruption against exposure bias (0: true frames only)")
    tts.add_argument("--dropout", type=_share, default=0.0,
                     help="residual dropout in the backbone while training (against memorising sentences)")
    tts.add_argument("--lr", type=_learning_rate, default=1e-3,
                     help="peak learning rate; lower it to continue a run (--init) on more data")
    tts.add_argument("--self-feed", type=_share, default=0.0,
                     help="share of input frames replaced by the model's own teacher-forced prediction of them "
                     "(scheduled sampling against exposure bias; costs a forward pass per step; default 0)")
    _add_listen(tts)
    _add_device(tts)

    dec = stages.add_parser("decoder", help="fine-tune the codec's decoder on the trained TTS's acoustic values")
    dec.add_argument("--data", default=DEFAULT_DATA)
    dec.add_argument("--codec", default=f"{DEFAULT_RUNS}/codec")
    dec.add_argument("--tts", default=f"{DEFAULT_RUNS}/tts")
    dec.add_argument("--out", default=f"{DEFAULT_RUNS}/decoder")
    dec.add_argument("--steps", type=_steps, default=1500)
    dec.add_argument("--threads", type=_threads, default=2)
    dec.add_argument("--seed", type=int, default=0)
    dec.add_argument("--export", help="also write a model folder here when done (e.g. assets/timbre-mini)")
    dec.add_argument("--low-envelope-weight", type=_weight, default=1.0, help=LOW_ENVELOPE_HELP)
    dec.add_argument("--sample-steps", type=_flow_steps,
                     help="flow steps the TTS's acoustic values are drawn with (default: the exported model's "
                          "default steps, so the decoder learns the values it will be given)")
    dec.add_argument("--decoder-layers", type=_layer_counts,
                     help="grow the decoder first: transformer layers per rate, 12.5 Hz first (e.g. 2,1,1,1,1; "
                          "each at least the codec's own; the new layers start near the identity)")
    dec.add_argument("--adversarial", type=_up_to_ten, default=0.0,
                     help="weight of an adversarial critic of the decoded features, against their smoothness "
                          "(default 0: none)")
    _add_listen(dec)
    _add_device(dec)
    _add_card_parser(stages)


def _add_card_parser(stages: argparse._SubParsersAction) -> None:
    voices = stages.add_parser("voices", help="fit the voice matches of an exported model's voices on their corpus "
                               "clips (models exported before voice matches existed)")
    voices.add_argument("--model", default="assets/timbre-mini")
    voices.add_argument("--data", default=DEFAULT_DATA, help="the corpus the model was exported from")
    voices.add_argument("--choose-prompts", type=_whole_number(0, 16), metavar="N", default=0,
                        help="instead: choose each voice's prompt among its current one and its speaker's N longest "
                             "clips, by the model's word errors reading validation sentences with each "
                             "(engine/train/prompt_choice.py; about 2 min a clip on 2 cores)")
    voices.add_argument("--speakers", nargs="+", help="with --choose-prompts: these training speakers only "
                        "(default: all; pocketsphinx cannot follow espeak's voices)")
    voices.add_argument("--sentences", type=_whole_number(1, 1000), default=30,
                        help="with --choose-prompts: validation sentences")
    voices.add_argument("--report", help="with --choose-prompts: write the trials here as JSON too")
    voices.add_argument("--presets", default="presets",
                        help="with --choose-prompts: the folder of the model's built-in presets, rewritten where it "
                             "has them")
    card = stages.add_parser("card", help="write MODEL_CARD.md and the voice presets of an exported model")
    card.add_argument("--model", default="assets/timbre-mini")
    card.add_argument("--data", default=DEFAULT_DATA)
    card.add_argument("--codec", default=f"{DEFAULT_RUNS}/codec")
    card.add_argument("--tts", default=f"{DEFAULT_RUNS}/tts")
    card.add_argument("--decoder", help="the `timbre train decoder` run, if the model has one")
    card.add_argument("--eval", default="data/eval/report.md", help="evaluation report to include")
    card.add_argument("--presets", default="presets")
    card.add_argument("--evaluation-only", action="store_true",
                      help="only replace the card's evaluation with --eval (a re-evaluation of the same weights); "
                           "needs no corpus or runs and leaves the presets alone")
    card.add_argument("--scale", type=_scale, default=1.0, help="the --scale the corpus was made with")


def add_eval_parser(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser("eval", help="measure a model on the held-out sentences against the teachers")
    ev.add_argument("--model", help="built-in model name or model folder (default model)")
    ev.add_argument("--data", default=DEFAULT_DATA)
    ev.add_argument("--out", default="data/eval", help="folder for the report and audio")
    ev.add_argument("--sentences", type=_whole_number(1, 1000), default=30)
    ev.add_argument("--voices", help="comma-separated training voices (default: all base voices)")
    ev.add_argument("--steps-table", type=_flow_step_counts, default="1,2,4,8,16",
                    help="flow step counts of the steps table (default 1,2,4,8,16)")
    ev.add_argument("--threads", type=_threads,
                    help="torch CPU threads (default: the engine's, one fewer than the cores, as users get it)")
    ev.add_argument("--workers", type=_workers,
                    help="processes that score the audio while the model renders (default: one per core; 0: none)")
    ev.add_argument("--quick", action="store_true", help="fewer sentences and no steps table")
    ev.add_argument("--no-voice-match", action="store_true",
                    help="render the decoder's features without the voices' feature corrections (to compare)")
    ev.add_argument("--skip-phones", action="store_true",
                    help="let the text pointer jump over phones as the model says (to compare)")


def add_probe_parser(sub: argparse._SubParsersAction) -> None:
    probe = sub.add_parser("codec-probe", help="find which WORLD feature group a codec's round trip loses")
    probe.add_argument("--model", help="built-in model name, model folder or codec run folder (default model)")
    probe.add_argument("--data", default=DEFAULT_DATA)
    probe.add_argument("--out", default="data/codec-probe", help="folder for report.md and report.json")
    probe.add_argument("--clips", type=_whole_number(1, 1000), default=8, help="held-out clips per speaker")
    probe.add_argument("--workers", type=_workers, help="scoring processes (default: one per core; 0: none)")


def run_probe(args: argparse.Namespace) -> int:
    from engine.train.codec_probe import probe, write_probe

    write_probe(probe(args.model, Path(args.data), args.clips, args.workers), Path(args.out))
    print(f"codec-probe: wrote {Path(args.out) / 'report.md'}")
    return 0


def _placement(args: argparse.Namespace) -> dict:
    """A stage's ``device`` and, where given, ``batch`` keyword arguments."""
    return {"device": args.device} | ({"batch": args.batch} if args.batch is not None else {})


def run_train(args: argparse.Namespace) -> int:
    if args.stage == "data":
        from engine.train.data import Plan, make_corpus

        base = Plan()
        plan = Plan(base.scaled(args.scale).counts, base.held_out_speakers, args.eval_sentences, base.shard_size,
                    base.n_generated, args.seed, args.extra_sentences)
        make_corpus(Path(args.out), plan, args.workers)
        return 0
    if args.stage == "recordings":
        from engine.train.recordings import make_recordings_corpus

        make_recordings_corpus(Path(args.recordings), Path(args.out), args.speaker, args.licence,
                               trust_transcripts=args.trust_transcripts)
        return 0
    if args.stage == "codec":
        from engine.train.codec_train import train_codec

        shares = {k: getattr(args, k) for k in ("acoustic_drop", "acoustic_noise") if getattr(args, k) is not None}
        train_codec(Path(args.data), Path(args.out), args.steps, args.size, args.threads, args.seed,
                    init=Path(args.init) if args.init else None, low_envelope=args.low_envelope_weight,
                    **shares, **_placement(args))
        return 0
    if args.stage == "tts":
        from engine.train.tts_train import train_tts

        train_tts(Path(args.data), Path(args.codec), Path(args.out), args.steps, args.size, args.threads, args.seed,
                  Path(args.export) if args.export else None, init=Path(args.init) if args.init else None,
                  input_noise=args.input_noise, dropout=args.dropout, lr=args.lr,
                  listen=args.listen, self_feed=args.self_feed, **_placement(args))
        return 0
    if args.stage == "decoder":
        from engine.train.decoder_train import train_decoder

        train_decoder(Path(args.data), Path(args.codec), Path(args.tts), Path(args.out), args.steps, args.threads,
                      args.seed, Path(args.export) if args.export else None, low_envelope=args.low_envelope_weight,
                      decoder_layers=args.decoder_layers, sample_steps=args.sample_steps, adversarial=args.adversarial,
                      listen=args.listen, **_placement(args))
        return 0
    if args.stage == "voices":
        if args.choose_prompts:
            return _choose_prompts(args)
        from engine.train.export import refit_voice_matches

        refit_voice_matches(Path(args.model), Path(args.data))
        return 0
    if args.stage == "card":
        from engine.train.checkpoint import read_run_state
        from engine.train.export import write_presets
        from engine.train.model_card import replace_card_evaluation, write_model_card

        model = Path(args.model)
        if args.evaluation_only:
            print(replace_card_evaluation(model, Path(args.eval)))
            return 0
        for run in (args.codec, args.tts, args.decoder):  # every run the card names, before the presets are written
            if run is not None:
                read_run_state(Path(run))
        write_presets(Path(args.presets), model, Path(args.data))
        print(write_model_card(model, Path(args.data), Path(args.codec), Path(args.tts), Path(args.eval), args.scale,
                               Path(args.decoder) if args.decoder else None))
        return 0
    raise AssertionError(args.stage)


def _choose_prompts(args: argparse.Namespace) -> int:
    import json

    from engine.atomic import write_text_atomic
    from engine.train.export import write_presets
    from engine.train.prompt_choice import choose_prompts, trials_json

    model, data = Path(args.model), Path(args.data)
    chosen = choose_prompts(model, data, args.speakers, args.choose_prompts, args.sentences)
    if args.report:
        write_text_atomic(Path(args.report), json.dumps(trials_json(chosen), indent=1) + "\n")
    if any(Path(args.presets).glob(f"{model.resolve().name}-*")):  # its built-in presets (named after its folder)
        for folder in write_presets(Path(args.presets), model, data):
            print(f"preset {folder}")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from engine.train.evaluate import evaluate

    evaluate(args)
    return 0
