"""Frames exported for other tools: NumPy .npz and CSV (the safetensors form is take_files.py).

Both carry the format version and the take's metadata. npz holds only plain arrays (the metadata
is a JSON string array), so ``np.load(..., allow_pickle=False)`` reads it.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from engine.api import EngineError, Frame
from engine.atomic import write_atomic, write_text_atomic
from engine.take_files import FRAMES_FORMAT_VERSION, frame_units, frames_to_arrays, save_frames

FRAME_FORMATS = (".safetensors", ".npz", ".csv")


def save_frames_npz(path: str | Path, frames: list[Frame] | tuple[Frame, ...], metadata: dict[str, Any]) -> Path:
    arrays = frames_to_arrays(frames)
    if (units := frame_units(frames)) is not None:
        arrays["unit"] = np.array(units, dtype=str)  # a unicode array: np.load reads it without pickle
    meta = json.dumps({"format_version": FRAMES_FORMAT_VERSION, **metadata})
    arrays["metadata_json"] = np.array(meta)

    def write(p: Path) -> None:
        with open(p, "wb") as f:
            np.savez(f, **arrays)

    return write_atomic(path, write)


def load_frames_npz(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Arrays and metadata of an exported .npz (raises EngineError for anything else)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(str(arrays.pop("metadata_json")))
    except Exception as e:
        raise EngineError(f"{path} is not a frames .npz file: {e}") from e
    if meta.get("format_version") != FRAMES_FORMAT_VERSION:
        raise EngineError(f"{path}: frames format version {meta.get('format_version')!r} is not supported")
    return arrays, meta


def frames_csv(frames: list[Frame] | tuple[Frame, ...], metadata: dict[str, Any]) -> str:
    """One row per frame: index, time, semantic id and probability, end of speech, the text unit under
    the pointer (empty for models without one), the K acoustic values, the K FSQ levels. A first comment
    line holds the format version and metadata (JSON)."""
    arrays = frames_to_arrays(frames)
    k = arrays["acoustic"].shape[1]
    out = io.StringIO()
    out.write(f"# timbre frames v{FRAMES_FORMAT_VERSION} {json.dumps(metadata, sort_keys=True)}\n")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["frame", "time_s", "semantic_id", "semantic_prob", "end_of_speech", "unit",
                *[f"acoustic_{i}" for i in range(k)], *[f"level_{i}" for i in range(k)]])
    for i, f in enumerate(frames):
        w.writerow([f.index, f"{f.time:.2f}", f.semantic_id, f"{f.semantic_prob:.6g}", int(f.end_of_speech), f.unit,
                    *(f"{v:.6g}" for v in arrays["acoustic"][i]), *arrays["codes"][i][1:].tolist()])
    return out.getvalue()


def export_frames(path: str | Path, frames: list[Frame] | tuple[Frame, ...], metadata: dict[str, Any]) -> Path:
    """Write frames as .safetensors, .npz or .csv, chosen by the file name."""
    suffix = Path(path).suffix.lower()
    if suffix == ".safetensors":
        return save_frames(path, frames, metadata)
    if suffix == ".npz":
        return save_frames_npz(path, frames, metadata)
    if suffix == ".csv":
        return write_text_atomic(path, frames_csv(frames, metadata))
    raise EngineError(f"cannot write {Path(path).name}: use .safetensors, .npz or .csv for latents")
