"""One preset folder on disk: what is written, strict reading, and atomic saves that lose nothing."""

from __future__ import annotations

import errno
import json
import os
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from safetensors import safe_open
from safetensors.numpy import save_file

from engine.api import SamplingParams
from engine.voices import preset as preset_module
from engine.voices.preset import (
    FORMAT_VERSION,
    Consent,
    PresetError,
    VoicePreset,
    read_preset,
    read_prompt,
    read_reference,
    write_preset,
)

RATE = 16_000


def make_codes(frames: int = 20, k: int = 8, seed: int = 0) -> np.ndarray:
    """Random but valid codes int32 [frames, 1 + k]: semantic ids < 64, acoustic levels < 21."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.integers(0, 64, (frames, 1)), rng.integers(0, 21, (frames, k))], axis=1).astype(np.int32)


def make_reference(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    """float32 [n] at RATE: a tone with a little noise, peak below 1."""
    t = np.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(seed)
    return (0.4 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def make_preset(name: str = "Ava Warm", **fields) -> VoicePreset:
    base = dict(family="timbre", model_hash="c7ffc63168bf175f", description="A warm narrator",
                language="en-US", tags=("warm", "narration"), brand="Acme",
                consent=Consent("Ava Example", "I agree to my voice being cloned for Acme.", "2025-03-01",
                                "signed release"),
                params={"steps": 6, "guidance": 1.5, "seed": 7}, transcript="Hello there.")
    base.update(fields)
    return VoicePreset(id="", name=name, **base)


@pytest.fixture
def saved(tmp_path) -> tuple[Path, VoicePreset, np.ndarray, np.ndarray]:
    codes, audio = make_codes(), make_reference()
    folder = tmp_path / "voices" / "ava-warm"
    return folder, write_preset(folder, make_preset(), codes, audio, RATE), codes, audio


def test_a_written_preset_reads_back_identical(saved):
    folder, written, codes, audio = saved
    assert sorted(p.name for p in folder.iterdir()) == ["prompt.safetensors", "reference.flac", "voice.json"]
    assert read_preset(folder) == written
    assert written.id == "ava-warm" and written.created and written.modified and written.folder == folder
    prompt = read_prompt(folder)
    assert prompt.dtype == np.int32 and np.array_equal(prompt, codes)
    with safe_open(str(folder / "prompt.safetensors"), "np") as f:
        assert f.metadata() == {"format_version": str(FORMAT_VERSION)}
    info = sf.info(str(folder / "reference.flac"))
    assert (info.format, info.subtype, info.channels, info.samplerate) == ("FLAC", "PCM_24", 1, RATE)
    back, rate = read_reference(folder)
    assert rate == RATE and back.shape == audio.shape
    assert np.max(np.abs(back - audio)) < 2.0 ** -22  # 24-bit quantisation only
    assert json.loads((folder / "voice.json").read_text())["format_version"] == FORMAT_VERSION


def test_preset_properties(saved):
    _, preset, _, _ = saved
    assert preset.has_consent and not preset.read_only
    assert preset.voice_ref == "preset:ava-warm"
    params = preset.sampling_params(SamplingParams(temperature=0.5))
    assert (params.steps, params.guidance, params.seed, params.temperature) == (6, 1.5, 7, 0.5)
    assert not replace(preset, consent=None).has_consent
    assert replace(preset, origin="builtin").read_only


def _edit_voice_json(folder: Path, edit) -> None:
    data = json.loads((folder / "voice.json").read_text())
    edit(data)
    (folder / "voice.json").write_text(json.dumps(data))


@pytest.mark.parametrize("edit, words", [
    (lambda d: d.update(colour="blue"), ["unknown field", "colour"]),
    (lambda d: d.pop("brand"), ["missing field", "brand"]),
    (lambda d: d.update(tags="warm"), ["tags", "must be a list"]),
    (lambda d: d.update(name=3), ["name", "must be text"]),
    (lambda d: d.update(name="  "), ["name is empty"]),
    (lambda d: d.update(format_version=2), ["format_version 2", "newer", "update Timbre Studio"]),
    (lambda d: d.update(format_version="1"), ["format_version must be a whole number"]),
    (lambda d: d["consent"].pop("method"), ["consent", "missing field", "method"]),
    (lambda d: d["consent"].update(date="last tuesday"), ["consent.date", "2025-01-31"]),
    (lambda d: d["consent"].update(speaker=""), ["consent.speaker is empty"]),
    (lambda d: d["params"].update(speed=2), ["params", "unknown sampling parameter 'speed'"]),
    (lambda d: d["params"].update(steps=True), ["params.steps must be a whole number"]),
    (lambda d: d["params"].update(steps=99), ["params", "steps must be a whole number from 1 to 32"]),
    (lambda d: d.update(description="x" * 5000), ["description is 5000 characters"]),
])
def test_voice_json_is_read_strictly(saved, edit, words):
    folder = saved[0]
    _edit_voice_json(folder, edit)
    with pytest.raises(PresetError) as e:
        read_preset(folder)
    assert str(folder / "voice.json") in str(e.value)
    for word in words:
        assert word in str(e.value)


def test_malformed_json_and_missing_files_are_named(saved):
    folder = saved[0]
    (folder / "voice.json").write_text('{"name": "Ava",')
    with pytest.raises(PresetError, match="voice.json is not valid JSON"):
        read_preset(folder)
    (folder / "reference.flac").unlink()
    with pytest.raises(PresetError, match="not a complete voice preset: reference.flac missing"):
        read_preset(folder)
    with pytest.raises(PresetError, match="does not exist"):
        read_preset(folder.parent / "nope")


def test_prompt_must_be_int32_codes_in_safetensors(saved):
    folder = saved[0]
    prompt = folder / "prompt.safetensors"
    prompt.write_bytes(pickle.dumps({"codes": [[1, 2, 3]]}))
    with pytest.raises(PresetError, match="pickle .*refused"):
        read_prompt(folder)
    save_file({"codes": make_codes().astype(np.float32)}, str(prompt), metadata={"format_version": "1"})
    with pytest.raises(PresetError, match="codes must be int32"):
        read_prompt(folder)
    save_file({"codes": make_codes()}, str(prompt))
    with pytest.raises(PresetError, match="format_version is missing"):
        read_prompt(folder)
    save_file({"codes": make_codes()[:, 0].copy()}, str(prompt), metadata={"format_version": "1"})
    with pytest.raises(PresetError, match=r"shape .* got \[20\]"):
        read_prompt(folder)
    save_file({"codes": make_codes(), "extra": make_codes()}, str(prompt), metadata={"format_version": "1"})
    with pytest.raises(PresetError, match="one tensor named 'codes'"):
        read_prompt(folder)


def test_reference_must_be_mono_flac(saved):
    folder = saved[0]
    (folder / "reference.flac").write_text("this is not audio")
    with pytest.raises(PresetError, match="reference.flac is not readable FLAC audio"):
        read_reference(folder)
    sf.write(str(folder / "reference.flac"), np.zeros((100, 2), np.float32), RATE, format="FLAC")
    with pytest.raises(PresetError, match="must be mono FLAC"):
        read_reference(folder)


@pytest.mark.parametrize("codes, words", [
    (np.zeros((0, 9), np.int32), "shape"),
    (np.full((4, 9), -1, np.int32), "from 0"),
    (np.zeros((4, 9), np.float32), "integer array"),
])
def test_bad_codes_are_refused_before_anything_is_written(tmp_path, codes, words):
    with pytest.raises(PresetError, match=words):
        write_preset(tmp_path / "v" / "x", make_preset(), codes, make_reference(), RATE)
    assert not (tmp_path / "v").exists() or not list((tmp_path / "v").iterdir())


def test_bad_metadata_is_refused_before_anything_is_written(tmp_path):
    bad = make_preset(consent=Consent("Ava", "yes", "2025-13-45", "verbal"))
    with pytest.raises(PresetError, match="consent.date"):
        write_preset(tmp_path / "x", bad, make_codes(), make_reference(), RATE)
    with pytest.raises(PresetError, match="sample rate"):
        write_preset(tmp_path / "x", make_preset(), make_codes(), make_reference(), 1000)
    with pytest.raises(PresetError, match="121 s long; a preset keeps at most 120 s"):
        write_preset(tmp_path / "x", make_preset(), make_codes(), np.zeros(121 * RATE, np.float32), RATE)
    with pytest.raises(PresetError, match="family is empty"):
        write_preset(tmp_path / "x", make_preset(family=""), make_codes(), make_reference(), RATE)
    assert list(tmp_path.iterdir()) == []


def _fail_on_second_fsync(monkeypatch) -> None:
    """The disk fills up while the second file of a preset is written."""
    real, calls = os.fsync, []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd)

    monkeypatch.setattr(preset_module.os, "fsync", fsync)


def test_a_save_that_fails_midway_leaves_the_old_preset_intact(saved, monkeypatch):
    folder, old, codes, _ = saved
    _fail_on_second_fsync(monkeypatch)
    with pytest.raises(PresetError, match="No space left on device; the old preset is unchanged"):
        write_preset(folder, replace(old, name="Changed"), make_codes(seed=1), make_reference(seed=1), RATE)
    monkeypatch.undo()
    assert read_preset(folder) == old
    assert np.array_equal(read_prompt(folder), codes)
    assert [p.name for p in folder.parent.iterdir()] == ["ava-warm"]  # no temporary folder left


def test_a_new_preset_that_fails_midway_leaves_nothing(tmp_path, monkeypatch):
    _fail_on_second_fsync(monkeypatch)
    with pytest.raises(PresetError, match="cannot save voice preset"):
        write_preset(tmp_path / "new", make_preset(), make_codes(), make_reference(), RATE)
    assert list(tmp_path.iterdir()) == []


def test_saving_over_a_preset_replaces_it_whole(saved):
    folder, old, _, _ = saved
    new_codes = make_codes(frames=7, seed=3)
    new = write_preset(folder, replace(old, name="Ava Bright"), new_codes, make_reference(0.5), RATE)
    assert read_preset(folder).name == "Ava Bright" and new.created == old.created
    assert np.array_equal(read_prompt(folder), new_codes)
    assert [p.name for p in folder.parent.iterdir()] == ["ava-warm"]
