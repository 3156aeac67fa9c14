"""Text -> phone tokens without any GPL code: a CMU pronouncing dictionary (BSD) plus a fallback.

The token sequence of a text is ``_ w1 phones (_ | punct) w2 phones ... (punct | _)``: ``_`` marks a
word boundary (it absorbs any pause there), punctuation marks a phrase boundary. The same symbols
come out of forced alignment of the training data, so training and run time agree.
"""

from __future__ import annotations

import gzip
import re
from functools import lru_cache
from pathlib import Path

from engine.text import normalize
from engine.text_normalize import spell_out

PHONES = ("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y "
          "Z ZH").split()
BOUNDARY = "_"
PUNCTUATION = {",": ",", ";": ",", ":": ",", ".": ".", "!": "!", "?": "?"}
SYMBOLS = (BOUNDARY, ",", ".", "!", "?", *PHONES)
PHONE_SET = frozenset(PHONES)
_VARIANT = re.compile(r"\(\d+\)$")  # "read(2)": the second pronunciation of "read"
_NO_STRESS = str.maketrans("", "", "0123456789")  # cmudict's stress digits: AH0 -> AH
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*|[,;:.!?]")
_LETTER_WORDS = {c: w for c, w in zip("abcdefghijklmnopqrstuvwxyz", (
    "a bee see dee e ef gee aitch i jay kay el em en o pee cue ar es tee you vee double-you ex why zee").split())}


class Lexicon:
    """word -> pronunciations (lists of PHONES). Reads cmudict format: ``word[(n)] PH PH ...``."""

    def __init__(self, entries: dict[str, list[list[str]]]) -> None:
        self.entries = entries

    @classmethod
    def read(cls, path: Path) -> "Lexicon":
        """The lexicon in a cmudict file (gzip when it ends in .gz). Read once a process per file version
        and shared (nothing changes a Lexicon): every model load and scratch export would read it again."""
        stat = Path(path).stat()
        return _read_lexicon(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)

    @classmethod
    def _parse(cls, path: str) -> "Lexicon":
        opener = gzip.open if str(path).endswith(".gz") else open
        entries: dict[str, list[list[str]]] = {}
        with opener(path, "rt", encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) < 2 or parts[0].startswith(";;;"):
                    continue
                word = _VARIANT.sub("", parts[0]) if parts[0].endswith(")") else parts[0]
                phones = [p.translate(_NO_STRESS).upper() for p in parts[1:]]
                if PHONE_SET.issuperset(phones):
                    entries.setdefault(word.lower(), []).append(phones)
        return cls(entries)

    def __contains__(self, word: str) -> bool:
        return word in self.entries

    def pronounce(self, word: str) -> list[str]:
        """First pronunciation; an unknown word is split into known pieces, or spelled out."""
        if word in self.entries:
            return self.entries[word][0]
        pieces = self._split(word.replace("'", ""))
        if pieces is not None:
            return [p for piece in pieces for p in self.entries[piece][0]]
        out: list[str] = []
        for c in word:
            for w in _LETTER_WORDS.get(c, "").split("-"):
                out += self.entries.get(w, [[]])[0]
        return out

    def _split(self, word: str, depth: int = 0) -> list[str] | None:
        """Longest known prefix (3+ letters) followed by a splittable rest."""
        if word in self.entries:
            return [word]
        if depth > 4:
            return None
        for cut in range(len(word) - 1, 2, -1):
            head, rest = word[:cut], word[cut:]
            if head in self.entries:
                tail = self._split(rest, depth + 1) if len(rest) >= 3 else None
                if tail is not None:
                    return [head, *tail]
        return None


@lru_cache(maxsize=4)
def _read_lexicon(path: str, mtime_ns: int, size: int) -> Lexicon:
    """``Lexicon.read``'s cache: the version of a file is its path, modification time and size."""
    return Lexicon._parse(path)


def text_words(text: str) -> list[str]:
    """Text -> lower-case words and punctuation marks, numbers spelled out."""
    return _WORD.findall(spell_out(normalize(text)).lower().replace("-", " "))


def spoken_words(text: str) -> list[str]:
    """The words of ``text`` as ``text_words`` gives them, punctuation left out: what is said (and aligned,
    and scored)."""
    return [w for w in text_words(text) if w[0].isalpha()]


def units_with_durations(words: list[tuple[str, list[tuple[str, int]], int]]) -> tuple[list[str], list[int]]:
    """[(word or punctuation, [(phone, duration)], pause before it)] -> (symbols, durations).

    A pause goes to the boundary or punctuation mark before the word; a mark replaces the boundary
    it follows; the sequence starts with a boundary and ends with a boundary or a mark.
    """
    units, durs = [BOUNDARY], [0]
    marks = (BOUNDARY, *PUNCTUATION.values())
    for word, phones, pause in words:
        if word in PUNCTUATION:
            mark = PUNCTUATION[word]
            if units[-1] == BOUNDARY and len(units) > 1:
                units[-1] = mark
            elif units[-1] not in PUNCTUATION.values():
                units.append(mark)
                durs.append(0)
            continue
        if not phones:
            continue
        if units[-1] not in marks:
            units.append(BOUNDARY)
            durs.append(0)
        durs[-1] += pause
        for phone, d in phones:
            units.append(phone)
            durs.append(d)
    if units[-1] not in marks:
        units.append(BOUNDARY)
        durs.append(0)
    return units, durs


def units_from_words(words: list[tuple[str, list[str]]]) -> list[str]:
    """[(word or punctuation, phones)] -> symbol sequence with boundaries (see module doc)."""
    return units_with_durations([(w, [(p, 0) for p in phones], 0) for w, phones in words])[0]


class PhoneTokenizer:
    """Symbols -> ids ``text_offset + index`` in SYMBOLS."""

    def __init__(self, lexicon: Lexicon, text_offset: int, vocab_size: int) -> None:
        if text_offset + len(SYMBOLS) > vocab_size:
            raise ValueError(f"vocab_size {vocab_size} too small for {len(SYMBOLS)} phone symbols")
        self.lexicon, self.offset = lexicon, text_offset
        self.index = {s: i for i, s in enumerate(SYMBOLS)}

    def units(self, text: str) -> list[str]:
        return units_from_words([(w, [] if w in PUNCTUATION else self.lexicon.pronounce(w)) for w in text_words(text)])

    def ids(self, units: list[str]) -> list[int]:
        return [self.offset + self.index[u] for u in units]

    def encode(self, text: str) -> list[int]:
        return self.ids(self.units(text))

    def symbols(self, ids: list[int]) -> list[str]:
        """The symbol of each id ("" for an id outside the symbols)."""
        return [SYMBOLS[i - self.offset] if 0 <= i - self.offset < len(SYMBOLS) else "" for i in ids]

