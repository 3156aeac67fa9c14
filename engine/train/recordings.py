"""``timbre train recordings``: a corpus from your own recordings of one speaker, to fine-tune a model on
that voice (the TTS and the codec's decoder learn it; the codec's encoder and semantic tokens stay).

The input folder holds either
  metadata.csv   one clip per line, ``name|transcript`` (the LJSpeech layout: a third column, the
                 transcript with numbers spelled out, is read when present), the audio at
                 ``wavs/<name>.wav`` or ``<name>.<wav|flac|ogg|mp3|aiff>`` beside it;
  or audio files, each with its transcript in a ``.txt`` file of the same name.

Each clip is read by the preset loader (any rate, depth and channel count; a specific error for a
corrupt or odd file), resampled to 16 kHz, trimmed and levelled like the teachers' clips, force-aligned
and analysed into WORLD features. A clip the corpus cannot use (unreadable, a word outside the
pronouncing dictionary, an alignment that does not follow its transcript) is left out and listed with
its reason in ``skipped.json``, and the run says how many; nothing else stops it. Every
``EVAL_EVERY``-th usable clip is held out (split ``eval``): the training stages score it, and
``timbre eval`` renders its sentences next to your own audio of them.

The corpus layout is ``timbre train data``'s (``engine/train/data.py``); ``plan.json`` has ``"kind":
"recordings"`` and the command's arguments, so the model card can name the command that made it.
"""

from __future__ import annotations

import csv
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.atomic import write_text_atomic
from engine.phonemes import Lexicon, spoken_words
from engine.text_normalize import spell_out
from engine.train.corpus import PLAN_NAME, read_plan
from engine.train.data import (CORPUS_FORMAT_VERSION, FEATURE, SR, analysed_clip, corpus_clip, lexicon_path,
                               write_shard)
from engine.train.errors import TrainingError
from engine.train.progress import Progress

METADATA = "metadata.csv"
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")
EVAL_EVERY = 10  # every 10th usable clip is held out...
MIN_EVAL = 2  # ...and at least this many
MIN_CLIPS = 2 * MIN_EVAL  # fewer usable clips leave nothing to train on
SHARD_SIZE = 100
SKIPPED_NAME = "skipped.json"
SPEAKER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MIN_SECONDS = 0.5  # a clip shorter than this holds a word at most
UNHEARD = "the transcript does not match the audio"
MISMATCH_WER = 0.8  # pocketsphinx hears most natural recordings at WER 0.1-0.3; a transcript of another clip, ~1


@dataclass(frozen=True)
class Recording:
    name: str  # the clip's name in the corpus (from the file name)
    audio: Path
    text: str  # as written
    spoken: str  # numbers, money, times spelled out: what the speaker is taken to have said


def _clip_name(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_") or "clip"


def _audio_for(folder: Path, name: str) -> Path | None:
    for candidate in (folder / "wavs" / f"{name}.wav", *(folder / f"{name}{s}" for s in AUDIO_SUFFIXES)):
        if candidate.is_file():
            return candidate
    return None


def find_recordings(folder: Path) -> tuple[list[Recording], list[dict]]:
    """The clips of ``folder`` (see the module docstring) -> (recordings, skipped entries ``{"name",
    "reason"}`` for lines or files that name no usable audio/transcript pair). TrainingError when the folder
    holds neither layout."""
    if not folder.is_dir():
        raise TrainingError(f"{folder} is not a folder of recordings")
    pairs: list[tuple[str, Path | None, str]] = []
    skipped: list[dict] = []
    meta = folder / METADATA
    if meta.is_file():
        try:
            rows = list(csv.reader(meta.read_text(encoding="utf-8-sig").splitlines(), delimiter="|",
                                   quoting=csv.QUOTE_NONE))
        except (OSError, UnicodeDecodeError) as e:
            raise TrainingError(f"{meta} cannot be read as UTF-8 text ({e})") from e
        for line, row in enumerate(rows, 1):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 2 or not row[0].strip() or not row[1].strip():
                skipped.append({"name": f"{METADATA}:{line}", "reason": "not a `name|transcript` line"})
                continue
            name = row[0].strip()
            text = (row[2] if len(row) > 2 and row[2].strip() else row[1]).strip()
            pairs.append((name, _audio_for(folder, name), text))
    else:
        for audio in sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES):
            txt = audio.with_suffix(".txt")
            if not txt.is_file():
                skipped.append({"name": audio.name, "reason": f"no transcript ({txt.name})"})
                continue
            try:
                pairs.append((audio.stem, audio, txt.read_text(encoding="utf-8-sig").strip()))
            except (OSError, UnicodeDecodeError) as e:
                skipped.append({"name": audio.name, "reason": f"{txt.name} cannot be read as UTF-8 text ({e})"})
        if not pairs and not skipped:
            raise TrainingError(f"{folder} has no {METADATA} and no audio files with .txt transcripts beside them")
    recordings, names = [], set()
    for name, audio, text in pairs:
        if audio is None:
            skipped.append({"name": name, "reason": "no audio file of that name (wavs/NAME.wav or NAME.wav/.flac/...)"})
            continue
        if not text:
            skipped.append({"name": name, "reason": "empty transcript"})
            continue
        clip = _clip_name(name)
        while clip in names:  # two files differing only in odd characters
            clip += "_"
        names.add(clip)
        recordings.append(Recording(clip, audio, text, spell_out(text)))
    return recordings, skipped


def unknown_words(spoken: str, lexicon: Lexicon) -> list[str]:
    """The words of ``spoken`` the pronouncing dictionary (the aligner's) does not have."""
    return [w for w in spoken_words(spoken) if w not in lexicon]


def transcript_mismatch(audio: np.ndarray, spoken: str) -> str | None:
    """Why a 16 kHz clip [n] does not seem to say ``spoken``, or None. Forced alignment fits any text to any
    audio, so a transcript that belongs to another clip would train the model on wrong words; pocketsphinx's
    free transcript catches it (its word error rate against the transcript is near 1)."""
    from engine.train import metrics

    heard = metrics.transcribe(audio)
    error = metrics.wer([spoken], [heard])
    if error <= MISMATCH_WER:
        return None
    return (f"{UNHEARD}: pocketsphinx hears {heard or 'nothing'!r} "
            f"(word error rate {error:.2f}); check that this is the clip's own transcript")


def _prepared(recording: Recording) -> np.ndarray:
    """The recording as a trimmed, levelled 16 kHz clip; ClipError for a file that cannot be used."""
    from engine.voices.clips import read_clip

    audio, source = read_clip(recording.audio, MIN_SECONDS)
    return corpus_clip(audio, source.sample_rate)


def make_recordings_corpus(folder: Path, out: Path, speaker: str, licence: str, log=print,
                           trust_transcripts: bool = False) -> dict:
    """Build (or finish) a one-speaker corpus in ``out`` from the recordings in ``folder``; returns the
    manifest. ``licence``: the terms the recordings are used under (recorded with every clip).
    ``trust_transcripts``: keep clips whose transcript pocketsphinx does not hear (``transcript_mismatch``;
    it also misses right transcripts of speech it follows badly: 3 of 300 clips of flite's rms voice)."""
    from engine.train.align import Aligner, AlignmentError
    from engine.voices.clip_types import ClipError

    if not SPEAKER_NAME.match(speaker):
        raise TrainingError(f"speaker name {speaker!r}: use 1-40 lower-case letters, digits and hyphens "
                            "(it becomes the model's voice name)")
    if not licence.strip():
        raise TrainingError("say under which licence or permission the recordings are used (--licence)")
    args = {"recordings": str(folder), "speaker": speaker, "licence": licence}
    if trust_transcripts:
        args["trust_transcripts"] = True
    if out.exists() and not out.is_dir():
        raise TrainingError(f"{out} is a file: --out must be a new folder or a corpus to finish")
    started = read_plan(out) if (out / PLAN_NAME).is_file() else None
    if started is not None and (started.get("kind") != "recordings" or started.get("args") != args):
        raise TrainingError(f"{out} holds a corpus made from other input ({started.get('args', 'teacher voices')}); "
                            "use a new --out")
    if started is None and out.is_dir() and any(out.iterdir()):
        raise TrainingError(f"{out} holds other files and no corpus: --out must be a new or empty folder")
    recordings, skipped = find_recordings(folder)
    if started is not None and started["counts"].get(speaker) != len(recordings):
        # the shards split the folder's clips by their place in it: a changed folder would shift them
        raise TrainingError(f"{folder} holds {len(recordings)} clips with a transcript, and held "
                            f"{started['counts'].get(speaker)} when {out} was started; use a new --out")
    if len(recordings) < MIN_CLIPS:
        raise TrainingError(f"{folder}: {len(recordings)} clips with a transcript; at least {MIN_CLIPS} are needed "
                            f"(a fine-tune wants minutes of speech: five minutes or more, docs/own-voice.md)")
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("shards", "skipped"):
        (out / sub).mkdir(exist_ok=True)
    write_text_atomic(out / PLAN_NAME, json.dumps({
        "format_version": CORPUS_FORMAT_VERSION, "kind": "recordings", "args": args,
        "counts": {speaker: len(recordings)}, "held_out_speakers": [], "extra_sentences": 0}, indent=1))
    lexicon = Lexicon.read(lexicon_path())
    aligner = Aligner()
    shards = [recordings[i:i + SHARD_SIZE] for i in range(0, len(recordings), SHARD_SIZE)]
    todo = [i for i in range(len(shards)) if not (out / "shards" / f"{i:04d}.json").is_file()]
    log(f"recordings: {len(recordings)} clips in {len(shards)} shards; {len(todo)} shards to make")
    progress = Progress(len(recordings), log, start=sum(len(shards[i]) for i in range(len(shards)) if i not in todo),
                        every=10.0)
    for i in todo:
        clips, feats, shard_skipped = [], {}, []
        for k, rec in enumerate(shards[i]):
            number = i * SHARD_SIZE + k  # the clip's place in the folder decides its split, so a rerun agrees
            reason = None
            if words := unknown_words(rec.spoken, lexicon):
                reason = f"not in the pronouncing dictionary: {', '.join(sorted(set(words))[:5])}"
            else:
                try:
                    audio = _prepared(rec)
                    reason = None if trust_transcripts else transcript_mismatch(audio, rec.spoken)
                    if reason is None:
                        timing, feats[rec.name] = analysed_clip(out, rec.name, audio, rec.spoken, aligner)
                except ClipError as e:
                    reason = str(e)
                except AlignmentError as e:
                    reason = f"the alignment does not follow the transcript ({e})"
            if reason is not None:
                shard_skipped.append({"name": rec.audio.name, "reason": reason})
            else:
                clips.append({
                    "clip": rec.name, "speaker": speaker, "voice": speaker,
                    "split": "eval" if number % EVAL_EVERY == EVAL_EVERY - 1 else "train",
                    "warp": None, "length_scale": 1.0, "sentence": number, "text": rec.text, "spoken": rec.spoken,
                    "source": f"recording:{rec.audio.name}", "text_licence": licence, "voice_licence": licence,
                    **timing})
            progress.step(1, f"shard {i:04d}: {rec.name}" + (f" skipped ({reason})" if reason else ""))
        write_shard(out, i, clips, feats)
        write_text_atomic(out / "skipped" / f"{i:04d}.json", json.dumps(shard_skipped))  # not in shards/: not clips
    return _finish(out, speaker, licence, folder, len(shards), skipped, log)


def _finish(out: Path, speaker: str, licence: str, folder: Path, n_shards: int, skipped: list[dict], log) -> dict:
    """Gather the shards into ``manifest.json`` and ``skipped.json``; hold out at least MIN_EVAL clips."""
    clips = []
    for i in range(n_shards):
        clips += json.loads((out / "shards" / f"{i:04d}.json").read_text(encoding="utf-8"))["clips"]
        path = out / "skipped" / f"{i:04d}.json"
        skipped += json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    write_text_atomic(out / SKIPPED_NAME, json.dumps(skipped, indent=1))
    if len(clips) < MIN_CLIPS:
        raise TrainingError(f"only {len(clips)} of the recordings could be used (the reasons are in "
                            f"{out / SKIPPED_NAME}); at least {MIN_CLIPS} are needed")
    held_out = [c for c in clips if c["split"] == "eval"]
    if len(held_out) < MIN_EVAL:  # a short folder: hold out its last clips instead
        for c in clips[-MIN_EVAL:]:
            c["split"] = "eval"
        _rewrite_splits(out, n_shards, {c["clip"] for c in clips[-MIN_EVAL:]})
    evals = [c for c in clips if c["split"] == "eval"]
    manifest = {
        "format_version": CORPUS_FORMAT_VERSION, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "kind": "recordings", "sample_rate": SR,
        "feature": FEATURE,
        "held_out_speakers": [],
        "voices": {speaker: {"engine": "recording", "arg": folder.name, "licence": licence}},
        "sentences": [{"text": c["text"], "spoken": c["spoken"], "source": c["source"], "licence": licence}
                      for c in evals],
        "clips": clips,
    }
    write_text_atomic(out / "manifest.json", json.dumps(manifest, indent=1))
    hours = sum(c["seconds"] for c in clips) / 3600
    unheard = sum(s["reason"].startswith(UNHEARD) for s in skipped)
    log(f"recordings: {len(clips)} clips ({len(evals)} held out), {hours * 60:.1f} min of audio -> "
        f"{out / 'manifest.json'}" + (f"; {len(skipped)} left out, reasons in {out / SKIPPED_NAME}" if skipped else "")
        + (f" ({unheard} whose transcript pocketsphinx does not hear: where those transcripts are right, make the "
           "corpus again into a new --out with --trust-transcripts)" if unheard else ""))
    return manifest


def _rewrite_splits(out: Path, n_shards: int, evals: set[str]) -> None:
    for i in range(n_shards):
        path = out / "shards" / f"{i:04d}.json"
        shard = json.loads(path.read_text(encoding="utf-8"))
        if any(c["clip"] in evals for c in shard["clips"]):
            for c in shard["clips"]:
                c["split"] = "eval" if c["clip"] in evals else c["split"]
            write_text_atomic(path, json.dumps(shard))
