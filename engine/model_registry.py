"""Model folders the user registered (``timbre models add PATH``), kept as JSON with a format version.

The registry lives at ``<user data folder>/timbre-studio/models.json`` (platformdirs). An entry records
the folder, its family and the weights' hash with the size and mtime it was computed for, so loading a
4B checkpoint does not re-hash 8 GB every time. Writes are atomic; a damaged file is an error that
names the file, never silently replaced.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

from engine.api import EngineError
from engine.atomic import write_text_atomic

APP_NAME = "timbre-studio"
REGISTRY_FORMAT = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    path: str
    family: str
    weights_hash: str
    weights_size: int
    weights_mtime_ns: int
    added: str


def registry_path() -> Path:
    return platformdirs.user_data_path(APP_NAME) / "models.json"


def load_registry() -> dict[str, RegisteredModel]:
    path = registry_path()
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format_version") != REGISTRY_FORMAT:
            raise EngineError(f"model registry {path} has format version {data.get('format_version')!r}; "
                              f"this version of timbre reads {REGISTRY_FORMAT}")
        return {name: RegisteredModel(name=name, **entry) for name, entry in data["models"].items()}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as e:
        raise EngineError(f"model registry {path} is damaged ({e}); fix or remove it") from e


def _save(models: dict[str, RegisteredModel]) -> None:
    path = registry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"format_version": REGISTRY_FORMAT,
            "models": {n: {k: v for k, v in asdict(m).items() if k != "name"} for n, m in sorted(models.items())}}
    write_text_atomic(path, json.dumps(body, indent=2) + "\n")


def register(name: str, folder: Path, family: str, weights: Path, weights_hash: str, replace: bool = False
             ) -> RegisteredModel:
    """Add (or with ``replace``, overwrite) an entry; EngineError for a bad or taken name."""
    if not _NAME.match(name):
        raise EngineError(f"model name {name!r} must be 1-80 letters, digits, '.', '_' or '-'")
    models = load_registry()
    if name in models and not replace:
        raise EngineError(f"a model named {name!r} is already registered ({models[name].path}); "
                          "use --name to pick another name or --replace")
    st = weights.stat()
    entry = RegisteredModel(name, str(folder.resolve()), family, weights_hash, st.st_size, st.st_mtime_ns,
                            time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    models[name] = entry
    _save(models)
    return entry


def unregister(name: str) -> RegisteredModel:
    models = load_registry()
    if name not in models:
        raise EngineError(f"no registered model named {name!r}")
    entry = models.pop(name)
    _save(models)
    return entry


def cached_hash(folder: Path, weights: Path) -> str | None:
    """The registered hash of ``weights`` if the file is unchanged since it was computed."""
    try:
        st = weights.stat()
        models = load_registry()
    except (OSError, EngineError):
        return None
    for m in models.values():
        if (Path(m.path) == folder.resolve() and m.weights_size == st.st_size
                and m.weights_mtime_ns == st.st_mtime_ns):
            return m.weights_hash
    return None
