"""Architecture rules that must hold mechanically: import contracts and the pinned public API."""

import inspect
import os
import subprocess
import sys
from pathlib import Path

import engine

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold():
    """engine never imports Qt/studio; studio never imports torch (import-linter, from pyproject)."""
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 kept, 0 broken" in r.stdout


def test_importing_engine_does_not_import_torch_or_qt():
    code = "import engine, sys; print(sorted(m for m in ('torch', 'PySide6') if m in sys.modules))"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


PUBLIC = [
    "FRAME_RATE", "AudioChunk", "CancelToken", "Cancelled", "Done", "Engine", "EngineConfig", "EngineError",
    "EngineWorker", "Event", "Failed", "Frame", "FrameEvent", "Job", "Loaded", "Loading", "ModelInfo",
    "Progress", "SamplingParams", "Started", "SynthesisRequest", "__version__",
]


def test_public_api_is_pinned():
    assert sorted(engine.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert getattr(engine, name) is not None
    public_methods = {n for n, _ in inspect.getmembers(engine.Engine, inspect.isfunction) if not n.startswith("_")}
    # install: a model built in memory (the benchmarks); load reads one from files
    assert public_methods == {"load", "load_events", "install", "synthesize", "render", "voice_codes", "max_frames",
                              "prepare_reference", "create_voice", "voice_match"}
    worker_methods = {n for n, _ in inspect.getmembers(engine.EngineWorker, inspect.isfunction) if not n.startswith("_")}
    assert worker_methods == {"start", "shutdown", "submit", "synthesize", "load", "call", "cancel_all"}
    sig = inspect.signature(engine.Engine.synthesize)
    assert list(sig.parameters) == ["self", "request", "cancel"]
