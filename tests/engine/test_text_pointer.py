"""The text pointer stops on every phone: it may jump over word boundaries and punctuation only."""

import random

from engine.phonemes import Lexicon, PhoneTokenizer
from engine.text_pointer import stop_at_phones

QUICK = Lexicon({"the": [["DH", "AH"]], "quick": [["K", "W", "IH", "K"]]})


def test_the_tokenizer_marks_phones_and_not_boundaries_or_punctuation():
    tok = PhoneTokenizer(QUICK, text_offset=10, vocab_size=100)
    ids = tok.encode("The quick, quick.")
    assert tok.units("The quick, quick.") == ["_", "DH", "AH", "_", "K", "W", "IH", "K", ",", "K", "W", "IH", "K", "."]
    assert tok.phones(ids) == [u not in ("_", ",", ".") for u in tok.units("The quick, quick.")]
    assert tok.phones([0, 9, 10 + 200]) == [False, False, False]  # specials and ids past the symbols


def test_a_jump_is_cut_short_at_the_first_phone_it_would_pass_over():
    is_phone = [False, True, True, True, True, False, True, True, False]  # _ K W IH K _ B R .
    assert stop_at_phones(0, 1, is_phone) == 1
    assert stop_at_phones(1, 2, is_phone) == 1  # K -> would pass W: stops on W
    assert stop_at_phones(2, 3, is_phone) == 1  # W -> would pass IH and K
    assert stop_at_phones(4, 2, is_phone) == 2  # K -> over the boundary onto B
    assert stop_at_phones(4, 3, is_phone) == 2  # ... but not over B
    assert stop_at_phones(3, 0, is_phone) == 0  # staying is always allowed
    assert stop_at_phones(7, 3, is_phone) == 3  # R -> past the end: nothing there stops it
    assert stop_at_phones(0, 4, []) == 4  # no phone information (byte text): the head's jump


def test_any_walk_visits_every_phone_in_order():
    rng = random.Random(0)
    for _ in range(200):
        is_phone = [rng.random() < 0.7 for _ in range(rng.randint(1, 30))]
        pointer, visited = 0, [0]
        while pointer < len(is_phone):
            step = stop_at_phones(pointer, rng.randint(0, 4), is_phone)
            assert step >= 0
            pointer += step
            visited.append(pointer)
        assert visited == sorted(visited)
        assert {i for i, p in enumerate(is_phone) if p} <= set(visited)
