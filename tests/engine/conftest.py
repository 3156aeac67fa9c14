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


@pytest.fixture(scope="session")
def voxtral_dir(tmp_path_factory):
    """A tiny random checkpoint in the released Voxtral layout (written once per session; do not modify)."""
    from engine.families.voxtral.synthetic import write_checkpoint

    return write_checkpoint(tmp_path_factory.mktemp("voxtral") / "Voxtral-tiny-random", seed=0)


@pytest.fixture(scope="session")
def voxtral_engine(voxtral_dir) -> Engine:
    e = Engine(EngineConfig(model=str(voxtral_dir), device="cpu", threads=1))
    e.load()
    return e
