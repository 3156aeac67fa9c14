"""Build everything people install (``make package``), into dist/:

- the wheel and the sdist (``python -m build``; they carry assets/ and presets/),
- the frozen app, one folder (PyInstaller, packaging/studio.spec), with the desktop entry and its
  installer beside the program,
- the artifact: that folder as ``timbre-studio-<version>-linux-<machine>.tar.gz``.

    .venv/bin/python packaging/build_app.py [--skip-wheel] [--skip-freeze]

Prints each artifact's size at the end. Run from anywhere; paths are taken from this file.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
NAME = "timbre-studio"  # the program, the folder and the desktop entry (studio.spec's NAME)
BESIDE_PROGRAM = [  # (source, name in the app folder)
    (ROOT / "packaging" / "linux" / f"{NAME}.desktop", f"{NAME}.desktop"),
    (ROOT / "packaging" / "linux" / "install-desktop-entry.sh", "install-desktop-entry.sh"),
    (ROOT / "LICENSE", "LICENSE"),
]


def version() -> str:
    sys.path.insert(0, str(ROOT))  # this checkout's engine (importing it loads no torch)
    from engine import __version__

    return __version__


def artifact_name() -> str:
    return f"{NAME}-{version()}-{platform.system().lower()}-{platform.machine()}"


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def run(cmd: list[str]) -> None:
    print("+ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)


def build_wheel() -> None:
    for old in [*DIST.glob("timbre_studio-*.whl"), *DIST.glob("timbre_studio-*.tar.gz")]:
        old.unlink()
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(DIST), str(ROOT)])


def freeze() -> Path:
    run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
         "--distpath", str(DIST), "--workpath", str(ROOT / "build" / "pyinstaller"),
         str(ROOT / "packaging" / "studio.spec")])
    app = DIST / NAME
    for source, name in BESIDE_PROGRAM:
        shutil.copy2(source, app / name)
    return app


def pack(app: Path) -> Path:
    """The app folder as a .tar.gz whose top folder is named after the artifact (permissions kept)."""
    out = DIST / f"{artifact_name()}.tar.gz"
    partial = out.with_name(out.name + ".partial")
    with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
        tar.add(app, arcname=artifact_name())
    partial.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--skip-wheel", action="store_true", help="do not build the wheel and sdist")
    p.add_argument("--skip-freeze", action="store_true", help="do not freeze the app nor pack the tarball")
    args = p.parse_args(argv)
    DIST.mkdir(exist_ok=True)
    t0 = time.monotonic()
    if not args.skip_wheel:
        build_wheel()
    if not args.skip_freeze:
        pack(freeze())
    print(f"\nbuilt in {time.monotonic() - t0:.0f} s; in {DIST}:")
    for path in sorted(DIST.iterdir()):
        size = folder_size(path) if path.is_dir() else path.stat().st_size
        print(f"  {size / 1e6:9.1f} MB  {path.name}{'/' if path.is_dir() else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
