"""Where an aligned-text model's pointer goes after each frame.

The model reads its text through a pointer (``TextStream``: the unit under it and the next one) and
predicts after each frame how many units the pointer moves on. Trained on teachers' phone timings at
80 ms a frame, it learned to jump two units where a teacher said a phone in less than a frame; run
free, the jumped phone is often not said at all (the short vowel of "quick" at 8 of 10 seeds, heard as
"poor"). So by default the pointer may jump over word boundaries and punctuation, which are not
sounds, but stops on every phone for at least one frame.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.phonemes import PHONE_SET


def stop_at_phones(pointer: int, advance: int, units: Sequence[str]) -> int:
    """How far the pointer at ``pointer`` moves: the head's ``advance``, cut short at the first phone it
    would jump over (a unit strictly between the old and the new position). ``units``: the text's symbols
    (``PromptChunk.units``; "" where a tokenizer has none). Past the text's end nothing stops it."""
    for unit in range(pointer + 1, min(pointer + advance, len(units))):
        if units[unit] in PHONE_SET:
            return unit - pointer
    return advance
