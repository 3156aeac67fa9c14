"""Voice presets through the engine and the CLI: clips in, a preset out, renders in its voice."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.api import EngineError, SamplingParams, SynthesisRequest
from engine.cli import main
from engine.preset_voices import PresetVoices
from engine.voices.library import VoiceLibrary
from engine.voices.preset import Consent, read_preset, write_preset
from tests.engine.clip_audio import speech

CONSENT = Consent("Ada Example", "I agree that Acme may use my voice for its narration.", "2026-11-20",
                  "signed release")
PARAMS = SamplingParams(steps=4, max_seconds=1.2, seed=7)


@pytest.fixture
def library(engine, tmp_path, monkeypatch) -> VoiceLibrary:
    """The session engine renders from a library of this test's own."""
    lib = VoiceLibrary(tmp_path / "voices", builtin_dirs=())
    monkeypatch.setattr(engine, "presets", PresetVoices(lib))
    return lib


@pytest.fixture
def clip(tmp_path) -> Path:
    path = tmp_path / "ada.wav"
    sf.write(path, np.stack([speech(9.0, 44100, seed=3)] * 2, axis=1), 44100, subtype="PCM_24")  # stereo 44.1 kHz
    return path


def _frames(engine, voice: str) -> np.ndarray:
    done = engine.render(SynthesisRequest("Hello from Acme.", voice, PARAMS))
    return np.stack([f.codes for f in done.frames])


def test_a_preset_made_from_a_clip_holds_its_codes_and_renders_in_its_voice(engine, library, clip):
    prepared = engine.prepare_reference([clip])
    assert prepared.sample_rate == engine.info.sample_rate and not prepared.blocking
    preset = engine.create_voice(prepared, "Acme Narrator", consent=CONSENT, brand="Acme", tags=("warm",))
    codes = library.prompt(preset.id)
    seconds = len(prepared.audio) / prepared.sample_rate
    assert codes.shape == (int(np.ceil(seconds * 12.5)), 1 + engine.info.acoustic_dim)
    assert read_preset(preset.folder).consent == CONSENT and preset.model_hash == engine.info.model_hash
    ours = _frames(engine, preset.voice_ref)
    np.testing.assert_array_equal(ours, _frames(engine, preset.voice_ref))  # same seed, same take
    assert not np.array_equal(ours, _frames(engine, "default"))  # the prompt is what differs


def test_a_preset_from_another_build_of_the_family_is_re_encoded_from_its_clip(engine, library, clip):
    preset = engine.create_voice(engine.prepare_reference([clip]), "Ada", consent=CONSENT)
    stale = dataclasses.replace(preset, model_hash="0123456789abcdef")
    codes, (audio, sr) = library.prompt(preset.id), sf.read(preset.folder / "reference.flac", dtype="float32")
    write_preset(preset.folder, stale, np.zeros_like(codes), audio, sr)  # codes another codec would have made
    rendered = engine.presets.codes(engine.model, preset.voice_ref)
    np.testing.assert_array_equal(rendered, codes)


def test_presets_that_cannot_serve_the_model_say_why(engine, library, clip):
    preset = engine.create_voice(engine.prepare_reference([clip]), "Ada", consent=CONSENT)
    other = library.duplicate(preset.id, "Ada for Voxtral")
    library.update(other.id, description="moved")
    voice_json = other.folder / "voice.json"
    data = json.loads(voice_json.read_text())
    voice_json.write_text(json.dumps({**data, "family": "voxtral"}))
    with pytest.raises(EngineError, match="voxtral model family"):
        engine.render(SynthesisRequest("Hi.", other.voice_ref, PARAMS))
    with pytest.raises(EngineError, match="nope"):
        engine.render(SynthesisRequest("Hi.", "preset:nope", PARAMS))


def test_clips_with_too_little_speech_make_no_preset(engine, library, tmp_path):
    short = tmp_path / "short.wav"
    sf.write(short, speech(1.5, 16000), 16000)
    prepared = engine.prepare_reference([short])
    assert [i.code for i in prepared.blocking] == ["too_little_speech"]
    with pytest.raises(EngineError, match="cannot make a voice"):
        engine.create_voice(prepared, "Short", consent=CONSENT)
    assert library.presets() == []


# ---- the CLI ----------------------------------------------------------------------------------------


@pytest.fixture
def voices_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cli-voices"
    monkeypatch.setenv("TIMBRE_VOICES", str(folder))
    return folder


def test_cli_refuses_a_voice_without_consent_unless_told_and_marks_it(clip, voices_dir, capsys):
    assert main(["voice", "create", "Ada", str(clip), "--device", "cpu"]) == 2
    assert "consent" in capsys.readouterr().err and not any(voices_dir.glob("*/voice.json"))
    assert main(["voice", "create", "Ada", str(clip), "--no-consent", "--device", "cpu"]) == 0
    capsys.readouterr()
    assert main(["voice", "list", "ada"]) == 0
    assert "NO CONSENT RECORD" in capsys.readouterr().out


def test_cli_create_export_delete_restore_import(clip, voices_dir, tmp_path, capsys):
    consent = tmp_path / "consent.json"
    consent.write_text(json.dumps(dataclasses.asdict(CONSENT)))
    assert main(["voice", "create", "Acme Narrator", str(clip), "--consent-file", str(consent), "--brand", "Acme",
                 "--tags", "warm, narration", "--start", "1.0", "--end", "7.0", "--device", "cpu"]) == 0
    preset = read_preset(voices_dir / "acme-narrator")
    assert preset.tags == ("warm", "narration") and preset.consent == CONSENT
    assert main(["say", "Hi.", "--voice", preset.voice_ref, "-o", str(tmp_path / "hi.wav"), "--max-seconds", "0.5",
                 "-q"]) == 0
    bundle = tmp_path / "acme.timbrevoice"
    assert main(["voice", "export", preset.id, str(bundle)]) == 0
    assert main(["voice", "delete", preset.id]) == 0
    assert not (voices_dir / preset.id).exists()
    assert main(["voice", "restore"]) == 0
    assert read_preset(voices_dir / preset.id) == preset
    assert main(["voice", "import", str(bundle)]) == 0  # a second copy under a fresh id
    capsys.readouterr()
    assert main(["voice", "list", "--brand", "Acme"]) == 0
    assert capsys.readouterr().out.count("Acme Narrator") == 2


def test_cli_consent_flags_must_be_complete(clip, voices_dir, capsys):
    assert main(["voice", "create", "Ada", str(clip), "--consent-speaker", "Ada", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "lacks statement, method" in err and not any(voices_dir.glob("*/voice.json"))
