"""Studio fixtures: a real studio (real engine thread, tiny model, offscreen Qt) per test."""

from __future__ import annotations

import pytest

from engine import EngineConfig, EngineWorker
from studio.app import Studio, build_studio
from studio.engine_bridge import EngineBridge
from studio.settings import Settings, save


@pytest.fixture
def make_studio(qtbot, tmp_path):
    """make_studio(text=..., sampler=..., model=...) -> a shown Studio (by default once its model loaded).

    Studios made with the same ``name`` share a settings file, so a second one sees what the first saved.
    """
    made: list[Studio] = []

    def make(text: str = "Hello there.", sampler: dict | None = None, model: str = "tiny-random",
             wait_loaded: bool = True, name: str = "settings") -> Studio:
        settings_file = tmp_path / f"{name}.json"
        if not settings_file.exists():
            save(Settings(text=text, sampler=sampler or {"max_seconds": 1.0}), settings_file)
        studio = build_studio(model=model, device="cpu", settings_file=settings_file, threads=1)
        made.append(studio)
        qtbot.addWidget(studio.window)
        studio.window.show()
        qtbot.waitExposed(studio.window)
        if wait_loaded:
            qtbot.waitUntil(lambda: studio.window.info is not None, timeout=30_000)
        return studio

    yield make
    for studio in made:
        studio.window.close()  # saves settings and stops the engine thread
        studio.bridge.shutdown()


@pytest.fixture
def bridge(qtbot):
    """A started bridge on the tiny model, shut down after the test."""
    b = EngineBridge(EngineWorker(EngineConfig(model="tiny-random", device="cpu", threads=1)))
    with qtbot.waitSignal(b.loaded, timeout=30_000):
        b.start()
    yield b
    b.shutdown()
