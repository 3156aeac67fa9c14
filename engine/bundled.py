"""Where the files that ship with Timbre Studio are: the built-in models and icons (``assets``) and
the built-in voice presets (``presets``). No torch, no Qt: the studio asks here too.

One lookup for every way the program runs:

- ``$TIMBRE_ASSETS`` / ``$TIMBRE_PRESETS`` override everything (tests, a models folder elsewhere);
- an installed wheel and the frozen app carry them as package data in ``engine/_bundled/<name>``
  (setup.py copies them there when it builds; packaging/hooks/hook-engine.py, when it freezes);
- a source checkout (also an editable install) has them at the top of the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

BUNDLE_DIR = "_bundled"
BUNDLED = ("assets", "presets")  # the top-level folders that ship inside the package
_OVERRIDES = {"assets": "TIMBRE_ASSETS", "presets": "TIMBRE_PRESETS"}


def bundled_path(name: str) -> Path:
    """The folder of the built-in ``assets`` or ``presets``.

    Without an override: the packaged copy when there is one, else the source checkout's folder.
    When neither exists, the packaged location (that is where an install should have put it).
    """
    if name not in _OVERRIDES:
        raise ValueError(f"unknown bundled folder {name!r}: one of {', '.join(BUNDLED)}")
    override = os.environ.get(_OVERRIDES[name])
    if override:
        return Path(override)
    package = Path(__file__).resolve().parent
    packaged, checkout = package / BUNDLE_DIR / name, package.parent / name
    if not packaged.is_dir() and checkout.is_dir():
        return checkout
    return packaged


def shipped_files(root: Path) -> list[Path]:
    """The files under ``root`` (an assets or presets folder) that a wheel or frozen app carries,
    relative to it: all but hidden files (editor litter, atomic-write temporaries) and bytecode
    (setup.py's rule too)."""
    files = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and path.suffix != ".pyc" and \
                not any(p.startswith(".") or p == "__pycache__" for p in relative.parts):
            files.append(relative)
    return files


def assets_dir() -> Path:
    """The built-in models (one folder each) and the app's icons (``icons/``)."""
    return bundled_path("assets")


def presets_dir() -> Path:
    """The built-in voice presets (one folder each)."""
    return bundled_path("presets")
