"""Frames and audio on disk: frames as safetensors (with JSON metadata), audio as WAV/FLAC.

No torch: the studio writes takes too. Every file carries ``format_version``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from safetensors.numpy import load_file, save_file

from engine.api import EngineError, Frame
from engine.atomic import write_atomic

FRAMES_FORMAT_VERSION = 1
UNITS_KEY = "frame_units"  # metadata key of the frames' text units (absent from takes made before them)


def frames_to_arrays(frames: list[Frame] | tuple[Frame, ...]) -> dict[str, np.ndarray]:
    """Stack frames: semantic [T] int64, semantic_prob [T] f32, acoustic [T, K] f32, codes [T, 1+K]
    int64, end_of_speech [T] uint8, and trajectory [T, steps+1, K] f32 when every frame has one."""
    if not frames:
        raise EngineError("there are no frames to save")
    arrays = {
        "semantic": np.array([f.semantic_id for f in frames], dtype=np.int64),
        "semantic_prob": np.array([f.semantic_prob for f in frames], dtype=np.float32),
        "acoustic": np.stack([np.asarray(f.acoustic, dtype=np.float32) for f in frames]),
        "codes": np.stack([np.asarray(f.codes, dtype=np.int64) for f in frames]),
        "end_of_speech": np.array([f.end_of_speech for f in frames], dtype=np.uint8),
    }
    speech = [f for f in frames if f.trajectory is not None]
    if speech and len(speech) == len(frames):
        arrays["trajectory"] = np.stack([f.trajectory for f in frames]).astype(np.float32)
    elif speech and len(speech) == len(frames) - 1 and frames[-1].end_of_speech:
        traj = np.stack([f.trajectory for f in speech]).astype(np.float32)
        arrays["trajectory"] = np.concatenate([traj, np.full_like(traj[:1], np.nan)])
    return arrays


def frame_units(frames: list[Frame] | tuple[Frame, ...]) -> list[str] | None:
    """Each frame's text unit (``Frame.unit``), or None when no frame has one."""
    units = [f.unit for f in frames]
    return units if any(units) else None


def save_frames(path: str | Path, frames: list[Frame] | tuple[Frame, ...], metadata: dict[str, Any]) -> Path:
    """Write frames atomically; ``metadata`` (model, seed, params...) is stored as JSON strings, and the
    frames' text units, which safetensors cannot hold as a tensor, under ``UNITS_KEY``."""
    arrays = {k: np.ascontiguousarray(v) for k, v in frames_to_arrays(frames).items()}
    meta = {"format_version": str(FRAMES_FORMAT_VERSION)}
    meta.update({k: json.dumps(v) for k, v in metadata.items()})
    if (units := frame_units(frames)) is not None:
        meta[UNITS_KEY] = json.dumps(units)
    return write_atomic(path, lambda p: save_file(arrays, str(p), metadata=meta))


def load_frames(path: str | Path) -> tuple[list[Frame], dict[str, Any]]:
    """Read a frames file back into Frame records and its metadata."""
    try:
        arrays = load_file(str(path))
        from safetensors import safe_open

        with safe_open(str(path), "np") as f:
            raw_meta = f.metadata() or {}
    except Exception as e:
        raise EngineError(f"{path} is not a readable frames file: {e}") from e
    version = raw_meta.get("format_version")
    if version != str(FRAMES_FORMAT_VERSION):
        raise EngineError(f"{path}: frames format version {version!r} is not supported")
    meta = {k: json.loads(v) for k, v in raw_meta.items() if k != "format_version"}
    traj = arrays.get("trajectory")
    n = len(arrays["semantic"])
    units = meta.pop(UNITS_KEY, None)
    if not (isinstance(units, list) and len(units) == n and all(isinstance(u, str) for u in units)):
        units = [""] * n  # none recorded, or not one string per frame
    frames = []
    for i in range(n):
        t = None if traj is None or np.isnan(traj[i]).all() else traj[i]
        frames.append(Frame(i, int(arrays["semantic"][i]), float(arrays["semantic_prob"][i]), arrays["acoustic"][i],
                            arrays["codes"][i], t, bool(arrays["end_of_speech"][i]), units[i]))
    return frames, meta


AUDIO_FORMATS = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16")}


def write_audio(path: str | Path, audio: np.ndarray, sample_rate: int) -> Path:
    """Write mono float audio [n] as 16-bit WAV or FLAC (by suffix), atomically."""
    path = Path(path)
    fmt = AUDIO_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise EngineError(f"cannot write {path.name}: use a .wav or .flac file name")
    data = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    return write_atomic(path, lambda p: sf.write(str(p), data, sample_rate, format=fmt[0], subtype=fmt[1]))
