"""One voice preset on disk: a folder of ``voice.json``, ``prompt.safetensors`` and ``reference.flac``.

- ``voice.json``: the metadata (strict schema below, with ``format_version``).
- ``prompt.safetensors``: one tensor ``codes``, int32 [N, 1 + K] (per frame: semantic id, then K acoustic
  codes), with ``format_version`` in the safetensors metadata.
- ``reference.flac``: the reference audio the prompt was encoded from, mono, 24-bit.

Reading is strict (unknown keys, wrong types, missing fields and newer format versions are errors that
name the file and the field), so a bundle from elsewhere and a folder on disk pass the same checks.
A folder is written whole: built as a hidden temporary sibling, then renamed into place.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from safetensors.numpy import load as load_safetensors
from safetensors.numpy import save as save_safetensors

from engine.api import EngineError, SamplingParams

FORMAT_VERSION = 1
VOICE_FILE, PROMPT_FILE, REFERENCE_FILE = "voice.json", "prompt.safetensors", "reference.flac"
PRESET_FILES = (VOICE_FILE, PROMPT_FILE, REFERENCE_FILE)
ORIGINS = ("user", "builtin", "family")

MAX_PROMPT_FRAMES = 4096  # 5.5 minutes at 12.5 Hz; a prompt is 5-15 s
MAX_CODE_COLUMNS = 257  # 1 semantic + up to 256 acoustic values (Voxtral has 36)
SAMPLE_RATES = (8_000, 192_000)
MAX_REFERENCE_SECONDS = 120  # keeps every preset small enough to share as a bundle
_TEXT_LIMITS = {"name": 100, "description": 2000, "language": 35, "brand": 100, "transcript": 5000,
                "family": 64, "model_hash": 128, "created": 40, "modified": 40}
MAX_TAGS, MAX_TAG_CHARS = 32, 40


class PresetError(EngineError):
    """A preset, bundle or library operation that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Consent:
    """The speaker's consent to have their voice cloned: who, what they agreed to, when, and how."""

    speaker: str
    statement: str
    date: str  # ISO date, YYYY-MM-DD
    method: str  # how it was obtained: "recorded statement", "signed release", ...


@dataclass(frozen=True)
class VoicePreset:
    """A voice persona: metadata of one preset folder (or of a model's own released voice)."""

    id: str  # slug, the folder name, unique in the library
    name: str
    family: str  # model family, e.g. "timbre" or "voxtral"
    model_hash: str  # ModelInfo.model_hash of the model whose codec encoded the prompt ("" for family voices)
    description: str = ""
    language: str = ""
    tags: tuple[str, ...] = ()
    brand: str = ""
    consent: Consent | None = None
    params: dict[str, Any] = field(default_factory=dict, hash=False)  # default SamplingParams fields
    transcript: str = ""
    created: str = ""  # ISO timestamps
    modified: str = ""
    origin: str = "user"  # "user" | "builtin" | "family": where it was found (not saved)
    folder: Path | None = field(default=None, compare=False)  # not saved

    @property
    def read_only(self) -> bool:
        return self.origin != "user"

    @property
    def has_consent(self) -> bool:
        """False for a preset without a consent record; the UI and CLI mark such presets."""
        return self.consent is not None

    @property
    def voice_ref(self) -> str:
        """What SynthesisRequest.voice carries: ``preset:<id>``, or a family voice's own name."""
        return self.name if self.origin == "family" else f"preset:{self.id}"

    def sampling_params(self, base: SamplingParams | None = None) -> SamplingParams:
        """``base`` (default: SamplingParams()) with this preset's default parameters applied."""
        return replace(base or SamplingParams(), **self.params)

    def check(self, where: str = "voice preset") -> VoicePreset:
        """Return self, or raise PresetError naming ``where`` and the first field that is wrong."""
        for name, limit in _TEXT_LIMITS.items():
            _check_text(getattr(self, name), f"{where}: {name}", limit)
        if not self.name.strip():
            raise PresetError(f"{where}: name is empty; give the voice a name")
        if not self.family.strip():
            raise PresetError(f"{where}: family is empty; it names the model family the prompt was made for")
        if self.origin not in ORIGINS:
            raise PresetError(f"{where}: origin must be one of {', '.join(ORIGINS)}, got {self.origin!r}")
        _check_tags(self.tags, f"{where}: tags")
        if self.consent is not None:
            _check_consent(self.consent, f"{where}: consent")
        _check_params(self.params, f"{where}: params")
        return self


# ---- voice.json -----------------------------------------------------------------------------------

_SCHEMA: dict[str, tuple[type, ...]] = {
    "format_version": (int,), "name": (str,), "description": (str,), "language": (str,), "tags": (list,),
    "brand": (str,), "consent": (dict, type(None)), "family": (str,), "model_hash": (str,), "params": (dict,),
    "transcript": (str,), "created": (str,), "modified": (str,),
}
_CONSENT_FIELDS = tuple(f.name for f in dataclasses.fields(Consent))
_PARAM_TYPES = {"int": (int,), "float": (int, float), "bool": (bool,), "int | None": (int, type(None))}
_PARAM_FIELDS = {f.name: _PARAM_TYPES[str(f.type)] for f in dataclasses.fields(SamplingParams)}


def voice_json(preset: VoicePreset) -> bytes:
    """The ``voice.json`` bytes of a preset (id, origin and folder are not saved)."""
    data = {
        "format_version": FORMAT_VERSION, "name": preset.name, "description": preset.description,
        "language": preset.language, "tags": list(preset.tags), "brand": preset.brand,
        "consent": dataclasses.asdict(preset.consent) if preset.consent else None,
        "family": preset.family, "model_hash": preset.model_hash, "params": dict(preset.params),
        "transcript": preset.transcript, "created": preset.created, "modified": preset.modified,
    }
    return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def parse_voice_json(data: bytes, where: str, *, id: str = "", origin: str = "user",
                     folder: Path | None = None) -> VoicePreset:
    """Strictly parse ``voice.json`` bytes; PresetError names ``where`` and the field that is wrong."""
    obj = json_object(data, where)
    check_format_version(obj.get("format_version"), where)
    _check_keys(obj, tuple(_SCHEMA), where)
    for key, types in _SCHEMA.items():
        if not _is_instance(obj[key], types):
            raise PresetError(f"{where}: {key} must be {_type_names(types)}, got {obj[key]!r}")
    consent = obj["consent"]
    if consent is not None:
        _check_keys(consent, _CONSENT_FIELDS, f"{where}: consent")
        consent = Consent(**consent)
    fields = {k: v for k, v in obj.items() if k not in ("format_version", "tags", "consent")}
    preset = VoicePreset(id=id, tags=tuple(obj["tags"]), consent=consent, origin=origin, folder=folder, **fields)
    return preset.check(where)


def json_object(data: bytes, where: str) -> dict[str, Any]:
    """Parse JSON bytes that must hold an object; PresetError names ``where``."""
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PresetError(f"{where} is not valid JSON ({e}); the file is damaged") from e
    if not isinstance(obj, dict):
        raise PresetError(f"{where} must hold a JSON object, got {type(obj).__name__}")
    return obj


def check_format_version(version: Any, where: str) -> None:
    """A format_version this Timbre Studio reads (1..FORMAT_VERSION), else PresetError saying what to do."""
    if not _is_instance(version, (int,)) or version < 1:
        raise PresetError(f"{where}: format_version must be a whole number from 1, got {version!r}")
    if version > FORMAT_VERSION:
        raise PresetError(f"{where}: format_version {version} was saved by a newer Timbre Studio "
                          f"(this one reads up to {FORMAT_VERSION}); update Timbre Studio to use it")


def _is_instance(value: Any, types: tuple[type, ...]) -> bool:
    """isinstance, except that a bool is not a number (JSON true is not 1)."""
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


def _type_names(types: tuple[type, ...]) -> str:
    names = {int: "a whole number", float: "a number", str: "text", list: "a list", dict: "an object",
             bool: "true or false", type(None): "null"}
    return " or ".join(names[t] for t in types if not (t is int and float in types))


def _check_keys(obj: dict[str, Any], expected: tuple[str, ...], where: str) -> None:
    unknown, missing = sorted(set(obj) - set(expected)), [k for k in expected if k not in obj]
    if unknown:
        raise PresetError(f"{where}: unknown field(s) {', '.join(unknown)}")
    if missing:
        raise PresetError(f"{where}: missing field(s) {', '.join(missing)}")


def _check_text(value: Any, where: str, limit: int) -> None:
    if not isinstance(value, str):
        raise PresetError(f"{where} must be text, got {value!r}")
    if len(value) > limit:
        raise PresetError(f"{where} is {len(value)} characters long; at most {limit} fit")


def _check_tags(tags: Any, where: str) -> None:
    if not isinstance(tags, tuple) or len(tags) > MAX_TAGS:
        raise PresetError(f"{where} must be a list of at most {MAX_TAGS} tags, got {tags!r}")
    for i, tag in enumerate(tags):
        _check_text(tag, f"{where}[{i}]", MAX_TAG_CHARS)
        if not tag.strip():
            raise PresetError(f"{where}[{i}] is empty")


def _check_consent(consent: Any, where: str) -> None:
    if not isinstance(consent, Consent):
        raise PresetError(f"{where} must be a consent record, got {consent!r}")
    for name in _CONSENT_FIELDS:
        value = getattr(consent, name)
        _check_text(value, f"{where}.{name}", 2000)
        if not value.strip():
            raise PresetError(f"{where}.{name} is empty; a consent record says who agreed, to what, when and how")
    try:
        date.fromisoformat(consent.date)
    except ValueError as e:
        raise PresetError(f"{where}.date must be a date like 2025-01-31, got {consent.date!r}") from e


def _check_params(params: Any, where: str) -> None:
    if not isinstance(params, dict):
        raise PresetError(f"{where} must be an object of sampling parameters, got {params!r}")
    for key, value in params.items():
        if key not in _PARAM_FIELDS:
            raise PresetError(f"{where}: unknown sampling parameter {key!r} (known: {', '.join(_PARAM_FIELDS)})")
        if not _is_instance(value, _PARAM_FIELDS[key]):
            raise PresetError(f"{where}.{key} must be {_type_names(_PARAM_FIELDS[key])}, got {value!r}")
    try:
        SamplingParams(**params).validated()
    except EngineError as e:
        raise PresetError(f"{where}: {e}") from e


# ---- prompt.safetensors ---------------------------------------------------------------------------


def check_codes(codes: Any, where: str) -> np.ndarray:
    """Validate prompt codes, integer [N, 1 + K] with 1 <= N <= MAX_PROMPT_FRAMES; returns int32 [N, 1 + K]."""
    if not isinstance(codes, np.ndarray) or codes.dtype.kind not in "iu":
        raise PresetError(f"{where}: codes must be an integer array, got {getattr(codes, 'dtype', type(codes))}")
    if codes.ndim != 2 or not 1 <= codes.shape[0] <= MAX_PROMPT_FRAMES or not 2 <= codes.shape[1] <= MAX_CODE_COLUMNS:
        raise PresetError(f"{where}: codes must have shape [frames 1-{MAX_PROMPT_FRAMES}, 1 + K with K 1-"
                          f"{MAX_CODE_COLUMNS - 1}], got {list(codes.shape)}")
    if codes.min() < 0 or codes.max() > np.iinfo(np.int32).max:
        raise PresetError(f"{where}: codes must be from 0 to 2**31-1, got {codes.min()}..{codes.max()}")
    return np.ascontiguousarray(codes, dtype=np.int32)


def prompt_bytes(codes: np.ndarray) -> bytes:
    """``prompt.safetensors`` bytes of codes int [N, 1 + K] (stored as int32)."""
    codes = check_codes(codes, PROMPT_FILE)
    return save_safetensors({"codes": codes}, metadata={"format_version": str(FORMAT_VERSION)})


def parse_prompt(data: bytes, where: str) -> np.ndarray:
    """Strictly parse ``prompt.safetensors`` bytes into codes int32 [N, 1 + K]; anything but safetensors
    (a pickle above all, which could run code) is refused before it is decoded."""
    header = _safetensors_header(data, where)
    meta = header.get("__metadata__") or {}
    version = meta.get("format_version") if isinstance(meta, dict) else None
    if not isinstance(version, str) or not version.isdigit():
        raise PresetError(f"{where}: format_version is missing from the safetensors metadata")
    check_format_version(int(version), where)
    names = sorted(k for k in header if k != "__metadata__")
    if names != ["codes"]:
        raise PresetError(f"{where} must hold one tensor named 'codes', found {', '.join(names) or 'none'}")
    if header["codes"].get("dtype") != "I32":
        raise PresetError(f"{where}: codes must be int32, got {header['codes'].get('dtype')}")
    try:
        codes = load_safetensors(data)["codes"]
    except Exception as e:  # safetensors raises several types for damaged files
        raise PresetError(f"{where} is damaged: {e}") from e
    return check_codes(codes, where)


def _safetensors_header(data: bytes, where: str) -> dict[str, Any]:
    """The JSON header of safetensors bytes (8-byte little-endian length, then JSON)."""
    size = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
    if size < 2 or size > len(data) - 8 or data[8:9] != b"{":
        if data[:1] == b"\x80" or data[:2] == b"PK":
            raise PresetError(f"{where} is a pickle (PyTorch) file, not safetensors; pickles can run code "
                              "when loaded, so they are refused")
        raise PresetError(f"{where} is not a safetensors file")
    try:
        header = json.loads(data[8:8 + size].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PresetError(f"{where} has a damaged safetensors header: {e}") from e
    if not isinstance(header, dict):
        raise PresetError(f"{where} has a damaged safetensors header")
    return header


# ---- reference.flac -------------------------------------------------------------------------------


def reference_bytes(audio: np.ndarray, sample_rate: int) -> bytes:
    """``reference.flac`` bytes (24-bit mono) of float audio [n] in [-1, 1] at ``sample_rate``."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1 or audio.size == 0 or not np.isfinite(audio).all():
        raise PresetError(f"the reference audio must be finite mono samples [n], got shape {list(audio.shape)}")
    _check_sample_rate(sample_rate, REFERENCE_FILE)
    if audio.size > MAX_REFERENCE_SECONDS * sample_rate:
        raise PresetError(f"the reference audio is {audio.size / sample_rate:.0f} s long; a preset keeps at most "
                          f"{MAX_REFERENCE_SECONDS} s (choose the best 5-15 s of it)")
    buf = io.BytesIO()
    sf.write(buf, np.clip(audio, -1.0, 1.0), sample_rate, format="FLAC", subtype="PCM_24")
    return buf.getvalue()


def parse_reference(data: bytes, where: str) -> tuple[np.ndarray, int]:
    """Decode ``reference.flac`` bytes -> (float32 [n] mono, sample rate); PresetError if it is not that."""
    try:
        audio, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
        fmt = sf.info(io.BytesIO(data)).format
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise PresetError(f"{where} is not readable FLAC audio: {e}") from e
    if fmt != "FLAC" or audio.shape[1] != 1 or audio.shape[0] == 0:
        raise PresetError(f"{where} must be mono FLAC audio, got {fmt} with {audio.shape[1]} channel(s), "
                          f"{audio.shape[0]} samples")
    _check_sample_rate(rate, where)
    return audio[:, 0], rate


def _check_sample_rate(rate: Any, where: str) -> None:
    lo, hi = SAMPLE_RATES
    if not _is_instance(rate, (int,)) or not lo <= rate <= hi:
        raise PresetError(f"{where}: sample rate must be {lo}-{hi} Hz, got {rate!r}")


# ---- folders --------------------------------------------------------------------------------------


def read_preset(folder: str | os.PathLike[str], *, origin: str = "user") -> VoicePreset:
    """Read a preset folder's metadata (the prompt and reference must be there; they are read on demand)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PresetError(f"{folder} is not a voice preset folder (it does not exist)")
    missing = [name for name in PRESET_FILES if not (folder / name).is_file()]
    if missing:
        raise PresetError(f"{folder} is not a complete voice preset: {', '.join(missing)} missing")
    data = _read_file(folder / VOICE_FILE)
    return parse_voice_json(data, str(folder / VOICE_FILE), id=folder.name, origin=origin, folder=folder)


def read_prompt(folder: str | os.PathLike[str]) -> np.ndarray:
    """A preset folder's prompt codes, int32 [N, 1 + K]."""
    path = Path(folder) / PROMPT_FILE
    return parse_prompt(_read_file(path), str(path))


def read_reference(folder: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """A preset folder's reference audio: (float32 [n] mono, sample rate)."""
    path = Path(folder) / REFERENCE_FILE
    return parse_reference(_read_file(path), str(path))


def write_preset(folder: str | os.PathLike[str], preset: VoicePreset, codes: np.ndarray, reference: np.ndarray,
                 sample_rate: int) -> VoicePreset:
    """Write a whole preset folder atomically and return the preset as saved (id = folder name).

    codes: int [N, 1 + K]; reference: float [n] mono at ``sample_rate``. ``created`` is kept when set,
    ``modified`` is now. An existing folder is replaced only once the new one is complete.
    """
    folder = Path(folder)
    now = now_iso()
    saved = replace(preset, id=folder.name, created=preset.created or now, modified=now, origin="user",
                    folder=folder).check(str(folder / VOICE_FILE))
    files = {PROMPT_FILE: prompt_bytes(codes), REFERENCE_FILE: reference_bytes(reference, sample_rate),
             VOICE_FILE: voice_json(saved)}
    write_folder(folder, files)
    return saved


def write_folder(folder: Path, files: Mapping[str, bytes]) -> Path:
    """Write ``files`` (name -> bytes) as ``folder`` atomically: a hidden temporary sibling is filled and
    synced, then renamed over ``folder``. On any error nothing changes and PresetError says why."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    except OSError as e:
        raise PresetError(f"cannot save voice preset {folder}: {e.strerror or e}") from e
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes 0700; a preset is an ordinary folder
        for name, data in files.items():
            with open(tmp / name, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        _swap_in(tmp, folder)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise PresetError(f"cannot save voice preset {folder}: {e.strerror or e}; the old preset is unchanged") from e
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _swap_in(new: Path, folder: Path) -> None:
    """Rename ``new`` to ``folder``; an existing ``folder`` is moved aside first and put back on failure."""
    if not folder.exists():
        os.rename(new, folder)
    else:
        old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".old", dir=folder.parent))
        os.rename(folder, old / "preset")
        try:
            os.rename(new, folder)
        except BaseException:
            os.rename(old / "preset", folder)
            raise
        shutil.rmtree(old, ignore_errors=True)
    with contextlib.suppress(OSError):  # make the rename durable where the platform allows it
        fd = os.open(folder.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _read_file(path: Path, limit: int = 64 << 20) -> bytes:
    try:
        if path.stat().st_size > limit:
            raise PresetError(f"{path} is larger than {limit >> 20} MiB; it is not a preset file")
        return path.read_bytes()
    except OSError as e:
        raise PresetError(f"cannot read {path}: {e.strerror or e}") from e


def now_iso() -> str:
    """Current UTC time as an ISO timestamp with seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
