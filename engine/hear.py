"""``timbre hear FILE... [--text TEXT]``: what pocketsphinx hears in a take and, given the text it should
say, its word errors. The transcriber and word normalisation are ``timbre eval``'s, so a take checked by
hand scores as the evaluation would score it (e.g. the fox sentence of ``make say``)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.api import EngineError

if TYPE_CHECKING:
    from engine.train.metrics import WordErrors

# a word takes ~0.2 s; shorter files are a mistake, not a take
MIN_SECONDS = 0.2


@dataclass(frozen=True)
class Heard:
    """One file's transcript, and (with a text) its word errors against it."""

    path: Path
    transcript: str
    errors: WordErrors | None = None

    def line(self) -> str:
        heard = f'{self.path.name}: "{self.transcript}"'
        e = self.errors
        if e is None:
            return heard
        return (f"{heard}: {e.errors} word error{'s' * (e.errors != 1)} in {e.words} "
                f"({e.substitutions} substituted, {e.deletions} missed, {e.insertions} added)")


def hear(path: Path, text: str | None = None) -> Heard:
    """Transcribe one audio file (any format, rate and channel count ``read_clip`` takes)."""
    import soxr

    from engine.train import metrics
    from engine.voices.clip_read import read_clip

    try:  # metrics imports them on first use; ask here, for a clear error instead of a traceback mid-run
        import jiwer  # noqa: F401
        import pocketsphinx  # noqa: F401
    except ImportError as e:
        raise EngineError(f"timbre hear needs pocketsphinx and jiwer (the 'train' extra; `make setup` installs "
                          f"it): {e}") from None
    if text is not None and not metrics.words_for_wer(text):
        raise EngineError(f"--text {text!r} has no words to compare with")
    audio, source = read_clip(path, MIN_SECONDS)
    if source.sample_rate != metrics.SR:
        audio = soxr.resample(audio, source.sample_rate, metrics.SR)  # float32 in, float32 out
    transcript = metrics.transcribe(audio)
    return Heard(path, transcript, None if text is None else metrics.word_errors(text, transcript))


def add_hear_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("hear", help="what pocketsphinx hears in audio files, and the word errors against a text")
    p.add_argument("files", nargs="+", help="WAV/FLAC/OGG/MP3 files")
    p.add_argument("--text", help="what the files should say: count each one's word errors, as timbre eval does")


def cmd_hear(args: argparse.Namespace) -> int:
    results = [hear(Path(f), args.text) for f in args.files]
    for r in results:
        print(r.line())
    counted = [r.errors for r in results if r.errors is not None]
    if len(counted) > 1:
        print(f"{len(counted)} files: WER {sum(e.errors for e in counted) / sum(e.words for e in counted):.3f}, "
              "word errors " + ", ".join(str(e.errors) for e in counted))
    return 0
