"""Codes -> audio chunks while generation goes on: the codec decodes on its own thread (and, on a GPU,
its own CUDA stream), overlapping the next frames' backbone and flow work.

On the CPU this pays when a core is left over for it: at batch 1 the model's ops are too small for
torch's intra-op threads to help (measured on 2 cores: 1 thread and 2 threads give the same speed), so
the engine runs its torch ops on one fewer thread than the machine has cores, and the codec and the WORLD
vocoder render on the spare one (the speed sentence, 2 cores: RTF 0.124 in place, 0.093 overlapped). With no
spare core it decodes in place.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import torch

from engine.codec.audio_stream import AudioStream
from engine.codec.voice_match import VoiceMatch
from engine.codec.voxtral_codec import VoxtralCodec


def spare_core(device: torch.device) -> bool:
    """Whether a decode thread has somewhere to run: always beside a GPU; on the CPU, when torch's
    intra-op threads leave a core free."""
    return device.type == "cuda" or torch.get_num_threads() < (os.cpu_count() or 1)


class ChunkDecoder:
    """``submit`` raw codes [n, 1 + K] in order; ``ready`` returns the finished audio chunks in order."""

    def __init__(self, codec: VoxtralCodec, context: int, overlap: bool | None = None,
                 match: VoiceMatch | None = None) -> None:
        """``overlap``: decode on a thread of its own; None = on a GPU, or on a CPU with a core to spare.
        ``match``: the voice's correction of a WORLD codec's features."""
        self.stream = AudioStream(codec, context, match)  # waveform, or WORLD features rendered by the vocoder
        self.device = next(codec.parameters()).device
        self.overlap = spare_core(self.device) if overlap is None else overlap
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="timbre-codec") if self.overlap else None
        self._cuda_stream = torch.cuda.Stream(self.device) if self.overlap and self.device.type == "cuda" else None
        self._pending: deque[Future[np.ndarray]] = deque()

    def _decode(self, codes: torch.Tensor) -> np.ndarray:
        """float32 audio [n * samples_per_frame] in [-1, 1]."""
        with torch.inference_mode():
            if self._cuda_stream is not None:
                with torch.cuda.stream(self._cuda_stream):
                    return self.stream.push(codes.to(self.device, non_blocking=True))
            return self.stream.push(codes.to(self.device))

    def submit(self, codes: torch.Tensor) -> None:
        if self._pool is not None:
            self._pending.append(self._pool.submit(self._decode, codes))
        else:
            done: Future[np.ndarray] = Future()
            done.set_result(self._decode(codes))
            self._pending.append(done)

    def ready(self, wait: bool = False) -> list[np.ndarray]:
        """Finished chunks in submission order; with ``wait``, every submitted chunk (blocking)."""
        out = []
        while self._pending and (wait or self._pending[0].done()):
            out.append(self._pending.popleft().result())
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
