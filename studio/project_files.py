"""Projects on disk: a ``.timbre`` folder that survives crashes.

    project.json         the manifest (format_version; paragraphs, chosen takes, voices, settings, layout)
    project.json.bak     the previous good manifest (a damaged project.json opens from it)
    autosave.json        written every 30 s and after each render; newer than project.json after a crash
    takes/<id>.flac      each take's audio (24-bit; takes are immutable, written once, right after render)
    takes/<id>.safetensors  its frames
    .lock                who has the project open (a lock whose process is gone means it crashed)

Every write is atomic (temporary file, fsync, rename); take files are written before the manifest
that names them, so a manifest never points at a missing file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import json
import os
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import soundfile as sf

from engine import __version__
from engine.api import EngineError, SamplingParams
from engine.atomic import write_atomic, write_text_atomic
from engine.take_files import load_frames, save_frames
from studio.models.project import Paragraph, Project
from studio.models.take import Take

FORMAT = "timbre-project"
FORMAT_VERSION = 1
SUFFIX = ".timbre"
MANIFEST, BACKUP, AUTOSAVE, LOCK, TAKES = "project.json", "project.json.bak", "autosave.json", ".lock", "takes"


class ProjectFileError(EngineError):
    """A project that cannot be read or written, with what to do about it."""


@dataclass
class Snapshot:
    """A project as saved: the script text, paragraphs and takes, and the studio's settings for it."""

    text: str
    project: Project
    settings: dict[str, Any] = field(default_factory=dict)  # sampler, voice, gaps, layout…
    message: str = ""  # for the user: what was recovered or left out while loading


# ---- manifest <-> objects ---------------------------------------------------------------------------


def _take_entry(take: Take) -> dict[str, Any]:
    return {"id": take.id, "number": take.number, "text": take.text, "voice": take.voice, "seed": take.seed,
            "model": take.model, "model_hash": take.model_hash, "sample_rate": take.sample_rate,
            "elapsed": take.elapsed, "first_audio_latency": take.first_audio_latency, "created": take.created,
            "engine_version": take.engine_version, "params": dataclasses.asdict(take.params),
            "audio": f"{TAKES}/{take.id}.flac", "frames": f"{TAKES}/{take.id}.safetensors",
            "samples": len(take.audio)}


def manifest(text: str, project: Project, settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "app_version": __version__,
        "saved": _dt.datetime.now().isoformat(timespec="seconds"),
        "script": text,
        "paragraphs": [{"id": p.id, "text": p.text, "voice": p.voice, "current": p.current_id,
                        "takes": [_take_entry(t) for t in p.takes]} for p in project.paragraphs],
        "speakers": dict(project.speakers),
        "settings": settings,
    }


def _check_manifest(data: Any, where: Path) -> dict[str, Any]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ProjectFileError(f"{where} is not a Timbre Studio project")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise ProjectFileError(f"{where} has project format version {version!r}; this Timbre Studio reads "
                               f"version {FORMAT_VERSION}" + (" (it was saved by a newer version)"
                                                              if isinstance(version, int) and version > FORMAT_VERSION
                                                              else ""))
    if not isinstance(data.get("paragraphs"), list) or not isinstance(data.get("script"), str):
        raise ProjectFileError(f"{where} is missing its paragraphs or script")
    return data


def _read_take(folder: Path, pid: str, entry: dict[str, Any]) -> Take:
    audio, sr = sf.read(folder / entry["audio"], dtype="float32", always_2d=False)
    frames, _ = load_frames(folder / entry["frames"])
    if len(audio) != entry["samples"] or sr != entry["sample_rate"]:
        raise ProjectFileError(f"{entry['audio']} does not match the manifest")
    params = SamplingParams(**entry["params"])
    return Take(entry["id"], pid, entry["number"], entry["text"], entry["voice"], params, entry["seed"],
                entry["model"], entry["model_hash"], tuple(frames), audio, sr, entry["elapsed"],
                entry["first_audio_latency"], entry["created"], entry["engine_version"])


def _build(folder: Path, data: dict[str, Any]) -> Snapshot:
    project = Project()
    problems: list[str] = []
    paragraphs = []
    for i, pd in enumerate(data["paragraphs"], start=1):
        p = Paragraph(pd["id"], pd["text"], voice=pd.get("voice"))
        for entry in pd.get("takes", []):
            try:
                p.takes.append(_read_take(folder, p.id, entry))
            except Exception as e:  # a damaged take costs that take, not the project
                problems.append(f"¶{i} take {entry.get('number', '?')}: {e}")
        ids = {t.id for t in p.takes}
        p.current_id = pd.get("current") if pd.get("current") in ids else (p.takes[-1].id if p.takes else None)
        paragraphs.append(p)
    project.paragraphs = paragraphs
    project.speakers = {str(k): str(v) for k, v in (data.get("speakers") or {}).items()}
    message = ("Some takes could not be read and were left out: " + "; ".join(problems)) if problems else ""
    return Snapshot(data["script"], project, data.get("settings") or {}, message)


# ---- the folder -------------------------------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return _check_manifest(json.loads(path.read_text(encoding="utf-8")), path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ProjectFileError(f"{path.name} is damaged: {e}") from e


class ProjectFolder:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def name(self) -> str:
        return self.path.name.removesuffix(SUFFIX)

    # ---- writing ----------------------------------------------------------------------------------

    def create(self) -> None:
        """Make the folder (an existing non-project folder with files in it is refused)."""
        if self.path.exists() and not self.path.is_dir():
            raise ProjectFileError(f"{self.path} exists and is not a folder")
        ours = {TAKES, LOCK, MANIFEST, BACKUP, AUTOSAVE}
        if self.path.is_dir() and any(f.name not in ours and not f.name.startswith(".") for f in self.path.iterdir()):
            raise ProjectFileError(f"{self.path} is a folder with other files in it; choose a new name")
        try:
            (self.path / TAKES).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ProjectFileError(f"cannot create {self.path}: {e.strerror or e}") from e

    def write_take(self, take: Take) -> None:
        """Write a take's audio and frames once (takes never change), atomically."""
        self.create()
        audio_path = self.path / TAKES / f"{take.id}.flac"
        frames_path = self.path / TAKES / f"{take.id}.safetensors"
        if not audio_path.exists():
            write_atomic(audio_path, lambda p: sf.write(str(p), take.audio, take.sample_rate, format="FLAC",
                                                        subtype="PCM_24"))
        if not frames_path.exists():
            save_frames(frames_path, take.frames, take.metadata())

    def save(self, text: str, project: Project, settings: dict[str, Any], autosave: bool = False) -> Path:
        """Write every take, then the manifest (the previous one becomes the backup). An autosave writes
        autosave.json and leaves project.json alone; a save removes the autosave."""
        self.create()
        for p in project.paragraphs:
            for take in p.takes:
                self.write_take(take)
        body = json.dumps(manifest(text, project, settings), indent=1, ensure_ascii=False) + "\n"
        if autosave:
            return write_text_atomic(self.path / AUTOSAVE, body)
        current = self.path / MANIFEST
        if current.exists():
            with contextlib.suppress(ProjectFileError):
                _read_json(current)  # only a good manifest becomes the backup
                write_atomic(self.path / BACKUP, lambda p: shutil.copyfile(current, p))
        write_text_atomic(current, body)
        with contextlib.suppress(FileNotFoundError):
            (self.path / AUTOSAVE).unlink()
        self._remove_unused_takes(project)
        return current

    def _remove_unused_takes(self, project: Project) -> None:
        keep = {t.id for p in project.paragraphs for t in p.takes}
        for backup in (self.path / BACKUP, self.path / AUTOSAVE):  # what the backups name stays too
            with contextlib.suppress(Exception):
                keep |= {t["id"] for p in _read_json(backup)["paragraphs"] for t in p["takes"]}
        for f in (self.path / TAKES).glob("*"):
            if f.stem not in keep and not f.name.startswith("."):
                with contextlib.suppress(OSError):
                    f.unlink()

    # ---- reading ----------------------------------------------------------------------------------

    def has_newer_autosave(self) -> bool:
        auto, main = self.path / AUTOSAVE, self.path / MANIFEST
        return auto.exists() and (not main.exists() or auto.stat().st_mtime_ns >= main.stat().st_mtime_ns)

    def load(self, prefer_autosave: bool = False) -> Snapshot:
        """Read the project; a damaged manifest falls back to the backup (and says so)."""
        if not self.path.is_dir():
            raise ProjectFileError(f"{self.path} is not a project folder")
        order = [AUTOSAVE, MANIFEST, BACKUP] if prefer_autosave else [MANIFEST, BACKUP, AUTOSAVE]
        errors = []
        for name in order:
            path = self.path / name
            if not path.exists():
                continue
            try:
                snap = _build(self.path, _read_json(path))
            except ProjectFileError as e:
                errors.append(str(e))
                continue
            notes = []
            if errors:
                notes.append(f"{'; '.join(errors)}. Opened the {self._describe(name)} instead.")
            elif name == AUTOSAVE and not prefer_autosave:
                notes.append("Opened the automatic save (the project was never saved by hand).")
            if snap.message:
                notes.append(snap.message)
            snap.message = " ".join(notes)
            return snap
        raise ProjectFileError("; ".join(errors) or f"{self.path} has no {MANIFEST}")

    @staticmethod
    def _describe(name: str) -> str:
        return {BACKUP: "last good copy (project.json.bak)", AUTOSAVE: "automatic save",
                MANIFEST: "saved project"}[name]

    # ---- lock -------------------------------------------------------------------------------------

    def lock(self) -> None:
        self.create()
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "since": _dt.datetime.now().isoformat(timespec="seconds")}
        write_text_atomic(self.path / LOCK, json.dumps(info))

    def unlock(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.path / LOCK).unlink()

    def lock_owner(self) -> dict[str, Any] | None:
        """The lock's content if another live process on this machine holds it."""
        try:
            info = json.loads((self.path / LOCK).read_text())
        except (OSError, ValueError):
            return None
        if info.get("host") != socket.gethostname() or info.get("pid") == os.getpid():
            return None
        return info if _alive(int(info.get("pid", -1))) else None

    def crashed(self) -> bool:
        """Left locked by a process that is gone: the app did not close cleanly."""
        return (self.path / LOCK).exists() and self.lock_owner() is None and _lock_pid(self.path) != os.getpid()


def _lock_pid(folder: Path) -> int:
    try:
        return int(json.loads((folder / LOCK).read_text()).get("pid", -1))
    except (OSError, ValueError, TypeError):
        return -1


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
