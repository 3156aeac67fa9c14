"""The sdist and the wheel carry the built-in models and presets, and an installed wheel finds them.

Both are built once, with ``python -m build --no-isolation`` (sdist, then the wheel from the sdist,
as a release is), from a copy of the checkout in a temporary folder; the slow freeze is
packaging/smoke_test.py's job.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from engine import __version__
from engine.bundled import BUNDLED, shipped_files

ROOT = Path(__file__).resolve().parents[2]
NOT_COPIED = {"build", "dist", "out", "docs"}  # top-level folders the build never reads


def _shipped_files() -> list[str]:
    """Every file of the checkout's assets/ and presets/ that a build must carry."""
    return [f"{name}/{f.as_posix()}" for name in BUNDLED for f in shipped_files(ROOT / name)]


def _copy_checkout(target: Path) -> None:
    def ignore(folder: str, names: list[str]) -> set[str]:
        top = Path(folder) == ROOT
        return {n for n in names if n == "__pycache__" or n.endswith(".egg-info")
                or (top and (n.startswith(".") or n in NOT_COPIED))}

    shutil.copytree(ROOT, target, ignore=ignore)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("build")
    _copy_checkout(tmp / "src")
    out = tmp / "dist"
    run = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(tmp / "src")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    (wheel,) = out.glob(f"timbre_studio-{__version__}-*.whl")  # named after the version the CLI prints
    (sdist,) = out.glob(f"timbre_studio-{__version__}.tar.gz")
    return {"wheel": wheel, "sdist": sdist, "tmp": tmp}


def test_there_is_something_to_ship():
    files = _shipped_files()
    models = {f.split("/")[1] for f in files if f.startswith("assets/") and f.endswith("/config.json")}
    assert "tiny-random" in models
    assert "presets/README.md" in files


def test_wheel_carries_every_asset_and_preset(built):
    names = set(zipfile.ZipFile(built["wheel"]).namelist())
    missing = [f for f in _shipped_files() if f"engine/_bundled/{f}" not in names]
    assert not missing, f"not in the wheel: {missing}"
    bundled = [n for n in names if n.startswith("engine/_bundled/")]
    assert not [n for n in bundled if "/." in n or "__pycache__" in n], bundled
    # the application's packages, its command, and nothing of the repository around them
    assert {"engine/__init__.py", "studio/app.py", "engine/bundled.py"} <= names
    assert not [n for n in names if n.startswith(("tests/", "packaging/", "assets/", "presets/"))]
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "timbre = engine.cli:main" in zipfile.ZipFile(built["wheel"]).read(entry_points).decode()


def test_sdist_carries_assets_presets_and_packaging(built):
    with tarfile.open(built["sdist"]) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    missing = [f for f in _shipped_files() + ["setup.py", "MANIFEST.in", "packaging/studio.spec",
                                                   "packaging/smoke_test.py"] if f not in names]
    assert not missing, f"not in the sdist: {missing}"


def test_installed_wheel_finds_its_own_assets(built):
    """Installed elsewhere and imported from there (not from this checkout), the engine lists the
    built-in models from inside the installed package."""
    site = built["tmp"] / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                          "--target", str(site), str(built["wheel"])], capture_output=True, text=True, timeout=120)
    assert pip.returncode == 0, pip.stderr[-3000:]
    probe = ("import json, engine, engine.bundled as b, engine.model_files as m;"
             "print(json.dumps({'engine': engine.__file__, 'presets': str(b.presets_dir()),"
             " 'models': {k: str(v) for k, v in m.builtin_models().items()}}))")
    env = {k: v for k, v in os.environ.items() if k not in ("TIMBRE_ASSETS", "TIMBRE_PRESETS")}
    env["PYTHONPATH"] = str(site)
    run = subprocess.run([sys.executable, "-P", "-c", probe], cwd=built["tmp"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    found = json.loads(run.stdout)
    assert Path(found["engine"]).is_relative_to(site)
    assert Path(found["presets"]) == site / "engine" / "_bundled" / "presets"
    expected = {f.split("/")[1] for f in _shipped_files() if f.startswith("assets/") and f.endswith("/config.json")}
    assert set(found["models"]) == expected
    assert all(Path(p).is_relative_to(site / "engine" / "_bundled" / "assets") for p in found["models"].values())
