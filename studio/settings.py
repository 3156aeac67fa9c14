"""User settings: one typed schema with a version, stored as JSON under the platform's config folder.

A damaged file is set aside (never silently overwritten) and the defaults are used; files written by
an older schema are migrated step by step; unknown keys are dropped with a log line.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from engine.atomic import write_text_atomic

log = logging.getLogger(__name__)
APP_NAME = "timbre-studio"
SCHEMA_VERSION = 1
DEFAULT_TEXT = "Hello! This is Timbre Studio, speaking one frame every eighty milliseconds."

# MIGRATIONS[v] turns a version-v dict into a version-(v + 1) dict.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


@dataclass
class Settings:
    schema_version: int = SCHEMA_VERSION
    model: str | None = None
    device: str = "auto"
    output_device: str | None = None
    text: str = DEFAULT_TEXT
    sampler: dict[str, Any] = field(default_factory=dict)
    sampler_model: str = ""  # the model whose defaults the sampler holds (a new model resets them)
    voice: str = "default"
    theme: str = "light"  # light or dark
    gap_seconds: float = 0.3  # silence between paragraphs on the timeline
    chapter_gap_seconds: float = 1.5  # silence before a new chapter
    recent_projects: list = field(default_factory=list)  # project folders, newest first
    last_project: str = ""  # reopened at start ("" = a new untitled project with ``text``)
    colormap: str = "viridis"  # of the acoustic heatmap
    heat_low: float = -1.0
    heat_high: float = 1.0
    window_geometry: str = ""  # hex of QWidget.saveGeometry()
    window_state: str = ""  # hex of QMainWindow.saveState()
    splitter_state: str = ""  # hex of the left | panes splitter
    left_state: str = ""  # hex of the script / sampler / takes splitter
    panes_state: str = ""  # hex of the time-aligned panes splitter


def config_dir() -> Path:
    return platformdirs.user_config_path(APP_NAME)


def settings_path() -> Path:
    return config_dir() / "settings.json"


@dataclass
class LoadResult:
    settings: Settings
    message: str = ""  # for the user: set when the file was damaged or from a newer version


def load(path: Path | None = None) -> LoadResult:
    path = path or settings_path()
    if not path.exists():
        return LoadResult(Settings())
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except (OSError, UnicodeDecodeError, ValueError) as e:
        kept = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            path.replace(kept)
        except OSError:
            kept = path
        log.warning("settings file %s is damaged (%s); kept as %s, using defaults", path, e, kept)
        return LoadResult(Settings(), f"Your settings file was damaged and has been set aside ({kept.name}); "
                                      "the defaults are in use.")
    return _from_dict(data)


def _from_dict(data: dict[str, Any]) -> LoadResult:
    version = data.get("schema_version", 0)
    if not isinstance(version, int) or version < 0:
        version = 0
    message = ""
    if version > SCHEMA_VERSION:
        message = (f"These settings were written by a newer Timbre Studio (schema {version}); "
                   "only what this version understands is used.")
    while version < SCHEMA_VERSION:
        migrate = MIGRATIONS.get(version)
        if migrate is not None:
            data = migrate(dict(data))
        version += 1
    known = {f.name: f for f in dataclasses.fields(Settings)}
    defaults = Settings()
    values = {}
    for key, value in data.items():
        if key not in known or key == "schema_version":
            if key not in known:
                log.info("settings: dropping unknown key %r", key)
            continue
        default = getattr(defaults, key)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if value is None and default is None or type(value) is type(default) or (
                default is None and isinstance(value, str)):
            values[key] = value
        else:
            log.warning("settings: %s has the wrong type (%r); using the default", key, value)
    return LoadResult(Settings(**values), message)


def save(settings: Settings, path: Path | None = None) -> Path:
    """Write atomically (a crash mid-save leaves the previous file intact)."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = dataclasses.asdict(settings)
    data["schema_version"] = SCHEMA_VERSION
    return write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
