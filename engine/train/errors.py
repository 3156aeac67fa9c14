"""The one error type a training or evaluation command stops with when its user can fix the cause."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from safetensors import SafetensorError


class TrainingError(RuntimeError):
    """A missing or mismatched corpus, run or model folder, a bad flag combination, a teacher program that
    is not installed: ``timbre`` prints the message, without a traceback, and exits with status 2."""


@contextmanager
def reading(path: Path, error: type[TrainingError] = TrainingError) -> Iterator[None]:
    """Around the read of one file: a damaged or unreadable file (bad JSON or UTF-8, a truncated
    safetensors file, no permission) becomes ``error`` naming the file."""
    try:
        yield
    except (OSError, ValueError, SafetensorError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise error(f"{path} is damaged or unreadable ({e})") from e
