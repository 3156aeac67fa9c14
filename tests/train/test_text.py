"""Text to words to phone units: number spelling, the lexicon, boundaries and the OOV fallback."""

import gzip

import pytest

from engine.phonemes import BOUNDARY, Lexicon, PhoneTokenizer, units_from_words
from engine.text_normalize import number_words, ordinal_words, spell_out, year_words


@pytest.mark.parametrize("n, words", [(0, "zero"), (13, "thirteen"), (40, "forty"), (99, "ninety nine"),
                                      (101, "one hundred one"), (81126, "eighty one thousand one hundred twenty six")])
def test_number_words(n, words):
    assert number_words(n) == words


def test_ordinals_years_and_spell_out():
    assert ordinal_words(23) == "twenty third" and ordinal_words(12) == "twelfth" and ordinal_words(40) == "fortieth"
    assert year_words(1984) == "nineteen eighty four" and year_words(2005) == "two thousand five"
    assert year_words(1905) == "nineteen oh five"
    assert spell_out("On May 23rd, 1984 at 3:15 pm.") == "On May twenty third, nineteen eighty four at three fifteen p m."
    assert spell_out("It cost $12.50, or 25%.") == "It cost twelve dollars and fifty cents, or twenty five percent."
    assert spell_out("81,126 people") == "eighty one thousand one hundred twenty six people"


@pytest.fixture
def lexicon(tmp_path):
    path = tmp_path / "lex.txt.gz"
    path.write_bytes(gzip.compress(b"hello HH AH0 L OW1\nhello(2) HH EH0 L OW1\nworld W ER1 L D\n"
                                   b"sun S AH1 N\nflower F L AW1 ER0\nbee B IY1\nsee S IY1\n"))
    return Lexicon.read(path)


def test_lexicon_strips_stress_and_keeps_variants(lexicon):
    assert lexicon.entries["hello"] == [["HH", "AH", "L", "OW"], ["HH", "EH", "L", "OW"]]


def test_a_lexicon_file_is_read_once_until_it_changes(tmp_path):
    path = tmp_path / "lex.txt"
    path.write_text(";;; comment\nREAD(1) R IY1 D\nread(2) R EH1 D\nxyzzy Q1 X\n")
    first = Lexicon.read(path)
    assert first.entries == {"read": [["R", "IY", "D"], ["R", "EH", "D"]]}  # unknown phones: the line is left out
    assert Lexicon.read(path) is first
    path.write_text("sun S AH1 N\n")  # another version of the file: read again
    assert Lexicon.read(path).entries == {"sun": [["S", "AH", "N"]]}


def test_units_have_boundaries_and_punctuation(lexicon):
    tok = PhoneTokenizer(lexicon, 64, 128)
    assert tok.units("Hello, world!") == [BOUNDARY, "HH", "AH", "L", "OW", ",", "W", "ER", "L", "D", "!"]
    assert tok.units("hello world") == [BOUNDARY, "HH", "AH", "L", "OW", BOUNDARY, "W", "ER", "L", "D", BOUNDARY]
    ids = tok.encode("hello")
    assert ids[0] == 64 and all(64 <= i < 128 for i in ids)


def test_unknown_words_split_into_known_pieces_or_spelled(lexicon):
    assert lexicon.pronounce("sunflower") == ["S", "AH", "N", "F", "L", "AW", "ER"]
    assert lexicon.pronounce("bc") == ["B", "IY", "S", "IY"]  # letters: bee see


def test_units_from_words_merges_pause_marks():
    units = units_from_words([("a", ["AH"]), (",", []), (".", []), ("b", ["B"])])
    assert units == [BOUNDARY, "AH", ",", "B", BOUNDARY]
