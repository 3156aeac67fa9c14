"""``timbre hear FILE... [--text TEXT]``: what pocketsphinx hears in a take and, given the text it should
say, its word errors. The transcriber and word normalisation are ``timbre eval``'s, so a take checked by
hand scores as the evaluation would score it (e.g. the fox sentence of ``make say``)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from engine.api import EngineError

# a word takes ~0.2 s; shorter files are a mistake, not a take
MIN_SECONDS = 0.2


@dataclass(frozen=True)
class Heard:
    """One file's transcript, and (with a text) its word errors against it."""

    path: Path
    transcript: str
    words: int | None = None  # words of the text, after numbers and symbols are spelled out
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    def line(self) -> str:
        heard = f'{self.path.name}: "{self.transcript}"'
        if self.words is None:
            return heard
        return (f"{heard}: {self.errors} word error{'s' * (self.errors != 1)} in {self.words} "
                f"({self.substitutions} substituted, {self.deletions} missed, {self.insertions} added)")


def hear(path: Path, text: str | None = None) -> Heard:
    """Transcribe one audio file (any format, rate and channel count ``read_clip`` takes)."""
    import soxr

    from engine.voices.clip_read import read_clip

    try:
        import jiwer

        from engine.train import metrics
    except ImportError as e:
        raise EngineError(f"timbre hear needs pocketsphinx and jiwer (the 'train' extra; `make setup` installs "
                          f"it): {e}") from None
    audio, source = read_clip(path, MIN_SECONDS)
    if source.sample_rate != metrics.SR:
        audio = soxr.resample(audio, source.sample_rate, metrics.SR).astype("float32")
    transcript = metrics.transcribe(audio)
    if text is None:
        return Heard(path, transcript)
    reference = metrics.words_for_wer(text)
    if not reference:
        raise EngineError(f"--text {text!r} has no words to compare with")
    out = jiwer.process_words(reference, transcript or "<empty>")
    return Heard(path, transcript, len(reference.split()), out.substitutions, out.deletions, out.insertions)


def add_hear_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("hear", help="what pocketsphinx hears in audio files, and the word errors against a text")
    p.add_argument("files", nargs="+", help="WAV/FLAC/OGG/MP3 files")
    p.add_argument("--text", help="what the files should say: count each one's word errors, as timbre eval does")


def cmd_hear(args: argparse.Namespace) -> int:
    results = [hear(Path(f), args.text) for f in args.files]
    for r in results:
        print(r.line())
    if args.text is not None and len(results) > 1:
        total = sum(r.words or 0 for r in results)
        print(f"{len(results)} files: WER {sum(r.errors for r in results) / total:.3f}, word errors "
              + ", ".join(str(r.errors) for r in results))
    return 0
