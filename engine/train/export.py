"""Write a trained model folder: config.json, model.safetensors (TTS + codec), voices/ (one per
training speaker, the default being piper-joe), lexicon.txt.gz (the phone tokenizer's dictionary)."""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from engine.atomic import write_atomic
from engine.codec.voice_match import VoiceMatch, match_features
from engine.codec.voxtral_codec import VoxtralCodec
from engine.config import ModelConfig
from engine.model_files import LEXICON_NAME, VOICES_DIR, read_modules, save_model, voice_prompt_clip, write_voice
from engine.nn.tts_model import VoxtralTTS
from engine.phonemes import Lexicon
from engine.train.corpus import STEPS_PER_FRAME, Clip, load_clips, read_plan
from engine.train.data import lexicon_path
from engine.train.errors import TrainingError
from engine.train.sizes import SAMPLING
from engine.train.tts_train import REF_FRAMES

DEFAULT_SPEAKER = "piper-joe"
MATCH_CLIPS = 16  # clips a built-in voice's match pools (about a minute of speech)
NOTE = "trained on teacher voices (flite, espeak-ng, piper joe); see MODEL_CARD.md"


def voice_name(speaker: str) -> str:
    return "default" if speaker == DEFAULT_SPEAKER else speaker


def reference_clips(data: Path) -> dict[str, dict]:
    """The clip each built-in voice is made from: the longest training clip of every unwarped
    training speaker (clip metadata)."""
    return {s: c.meta for s, c in reference_features(data).items()}


def reference_features(data: Path) -> dict[str, Clip]:
    """``reference_clips`` with their WORLD features."""
    return {s: clips[0] for s, clips in longest_clips(data, 1).items()}


def longest_clips(data: Path, count: int) -> dict[str, list[Clip]]:
    """The ``count`` longest training clips of every unwarped training speaker, longest first."""
    best: dict[str, list[Clip]] = {}
    for c in load_clips(data, "train"):
        if c.meta["warp"] is None:
            kept = best.setdefault(c.meta["speaker"], [])
            kept.append(c)
            kept.sort(key=lambda k: -k.meta["seconds"])  # stable: the first of equal lengths stays first
            del kept[count:]
    return best


def clip_codes(codec: VoxtralCodec, clip: Clip, frames: int = REF_FRAMES) -> torch.Tensor:
    """A training clip's first ``frames`` frames of codes [frames, 1 + K] (int64), encoded from its WORLD
    features as the TTS's training codes are: a built-in voice's prompt."""
    with torch.inference_mode():
        steps = torch.from_numpy(clip.features[: clip.frames * STEPS_PER_FRAME].T)[None]
        return codec.quantizer.encode(codec.encode_steps(steps))[0].T[:frames].long()


def speaker_references(clips: dict[str, list[Clip]], codes: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """One built-in voice per speaker of ``longest_clips``: its reference (longest) clip's first REF_FRAMES
    frames."""
    return {voice_name(s): codes[c[0].name][:REF_FRAMES] for s, c in clips.items() if c[0].name in codes}


def voice_matches(clips: dict[str, list[Clip]], codec: VoxtralCodec) -> dict[str, VoiceMatch]:
    """Each built-in voice's feature correction (``engine.codec.voice_match``), fitted on its speaker's
    ``longest_clips`` (MATCH_CLIPS of them): one clip's statistics say as much about its sentence as about
    the voice (two takes of joe's reference sentence gave shifts 0.5 apart)."""
    codec = codec.eval()
    fitted = {voice_name(s): match_features(codec, [c.features for c in cl]) for s, cl in clips.items()}
    return {name: match for name, match in fitted.items() if match is not None}


def refit_voice_matches(folder: Path, data: Path, log=print) -> dict[str, VoiceMatch]:
    """Fit the voice matches of the model ``folder`` exported from the corpus ``data`` and rewrite its voice
    files with them (codes unchanged), each on the voice's MATCH_CLIPS longest clips as at export. A match
    describes the voice, not a clip: where the corpus's reference clip is not the one the voice's codes came
    from (piper reads a sentence differently each time, so a regenerated corpus has other takes), the match is
    fitted all the same and the log says so."""
    from safetensors.torch import load_file

    _, _, codec = read_modules(folder)
    codec.eval()
    fitted = {voice_name(s): clips for s, clips in longest_clips(data, MATCH_CLIPS).items()}
    if "default" not in fitted and fitted:
        fitted["default"] = next(iter(fitted.values()))
    matches = {}
    for path in sorted((folder / VOICES_DIR).glob("*.safetensors")):
        codes = load_file(str(path))["codes"].long()
        clips = fitted.get(path.stem)
        if clips is None:
            raise TrainingError(f"{data} has no reference clip for {folder.name}'s voice {path.stem!r}: give the "
                                "corpus the model was exported from")
        source = voice_prompt_clip(path)
        clip = next((c for c in clips if c.name == source), clips[0])
        own = clip_codes(codec, clip, len(codes))
        match = match_features(codec, [c.features for c in clips])
        write_voice(path, codes, match, source)
        if match is not None:
            matches[path.stem] = match
        take = "" if torch.equal(own, codes) else " (another take of its reference than the one its codes came from)"
        said = "matched" if match else "too little voiced speech, no match"
        log(f"{path.stem}: {said} on {len(clips)} clips{take}")
    return matches


@lru_cache(maxsize=1)
def _lexicon_gzip() -> bytes:
    """Built once a process: a training run exports a scratch model at every checkpoint it reads aloud, and
    building it takes seconds."""
    lex = Lexicon.read(lexicon_path())
    lines = "".join(f"{w} {' '.join(p[0])}\n" for w, p in sorted(lex.entries.items()) if w.replace("'", "").isalpha())
    return gzip.compress(lines.encode("utf-8"), mtime=0)


def write_lexicon(path: Path) -> None:
    """The first pronunciation of every plain word of the CMU dictionary, gzip (about 1 MB)."""
    data = _lexicon_gzip()
    write_atomic(path, lambda p: p.write_bytes(data))


def model_identity(folder: Path, data: Path) -> tuple[str, str]:
    """(name, note) of a model exported to ``folder`` from runs on the corpus ``data``: timbre-mini for the
    teacher corpus; a voice fine-tune (a ``timbre train recordings`` corpus) is named after its folder, so it
    is not mistaken for the built-in model."""
    plan = read_plan(data)
    if plan.get("kind") == "recordings":
        return folder.name, f"timbre-mini fine-tuned on recordings of {plan['args']['speaker']}; see MODEL_CARD.md"
    return "timbre-mini", NOTE


def export_model(folder: Path, model: VoxtralTTS, codec: VoxtralCodec, data: Path, codes: dict[str, torch.Tensor],
                 log=print) -> Path:
    name, note = model_identity(folder, data)
    cfg = ModelConfig(name=name, trained=True, note=note, tts=model.cfg, codec=codec.cfg, sampling=SAMPLING).check()
    clips = longest_clips(data, MATCH_CLIPS)  # the corpus read once for both
    voices, matches = speaker_references(clips, codes), voice_matches(clips, codec)
    if "default" not in voices:
        first = next(iter(voices))
        voices["default"] = voices[first]
        if first in matches:
            matches["default"] = matches[first]
    save_model(folder, cfg, model.eval(), codec.eval(), voices, matches)
    write_lexicon(folder / LEXICON_NAME)
    log(f"exported {folder} with voices {', '.join(sorted(voices))}")
    return folder


def write_presets(presets: Path, model: Path, data: Path | None = None) -> list[Path]:
    """Every voice of a model folder as a read-only built-in preset ``presets/<model>-<voice>/`` (the
    full preset format: its codes as the prompt, those codes decoded by the model's codec as the
    reference audio). ``data``: the corpus, to name the teacher voice each one comes from."""
    import datetime

    from engine.codec.interface import AudioCodec
    from engine.model_files import load_model
    from engine.voices.preset import Consent, VoicePreset, write_preset

    m = load_model(str(model), torch.device("cpu"), torch.float32)
    codec = AudioCodec(m.codec, torch.device("cpu"))
    teachers = {voice_name(s): meta for s, meta in reference_clips(data).items()} if data is not None else {}
    if data is not None:  # a voice whose prompt is another clip than the longest: that clip's transcript
        manifest = {c["clip"]: c for c in json.loads((data / "manifest.json").read_text())["clips"]}
        for voice in m.voices:
            if (source := voice_prompt_clip(model / VOICES_DIR / f"{voice}.safetensors")) in manifest:
                teachers[voice] = manifest[source]
    today = datetime.date.today().isoformat()
    written = []
    for voice, codes in sorted(m.voices.items()):
        meta = teachers.get(voice, {})
        teacher = meta.get("voice", "a synthetic teacher voice")
        preset = VoicePreset(
            id="", name=f"{m.name} {voice}", family=m.config.family, model_hash=m.model_hash, language="en",
            description=f"{m.name}'s built-in voice {voice!r}, learnt from {teacher}"
                        + (" (the model's default voice)" if voice == "default" else ""),
            tags=("built-in", "synthetic"), brand="Timbre Studio",
            consent=Consent(speaker=f"nobody: {teacher}", statement="No person's voice is used: the voice comes "
                            f"from a speech synthesiser ({meta.get('voice_licence', 'see the model card')}).",
                            date=today, method="synthetic (no speaker)"),
            transcript=meta.get("spoken", ""))
        folder = presets / f"{m.name}-{voice}"
        prompt = codes.numpy().astype(np.int32)
        if not _unchanged(folder, preset, prompt):  # decoding the reference audio is the costly part
            audio = codec.decode(codes.numpy())
            audio = audio * (0.5 / max(1e-6, float(np.abs(audio).max())))
            write_preset(folder, preset, prompt, audio, m.config.codec.sample_rate)
        written.append(folder)
    return written


def _unchanged(folder: Path, preset, prompt: np.ndarray) -> bool:
    """Whether the preset ``folder`` already holds ``preset`` with these codes, dates aside: then it is
    left as it is, so that writing a model's presets again does not re-date every one of them."""
    import dataclasses

    from engine.voices.preset import PROMPT_FILE, VOICE_FILE, prompt_bytes, voice_json

    try:
        old = json.loads((folder / VOICE_FILE).read_text(encoding="utf-8"))
        same_codes = (folder / PROMPT_FILE).read_bytes() == prompt_bytes(prompt)
    except (OSError, ValueError):
        return False
    consent = old.get("consent") or {}
    dated = dataclasses.replace(preset, created=old.get("created", ""), modified=old.get("modified", ""),
                                consent=dataclasses.replace(preset.consent, date=consent.get("date", "")))
    return same_codes and json.loads(voice_json(dated)) == old
