"""PyInstaller hook for the ``engine`` package: the files engine/bundled.py looks for.

A frozen app carries the built-in ``assets`` (models, icons) and ``presets`` where an installed wheel
has them, in ``engine/_bundled/``, hidden files and bytecode left out. They come from where the
engine being frozen finds them (the checkout, or $TIMBRE_ASSETS / $TIMBRE_PRESETS to freeze other
models); whatever model folders are there ship, none is named here.
"""

from pathlib import Path

from engine.bundled import BUNDLE_DIR, BUNDLED, bundled_path, shipped_files

datas = []
for name in BUNDLED:
    source = bundled_path(name)
    if not source.is_dir():
        raise SystemExit(f"hook-engine: {source} is missing: freeze from a source checkout or an sdist")
    datas += [(str(source / f), str(Path("engine", BUNDLE_DIR, name, f.parent))) for f in shipped_files(source)]
