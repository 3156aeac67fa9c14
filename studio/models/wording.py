"""Words the studio shows about counts."""

from __future__ import annotations


def count_of(n: int, noun: str) -> str:
    """``1 take``, ``3 takes``, ``0 takes`` (English plurals in s, which every noun here takes)."""
    return f"{n} {noun}" + ("" if n == 1 else "s")
