"""A model's built-in presets are written once and left alone while the model and its voices are the same."""

import shutil

from pathlib import Path

import numpy as np

from engine.train.export import write_presets
from engine.voices.preset import PROMPT_FILE, VOICE_FILE, prompt_bytes

TINY = Path(__file__).resolve().parents[2] / "assets" / "tiny-random"


def test_presets_are_not_rewritten_when_nothing_changed(tmp_path):
    model = tmp_path / "model"
    shutil.copytree(TINY, model)
    shutil.copy(model / "voices" / "default.safetensors", model / "voices" / "second.safetensors")
    folders = write_presets(tmp_path / "presets", model)
    assert len(folders) == 2 and all((f / VOICE_FILE).is_file() for f in folders)
    first = {f: (f / VOICE_FILE).read_bytes() for f in folders}
    for f in folders:  # as if written on another day
        (f / VOICE_FILE).write_bytes(first[f].replace(b'"created": "', b'"created": "1999'))
    dated = {f: (f / VOICE_FILE).read_bytes() for f in folders}
    assert write_presets(tmp_path / "presets", model) == folders
    assert {f: (f / VOICE_FILE).read_bytes() for f in folders} == dated
    # other codes in one of them: that one is written again, with today's dates
    changed = folders[0]
    (changed / PROMPT_FILE).write_bytes(prompt_bytes(np.zeros((3, 2), np.int32)))
    write_presets(tmp_path / "presets", model)
    assert b'"created": "1999' not in (changed / VOICE_FILE).read_bytes()
    assert all((f / VOICE_FILE).read_bytes() == dated[f] for f in folders[1:])
