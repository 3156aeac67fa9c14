"""Progress lines for long jobs: step, what the caller reports (loss...), rate and ETA; and the small
formatters they and the training reports share."""

from __future__ import annotations

import time
from collections.abc import Callable


def count_of(n: int, noun: str) -> str:
    """``1 flow step``, ``8 flow steps``."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def format_seconds(s: float) -> str:
    s = int(max(0, s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


class Progress:
    """Counts steps toward ``total``; ``step`` prints ``[done/total] message, rate, ETA`` every
    ``every`` seconds (and always for the last step)."""

    def __init__(self, total: int, log: Callable[[str], None] = print, start: int = 0, every: float = 0.0) -> None:
        self.total, self.log, self.done, self.every = total, log, start, every
        self.start_done, self.t0, self.last = start, time.monotonic(), 0.0

    def eta(self) -> float:
        rate = (self.done - self.start_done) / max(time.monotonic() - self.t0, 1e-9)
        return (self.total - self.done) / rate if rate > 0 else float("inf")

    def step(self, n: int = 1, message: str = "") -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last < self.every and self.done < self.total:
            return
        self.last = now
        eta = self.eta()
        eta_s = format_seconds(eta) if eta != float("inf") else "?"
        self.log(f"[{self.done}/{self.total}] {message}  elapsed {format_seconds(now - self.t0)}  ETA {eta_s}")
