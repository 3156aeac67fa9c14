"""A minimal evented base for the studio's models: no Qt, so model tests run without a QApplication."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger(__name__)


class Emitter:
    """A list of callbacks. ``emit`` calls them in connection order; ``blocked()`` mutes it (for
    two-way binding: a widget that writes the model must not be written back while it does)."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[..., Any]] = []
        self._blocked = 0

    def connect(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        self._subscribers.append(fn)
        return fn

    def disconnect(self, fn: Callable[..., Any]) -> None:
        self._subscribers.remove(fn)

    def emit(self, *args: Any) -> None:
        if self._blocked:
            return
        for fn in list(self._subscribers):
            fn(*args)

    @contextlib.contextmanager
    def blocked(self) -> Iterator[None]:
        self._blocked += 1
        try:
            yield
        finally:
            self._blocked -= 1
