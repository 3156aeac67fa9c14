"""How much a voice preset moves the built-in model towards a new speaker.

For each clip of a voice the model was not trained on (flite rms is held out of timbre-mini's corpus;
the espeak-ng variants below are not in it either), make a preset from the clip, render the same
sentences with the preset and with the model's default voice (same seeds), and measure the speaker
similarity (resemblyzer, cosine of utterance embeddings) of each render to the clip's speaker (a
second recording of them, other sentences than the reference). Prints one row per clip and the mean.

    .venv/bin/python scripts/voice_similarity.py [--model assets/timbre-mini] [--sentences 4] [--no-voice-match]

Needs the train extra (resemblyzer) and flite + espeak-ng on PATH (make setup installs them).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from engine.api import SamplingParams, SynthesisRequest
from engine.engine import Engine, EngineConfig
from engine.preset_voices import PresetVoices
from engine.train.metrics import SR, speaker_embedding
from engine.train.teachers import ESPEAK_LICENCE, FLITE_LICENCE, Voice, synthesize
from engine.voices.library import VoiceLibrary
from engine.voices.preset import Consent

UNSEEN = (
    Voice("flite-rms", "flite", "rms", FLITE_LICENCE),
    Voice("espeak-en-us-m7", "espeak-ng", "en-us+m7", ESPEAK_LICENCE),
    Voice("espeak-en-gb-f5", "espeak-ng", "en-gb+f5", ESPEAK_LICENCE),
    Voice("espeak-en-us-klatt3", "espeak-ng", "en-us+klatt3", ESPEAK_LICENCE),
)
REFERENCE_TEXT = ("Thank you for calling. Every voice you hear from us is designed with care, tested with real "
                  "listeners, and tuned until it sounds warm, clear and trustworthy. Let us begin.")
SPEAKER_TEXTS = ("The quarterly results will be announced on Thursday morning.",
                 "Please keep your ticket until the end of the journey.")
SENTENCES = ("Welcome to the show, where we follow one idea as far as it goes.",
             "Our new app helps you plan your week in under a minute.",
             "The museum opens at nine and closes at six on weekdays.",
             "Thank you for waiting; an agent will be with you shortly.",
             "Fresh bread is baked every morning in our little kitchen.",
             "Turn left at the second light and the station is on your right.")
CONSENT = Consent("synthetic teacher voice", "No person's voice: a speech synthesiser's output.", "2026-11-23",
                  "synthetic (no speaker)")


def _embed(audio: np.ndarray, sr: int) -> np.ndarray:
    x = soxr.resample(audio, sr, SR).astype(np.float32) if sr != SR else audio
    e = speaker_embedding(x)
    return e / np.linalg.norm(e)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="model name or folder (default: the built-in model)")
    p.add_argument("--sentences", type=int, default=4)
    p.add_argument("--steps", type=int, help="flow steps (default: the model's)")
    p.add_argument("--no-voice-match", action="store_true", help="render without the voices' feature corrections")
    args = p.parse_args(argv)
    engine = Engine(EngineConfig(model=args.model, device="cpu", voice_match=not args.no_voice_match))
    info = engine.load()
    steps = args.steps or info.default_params.steps
    print(f"model {info.name} ({info.model_hash}, trained: {info.trained})")
    if not info.trained:
        print("(an untrained model: its renders are noise, so these figures only exercise the pipeline)")
    sentences = SENTENCES[: args.sentences]
    rows = []
    with tempfile.TemporaryDirectory(prefix="timbre-similarity-") as tmp:
        engine.presets = PresetVoices(VoiceLibrary(Path(tmp) / "voices", builtin_dirs=()))
        for voice in UNSEEN:
            (ref, sr), *others = synthesize(voice, [REFERENCE_TEXT, *SPEAKER_TEXTS])
            clip = Path(tmp) / f"{voice.name}.wav"
            sf.write(clip, ref, sr)
            speaker = _embed(np.concatenate([a for a, _ in others]), others[0][1])
            preset = engine.create_voice(engine.prepare_reference([clip]), voice.name, consent=CONSENT)
            sims = {}
            for label, ref_voice in (("preset", preset.voice_ref), ("default", "default")):
                scores = []
                for i, text in enumerate(sentences):
                    done = engine.render(SynthesisRequest(text, ref_voice, SamplingParams(steps=steps, seed=100 + i)))
                    scores.append(float(_embed(done.audio, done.sample_rate) @ speaker))
                sims[label] = float(np.mean(scores))
            rows.append((voice.name, sims["preset"], sims["default"]))
            print(f"{voice.name:<22} preset {sims['preset']:.3f}   default {sims['default']:.3f}   "
                  f"gain {sims['preset'] - sims['default']:+.3f}", flush=True)
    preset_mean, default_mean = np.mean([r[1] for r in rows]), np.mean([r[2] for r in rows])
    print(f"{'mean':<22} preset {preset_mean:.3f}   default {default_mean:.3f}   gain {preset_mean - default_mean:+.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
