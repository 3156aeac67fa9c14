"""A tiny corpus made once per test session by the real pipeline (flite, piper, pocketsphinx, WORLD)."""

from pathlib import Path

import pytest

from engine.train.data import Plan, make_corpus

SMOKE_PLAN = Plan(counts={"flite-slt": 6, "flite-kal16": 6, "flite-slt~a": 4, "piper-joe": 4},
                  held_out_speakers=("flite-awb",), eval_sentences=2, shard_size=5, n_generated=60, seed=1)


@pytest.fixture
def smoke_plan() -> Plan:
    return SMOKE_PLAN


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    make_corpus(out, SMOKE_PLAN, workers=2, log=lambda *_: None)
    return out
