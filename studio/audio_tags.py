"""Chapter markers inside audio files, written and read without GPL tag libraries:

- FLAC: a VORBIS_COMMENT block with the de-facto chapter keys CHAPTER001=HH:MM:SS.mmm and
  CHAPTER001NAME=title (read by foobar2000, VLC, Kodi…);
- WAV: a ``cue `` chunk with one cue point per chapter and a ``LIST``/``adtl`` chunk of ``labl`` names
  (read by Audacity, Reaper, Adobe Audition…).

Both rewrite the file through a temporary copy (atomic).
"""

from __future__ import annotations

import struct
from pathlib import Path

from engine.atomic import write_atomic

VENDOR = b"Timbre Studio"


def clock(seconds: float) -> str:
    """HH:MM:SS.mmm"""
    ms = int(round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def parse_clock(text: str) -> float:
    h, m, s = text.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


# ---- FLAC -------------------------------------------------------------------------------------------


def _flac_blocks(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """Metadata blocks [(type, body)] and the offset where the audio frames start."""
    if data[:4] != b"fLaC":
        raise ValueError("not a FLAC file")
    pos, blocks = 4, []
    while True:
        header = data[pos]
        kind, last = header & 0x7F, header & 0x80
        size = int.from_bytes(data[pos + 1:pos + 4], "big")
        blocks.append((kind, data[pos + 4:pos + 4 + size]))
        pos += 4 + size
        if last:
            return blocks, pos


def _vorbis_comment(pairs: list[tuple[str, str]]) -> bytes:
    out = struct.pack("<I", len(VENDOR)) + VENDOR + struct.pack("<I", len(pairs))
    for key, value in pairs:
        entry = f"{key}={value}".encode()
        out += struct.pack("<I", len(entry)) + entry
    return out


def write_flac_chapters(path: str | Path, chapters: list[tuple[float, str]]) -> None:
    """Replace the file's Vorbis comments with CHAPTERnnn / CHAPTERnnnNAME entries."""
    path = Path(path)
    data = path.read_bytes()
    blocks, audio_at = _flac_blocks(data)
    pairs = []
    for i, (start, title) in enumerate(chapters, start=1):
        pairs += [(f"CHAPTER{i:03d}", clock(start)), (f"CHAPTER{i:03d}NAME", title)]
    kept = [(k, b) for k, b in blocks if k not in (1, 4)]  # drop padding and the old comments
    kept.insert(1, (4, _vorbis_comment(pairs)))  # STREAMINFO must stay first
    out = bytearray(b"fLaC")
    for i, (kind, body) in enumerate(kept):
        out.append(kind | (0x80 if i == len(kept) - 1 else 0))
        out += len(body).to_bytes(3, "big") + body
    out += data[audio_at:]
    write_atomic(path, lambda p: p.write_bytes(bytes(out)))


def read_flac_chapters(path: str | Path) -> list[tuple[float, str]]:
    blocks, _ = _flac_blocks(Path(path).read_bytes())
    comments: dict[str, str] = {}
    for kind, body in blocks:
        if kind != 4:
            continue
        vendor_len = struct.unpack_from("<I", body, 0)[0]
        pos = 4 + vendor_len
        (count,) = struct.unpack_from("<I", body, pos)
        pos += 4
        for _ in range(count):
            (n,) = struct.unpack_from("<I", body, pos)
            key, _, value = body[pos + 4:pos + 4 + n].decode().partition("=")
            comments[key.upper()] = value
            pos += 4 + n
    chapters, i = [], 1
    while f"CHAPTER{i:03d}" in comments:
        chapters.append((parse_clock(comments[f"CHAPTER{i:03d}"]), comments.get(f"CHAPTER{i:03d}NAME", "")))
        i += 1
    return chapters


# ---- WAV --------------------------------------------------------------------------------------------


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV file")
    pos, chunks = 12, []
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        chunks.append((cid, data[pos + 8:pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return chunks


def write_wav_chapters(path: str | Path, chapters: list[tuple[float, str]], sample_rate: int) -> None:
    """Add cue points (at chapter starts, in samples) with labels; old cues and labels are replaced."""
    path = Path(path)
    chunks = [(c, b) for c, b in _chunks(path.read_bytes()) if c != b"cue " and not (
        c == b"LIST" and b[:4] == b"adtl")]
    cue = struct.pack("<I", len(chapters))
    labels = b"adtl"
    for i, (start, title) in enumerate(chapters, start=1):
        sample = int(round(start * sample_rate))
        cue += struct.pack("<II4sIII", i, sample, b"data", 0, 0, sample)
        text = title.encode() + b"\x00"
        labels += b"labl" + struct.pack("<I", 4 + len(text)) + struct.pack("<I", i) + text + (b"\x00" * (len(text) & 1))
    chunks += [(b"cue ", cue), (b"LIST", labels)]
    body = b"WAVE" + b"".join(c + struct.pack("<I", len(b)) + b + (b"\x00" * (len(b) & 1)) for c, b in chunks)
    write_atomic(path, lambda p: p.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body))


def read_wav_chapters(path: str | Path, sample_rate: int) -> list[tuple[float, str]]:
    chunks = _chunks(Path(path).read_bytes())
    points: dict[int, int] = {}
    names: dict[int, str] = {}
    for cid, body in chunks:
        if cid == b"cue ":
            (n,) = struct.unpack_from("<I", body, 0)
            for i in range(n):
                ident, position = struct.unpack_from("<II", body, 4 + 24 * i)
                points[ident] = struct.unpack_from("<I", body, 4 + 24 * i + 20)[0] or position
        elif cid == b"LIST" and body[:4] == b"adtl":
            pos = 4
            while pos + 8 <= len(body):
                sub, size = body[pos:pos + 4], struct.unpack_from("<I", body, pos + 4)[0]
                if sub == b"labl":
                    ident = struct.unpack_from("<I", body, pos + 8)[0]
                    names[ident] = body[pos + 12:pos + 8 + size].split(b"\x00")[0].decode()
                pos += 8 + size + (size & 1)
    return [(points[i] / sample_rate, names.get(i, "")) for i in sorted(points)]
