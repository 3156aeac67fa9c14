"""Text normalisation and the built-in byte tokenizer (no GPL phonemizer at run time)."""

from __future__ import annotations

import re
import unicodedata

from engine.config import TokensConfig

_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """NFKC, straight quotes, one space between words."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return _SPACE.sub(" ", text).strip()


class ByteTokenizer:
    """UTF-8 bytes, each shifted past the special ids."""

    def __init__(self, tokens: TokensConfig, vocab_size: int) -> None:
        self.offset = tokens.text_offset
        if self.offset + 256 > vocab_size:
            raise ValueError(f"vocab_size {vocab_size} too small for byte tokens at offset {self.offset}")

    def encode(self, text: str) -> list[int]:
        return [self.offset + b for b in normalize(text).encode("utf-8")]

    def symbols(self, ids: list[int]) -> list[str]:
        """Bytes have no symbols of their own (a character may span several)."""
        return [""] * len(ids)

    def decode(self, ids: list[int]) -> str:
        return bytes(i - self.offset for i in ids if self.offset <= i < self.offset + 256).decode("utf-8", "replace")


_SENTENCE_END = re.compile(r"(?<=[.!?\u2026\u3002\uff01\uff1f])\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:\u3001\uff0c])\s+")


def split_sentences(text: str, max_chars: int) -> list[str]:
    """Cut text into consecutive chunks of whole sentences, each at most ``max_chars`` long.

    Every chunk is an exact slice of ``text``: a text that fits is returned unchanged, and only the
    whitespace at a cut is dropped. Sentences are grouped greedily; a sentence longer than
    ``max_chars`` is cut after a clause mark, else at a space, else hard.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    if not text.strip():
        return []
    if len(text) <= max_chars:
        return [text]
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        spans += _cut_long(text, start, m.start(), max_chars)
        start = m.end()
    spans += _cut_long(text, start, len(text), max_chars)
    chunks: list[tuple[int, int]] = []
    for s, e in spans:
        if chunks and e - chunks[-1][0] <= max_chars:
            chunks[-1] = (chunks[-1][0], e)
        else:
            chunks.append((s, e))
    return [text[s:e] for s, e in chunks]


def _cut_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Spans [s, e) covering text[start:end] (whitespace at the cuts left out), each <= max_chars."""
    out = []
    while end - start > max_chars:
        window = text[start:start + max_chars + 1]
        cuts = [m.start() for m in _CLAUSE_END.finditer(window)] or [i for i, ch in enumerate(window) if ch.isspace()]
        cut = max((c for c in cuts if c > 0), default=max_chars)
        out.append((start, start + len(text[start:start + cut].rstrip())))
        start += cut
        while start < end and text[start].isspace():
            start += 1
    if end > start and text[start:end].strip():
        out.append((start, end))
    return out
