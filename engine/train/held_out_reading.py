"""The TTS's free-running check: held-out sentences read aloud at a checkpoint, as a user hears them.

``HeldOutLoss`` feeds the model true frames. A take feeds it its own, and that is where words get lost:
a run whose held-out loss was lower read unseen sentences worse (docs/training.md). So at each
checkpoint the model is exported with the run's codec to a scratch folder and renders a fixed draw of
eval-split sentences in their speakers' built-in voices, at the model's default sampling settings and
a fixed seed; pocketsphinx's word error rate and resemblyzer's similarity to each voice's reference
clip go next to the held-out losses. About a second per sentence on two CPU cores.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.codec.voxtral_codec import VoxtralCodec
from engine.nn.tts_model import VoxtralTTS
from engine.train import metrics
from engine.train.corpus import load_clips
from engine.train.export import export_model, reference_clips, voice_name
from engine.train.renders import clip_audio, render_at_defaults

READ_SENTENCES = 24
SCRATCH_MODEL = "reading-model"  # inside the run folder; rewritten at every check, removed when the run ends
MIN_SECONDS = 0.5  # a shorter take counts as silence: no words, similarity 0


@dataclass
class HeldOutReading:
    """A fixed draw of eval-split clips (training voices only) and their voices' reference embeddings."""

    data: Path
    scratch: Path  # the model folder each check exports to
    clips: list[dict]  # eval clip metadata, in reading order
    references: dict[str, np.ndarray]  # speaker -> embedding [256] of its reference clip

    @classmethod
    def from_corpus(cls, data: Path, run: Path, n: int | None = None) -> "HeldOutReading | None":
        """Up to ``n`` (None: READ_SENTENCES) eval clips of speakers that get a built-in voice, the model
        exported to ``run``/SCRATCH_MODEL; None if ``n`` is 0 or there are no such clips."""
        n = READ_SENTENCES if n is None else n
        refs = reference_clips(data)
        clips = [c.meta for c in load_clips(data, "eval") if c.meta["speaker"] in refs and c.meta["warp"] is None]
        if n <= 0 or not clips:
            return None
        rng = np.random.default_rng(0)
        chosen = [clips[i] for i in sorted(rng.choice(len(clips), min(n, len(clips)), replace=False))]
        speakers = sorted({m["speaker"] for m in chosen})
        embeddings = {s: metrics.speaker_embedding(clip_audio(data, refs[s])) for s in speakers}
        return cls(data, run / SCRATCH_MODEL, chosen, embeddings)

    def discard(self) -> None:
        """Remove the scratch model folder (about 23 MB for timbre-mini): the run's last figures are logged."""
        shutil.rmtree(self.scratch, ignore_errors=True)

    def __call__(self, model: VoxtralTTS, codec: VoxtralCodec, codes: dict[str, torch.Tensor]) -> dict[str, float]:
        """``wer`` over the sentences and mean ``similarity`` of the takes to their voices' reference clips.
        ``codes``: the training corpus's codes (the built-in voices are cut from them, as at export)."""
        from engine.api import EngineConfig
        from engine.engine import Engine

        export_model(self.scratch, model, codec, self.data, codes, log=lambda _: None)
        device = str(model.tok_embeddings.weight.device)  # the training device, at the engine's precision there
        engine = Engine(EngineConfig(model=str(self.scratch), device=device, threads=torch.get_num_threads()))
        sample_rate = engine.load().sample_rate
        texts, heard, similarity = [], [], []
        for m in self.clips:
            audio = render_at_defaults(engine, m["spoken"], voice_name(m["speaker"])).audio
            spoken = len(audio) >= MIN_SECONDS * sample_rate
            texts.append(m["spoken"])
            heard.append(metrics.transcribe(audio) if spoken else "")
            similarity.append(metrics.similarity_to(audio, self.references[m["speaker"]]) if spoken else 0.0)
        return {"wer": metrics.wer(texts, heard), "similarity": float(np.mean(similarity))}
