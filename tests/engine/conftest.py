import pytest
import torch

from engine.engine import Engine, EngineConfig


@pytest.fixture(scope="session")
def engine() -> Engine:
    e = Engine(EngineConfig(device="cpu", threads=2))
    e.load("tiny-random")
    return e


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)
