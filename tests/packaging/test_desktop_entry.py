"""The Linux desktop entry, the icons it names, and the script that installs both (no freeze needed:
the script is run on a folder laid out like the unpacked app)."""

from __future__ import annotations

import configparser
import os
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from studio.app import DESKTOP_NAME, app_icon

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "packaging" / "linux"
ICONS = ROOT / "assets" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def _entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return dict(parser["Desktop Entry"])


def test_desktop_entry_runs_the_program_and_names_its_icon():
    entry = _entry(LINUX / f"{DESKTOP_NAME}.desktop")
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Timbre Studio"
    assert entry["Exec"] == entry["TryExec"] == entry["Icon"] == entry["StartupWMClass"] == DESKTOP_NAME
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";") and "Audio" in entry["Categories"].split(";")
    spec = (ROOT / "packaging" / "studio.spec").read_text(encoding="utf-8")
    assert f'NAME = "{DESKTOP_NAME}"' in spec  # the frozen program is what Exec runs


def test_icon_svg_and_every_png_size():
    svg = ET.parse(ICONS / f"{DESKTOP_NAME}.svg").getroot()
    assert svg.tag.endswith("svg") and svg.get("viewBox") == "0 0 512 512"
    for size in SIZES:
        data = (ICONS / "hicolor" / f"{size}x{size}" / "apps" / f"{DESKTOP_NAME}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24]) == (size, size)


def test_studio_window_icon_has_every_size(qapp):
    sizes = {s.width() for s in app_icon().availableSizes()}
    assert sizes == set(SIZES)


def test_install_script_points_the_entry_at_the_unpacked_program(tmp_path):
    app = tmp_path / "Timbre Studio & co|0.1"  # Exec must quote the space; & and | are special to sed
    shutil.copytree(ICONS, app / "_internal" / "engine" / "_bundled" / "assets" / "icons")
    shutil.copy(LINUX / f"{DESKTOP_NAME}.desktop", app)
    shutil.copy(LINUX / "install-desktop-entry.sh", app)
    program = app / DESKTOP_NAME
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    data = tmp_path / "data"
    env = {**os.environ, "XDG_DATA_HOME": str(data)}

    subprocess.run(["sh", str(app / "install-desktop-entry.sh")], env=env, check=True, capture_output=True)
    entry = _entry(data / "applications" / f"{DESKTOP_NAME}.desktop")
    assert entry["Exec"] == f'"{program}"'
    assert entry["TryExec"] == str(program)
    assert entry["Icon"] == DESKTOP_NAME
    for size in SIZES:
        assert (data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{DESKTOP_NAME}.png").is_file()

    subprocess.run(["sh", str(app / "install-desktop-entry.sh"), "--uninstall"], env=env, check=True,
                   capture_output=True)
    assert not (data / "applications" / f"{DESKTOP_NAME}.desktop").exists()
    assert not list((data / "icons").rglob(f"{DESKTOP_NAME}.png"))


def test_install_script_refuses_a_folder_without_the_program(tmp_path):
    shutil.copy(LINUX / "install-desktop-entry.sh", tmp_path)
    run = subprocess.run(["sh", str(tmp_path / "install-desktop-entry.sh")], capture_output=True, text=True,
                         env={**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")})
    assert run.returncode == 1
    assert "no timbre-studio program" in run.stderr
    assert not (tmp_path / "data").exists()


def test_install_script_refuses_a_path_the_entry_cannot_quote(tmp_path):
    app = tmp_path / "price$5"
    app.mkdir()
    shutil.copy(LINUX / "install-desktop-entry.sh", app)
    (app / DESKTOP_NAME).write_text("#!/bin/sh\n")
    (app / DESKTOP_NAME).chmod(0o755)
    run = subprocess.run(["sh", str(app / "install-desktop-entry.sh")], capture_output=True, text=True,
                         env={**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")})
    assert run.returncode == 1
    assert "move the folder" in run.stderr
    assert not (tmp_path / "data").exists()
