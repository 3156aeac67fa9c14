""".timbrevoice bundles: a faithful round trip, and an import that refuses anything unsafe, writing nothing."""

from __future__ import annotations

import hashlib
import json
import pickle
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from safetensors.numpy import save
from test_voice_presets import RATE, make_codes, make_preset, make_reference

from engine.api import VoiceInfo
from engine.voices.library import VoiceLibrary
from engine.voices.preset import PresetError, read_reference, write_preset
from engine.voices.share import BUNDLE_SUFFIX, export_bundle, import_bundle

FAMILIES = {"timbre", "voxtral"}
PAYLOAD = ("voice.json", "prompt.safetensors", "reference.flac")


@pytest.fixture
def source(tmp_path) -> VoiceLibrary:
    library = VoiceLibrary(tmp_path / "source", builtin_dirs=[])
    p = make_preset()
    library.create(p.name, make_codes(), make_reference(), RATE, family=p.family, model_hash=p.model_hash,
                   description=p.description, language=p.language, tags=p.tags, brand=p.brand,
                   consent=p.consent, params=p.params, transcript=p.transcript)
    return library


@pytest.fixture
def bundle(source, tmp_path) -> Path:
    return export_bundle(source.get("ava-warm"), tmp_path)


@pytest.fixture
def target(tmp_path) -> VoiceLibrary:
    return VoiceLibrary(tmp_path / "target", builtin_dirs=[])


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _manifest(members: dict[str, bytes], version: int = 1) -> bytes:
    listing = {n: {"sha256": hashlib.sha256(members[n]).hexdigest(), "size": len(members[n])} for n in PAYLOAD}
    return json.dumps({"format_version": version, "members": listing}).encode()


def _rezip(bundle: Path, changes: dict[str, bytes | None], *, manifest: bool = True) -> Path:
    """A copy of ``bundle`` with members replaced (None removes one) and, unless told not to, a manifest
    that matches, so that each test's bundle has exactly one flaw."""
    members = {**_members(bundle), **changes}
    members = {k: v for k, v in members.items() if v is not None}
    if manifest and all(n in members for n in PAYLOAD):
        members["manifest.json"] = _manifest(members)
    out = bundle.with_name("changed" + BUNDLE_SUFFIX)
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out


def _add_entry(bundle: Path, info: zipfile.ZipInfo, data: bytes) -> Path:
    out = bundle.with_name("extra" + BUNDLE_SUFFIX)
    with zipfile.ZipFile(out, "w") as zf:
        for name, member in _members(bundle).items():
            zf.writestr(name, member)
        zf.writestr(info, data)
    return out


def _refused(path: Path, library: VoiceLibrary, *words: str, families=FAMILIES) -> None:
    """Import is refused with a message holding ``words``, and nothing at all is written."""
    with pytest.raises(PresetError) as e:
        import_bundle(path, library, known_families=families)
    for word in words:
        assert word in str(e.value)
    assert not library.user_dir.exists() or not any(library.user_dir.rglob("*"))
    assert library.presets() == []


def test_round_trip_gives_an_identical_preset(source, bundle, target):
    assert bundle.name == "ava-warm.timbrevoice"
    assert sorted(_members(bundle)) == ["manifest.json", *sorted(PAYLOAD)]
    original = source.get("ava-warm")
    imported = import_bundle(bundle, target, known_families=FAMILIES)
    assert imported == original and imported.folder.parent == target.user_dir
    assert imported.has_consent and imported.consent == original.consent
    codes = target.prompt("ava-warm")
    assert codes.dtype == np.int32 and np.array_equal(codes, source.prompt("ava-warm"))
    for name in PAYLOAD:
        assert (imported.folder / name).read_bytes() == (original.folder / name).read_bytes()
    assert np.array_equal(read_reference(imported.folder)[0], read_reference(original.folder)[0])


def test_export_is_reproducible_and_names_the_file(source, tmp_path):
    preset = source.get("ava-warm")
    a = export_bundle(preset, tmp_path / "a")
    b = export_bundle(preset, tmp_path / f"b{BUNDLE_SUFFIX}")
    assert (a.name, b.name) == (f"a{BUNDLE_SUFFIX}", f"b{BUNDLE_SUFFIX}")
    assert a.read_bytes() == b.read_bytes()


def test_importing_twice_gives_a_second_id(bundle, target):
    first = import_bundle(bundle, target, known_families=FAMILIES)
    second = import_bundle(bundle, target, known_families=FAMILIES)
    assert (first.id, second.id) == ("ava-warm", "ava-warm-2")


def test_builtin_presets_export_and_family_voices_do_not(tmp_path, target):
    write_preset(tmp_path / "builtin" / "house", make_preset("House"), make_codes(), make_reference(), RATE)
    library = VoiceLibrary(tmp_path / "user", builtin_dirs=[tmp_path / "builtin"])
    library.add_family_voices("voxtral", [VoiceInfo("casual_male")])
    bundle = export_bundle(library.get("house"), tmp_path)
    imported = import_bundle(bundle, target, known_families=FAMILIES)
    assert (imported.id, imported.origin) == ("house", "user")
    with pytest.raises(PresetError, match="released voice of the voxtral model; there is no preset file"):
        export_bundle(library.get("voxtral:casual_male"), tmp_path)


def test_zip_slip_paths_are_refused(bundle, target):
    for name in ("../evil.json", "/etc/cron.d/evil", "voices/../../evil", "C:\\evil.json"):
        _refused(_add_entry(bundle, zipfile.ZipInfo(name), b"{}"), target, repr(name), "unsafe path")


def test_symlink_members_are_refused(bundle, target):
    members = _members(bundle)
    out = bundle.with_name("link" + BUNDLE_SUFFIX)
    with zipfile.ZipFile(out, "w") as zf:
        for name in ("voice.json", "prompt.safetensors", "manifest.json"):
            zf.writestr(name, members[name])
        link = zipfile.ZipInfo("reference.flac")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/home/someone/.ssh/id_rsa")
    _refused(out, target, "'reference.flac' is a symbolic link")


def test_oversized_members_are_refused(bundle, target):
    big = json.loads(_members(bundle)["voice.json"])
    big["description"] = "x" * 300_000
    _refused(_rezip(bundle, {"voice.json": json.dumps(big).encode()}), target, "voice.json is 300,", "at most 262,144")


def test_too_many_entries_and_unexpected_members_are_refused(bundle, target):
    many = bundle.with_name("many" + BUNDLE_SUFFIX)
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(40):
            zf.writestr(f"f{i}", b"")
    _refused(many, target, "has 40 entries; a voice bundle has 4")
    _refused(_add_entry(bundle, zipfile.ZipInfo("notes.txt"), b"hi"), target, "unexpected member 'notes.txt'")
    _refused(_rezip(bundle, {"reference.flac": None}), target, "incomplete: reference.flac missing")


def test_pickle_payloads_are_refused(bundle, target):
    payload = pickle.dumps({"codes": make_codes().tolist()})
    _refused(_rezip(bundle, {"prompt.safetensors": payload}), target, "prompt.safetensors is a pickle", "refused")
    _refused(_add_entry(bundle, zipfile.ZipInfo("prompt.pt"), payload), target, "prompt.pt, a pickle")


def test_wrong_format_versions_are_refused(bundle, target):
    voice = json.loads(_members(bundle)["voice.json"])
    voice["format_version"] = 2
    _refused(_rezip(bundle, {"voice.json": json.dumps(voice).encode()}), target,
             "voice.json: format_version 2", "newer Timbre Studio")
    members = _members(bundle)
    _refused(_rezip(bundle, {"manifest.json": _manifest(members, version=7)}, manifest=False), target,
             "manifest.json: format_version 7")


def test_malformed_json_is_refused(bundle, target):
    _refused(_rezip(bundle, {"voice.json": b'{"name": "Ava", '}), target, "voice.json is not valid JSON")
    voice = json.loads(_members(bundle)["voice.json"])
    voice["owner"] = "someone"
    _refused(_rezip(bundle, {"voice.json": json.dumps(voice).encode()}), target, "unknown field(s) owner")
    _refused(_rezip(bundle, {"manifest.json": b"[1, 2]"}, manifest=False), target, "must hold a JSON object")


def test_an_unknown_model_family_is_refused(bundle, target):
    _refused(bundle, target, "model family 'timbre'", "known: voxtral", families={"voxtral"})


def test_a_checksum_mismatch_is_refused(source, bundle, target):
    audio, rate = sf.read(str(source.get("ava-warm").folder / "reference.flac"))
    swapped = bundle.with_name("swapped.flac")
    sf.write(str(swapped), audio[::-1].copy(), rate, format="FLAC", subtype="PCM_24")
    _refused(_rezip(bundle, {"reference.flac": swapped.read_bytes()}, manifest=False), target,
             "checksum of reference.flac does not match")


def test_bad_codes_and_audio_are_refused(bundle, target, tmp_path):
    floats = save({"codes": make_codes().astype(np.float32)}, metadata={"format_version": "1"})
    _refused(_rezip(bundle, {"prompt.safetensors": floats}), target, "codes must be int32")
    flat = save({"codes": np.zeros((3, 1), np.int32)}, metadata={"format_version": "1"})
    _refused(_rezip(bundle, {"prompt.safetensors": flat}), target, "codes must have shape")
    wav = tmp_path / "ref.wav"
    sf.write(str(wav), make_reference(), RATE)
    _refused(_rezip(bundle, {"reference.flac": wav.read_bytes()}), target, "must be mono FLAC audio, got WAV")


def test_files_that_are_not_bundles_are_refused(bundle, tmp_path, target):
    text = tmp_path / f"notes{BUNDLE_SUFFIX}"
    text.write_text("hello")
    _refused(text, target, f"not a readable {BUNDLE_SUFFIX} bundle")
    _refused(tmp_path / f"missing{BUNDLE_SUFFIX}", target, "cannot read")
    data = bytearray(bundle.read_bytes())
    truncated = tmp_path / f"truncated{BUNDLE_SUFFIX}"
    truncated.write_bytes(data[: len(data) // 2])
    _refused(truncated, target, f"not a readable {BUNDLE_SUFFIX} bundle")
    start = data.index(b"reference.flac") + 40  # inside the first member's compressed data
    data[start:start + 64] = bytes(64)
    damaged = tmp_path / f"damaged{BUNDLE_SUFFIX}"
    damaged.write_bytes(bytes(data))
    _refused(damaged, target, f"not a readable {BUNDLE_SUFFIX} bundle")
