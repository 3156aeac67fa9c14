"""The text pointer stops on every phone: it may jump over word boundaries and punctuation only."""

import random

from engine.phonemes import Lexicon, PhoneTokenizer
from engine.text_pointer import stop_at_phones

QUICK = Lexicon({"the": [["DH", "AH"]], "quick": [["K", "W", "IH", "K"]]})


def test_the_tokenizer_gives_each_id_its_symbol():
    tok = PhoneTokenizer(QUICK, text_offset=10, vocab_size=100)
    ids = tok.encode("The quick, quick.")
    assert tok.units("The quick, quick.") == ["_", "DH", "AH", "_", "K", "W", "IH", "K", ",", "K", "W", "IH", "K", "."]
    assert tok.symbols(ids) == tok.units("The quick, quick.")
    assert tok.symbols([0, 9, 10 + 200]) == ["", "", ""]  # specials and ids past the symbols


def test_a_jump_is_cut_short_at_the_first_phone_it_would_pass_over():
    units = "_ K W IH K _ B R .".split()
    assert stop_at_phones(0, 1, units) == 1
    assert stop_at_phones(1, 2, units) == 1  # K -> would pass W: stops on W
    assert stop_at_phones(2, 3, units) == 1  # W -> would pass IH and K
    assert stop_at_phones(4, 2, units) == 2  # K -> over the boundary onto B
    assert stop_at_phones(4, 3, units) == 2  # ... but not over B
    assert stop_at_phones(3, 0, units) == 0  # staying is always allowed
    assert stop_at_phones(7, 3, units) == 3  # R -> past the end: nothing there stops it
    assert stop_at_phones(0, 4, []) == 4  # no phone information (byte text): the head's jump


def test_any_walk_visits_every_phone_in_order():
    rng = random.Random(0)
    for _ in range(200):
        units = [rng.choice(("K", "IH", "R", "_", ".")) for _ in range(rng.randint(1, 30))]
        pointer, visited = 0, [0]
        while pointer < len(units):
            step = stop_at_phones(pointer, rng.randint(0, 4), units)
            assert step >= 0
            pointer += step
            visited.append(pointer)
        assert visited == sorted(visited)
        assert {i for i, u in enumerate(units) if u not in ("_", ".")} <= set(visited)
