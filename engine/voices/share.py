"""``.timbrevoice`` bundles: one preset as a zip to hand to a colleague, and a distrustful import.

A bundle holds exactly ``voice.json``, ``prompt.safetensors``, ``reference.flac`` and ``manifest.json``
(``{"format_version": 1, "members": {name: {"sha256": hex, "size": bytes}}}`` for the other three).
Import checks everything before it writes anything: sizes, member count, names (no absolute paths,
``..`` or links), only the expected members (a pickle is refused), the manifest's checksums, the
metadata schema and format version, the prompt's tensor, the audio, and that the model family is known.
"""

from __future__ import annotations

import hashlib
import json
import stat
import zipfile
import zlib
from collections.abc import Collection
from pathlib import Path, PurePosixPath
from engine.atomic import write_atomic
from engine.voices.library import VoiceLibrary
from engine.voices.preset import (
    FORMAT_VERSION,
    PRESET_FILES,
    PROMPT_FILE,
    REFERENCE_FILE,
    VOICE_FILE,
    PresetError,
    VoicePreset,
    check_format_version,
    json_object,
    parse_prompt,
    parse_reference,
    parse_voice_json,
)

BUNDLE_SUFFIX = ".timbrevoice"
KNOWN_FAMILIES = ("timbre", "voxtral")  # model families this build can render, so whose bundles it imports
MANIFEST_FILE = "manifest.json"
BUNDLE_MEMBERS = (*PRESET_FILES, MANIFEST_FILE)
MAX_BUNDLE_BYTES = 64 << 20  # the zip file itself
MAX_TOTAL_BYTES = 64 << 20  # all members, uncompressed
MAX_MEMBER_BYTES = {VOICE_FILE: 256 << 10, MANIFEST_FILE: 64 << 10, PROMPT_FILE: 8 << 20, REFERENCE_FILE: 48 << 20}
MAX_MEMBERS = 16  # more entries than this is not a bundle; fewer are checked by name
_PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".bin", ".ckpt", ".joblib", ".npy", ".npz")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member times: the same preset gives the same bytes


def export_bundle(preset: VoicePreset, dest: Path) -> Path:
    """Write ``preset`` as a ``.timbrevoice`` zip at ``dest`` (a folder: ``<dest>/<id>.timbrevoice``;
    a file name without the suffix gets it). Returns the bundle's path."""
    if preset.folder is None:
        raise PresetError(f"{preset.name!r} is a released voice of the {preset.family} model; there is no "
                          "preset file to export (it comes with the model)")
    dest = Path(dest)
    if dest.is_dir():
        dest = dest / f"{preset.id}{BUNDLE_SUFFIX}"
    elif dest.suffix != BUNDLE_SUFFIX:
        dest = dest.with_name(dest.name + BUNDLE_SUFFIX)
    try:
        members = {name: (preset.folder / name).read_bytes() for name in PRESET_FILES}
    except OSError as e:
        raise PresetError(f"cannot read the preset in {preset.folder}: {e.strerror or e}") from e
    members[MANIFEST_FILE] = _manifest(members)
    try:
        write_atomic(dest, lambda p: _write_zip(p, members))
    except OSError as e:
        raise PresetError(f"cannot write {dest}: {e.strerror or e}") from e
    return dest


def import_bundle(path: Path, library: VoiceLibrary, *, known_families: Collection[str]) -> VoicePreset:
    """Validate a ``.timbrevoice`` bundle completely, then add it to ``library`` as a new user preset
    (a fresh id when its name's id is taken). PresetError says what is wrong; nothing is written then."""
    path = Path(path)
    where = path.name
    members = _read_members(path)
    _check_manifest(members, where)
    preset = parse_voice_json(members[VOICE_FILE], f"{where}: {VOICE_FILE}")
    if preset.family not in known_families:
        known = ", ".join(sorted(known_families)) or "none"
        raise PresetError(f"{where} is for the model family {preset.family!r}, which this Timbre Studio does not "
                          f"know (known: {known}); install a model of that family first")
    parse_prompt(members[PROMPT_FILE], f"{where}: {PROMPT_FILE}")
    parse_reference(members[REFERENCE_FILE], f"{where}: {REFERENCE_FILE}")
    return library.install({name: members[name] for name in PRESET_FILES})


# ---- export ---------------------------------------------------------------------------------------


def _manifest(members: dict[str, bytes]) -> bytes:
    listing = {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)} for name, data in members.items()}
    return (json.dumps({"format_version": FORMAT_VERSION, "members": listing}, indent=1) + "\n").encode()


def _write_zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in BUNDLE_MEMBERS:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, members[name])


# ---- import ---------------------------------------------------------------------------------------


def _read_members(path: Path) -> dict[str, bytes]:
    """The four members' bytes, after checking the zip's size, entries and names."""
    where = path.name
    try:
        size = path.stat().st_size
    except OSError as e:
        raise PresetError(f"cannot read {path}: {e.strerror or e}") from e
    if size > MAX_BUNDLE_BYTES:
        raise PresetError(f"{where} is {size >> 20} MiB; a voice bundle is at most {MAX_BUNDLE_BYTES >> 20} MiB")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_entries(infos, where)
            return {info.filename: _read_member(zf, info) for info in infos}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError, zlib.error) as e:
        # RuntimeError: an encrypted member; zlib.error: damaged compressed data
        raise PresetError(f"{where} is not a readable {BUNDLE_SUFFIX} bundle (a zip file): {e}") from e
    except OSError as e:
        raise PresetError(f"cannot read {path}: {e.strerror or e}") from e


def _check_entries(infos: list[zipfile.ZipInfo], where: str) -> None:
    """Entry count, names, links, sizes: all from the zip's directory, before any member is read."""
    if len(infos) > MAX_MEMBERS:
        raise PresetError(f"{where} has {len(infos)} entries; a voice bundle has {len(BUNDLE_MEMBERS)}")
    total = 0
    for info in infos:
        name = info.filename
        _check_name(name, where)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise PresetError(f"{where}: {name!r} is a symbolic link; bundles may not contain links")
        if name not in BUNDLE_MEMBERS:
            raise PresetError(_unexpected(name, where))
        limit = MAX_MEMBER_BYTES[name]
        if info.file_size > limit:
            raise PresetError(f"{where}: {name} is {info.file_size:,} bytes; at most {limit:,} are allowed")
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise PresetError(f"{where} unpacks to {total:,} bytes; at most {MAX_TOTAL_BYTES:,} are allowed")
    names = [info.filename for info in infos]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise PresetError(f"{where} contains {', '.join(duplicates)} more than once")
    missing = [n for n in BUNDLE_MEMBERS if n not in names]
    if missing:
        raise PresetError(f"{where} is incomplete: {', '.join(missing)} missing")


def _check_name(name: str, where: str) -> None:
    """Refuse names that could land outside the target folder (absolute, drive letter, ``..``, backslash)."""
    parts = PurePosixPath(name).parts
    if not name or name.startswith("/") or "\\" in name or ":" in name or ".." in parts or "\0" in name:
        raise PresetError(f"{where}: member name {name!r} is an unsafe path (absolute or with '..'); "
                          "the bundle was made to write outside its folder and is refused")


def _unexpected(name: str, where: str) -> str:
    expected = ", ".join(BUNDLE_MEMBERS)
    if name.lower().endswith(_PICKLE_SUFFIXES):
        return (f"{where} contains {name}, a pickle or PyTorch file, which can run code when loaded; bundles "
                f"carry only {expected}")
    return f"{where} contains an unexpected member {name!r}; a voice bundle holds only {expected}"


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Read at most the declared size (which _check_entries bounded); a member longer than declared is damage."""
    with zf.open(info) as f:
        data = f.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise zipfile.BadZipFile(f"{info.filename} is not the size the zip directory says")
    return data


def _check_manifest(members: dict[str, bytes], where: str) -> None:
    """The manifest's format version and the sha256 and size of each preset file."""
    where = f"{where}: {MANIFEST_FILE}"
    manifest = json_object(members[MANIFEST_FILE], where)
    if set(manifest) != {"format_version", "members"}:
        raise PresetError(f"{where} must have exactly format_version and members, got {', '.join(sorted(manifest))}")
    version = manifest["format_version"]
    check_format_version(version, where)
    listing = manifest["members"]
    if not isinstance(listing, dict) or set(listing) != set(PRESET_FILES):
        raise PresetError(f"{where}: members must list exactly {', '.join(PRESET_FILES)}")
    for name in PRESET_FILES:
        entry, data = listing[name], members[name]
        if not isinstance(entry, dict) or set(entry) != {"sha256", "size"}:
            raise PresetError(f"{where}: members.{name} must have exactly sha256 and size")
        if entry["size"] != len(data) or entry["sha256"] != hashlib.sha256(data).hexdigest():
            raise PresetError(f"{where}: the checksum of {name} does not match; the bundle was damaged or changed "
                              "after export")
