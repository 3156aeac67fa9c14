"""The evaluation's scoring in worker processes: transcripts, speaker embeddings, DNSMOS, PESQ/STOI.

Scoring, not rendering, is most of ``timbre eval`` (per held-out clip, measured here with the other
core busy: pocketsphinx 1.5 s, a resemblyzer embedding 1.7 s, DNSMOS 1.0 s; rendering one takes a
fraction of a second), and the metrics run mostly on one core each, so a pool of one process per core
scores clips side by side while the main process renders the next voice (the full report: 31 -> 21
minutes on 2 cores). Each worker keeps its models loaded for the whole evaluation. A reference clip is
embedded once (``metrics.speaker_embedding``, in the caller) and each clip compared with that
embedding, not re-embedded per clip.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from engine.train import metrics


def _one_thread() -> None:
    """Worker start: torch (resemblyzer) and OpenMP on one thread, so the pool's processes do not fight
    over the cores."""
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


def clip_scores(audio: np.ndarray, reference: np.ndarray | None) -> dict:
    """One clip [n] at 16 kHz -> its transcript, DNSMOS and, given a reference embedding [256],
    its cosine similarity to it."""
    out = {"transcript": metrics.transcribe(audio), "dnsmos": metrics.dnsmos(audio)}
    if reference is not None:
        out["similarity"] = metrics.similarity_to(audio, reference)
    return out


def round_trip_scores(original: np.ndarray, decoded: np.ndarray, reference: np.ndarray | None = None,
                      vocoder_alone: bool = False) -> dict:
    """A codec round trip of one clip [n] at 16 kHz: PESQ-WB and STOI against the original, and the decoded
    clip's ``clip_scores``. ``vocoder_alone``: also PESQ-WB and STOI of WORLD analysis -> synthesis with no
    bottleneck (``world_pesq``, ``world_stoi``), the most a WORLD-rendered decoder can reach."""
    p, s = metrics.pesq_stoi(original, decoded)
    out = {"pesq": p, "stoi": s, **clip_scores(decoded, reference)}
    if vocoder_alone:
        from engine.codec import world

        out["world_pesq"], out["world_stoi"] = metrics.pesq_stoi(original, world.synthesize(world.analyze(original)))
    return out


@dataclass
class PendingCodecScores:
    """A round trip's scores next to the original clip's (keys ending in ``_original``), once both are done."""

    round_trip: Future
    original: Future

    def result(self) -> dict:
        return {**self.round_trip.result(), **{f"{k}_original": v for k, v in self.original.result().items()}}


@dataclass
class PendingScores:
    """WER, mean similarity and mean DNSMOS of a set of clips, once its workers are done."""

    texts: list[str]
    clips: list[Future]

    def result(self) -> dict[str, float]:
        rows = [f.result() for f in self.clips]
        return {"wer": metrics.wer(self.texts, [r["transcript"] for r in rows]),
                "similarity": float(np.mean([r["similarity"] for r in rows])),
                "dnsmos": float(np.mean([r["dnsmos"] for r in rows]))}


class _Inline:
    """The pool's interface run in the calling process (``workers=0``)."""

    def submit(self, fn: Callable, *args) -> Future:
        f: Future = Future()
        f.set_result(fn(*args))
        return f

    def shutdown(self) -> None:
        pass


class Scorer:
    """Metrics computed by ``workers`` processes (0: in this one). Use as a context manager. The workers
    start from a forkserver, which imports the caller's main module again: a script that scores with
    workers keeps its work under ``if __name__ == "__main__":`` (the CLI's entry points do)."""

    def __init__(self, workers: int | None = None) -> None:
        if workers is None:
            workers = os.cpu_count() or 1
        # forkserver, not fork: a worker forked from a process that has run onnxruntime (DNSMOS) or torch
        # inherits their locks in whatever state their threads held them, and hangs on its first clip
        # (seen: a worker stuck on an onnxruntime mutex after the caller scored clips in-process)
        context = multiprocessing.get_context("forkserver")
        self.pool = (ProcessPoolExecutor(workers, mp_context=context, initializer=_one_thread) if workers > 0
                     else _Inline())

    def __enter__(self) -> "Scorer":
        return self

    def __exit__(self, *exc) -> None:
        self.pool.shutdown()

    def clips(self, audios: list[np.ndarray], reference: np.ndarray | None = None) -> list[Future]:
        return [self.pool.submit(clip_scores, a, reference) for a in audios]

    def score(self, audios: list[np.ndarray], texts: list[str], reference: np.ndarray) -> PendingScores:
        """WER against ``texts``, similarity to the ``reference`` embedding, DNSMOS."""
        return PendingScores(texts, self.clips(audios, reference))

    def similarities(self, audios: list[np.ndarray], reference: np.ndarray) -> list[Future]:
        return [self.pool.submit(metrics.similarity_to, a, reference) for a in audios]

    def codec(self, original: np.ndarray, decoded: np.ndarray, reference: np.ndarray | None = None,
              vocoder_alone: bool = False, original_scores: Future | None = None) -> PendingCodecScores:
        """``round_trip_scores`` next to the original's ``clip_scores``; ``original_scores``: those already
        asked for (the same clip and reference), so they are not computed twice."""
        return PendingCodecScores(self.pool.submit(round_trip_scores, original, decoded, reference, vocoder_alone),
                                  original_scores or self.pool.submit(clip_scores, original, reference))


def mean_of(futures: list[Future]) -> float:
    return float(np.mean([f.result() for f in futures]))
