"""Suite-wide set-up: headless Qt, a captured ALSA output device, and per-test user folders.

ALSA_CONFIG_PATH must be set before sounddevice is imported (PortAudio reads it at import), so it
is set here, when pytest loads this file. The default ALSA device tees everything played, as raw
16-bit mono at 16 kHz, into PLAYED_RAW and discards it (recipe A of shared/research/environment.md).
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_ALSA_DIR = Path(tempfile.mkdtemp(prefix="timbre-alsa-"))
PLAYED_RAW = _ALSA_DIR / "played.raw"
PLAYBACK_RATE = 16_000
(_ALSA_DIR / "asound.conf").write_text(f"""
pcm.!default {{ type plug  slave {{ pcm "tee"  format S16_LE  rate {PLAYBACK_RATE}  channels 1 }} }}
pcm.tee {{ type file  slave.pcm "null"  file "{PLAYED_RAW}"  format "raw" }}
""")
os.environ["ALSA_CONFIG_PATH"] = f"/usr/share/alsa/alsa.conf:{_ALSA_DIR / 'asound.conf'}"

# The suite runs on the tiny placeholder model: the built-in models it sees are tiny-random only
# (tests of the trained timbre-mini name its folder, REPO_ASSETS / "timbre-mini").
REPO_ASSETS = Path(__file__).resolve().parent.parent / "assets"
_TEST_ASSETS = Path(tempfile.mkdtemp(prefix="timbre-assets-"))
(_TEST_ASSETS / "tiny-random").symlink_to(REPO_ASSETS / "tiny-random")
(_TEST_ASSETS / "icons").symlink_to(REPO_ASSETS / "icons")
os.environ["TIMBRE_ASSETS"] = str(_TEST_ASSETS)


@pytest.fixture(autouse=True)
def _isolated_user_folders(tmp_path_factory, monkeypatch):
    """Settings, logs and data of each test live in its own folder, never in the user's."""
    home = tmp_path_factory.mktemp("home")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))


@pytest.fixture(autouse=True)
def _no_dangling_engine_threads():
    """Every engine thread a test starts must be shut down by the end of the test."""
    yield
    alive = [t.name for t in threading.enumerate() if t.name == "timbre-engine" and t.is_alive()]
    assert not alive, f"engine thread(s) left running: {alive}"


@pytest.fixture
def played_audio() -> Path:
    """The file that receives everything played on the default ALSA device (emptied first)."""
    PLAYED_RAW.write_bytes(b"")
    return PLAYED_RAW
