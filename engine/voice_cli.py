"""``timbre voice …``: make a voice preset from clips, and list, show, share, delete and restore presets."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

from engine.api import EngineError
from engine.voices.library import VoiceLibrary
from engine.voices.preset import Consent, VoicePreset
from engine.voices.share import BUNDLE_SUFFIX, KNOWN_FAMILIES, export_bundle, import_bundle

CONSENT_FIELDS = ("speaker", "statement", "date", "method")


def add_voice_parser(sub: argparse._SubParsersAction) -> None:
    voice = sub.add_parser("voice", help="voice presets: create from clips, list, show, export, import, delete")
    vs = voice.add_subparsers(dest="voice_command", required=True)
    create = vs.add_parser("create", help="make a preset from reference clips of a consenting speaker")
    create.add_argument("name")
    create.add_argument("clips", nargs="+", help="WAV/FLAC/OGG (MP3 where libsndfile reads it), any rate and channels")
    create.add_argument("--consent-file", help="JSON with speaker, statement, date, method")
    create.add_argument("--consent-speaker")
    create.add_argument("--consent-statement", help="what the speaker agreed to")
    create.add_argument("--consent-method", help="how it was obtained, e.g. 'signed release'")
    create.add_argument("--consent-date", help="ISO date (default: today)")
    create.add_argument("--no-consent", action="store_true",
                        help="make it without a consent record (the preset is marked as such everywhere)")
    create.add_argument("--start", type=float, help="reference segment start, seconds (default: picked)")
    create.add_argument("--end", type=float, help="reference segment end, seconds")
    for flag in ("description", "language", "brand", "transcript"):
        create.add_argument(f"--{flag}", default="")
    create.add_argument("--tags", default="", help="comma-separated")
    create.add_argument("--model", help="the model whose codec encodes the clips (default: the built-in)")
    create.add_argument("--device", default="cpu")
    lst = vs.add_parser("list", help="list presets (user, built-in)")
    lst.add_argument("search", nargs="?", default="")
    for flag in ("language", "tag", "brand", "family"):
        lst.add_argument(f"--{flag}")
    show = vs.add_parser("show", help="a preset's details")
    show.add_argument("id")
    exp = vs.add_parser("export", help=f"write a preset as a {BUNDLE_SUFFIX} file to share")
    exp.add_argument("id")
    exp.add_argument("output", help=f"the {BUNDLE_SUFFIX} file")
    imp = vs.add_parser("import", help=f"add a preset from a {BUNDLE_SUFFIX} file (validated; nothing written if not)")
    imp.add_argument("bundle")
    delete = vs.add_parser("delete", help="move a preset to the trash (restore undoes it)")
    delete.add_argument("id")
    restore = vs.add_parser("restore", help="bring back a deleted preset (the last one by default)")
    restore.add_argument("id", nargs="?")


def cmd_voice(args: argparse.Namespace) -> int:
    library = VoiceLibrary()
    if args.voice_command == "create":
        return _create(args)
    if args.voice_command == "list":
        found = library.search(args.search, language=args.language, tag=args.tag, brand=args.brand, family=args.family)
        for p in found:
            print(f"{p.id:<28} {p.name:<24} {p.family:<8} {p.language or '-':<6} {_consent_mark(p)}"
                  + (" (read-only)" if p.read_only else ""))
        for problem in library.problems:
            print(f"(skipped {problem.folder}: {problem.message})", file=sys.stderr)
        if not found:
            print("(no presets match)" if args.search or args.language or args.tag or args.brand or args.family
                  else "(no presets yet: timbre voice create NAME CLIP… --consent-file F)", file=sys.stderr)
        return 0
    if args.voice_command == "show":
        _show(library.get(args.id))
        return 0
    if args.voice_command == "export":
        out = export_bundle(library.get(args.id), Path(args.output))
        print(f"wrote {out}")
        return 0
    if args.voice_command == "import":
        preset = import_bundle(Path(args.bundle), library, known_families=KNOWN_FAMILIES)
        print(f"imported {preset.name!r} as {preset.id} ({_consent_mark(preset)})")
        return 0
    if args.voice_command == "delete":
        entry = library.delete(args.id)
        print(f"moved {entry.name!r} to the trash (undo: timbre voice restore {entry.id})")
        return 0
    entries = sorted(library.trash(), key=lambda e: e.deleted)
    chosen = [e for e in entries if args.id in (None, e.id)]
    if not chosen:
        raise EngineError(f"no deleted preset {args.id!r} in the trash" if args.id else "the trash is empty")
    preset = library.restore(chosen[-1])
    print(f"restored {preset.name!r} as {preset.id}")
    return 0


def _create(args: argparse.Namespace) -> int:
    from engine.engine import Engine, EngineConfig  # torch only for the command that encodes

    consent = _consent(args)
    if (args.start is None) != (args.end is None):
        raise EngineError("give both --start and --end for the reference segment, or neither")
    engine = Engine(EngineConfig(model=args.model, device=args.device))
    engine.load()
    selection = None if args.start is None else (args.start, args.end)
    prepared = engine.prepare_reference(args.clips, selection)
    for issue in prepared.issues:
        print(f"{'error' if issue.blocking else 'warning'}: {issue.message} — {issue.advice}", file=sys.stderr)
    a, b = prepared.segment
    print(f"reference: {b - a:.1f} s from {a:.1f} s ({prepared.speech_seconds:.1f} s of speech in "
          f"{len(prepared.sources)} clip(s))", file=sys.stderr)
    tags = tuple(t.strip() for t in args.tags.split(",") if t.strip())
    preset = engine.create_voice(prepared, args.name, consent=consent, description=args.description,
                                 language=args.language, tags=tags, brand=args.brand, transcript=args.transcript)
    print(f"created {preset.name!r} as {preset.id} in {preset.folder} ({_consent_mark(preset)}); "
          f"use it: timbre say \"…\" --voice {preset.voice_ref} -o out.wav")
    return 0


def _consent(args: argparse.Namespace) -> Consent | None:
    """The consent record from --consent-file or the --consent-* flags; refuses none unless --no-consent."""
    given = {f: getattr(args, f"consent_{f}") for f in CONSENT_FIELDS if getattr(args, f"consent_{f}")}
    if args.consent_file:
        try:
            record = json.loads(Path(args.consent_file).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise EngineError(f"cannot read the consent file {args.consent_file}: {e}") from e
        if not isinstance(record, dict):
            raise EngineError(f"the consent file {args.consent_file} must be a JSON object with {', '.join(CONSENT_FIELDS)}")
        given = {**{k: str(v) for k, v in record.items()}, **given}
    if not given:
        if args.no_consent:
            return None
        raise EngineError("a voice preset needs the speaker's consent: give --consent-file F (JSON with speaker, "
                          "statement, date, method) or the --consent-* flags, or --no-consent to mark it as having none")
    given.setdefault("date", datetime.date.today().isoformat())
    missing = [f for f in CONSENT_FIELDS if not given.get(f)]
    if missing:
        raise EngineError(f"the consent record lacks {', '.join(missing)}")
    unknown = sorted(set(given) - set(CONSENT_FIELDS))
    if unknown:
        raise EngineError(f"the consent record has unknown fields: {', '.join(unknown)}")
    return Consent(**given)


def _consent_mark(p: VoicePreset) -> str:
    return f"consent: {p.consent.speaker}" if p.consent else "NO CONSENT RECORD"


def _show(p: VoicePreset) -> None:
    rows = [("id", p.id), ("name", p.name), ("family", p.family), ("model hash", p.model_hash or "-"),
            ("origin", p.origin + (" (read-only)" if p.read_only else "")), ("description", p.description),
            ("language", p.language), ("tags", ", ".join(p.tags)), ("brand", p.brand),
            ("consent", f"{p.consent.speaker}, {p.consent.date}, {p.consent.method}: {p.consent.statement}"
             if p.consent else "NO CONSENT RECORD"),
            ("sampling", ", ".join(f"{k}={v}" for k, v in p.params.items()) or "model defaults"),
            ("transcript", p.transcript), ("created", p.created), ("modified", p.modified), ("folder", str(p.folder))]
    for key, value in rows:
        if value:
            print(f"{key:<12} {value}")
