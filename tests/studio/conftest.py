"""Studio fixtures: a real studio (real engine thread, tiny model, offscreen Qt) per test."""

from __future__ import annotations

import pytest
from PySide6 import QtCore

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
             wait_loaded: bool = True, name: str = "settings", **settings) -> Studio:
        settings_file = tmp_path / f"{name}.json"
        if not settings_file.exists():
            settings.setdefault("sampler_model", model)  # the sampler below is already tuned for this model
            save(Settings(text=text, sampler=sampler or {"max_seconds": 1.0}, **settings), settings_file)
        studio = build_studio(model=model, device="cpu", settings_file=settings_file, threads=1)
        # pytest-qt closes the window after each test: answer "Discard" unless a test asks for real
        studio.window.projects.ask = lambda title, text, buttons, default: "Discard"
        made.append(studio)  # (closed below, not by qtbot: fixtures used after this one end first)
        studio.window.show()
        qtbot.waitExposed(studio.window)
        studio.start_engine()
        if wait_loaded:
            qtbot.waitUntil(lambda: studio.window.info is not None, timeout=30_000)
        return studio

    yield make
    for studio in made:
        studio.window.projects.ask = lambda title, text, buttons, default: "Discard"
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


def data_point(pane, t: float, y: float) -> QtCore.QPoint:
    """Widget pixel of data coordinates (t seconds, y) in a pyqtgraph pane."""
    scene = pane.getViewBox().mapViewToScene(QtCore.QPointF(t, y))
    return pane.mapFromScene(scene)


def click_data(qtbot, pane, t: float, y: float, modifier=QtCore.Qt.NoModifier) -> None:
    qtbot.mouseClick(pane.viewport(), QtCore.Qt.LeftButton, modifier, data_point(pane, t, y))
