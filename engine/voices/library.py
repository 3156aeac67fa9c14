"""The voice library: the user's presets, the built-in ones and a loaded model's released voices.

- user presets: one folder each under the user data folder (``$TIMBRE_VOICES`` overrides it); the only
  ones that can be edited or deleted. Deleted presets go to ``<user_dir>/.trash`` and can be restored.
- built-ins: the ``presets`` folder that ships with the app (engine.bundled), read-only.
- family voices: a loaded model's own released voices (e.g. Voxtral's 20), read-only, no prompt file.

The library reads the folders on every listing, so the CLI and the studio see each other's changes.
A broken preset folder is skipped and reported in ``problems`` instead of breaking the listing.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from engine.api import VoiceInfo
from engine.atomic import write_atomic
from engine.bundled import presets_dir
from engine.voices.preset import (
    PROMPT_FILE,
    REFERENCE_FILE,
    VOICE_FILE,
    PresetError,
    VoicePreset,
    now_iso,
    parse_voice_json,
    read_preset,
    read_prompt,
    voice_json,
    write_folder,
    write_preset,
)

APP_NAME = "timbre-studio"
VOICES_ENV = "TIMBRE_VOICES"
TRASH_DIR, PREVIEWS_DIR = ".trash", ".previews"
EDITABLE = ("name", "description", "language", "tags", "brand", "consent", "params", "transcript")
"""The metadata fields create() and update() accept; family, model hash and id follow the prompt."""
_STAMP = "%Y%m%dT%H%M%S%f"  # trash folder names: <UTC stamp>-<id>


@dataclass(frozen=True)
class TrashEntry:
    """A deleted user preset, kept in ``folder`` (under the trash) until restored."""

    id: str
    name: str
    folder: Path
    deleted: str  # ISO timestamp


@dataclass(frozen=True)
class PresetProblem:
    """A folder in the library that is not a readable preset, and why."""

    folder: Path
    message: str


def default_user_dir() -> Path:
    """``$TIMBRE_VOICES``, else ``<platformdirs user data>/timbre-studio/voices``."""
    override = os.environ.get(VOICES_ENV)
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME)) / "voices"


def slugify(name: str) -> str:
    """A folder-safe id from a display name: lowercase ASCII letters, digits and dashes ("voice" if empty)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:48].strip("-")
    return slug or "voice"


class VoiceLibrary:
    """User presets (editable), built-in presets and family voices (read-only), found by id."""

    def __init__(self, user_dir: Path | None = None, builtin_dirs: Sequence[Path] | None = None) -> None:
        self.user_dir = Path(user_dir) if user_dir is not None else default_user_dir()
        self.builtin_dirs = tuple(Path(d) for d in builtin_dirs) if builtin_dirs is not None else (presets_dir(),)
        self._family: dict[str, list[VoicePreset]] = {}
        self._problems: tuple[PresetProblem, ...] = ()

    # ---- listing --------------------------------------------------------------------------------

    def presets(self) -> list[VoicePreset]:
        """Every preset, sorted by name; broken folders are skipped and listed in ``problems``."""
        found: dict[str, VoicePreset] = {}
        problems: list[PresetProblem] = []
        sources = [(self.user_dir, "user"), *((d, "builtin") for d in self.builtin_dirs)]
        for root, origin in sources:
            for folder in _preset_folders(root):
                try:
                    preset = read_preset(folder, origin=origin)
                except PresetError as e:
                    problems.append(PresetProblem(folder, str(e)))
                    continue
                if preset.id in found:
                    problems.append(PresetProblem(folder, f"id {preset.id!r} is already used by "
                                                          f"{found[preset.id].folder}; this one is hidden"))
                    continue
                found[preset.id] = preset
        for voices in self._family.values():
            for preset in voices:
                found.setdefault(preset.id, preset)
        self._problems = tuple(problems)
        return sorted(found.values(), key=lambda p: (p.name.casefold(), p.id))

    @property
    def problems(self) -> tuple[PresetProblem, ...]:
        """The folders the last listing skipped, each with what is wrong with it."""
        return self._problems

    def search(self, text: str = "", *, language: str | None = None, tag: str | None = None,
               brand: str | None = None, family: str | None = None) -> list[VoicePreset]:
        """Presets whose name, description, tags or brand contain every word of ``text`` (any case),
        narrowed by language ("en" also matches "en-US"), tag, brand and family (exact, any case)."""
        words = text.casefold().split()
        return [p for p in self.presets() if all(w in _haystack(p) for w in words)
                and _language_matches(p.language, language) and _equal(p.brand, brand)
                and _equal(p.family, family) and (tag is None or any(_equal(t, tag) for t in p.tags))]

    def get(self, id: str) -> VoicePreset:
        """The preset with this id; PresetError if there is none."""
        presets = self.presets()
        for preset in presets:
            if preset.id == id:
                return preset
        known = ", ".join(p.id for p in presets) or "none"
        raise PresetError(f"there is no voice preset {id!r} (known: {known})")

    def prompt(self, id: str) -> np.ndarray:
        """A preset's prompt codes, int32 [N, 1 + K]."""
        preset = self.get(id)
        if preset.folder is None:
            raise PresetError(f"{preset.name!r} is a released voice of the {preset.family} model; it has no "
                              "prompt file and is used by its name")
        return read_prompt(preset.folder)

    def add_family_voices(self, family: str, voices: Sequence[VoiceInfo]) -> None:
        """Show a loaded model's released voices as read-only presets (replacing that family's earlier ones)."""
        self._family[family] = [
            VoicePreset(id=f"{family}:{v.name}", name=v.name, family=family, model_hash="", language=v.language,
                        tags=tuple(t for t in (v.gender, v.style) if t),
                        description=f"a released voice of the {family} model", origin="family")
            for v in voices
        ]

    # ---- changes --------------------------------------------------------------------------------

    def create(self, name: str, codes: np.ndarray, reference: np.ndarray, sample_rate: int, *, family: str,
               model_hash: str, **meta: Any) -> VoicePreset:
        """Save a new user preset. codes: int [N, 1 + K]; reference: float [n] mono at ``sample_rate``;
        ``meta``: description, language, tags, brand, consent, params, transcript."""
        preset = VoicePreset(id="", name=name, family=family, model_hash=model_hash, **_editable(meta, create=True))
        return write_preset(self.user_dir / self.new_id(name), preset, codes, reference, sample_rate)

    def update(self, id: str, **fields: Any) -> VoicePreset:
        """Change a user preset's metadata (any of EDITABLE); read-only presets refuse."""
        preset = self._editable_preset(id, "changed")
        assert preset.folder is not None
        updated = replace(preset, **_editable(fields), modified=now_iso()).check(str(preset.folder / VOICE_FILE))
        try:
            write_atomic(preset.folder / VOICE_FILE, lambda p: p.write_bytes(voice_json(updated)))
        except OSError as e:
            raise PresetError(f"cannot save {preset.folder / VOICE_FILE}: {e.strerror or e}") from e
        self._drop_previews(id)
        return updated

    def duplicate(self, id: str, name: str) -> VoicePreset:
        """A user copy ("variant") of any preset with a prompt, under a new name and id."""
        source = self.get(id)
        if source.folder is None:
            raise PresetError(f"{source.name!r} is a released voice of the {source.family} model; it has no "
                              "prompt to copy")
        variant = replace(source, name=name, created="", modified="", origin="user").check()
        try:
            files = {f: (source.folder / f).read_bytes() for f in (PROMPT_FILE, REFERENCE_FILE)}
        except OSError as e:
            raise PresetError(f"cannot read {source.folder}: {e.strerror or e}") from e
        return self._install_preset(variant, files)

    def install(self, files: Mapping[str, bytes]) -> VoicePreset:
        """Add a user preset from already validated file contents (voice.json, prompt, reference), under a
        fresh id made from its name. Used by bundle import; the bytes are written as they are."""
        preset = parse_voice_json(files[VOICE_FILE], VOICE_FILE)
        folder = write_folder(self.user_dir / self.new_id(preset.name), files)
        return read_preset(folder)

    def delete(self, id: str) -> TrashEntry:
        """Move a user preset to the trash; ``restore`` brings it back."""
        preset = self._editable_preset(id, "deleted")
        assert preset.folder is not None
        trash = self.user_dir / TRASH_DIR
        target = trash / f"{datetime.now(timezone.utc).strftime(_STAMP)}-{id}"
        try:
            trash.mkdir(parents=True, exist_ok=True)
            os.rename(preset.folder, target)
        except OSError as e:
            raise PresetError(f"cannot move {preset.folder} to the trash: {e.strerror or e}") from e
        self._drop_previews(id)
        return _trash_entry(target, preset.name)

    def trash(self) -> list[TrashEntry]:
        """The deleted presets that can be restored, newest first."""
        entries = []
        for folder in _preset_folders(self.user_dir / TRASH_DIR):
            try:
                entries.append(_trash_entry(folder, read_preset(folder).name))
            except (PresetError, ValueError):
                continue  # a damaged trash folder cannot be restored; it is left for the user
        return sorted(entries, key=lambda e: e.folder.name, reverse=True)

    def restore(self, entry: TrashEntry) -> VoicePreset:
        """Bring a deleted preset back, under its old id, or a fresh one if that id is taken now."""
        if not entry.folder.is_dir():
            raise PresetError(f"{entry.name!r} is no longer in the trash ({entry.folder} is gone)")
        preset = read_preset(entry.folder)
        taken = {p.id for p in self.presets()}
        free = entry.id not in taken and not (self.user_dir / entry.id).exists()
        target = self.user_dir / (entry.id if free else self.new_id(preset.name))
        try:
            os.rename(entry.folder, target)
        except OSError as e:
            raise PresetError(f"cannot restore {entry.name!r} from {entry.folder}: {e.strerror or e}") from e
        return read_preset(target)

    def preview_path(self, id: str, key: str) -> Path:
        """Where the rendered preview for ``key`` (the caller's description of sentence, model and
        parameters) is cached. The path depends on the preset's saved metadata too, so a modified preset
        never gets an old preview back."""
        preset = self.get(id)
        digest = hashlib.sha256(key.encode() + b"\0" + voice_json(preset)).hexdigest()[:24]
        folder = self._previews_dir(id)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{digest}.flac"

    def new_id(self, name: str) -> str:
        """A fresh id from ``name``, unique among all presets and the user folder's entries."""
        base = slugify(name)
        taken = {p.id for p in self.presets()}
        if self.user_dir.is_dir():
            taken |= {p.name for p in self.user_dir.iterdir()}
        n, id = 1, base
        while id in taken:
            n += 1
            id = f"{base}-{n}"
        return id

    # ---- helpers --------------------------------------------------------------------------------

    def _editable_preset(self, id: str, verb: str) -> VoicePreset:
        preset = self.get(id)
        if preset.read_only:
            kind = "built-in preset" if preset.origin == "builtin" else f"released voice of the {preset.family} model"
            raise PresetError(f"{preset.name!r} is a {kind} and cannot be {verb}; duplicate it to make your own "
                              "variant")
        return preset

    def _install_preset(self, preset: VoicePreset, files: Mapping[str, bytes]) -> VoicePreset:
        now = now_iso()
        preset = replace(preset, created=preset.created or now, modified=now)
        return self.install({**files, VOICE_FILE: voice_json(preset)})

    def _previews_dir(self, id: str) -> Path:
        return self.user_dir / PREVIEWS_DIR / re.sub(r"[^A-Za-z0-9._-]", "_", id)

    def _drop_previews(self, id: str) -> None:
        shutil.rmtree(self._previews_dir(id), ignore_errors=True)


def _preset_folders(root: Path) -> list[Path]:
    """The visible sub-folders of ``root`` (hidden ones are the trash, caches and unfinished writes)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _trash_entry(folder: Path, name: str) -> TrashEntry:
    """The entry of a trash folder named ``<UTC stamp>-<id>``."""
    stamp, _, id = folder.name.partition("-")
    deleted = datetime.strptime(stamp, _STAMP).replace(tzinfo=timezone.utc).isoformat(timespec="seconds")
    return TrashEntry(id=id, name=name, folder=folder, deleted=deleted)


def _editable(fields: Mapping[str, Any], create: bool = False) -> dict[str, Any]:
    allowed = EDITABLE[1:] if create else EDITABLE
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise PresetError(f"cannot set {', '.join(unknown)} on a voice preset (fields: {', '.join(allowed)})")
    # a list of tags becomes a tuple; a lone string stays as it is, for check() to refuse
    return {k: tuple(v) if k == "tags" and not isinstance(v, str) else v for k, v in fields.items()}


def _haystack(preset: VoicePreset) -> str:
    return "\n".join([preset.name, preset.description, preset.brand, *preset.tags]).casefold()


def _equal(value: str, wanted: str | None) -> bool:
    return wanted is None or value.casefold() == wanted.casefold()


def _language_matches(language: str, wanted: str | None) -> bool:
    if wanted is None:
        return True
    language, wanted = language.casefold().replace("_", "-"), wanted.casefold().replace("_", "-")
    return language == wanted or language.startswith(wanted + "-")
