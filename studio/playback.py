"""Audio output through sounddevice (PortAudio), imported lazily: without libportaudio2 the studio
still opens and says plainly that there is no audio output.

The stream's callback runs on PortAudio's thread; ``position`` is read by the GUI on a timer.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np


class PlaybackError(Exception):
    """Audio cannot be played; the message says why and what to do."""


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as e:  # PortAudio missing
        raise PlaybackError("no audio output: the PortAudio library is missing (install libportaudio2)") from e
    return sounddevice


def output_devices() -> list[str]:
    """Names of the output devices PortAudio sees (empty when there is no sound card)."""
    sd = _sounddevice()
    return [d["name"] for d in sd.query_devices() if d["max_output_channels"] > 0]


class Player:
    """Plays one mono float32 buffer at a time, from any start position."""

    def __init__(self, device: str | int | None = None) -> None:
        self.device = device
        self._stream: Any = None
        self._data = np.zeros(0, dtype=np.float32)
        self._rate = 16_000
        self._pos = 0  # next sample to hand to PortAudio
        self._end = 0
        self._lock = threading.Lock()
        self._playing = False

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def position(self) -> float:
        """Seconds into the buffer of the next sample to play."""
        return self._pos / self._rate

    def play(self, samples: np.ndarray, sample_rate: int, start: float = 0.0, end: float | None = None) -> None:
        """Play samples [n] from ``start`` to ``end`` seconds (the end of the buffer by default)."""
        sd = _sounddevice()
        self.stop()
        data = np.ascontiguousarray(samples, dtype=np.float32)
        first = min(max(int(start * sample_rate), 0), len(data))
        last = len(data) if end is None else min(max(int(end * sample_rate), first), len(data))
        if last <= first:
            raise PlaybackError("nothing to play there")
        with self._lock:
            self._data, self._rate, self._pos, self._end = data, sample_rate, first, last
        try:
            stream = sd.OutputStream(samplerate=sample_rate, channels=1, dtype="float32", device=self.device,
                                     callback=self._callback, finished_callback=self._finished)
            self._playing = True
            stream.start()
        except Exception as e:  # PortAudioError, ValueError for a bad device
            self._playing = False
            raise PlaybackError(f"cannot play audio on {self._device_name()}: {e}") from e
        self._stream = stream

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:  # a stream that already failed is closed anyway
                pass
        self._playing = False

    def _device_name(self) -> str:
        return "the default output device" if self.device is None else f"output device {self.device!r}"

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        sd = _sounddevice()
        with self._lock:
            chunk = self._data[self._pos:min(self._pos + frames, self._end)]
            outdata[: len(chunk), 0] = chunk
            outdata[len(chunk):] = 0
            self._pos += len(chunk)
            if self._pos >= self._end:
                raise sd.CallbackStop

    def _finished(self) -> None:
        self._playing = False
