"""The ``timbre`` command line: say, models, voices, voice (presets), studio.

Exit codes: 0 done, 2 bad input (a clear message on stderr), 1 an internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from engine import __version__
from engine.api import (
    AudioChunk,
    CancelToken,
    Done,
    EngineError,
    Loaded,
    Progress,
    SamplingParams,
    Started,
    SynthesisRequest,
)
from engine.train.errors import TrainingError  # no dependencies: the plain CLI stays light


def _params_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--steps", type=int, help="flow-matching Euler steps, 1-32 (model default)")
    p.add_argument("--cfg", "--guidance", dest="guidance", type=float, help="guidance alpha, 1.0-3.0")
    p.add_argument("--temperature", type=float, help="scale of the flow's start noise, 0-2")
    p.add_argument("--semantic-temperature", type=float, default=0.0, help="0 = greedy semantic tokens")
    p.add_argument("--top-k", type=int, default=0, help="top-k for semantic sampling (0 = all)")
    p.add_argument("--seed", type=int, help="random seed (drawn and printed when not given)")
    p.add_argument("--max-seconds", type=float, default=60.0, help="stop after this much audio")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="timbre", description="Timbre Studio: flow-matching text-to-speech.")
    parser.add_argument("--version", action="version", version=f"timbre {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    say = sub.add_parser("say", help="render text to a WAV/FLAC file")
    say.add_argument("text", help="text to say ('-' reads standard input)")
    say.add_argument("-o", "--output", required=True, help="output .wav or .flac")
    say.add_argument("--model", help="built-in model name or model folder")
    say.add_argument("--voice", default="default")
    say.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    say.add_argument("--threads", type=int, help="CPU threads for torch")
    say.add_argument("--frames-out", help="also write the frames (latents) as .safetensors")
    say.add_argument("--no-voice-match", action="store_true",
                     help="render the decoder's features without the voice's feature correction")
    say.add_argument("--skip-phones", action="store_true",
                     help="let the text pointer jump over phones as the model says (by default it stops on each)")
    say.add_argument("-q", "--quiet", action="store_true")
    _params_args(say)

    models = sub.add_parser("models", help="list the built-in and registered models; add or remove a folder")
    models_sub = models.add_subparsers(dest="models_command")
    add = models_sub.add_parser("add", help="register a model folder (e.g. a Voxtral-4B-TTS-2603 download)")
    add.add_argument("path", help="the folder (consolidated.safetensors, params.json, tekken.json, voice_embedding/)")
    add.add_argument("--name", help="the name to use it under (default: the folder's name)")
    add.add_argument("--replace", action="store_true", help="overwrite a registered model of the same name")
    remove = models_sub.add_parser("remove", help="forget a registered model (its files stay)")
    remove.add_argument("name")
    voices = sub.add_parser("voices", help="list a model's voices")
    voices.add_argument("--model")
    voices.add_argument("--device", default="cpu", help="where to load the model to read its voices")
    studio = sub.add_parser("studio", help="open the desktop studio (other options: timbre studio -- --help)")
    studio.add_argument("--model")
    studio.add_argument("--device")
    studio.add_argument("studio_args", nargs=argparse.REMAINDER, help="passed on to the studio")
    from engine.train.cli import add_eval_parser, add_probe_parser, add_train_parser
    from engine.hear import add_hear_parser
    from engine.voice_cli import add_voice_parser

    add_voice_parser(sub)
    add_hear_parser(sub)
    add_train_parser(sub)
    add_eval_parser(sub)
    add_probe_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "say":
            return cmd_say(args)
        if args.command == "models":
            return cmd_models(args)
        if args.command == "voices":
            return cmd_voices(args)
        if args.command == "studio":
            return cmd_studio(args)
        if args.command == "voice":
            from engine.voice_cli import cmd_voice

            return cmd_voice(args)
        if args.command == "hear":
            from engine.hear import cmd_hear

            return cmd_hear(args)
        if args.command in ("train", "eval", "codec-probe"):
            from engine.train.cli import run_eval, run_probe, run_train

            return {"train": run_train, "eval": run_eval, "codec-probe": run_probe}[args.command](args)
    except (EngineError, TrainingError) as e:
        print(f"timbre: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ntimbre: interrupted", file=sys.stderr)
        return 130
    return 1


def _check_output(path: Path, suffixes: tuple[str, ...]) -> None:
    """Fail before rendering, not after: a bad suffix or an unwritable folder."""
    if path.suffix.lower() not in suffixes:
        raise EngineError(f"cannot write {path}: the file name must end in {' or '.join(suffixes)}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise EngineError(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise EngineError(f"cannot write {path}: folder {folder} is not writable")
    if path.is_dir():
        raise EngineError(f"cannot write {path}: it is a folder")


def cmd_say(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    # check what the user typed before loading anything (model defaults fill the gaps later)
    SynthesisRequest(text, args.voice, SamplingParams(
        steps=args.steps if args.steps is not None else 8,
        guidance=args.guidance if args.guidance is not None else 1.2,
        temperature=args.temperature if args.temperature is not None else 1.0,
        semantic_temperature=args.semantic_temperature, semantic_top_k=args.top_k, seed=args.seed,
        max_seconds=args.max_seconds)).validated()
    out = Path(args.output)
    _check_output(out, (".wav", ".flac"))
    frames_out = Path(args.frames_out) if args.frames_out else None
    if frames_out:
        _check_output(frames_out, (".safetensors",))
    from engine.engine import Engine, EngineConfig  # torch import: after the cheap checks
    from engine.take_files import save_frames, write_audio

    engine = Engine(EngineConfig(model=args.model, device=args.device, threads=args.threads,
                                 voice_match=not args.no_voice_match, skip_phones=args.skip_phones))
    info = engine.load()
    log = (lambda *a: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    log(f"model {info.name} ({info.model_hash}, {info.parameters / 1e6:.1f}M parameters) on {info.device}")
    if not info.trained or "WARNING" in info.note:
        log(f"note: {info.name} has {info.note}")
    d = info.default_params
    params = SamplingParams(
        steps=args.steps if args.steps is not None else d.steps,
        guidance=args.guidance if args.guidance is not None else d.guidance,
        temperature=args.temperature if args.temperature is not None else d.temperature,
        semantic_temperature=args.semantic_temperature, semantic_top_k=args.top_k, seed=args.seed,
        max_seconds=args.max_seconds, keep_trajectory=frames_out is not None,
    )
    request = SynthesisRequest(text, args.voice, params)
    bar = ProgressBar(sys.stderr, enabled=not args.quiet and sys.stderr.isatty())
    done: Done | None = None
    for event in engine.synthesize(request, CancelToken()):
        if isinstance(event, Started):
            log(f"seed {event.seed}")
        elif isinstance(event, Progress):
            bar.update(event.frames, event.max_frames, event.elapsed)
        elif isinstance(event, Done):
            done = event
        elif isinstance(event, (AudioChunk, Loaded)):
            pass
    bar.close()
    assert done is not None
    if len(done.audio) == 0:
        raise EngineError("the model produced no audio (it ended speech at the first frame)")
    write_audio(out, done.audio, done.sample_rate)
    seconds = len(done.audio) / done.sample_rate
    if frames_out:
        save_frames(frames_out, done.frames, {
            "model": done.model, "model_hash": done.model_hash, "text": done.request.text,
            "voice": done.request.voice, "seed": done.seed, "sample_rate": done.sample_rate,
            "params": {k: getattr(done.request.params, k) for k in (
                "steps", "guidance", "temperature", "semantic_temperature", "semantic_top_k", "max_seconds")},
            "engine_version": __version__,
        })
    log(f"wrote {out} ({seconds:.2f} s, {len(done.frames)} frames) in {done.elapsed:.2f} s: "
        f"real-time factor {done.elapsed / max(seconds, 1e-9):.3f}, first audio after {done.first_audio_latency * 1000:.0f} ms")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from engine.model_files import builtin_models, default_model_name, read_config
    from engine.model_registry import load_registry, registry_path

    if args.models_command == "add":
        return cmd_models_add(args)
    if args.models_command == "remove":
        from engine.model_registry import unregister

        entry = unregister(args.name)
        print(f"removed {entry.name} from the registry (its folder {entry.path} is untouched)")
        return 0
    default = default_model_name()
    for name, folder in builtin_models().items():
        cfg = read_config(folder)
        state = "trained" if cfg.trained else "UNTRAINED (random weights, noise)"
        mark = "*" if name == default else " "
        print(f"{mark} {name:<16} family={cfg.family} {cfg.codec.sample_rate} Hz  {state}  {folder}")
    registered = load_registry()
    for name, m in registered.items():
        there = "" if Path(m.path).is_dir() else "  (FOLDER MISSING)"
        print(f"  {name:<16} family={m.family} registered  {m.path}{there}")
    print(f"(* = default; registered models are kept in {registry_path()})")
    return 0


def cmd_models_add(args: argparse.Namespace) -> int:
    from engine.families.voxtral.checkpoint import WEIGHTS, inspect_folder, is_voxtral_folder
    from engine.model_files import CONFIG_NAME, WEIGHTS_NAME, file_hash, read_config
    from engine.model_registry import register

    folder = Path(args.path).expanduser().resolve()
    name = args.name or folder.name
    if (folder / CONFIG_NAME).is_file():
        family, weights = read_config(folder).family, folder / WEIGHTS_NAME
        if not weights.is_file():
            raise EngineError(f"model folder {folder} has no {WEIGHTS_NAME}")
    elif folder.is_dir() and not is_voxtral_folder(folder) and not (folder / "params.json").exists():
        raise EngineError(f"{folder} is neither a Voxtral TTS download (params.json, {WEIGHTS}, tekken.json, "
                          f"voice_embedding/) nor a timbre model folder ({CONFIG_NAME})")
    else:
        checked = inspect_folder(folder, name)  # raises with every problem listed
        family, weights = "voxtral", folder / WEIGHTS
        print(f"checked {folder}: {len(checked.voices)} preset voices, all tensors as released", file=sys.stderr)
    size_gb = weights.stat().st_size / 1e9
    print(f"hashing {weights.name} ({size_gb:.1f} GB) once, so later loads can skip it ...", file=sys.stderr)
    entry = register(name, folder, family, weights, file_hash(weights), replace=args.replace)
    print(f"registered {entry.name} ({entry.family}, {entry.weights_hash}): timbre say --model {entry.name} ...")
    return 0


def cmd_voices(args: argparse.Namespace) -> int:
    from engine.engine import Engine, EngineConfig

    info = Engine(EngineConfig(model=args.model, device=args.device)).load()
    for v in info.voice_details or ():
        details = ", ".join(x for x in (v.language, v.gender, v.style) if x)
        print(f"{v.name:<18} {details}" if details else v.name)
    if not info.can_clone:
        print(f"(model {info.name}: preset voices only; cloning a voice from a clip is not possible with this model"
              + (": its codec encoder was not released)" if info.family == "voxtral" else ")"))
    if not info.trained:
        print(f"(model {info.name}: {info.note})", file=sys.stderr)
    return 0


def cmd_studio(args: argparse.Namespace) -> int:
    # The studio is its own program: exec it rather than import Qt into the engine package.
    argv = [sys.executable, "-m", "studio"]
    if args.model:
        argv += ["--model", args.model]
    if args.device:
        argv += ["--device", args.device]
    argv += [a for a in args.studio_args if a != "--"]
    os.execv(sys.executable, argv)
    return 1  # not reached


class ProgressBar:
    """A one-line terminal progress bar with frames, audio seconds and ETA."""

    def __init__(self, stream, enabled: bool) -> None:
        self.stream, self.enabled, self.last = stream, enabled, 0.0

    def update(self, frames: int, max_frames: int, elapsed: float) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.1:
            return
        self.last = now
        frac = frames / max(max_frames, 1)
        eta = elapsed / frac - elapsed if frac > 0 else 0.0
        filled = int(30 * frac)
        self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {frames}/{max_frames} frames "
                          f"({frames / 12.5:.1f} s audio)  {elapsed:.1f}s  ETA <= {eta:.1f}s ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


if __name__ == "__main__":
    sys.exit(main())
