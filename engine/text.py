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
