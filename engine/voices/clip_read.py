"""Reading one reference clip of any format libsndfile knows, with a specific error for each way it fails."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

from engine.voices.clip_types import ClipError, ClipSource

MAX_SECONDS = 30 * 60  # per file and for all clips together: a reference needs 15 s, not hours
MIN_SECONDS = 1.0  # shorter files cannot hold a useful reference
BLOCK_FRAMES = 1 << 16
SNIFF_BYTES = 4096

_MAGIC = (  # (offset, bytes, what the file looks like)
    (0, b"fLaC", "FLAC"), (0, b"RIFF", "WAV"), (0, b"RF64", "WAV"), (0, b"OggS", "Ogg"),
    (0, b"ID3", "MP3"), (0, b"FORM", "AIFF"), (4, b"ftyp", "MP4/M4A"), (0, b"\x1aE\xdf\xa3", "WebM/Matroska"),
    (0, b"#!AMR", "AMR"), (0, b"\x30\x26\xb2\x75", "WMA"),
)
_READABLE = {"FLAC", "WAV", "Ogg", "MP3", "AIFF"}  # what libsndfile decodes (MP3 from libsndfile 1.1)


def _looks_like_text(head: bytes) -> bool:
    """True for bytes that decode as UTF-8 (or UTF-16 with a BOM) and are nearly all printable."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    text = head.decode("utf-8", errors="replace")
    printable = sum(c.isprintable() or c in "\r\n\t" for c in text)
    return printable >= 0.95 * len(text)


def _sniff(head: bytes) -> str:
    """What a file's first bytes say it is: a format name, "text" or "unknown"."""
    for offset, magic, kind in _MAGIC:
        if head[offset:offset + len(magic)] == magic:
            return kind
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "MP3"  # an MPEG audio frame sync without an ID3 tag
    return "text" if _looks_like_text(head) else "unknown"


def _unreadable(path: Path, err: Exception) -> ClipError:
    """The specific error for a file libsndfile refused to open."""
    with open(path, "rb") as f:
        kind = _sniff(f.read(SNIFF_BYTES))
    name = path.name
    if kind == "text":
        return ClipError(f"{name} is not audio (it looks like text); export the recording as WAV or FLAC")
    if kind == "MP3" and "MP3" not in sf.available_formats():
        return ClipError(f"{name} is MP3, which this system's libsndfile cannot read; convert it to WAV or FLAC")
    if kind in _READABLE:
        return ClipError(f"{name} looks like {kind} but cannot be decoded ({err}); the file is probably truncated "
                         "or corrupt: export or copy it again")
    if kind != "unknown":
        return ClipError(f"{name} is a {kind} file, which cannot be read here; convert it to WAV or FLAC")
    return ClipError(f"{name} is not in an audio format that can be read; export it as WAV or FLAC")


def _check_path(path: Path) -> None:
    if not path.exists():
        raise ClipError(f"{path.name} was not found ({path}); check the file name and folder")
    if path.is_dir():
        raise ClipError(f"{path.name} is a folder, not an audio file; choose the audio files inside it")
    if not os.access(path, os.R_OK):
        raise ClipError(f"{path.name} cannot be read (permission denied); check the file's permissions")
    if path.stat().st_size == 0:
        raise ClipError(f"{path.name} is empty (0 bytes); the recording or copy did not finish: export it again")


def probe(path: str | os.PathLike[str], min_seconds: float = MIN_SECONDS) -> ClipSource:
    """What a file holds, without decoding it; ClipError when it is unusable before any decoding."""
    path = Path(path)
    _check_path(path)
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as e:
        raise _unreadable(path, e) from None
    if info.frames <= 0 or info.samplerate <= 0:
        raise ClipError(f"{path.name} holds no audio samples; export the recording again")
    seconds = info.frames / info.samplerate
    if seconds > MAX_SECONDS:
        raise ClipError(f"{path.name} is {seconds / 60:.0f} min long; the limit is {MAX_SECONDS // 60} min: "
                        "cut out a part with clean speech (a few minutes at most) and use that")
    if seconds < min_seconds:
        raise ClipError(f"{path.name} is only {seconds:.1f} s long, too short for a voice reference; "
                        "use a recording with 5-15 s of speech" if min_seconds == MIN_SECONDS else
                        f"{path.name} is only {seconds:.2f} s long; a clip needs at least {min_seconds:g} s")
    return ClipSource(path=path, sample_rate=int(info.samplerate), channels=int(info.channels),
                      subtype=str(info.subtype), seconds=seconds)


def _mono_blocks(source: ClipSource) -> Iterator[np.ndarray]:
    """float32 [<= BLOCK_FRAMES] blocks of the file, channels averaged; ClipError when decoding breaks."""
    done = 0
    try:
        with sf.SoundFile(str(source.path)) as f:
            for block in f.blocks(BLOCK_FRAMES, dtype="float32", always_2d=True):
                done += len(block)
                yield block.mean(axis=1, dtype=np.float32) if block.shape[1] > 1 else block[:, 0]
    except (sf.LibsndfileError, RuntimeError) as e:
        where = (f"decoding stopped at {done / source.sample_rate:.1f} s of {source.seconds:.1f} s" if done else
                 "its audio data cannot be decoded")
        raise ClipError(f"{source.path.name} is truncated or corrupt: {where} ({e}); export or copy it again") \
            from None


def read_clip(path: str | os.PathLike[str], min_seconds: float = MIN_SECONDS) -> tuple[np.ndarray, ClipSource]:
    """Decode a clip (WAV, FLAC, Ogg, MP3 where libsndfile has it; any rate, depth and channel count).

    Returns (audio float32 [n] mono at source.sample_rate, source). Channels are averaged.
    Raises ClipError naming the file: missing, empty, not audio, corrupt, too long or too short, or
    holding NaN/infinite samples.
    """
    source = probe(path, min_seconds)
    out = np.empty(int(source.seconds * source.sample_rate + 0.5), dtype=np.float32)
    n, extra = 0, []
    for block in _mono_blocks(source):
        take = min(len(block), len(out) - n)
        out[n:n + take] = block[:take]
        n += take
        if take < len(block):  # more frames than the header said (some MP3s)
            extra.append(block[take:])
    audio = np.concatenate([out[:n], *extra]) if extra else out[:n]
    if not np.isfinite(audio).all():  # float files can hold them; every level and spectrum would be NaN
        raise ClipError(f"{source.path.name} holds invalid samples (NaN or infinity); export it again as "
                        "16- or 24-bit WAV or FLAC")
    return audio, source
