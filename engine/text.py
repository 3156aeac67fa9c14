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

    def decode(self, ids: list[int]) -> str:
        return bytes(i - self.offset for i in ids if self.offset <= i < self.offset + 256).decode("utf-8", "replace")


_SENTENCE_END = re.compile(r"(?<=[.!?\u2026\u3002\uff01\uff1f])\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:\u3001\uff0c])\s+")


def split_sentences(text: str, max_chars: int) -> list[str]:
    """Cut text into consecutive chunks of whole sentences, each at most ``max_chars`` long.

    Sentences are grouped greedily; a sentence longer than ``max_chars`` is cut after a clause mark,
    else at a space, else hard. Only the whitespace at the cuts is dropped: joining the chunks with
    single spaces gives the text back (up to that whitespace).
    """
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        pieces.extend(_cut_long(sentence, max_chars))
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 1 + len(piece) <= max_chars:
            chunks[-1] = f"{chunks[-1]} {piece}"
        elif piece:
            chunks.append(piece)
    return chunks


def _cut_long(sentence: str, max_chars: int) -> list[str]:
    out: list[str] = []
    rest = sentence.strip()
    while len(rest) > max_chars:
        head = rest[: max_chars + 1]
        cuts = [m.start() for m in _CLAUSE_END.finditer(head)] or [i for i, ch in enumerate(head) if ch.isspace()]
        cut = max((c for c in cuts if c > 0), default=max_chars)
        out.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        out.append(rest)
    return out
