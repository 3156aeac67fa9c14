"""Reading the corpus that ``timbre train data`` made: clips, WORLD features and phone timings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

from engine.phonemes import SYMBOLS
from engine.train.errors import TrainingError, reading

STEPS_PER_FRAME = 16  # 5 ms WORLD steps per 80 ms frame
STEPS_PER_ALIGN = 2  # 5 ms steps per 10 ms alignment step
_INDEX = {s: i for i, s in enumerate(SYMBOLS)}
PLAN_NAME = "plan.json"  # written when ``timbre train data`` starts: the folder is a corpus from then on


class CorpusError(TrainingError):
    pass


@dataclass
class Clip:
    meta: dict
    features: np.ndarray  # float32 [steps, 43]

    @property
    def name(self) -> str:
        return self.meta["clip"]

    @property
    def frames(self) -> int:
        return len(self.features) // STEPS_PER_FRAME

    def unit_ids(self) -> np.ndarray:
        return np.array([_INDEX[u] for u in self.meta["units"]], dtype=np.int64)

    def unit_ends(self) -> np.ndarray:
        """End of every unit in 5 ms steps (cumulative)."""
        return np.cumsum(np.array(self.meta["durations_10ms"]) * STEPS_PER_ALIGN)

    def frame_units(self) -> np.ndarray:
        """Index (into the unit sequence) of the unit at each frame's centre: int64 [frames]."""
        centres = np.arange(self.frames) * STEPS_PER_FRAME + STEPS_PER_FRAME // 2
        return np.minimum(np.searchsorted(self.unit_ends(), centres, side="right"), len(self.meta["units"]) - 1)

    def frame_unit_points(self, points: int) -> np.ndarray:
        """SYMBOLS ids of the units at ``points`` evenly spaced instants inside each frame: int64 [frames, points].
        The semantic token is trained to name all of them, so it carries every phone a frame holds."""
        step = STEPS_PER_FRAME / points
        at = (np.arange(self.frames)[:, None] * STEPS_PER_FRAME + step / 2 + np.arange(points)[None] * step)
        index = np.minimum(np.searchsorted(self.unit_ends(), at, side="right"), len(self.meta["units"]) - 1)
        return self.unit_ids()[index]


def read_plan(folder: Path) -> dict:
    """The corpus plan (written when ``timbre train data`` starts): held-out speakers and counts."""
    path = folder / PLAN_NAME
    if not path.is_file():
        raise CorpusError(f"no corpus at {folder}: run `timbre train data --out {folder}` first")
    with reading(path, CorpusError):
        plan = json.loads(path.read_text(encoding="utf-8"))
    if plan.get("format_version") != 1:
        raise CorpusError(f"{path}: corpus format {plan.get('format_version')} is not supported")
    return plan


def plan_extra_sentences(folder: Path) -> int:
    """The ``--extra-sentences`` the corpus in ``folder`` was made with (0 where there is none)."""
    try:
        return int(read_plan(folder).get("extra_sentences", 0))
    except CorpusError:
        return 0


def load_clips(folder: Path, split: str | None = "train", exclude_held_out: bool = True) -> list[Clip]:
    """Clips of ``split`` (None = all) with their features, from every finished shard (so training can
    start while the corpus is still being made)."""
    plan = read_plan(folder)  # also when the held-out voices stay: a folder without a corpus is an error
    held_out = set(plan["held_out_speakers"]) if exclude_held_out else set()
    clips = []
    for meta_path in sorted((folder / "shards").glob("*.json")):
        with reading(meta_path, CorpusError):
            metas = json.loads(meta_path.read_text(encoding="utf-8"))["clips"]
        metas = [c for c in metas if (split is None or c["split"] == split) and c["speaker"] not in held_out]
        if not metas:
            continue
        shard = meta_path.with_suffix(".safetensors")
        with reading(shard, CorpusError):
            feats = load_file(str(shard))
        clips += [Clip(c, feats[c["clip"]]) for c in metas]
    return clips
