"""One lookup for the built-in files: override, packaged copy, source checkout."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import engine.bundled as bundled
from engine.bundled import assets_dir, bundled_path, presets_dir, shipped_files

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_overrides(monkeypatch):
    monkeypatch.delenv("TIMBRE_ASSETS", raising=False)
    monkeypatch.delenv("TIMBRE_PRESETS", raising=False)


def test_source_checkout_uses_the_top_level_folders(no_overrides):
    assert assets_dir() == ROOT / "assets"
    assert presets_dir() == ROOT / "presets"


def test_environment_overrides_win(no_overrides, monkeypatch, tmp_path):
    monkeypatch.setenv("TIMBRE_ASSETS", str(tmp_path / "a"))
    monkeypatch.setenv("TIMBRE_PRESETS", str(tmp_path / "p"))
    assert assets_dir() == tmp_path / "a"
    assert presets_dir() == tmp_path / "p"


def _fake_install(root: Path, with_bundle: bool, with_checkout: bool) -> Path:
    """A copy of engine/bundled.py in a package laid out like an install (or a checkout)."""
    package = root / "engine"
    package.mkdir(parents=True)
    shutil.copy(bundled.__file__, package / "bundled.py")
    if with_bundle:
        (package / "_bundled" / "assets" / "m").mkdir(parents=True)
    if with_checkout:
        (root / "assets").mkdir()
    return package / "bundled.py"


@pytest.mark.parametrize("with_checkout", [False, True])
def test_packaged_copy_is_preferred(no_overrides, monkeypatch, tmp_path, with_checkout):
    fake = _fake_install(tmp_path, with_bundle=True, with_checkout=with_checkout)
    monkeypatch.setattr(bundled, "__file__", str(fake))
    assert assets_dir() == tmp_path / "engine" / "_bundled" / "assets"


def test_missing_everywhere_names_the_packaged_place(no_overrides, monkeypatch, tmp_path):
    fake = _fake_install(tmp_path, with_bundle=False, with_checkout=False)
    monkeypatch.setattr(bundled, "__file__", str(fake))
    assert presets_dir() == tmp_path / "engine" / "_bundled" / "presets"


def test_unknown_folder_is_refused():
    with pytest.raises(ValueError, match="unknown bundled folder 'models'"):
        bundled_path("models")


def test_shipped_files_leave_out_hidden_files_and_bytecode(tmp_path):
    for name in ("m/config.json", "m/voices/a.safetensors", "m/.config.json.x1y2.json", ".DS_Store",
                 "m/__pycache__/x.cpython-311.pyc", "m/stray.pyc", ".git/HEAD", "icons/a.svg"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert shipped_files(tmp_path) == [Path("icons/a.svg"), Path("m/config.json"), Path("m/voices/a.safetensors")]
