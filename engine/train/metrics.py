"""Offline speech metrics, each next to the teachers' own audio: word error rate (pocketsphinx +
jiwer), speaker similarity (resemblyzer), predicted MOS (speechmos DNSMOS), PESQ-WB and STOI.
All take float32 mono audio at 16 kHz; all models ship inside their packages (no downloads)."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SR = 16_000


def words_for_wer(text: str) -> str:
    from engine.phonemes import spoken_words

    return " ".join(spoken_words(text))


@lru_cache(maxsize=1)
def _decoder():
    from pocketsphinx import Decoder

    return Decoder(samprate=SR, loglevel="FATAL")


def transcribe(audio: np.ndarray) -> str:
    """What pocketsphinx hears in one clip [n] at 16 kHz, lower case. A function of the clip alone: the
    decoder's feature state (live cepstral mean) is reset first, or each transcript would depend on the
    clips decoded before it in the same process (measured: 7 of 12 held-out clips changed with the order)."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
    d = _decoder()
    d.reinit_feat()
    d.start_utt()
    d.process_raw(pcm, full_utt=True)
    d.end_utt()
    hyp = d.hyp()
    return re.sub(r"\(\d+\)", "", hyp.hypstr if hyp else "").lower().strip()


def _heard(hypothesis: str) -> str:
    return hypothesis if hypothesis.strip() else "<empty>"  # jiwer refuses an empty transcript


def wer(references: list[str], hypotheses: list[str]) -> float:
    import jiwer

    refs = [words_for_wer(r) for r in references]
    return float(jiwer.wer(refs, [_heard(h) for h in hypotheses]))


@dataclass(frozen=True)
class WordErrors:
    """One transcript against its text, counted as ``wer`` counts them."""

    words: int  # of the text, numbers and symbols spelled out
    substitutions: int
    deletions: int
    insertions: int

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions


def word_errors(reference: str, hypothesis: str) -> WordErrors:
    """The word errors of one transcript; ``reference`` must have words (jiwer refuses an empty one)."""
    import jiwer

    ref = words_for_wer(reference)
    out = jiwer.process_words(ref, _heard(hypothesis))
    return WordErrors(len(ref.split()), out.substitutions, out.deletions, out.insertions)


@lru_cache(maxsize=1)
def _voice_encoder():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from resemblyzer import VoiceEncoder

        return VoiceEncoder("cpu", verbose=False)


def speaker_embedding(audio: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from resemblyzer import preprocess_wav

        return _voice_encoder().embed_utterance(preprocess_wav(audio, source_sr=SR))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embeddings."""
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    return cosine(speaker_embedding(a), speaker_embedding(b))


def similarity_to(audio: np.ndarray, reference: np.ndarray) -> float:
    """Similarity of a clip to an embedding [256] computed once (``speaker_embedding``) for many clips."""
    return cosine(speaker_embedding(audio), reference)


def dnsmos(audio: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from speechmos import dnsmos as model

        return float(model.run(np.asarray(audio, dtype=np.float32), SR)["ovrl_mos"])


def pesq_stoi(reference: np.ndarray, degraded: np.ndarray) -> tuple[float, float]:
    from pesq import pesq
    from pystoi import stoi

    n = min(len(reference), len(degraded))
    return float(pesq(SR, reference[:n], degraded[:n], "wb")), float(stoi(reference[:n], degraded[:n], SR))
