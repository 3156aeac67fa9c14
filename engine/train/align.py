"""Forced alignment with pocketsphinx 5 (BSD): phone timings of a teacher clip, as token units.

Durations are in 10 ms steps (pocketsphinx's frame rate). Pauses the aligner finds go to the
boundary or punctuation unit before the next word, so the unit sequence is exactly what
``engine.phonemes`` makes from the text at run time.
"""

from __future__ import annotations

import re

import numpy as np

from engine.phonemes import PHONES, PUNCTUATION, text_words, units_with_durations

STEP_SECONDS = 0.01
SAMPLE_RATE = 16_000


class AlignmentError(RuntimeError):
    pass


class Aligner:
    """One pocketsphinx decoder, reused across clips (its init takes about half a second)."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder  # training-only dependency

        # wide beams: the defaults lose the path on some formant voices
        self.decoder = Decoder(samprate=SAMPLE_RATE, bestpath=False, loglevel="FATAL", beam=1e-100, wbeam=1e-80,
                               pbeam=1e-100)

    def segments(self, audio: np.ndarray, words: list[str]) -> list[tuple[str, list[tuple[str, int]]]]:
        """16 kHz float audio and the words said -> [(word or "<sil>", [(phone, steps)])]."""
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
        d = self.decoder
        try:
            d.set_align_text(" ".join(words))
            d.start_utt()
            d.process_raw(pcm, full_utt=True)
            d.end_utt()
            d.set_alignment()
            d.start_utt()
            d.process_raw(pcm, full_utt=True)
            d.end_utt()
            alignment = d.get_alignment()
        except (RuntimeError, ValueError) as e:
            raise AlignmentError(f"alignment failed: {e}") from e
        if alignment is None:
            raise AlignmentError("no alignment found")
        out = []
        for w in alignment:
            name = re.sub(r"\(\d+\)$", "", w.name)
            out.append((name, [(p.name, int(p.duration)) for p in w]))
        return out


def units_and_durations(spoken: str, segments: list[tuple[str, list[tuple[str, int]]]],
                        total_steps: int) -> tuple[list[str], list[int]]:
    """Merge the text's punctuation with the aligned words -> (units, durations in 10 ms steps).

    Raises AlignmentError when the aligned words do not follow the text.
    """
    segs = list(segments)

    def take_silence() -> int:
        steps = 0
        while segs and segs[0][0] in ("<sil>", "<s>", "</s>", "[NOISE]"):
            steps += sum(d for _, d in segs.pop(0)[1])
        return steps

    words: list[tuple[str, list[tuple[str, int]], int]] = []
    for item in text_words(spoken):
        if item in PUNCTUATION:
            words.append((item, [], 0))
            continue
        pause = take_silence()
        if not segs or segs[0][0] != item:
            got = segs[0][0] if segs else "nothing"
            raise AlignmentError(f"aligned word {got!r} does not match the text's {item!r}")
        _, phones = segs.pop(0)
        unknown = [p for p, _ in phones if p not in PHONES]
        if unknown:
            raise AlignmentError(f"unknown phone {unknown[0]!r}")
        words.append((item, phones, pause))
    trailing = take_silence()
    if segs:
        raise AlignmentError(f"aligner returned extra words: {[s[0] for s in segs[:3]]}")
    units, durs = units_with_durations(words)
    durs[-1] += trailing + max(0, total_steps - sum(durs) - trailing)
    return units, durs
