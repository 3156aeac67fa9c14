"""Timbre engine: autoregressive flow-matching TTS (the Voxtral architecture), no Qt.

The public surface is pinned by tests/engine/test_public_api.py. Importing this package does not
import torch; ``Engine`` (which does) is loaded on first use, normally on the engine thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.api import (
    FRAME_RATE,
    AudioChunk,
    CancelToken,
    Cancelled,
    Done,
    EngineConfig,
    EngineError,
    Event,
    Failed,
    Frame,
    FrameEvent,
    Loaded,
    Loading,
    ModelInfo,
    Progress,
    SamplingParams,
    Started,
    SynthesisRequest,
)
from engine.worker import EngineWorker, Job

if TYPE_CHECKING:
    from engine.engine import Engine

__version__ = "0.1.0"

__all__ = [
    "FRAME_RATE",
    "AudioChunk",
    "CancelToken",
    "Cancelled",
    "Done",
    "Engine",
    "EngineConfig",
    "EngineError",
    "EngineWorker",
    "Event",
    "Failed",
    "Frame",
    "FrameEvent",
    "Job",
    "Loaded",
    "Loading",
    "ModelInfo",
    "Progress",
    "SamplingParams",
    "Started",
    "SynthesisRequest",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name == "Engine":
        from engine.engine import Engine

        return Engine
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
