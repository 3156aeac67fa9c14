"""Spell out what a speech model cannot read as letters: numbers, ordinals, years, money, percent,
times, a few abbreviations. The same function prepares the teachers' text and the user's text, so
the model only ever sees words.
"""

from __future__ import annotations

import re

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))
_ORDINAL_IRREGULAR = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                      "nine": "ninth", "twelve": "twelfth"}
_ABBREVIATIONS = {"mr.": "mister", "mrs.": "missus", "dr.": "doctor", "st.": "saint", "vs.": "versus",
                  "etc.": "et cetera", "e.g.": "for example", "i.e.": "that is", "no.": "number",
                  "&": "and", "+": "plus", "=": "equals", "@": "at", "%": "percent"}


def number_words(n: int) -> str:
    """Non-negative integer -> English words (``1234`` -> ``one thousand two hundred thirty four``)."""
    if n < 0:
        return "minus " + number_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    for value, name in _SCALES:
        if n >= value:
            head, rest = divmod(n, value)
            return number_words(head) + " " + name + ("" if rest == 0 else " " + number_words(rest))
    raise AssertionError("unreachable")


def ordinal_words(n: int) -> str:
    words = number_words(n).split()
    last = words[-1]
    if last in _ORDINAL_IRREGULAR:
        words[-1] = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def year_words(n: int) -> str:
    """1984 -> nineteen eighty four; 2005 -> two thousand five; 1900 -> nineteen hundred."""
    if 2000 <= n < 2010 or n % 1000 == 0:
        return number_words(n)
    head, tail = divmod(n, 100)
    if tail == 0:
        return number_words(head) + " hundred"
    return number_words(head) + (" oh " if tail < 10 else " ") + number_words(tail)


def _digits(s: str) -> str:
    return " ".join(_ONES[int(c)] for c in s)


def _money(m: re.Match) -> str:
    whole, cents = m.group(1).replace(",", ""), m.group(2)
    out = number_words(int(whole)) + (" dollar" if whole == "1" else " dollars")
    if cents and int(cents):
        out += " and " + number_words(int(cents)) + (" cent" if cents == "01" else " cents")
    return " " + out + " "


def _number(m: re.Match) -> str:
    s = m.group(0).replace(",", "")
    if "." in s:
        whole, frac = s.split(".", 1)
        return " " + number_words(int(whole or "0")) + " point " + _digits(frac) + " "
    if len(s) > 1 and s.startswith("0"):
        return " " + _digits(s) + " "
    n = int(s)
    if len(s) == 4 and 1100 <= n <= 2099 and "," not in m.group(0):
        return " " + year_words(n) + " "
    if n >= 10**12:
        return " " + _digits(s) + " "
    return " " + number_words(n) + " "


def _time(m: re.Match) -> str:
    h, mins = int(m.group(1)), int(m.group(2))
    tail = "o'clock" if mins == 0 else ("oh " + number_words(mins) if mins < 10 else number_words(mins))
    suffix = {"am": " a m", "pm": " p m"}.get((m.group(3) or "").replace(".", "").lower(), "")
    return f" {number_words(h)} {tail}{suffix} "


_RULES: tuple[tuple[re.Pattern, object], ...] = (
    (re.compile(r"\$(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d\d))?"), _money),
    (re.compile(r"\b(\d{1,2}):(\d\d)\s*(am|pm|a\.m\.|p\.m\.)?", re.I), _time),
    (re.compile(r"\b(\d+)(st|nd|rd|th)\b", re.I), lambda m: " " + ordinal_words(int(m.group(1))) + " "),
    (re.compile(r"(\d+(?:\.\d+)?)\s*%"), lambda m: _number(re.match(r".*", m.group(1))) + " percent "),
    (re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"), _number),
)


def spell_out(text: str) -> str:
    """Text -> text with numbers, symbols and common abbreviations written as words (case kept
    elsewhere, punctuation kept)."""
    out = text
    for word, spoken in _ABBREVIATIONS.items():
        pattern = re.escape(word) if not word[0].isalpha() else r"(?<![\w.])" + re.escape(word)
        out = re.sub(pattern, " " + spoken + " ", out, flags=re.I)
    out = re.sub(r"(\d)-(\d)", r"\1 to \2", out)
    for pattern, repl in _RULES:
        out = pattern.sub(repl, out)  # type: ignore[arg-type]
    out = re.sub(r"\s+([,.!?;:])", r"\1", out)
    return re.sub(r"\s+", " ", out).strip()
