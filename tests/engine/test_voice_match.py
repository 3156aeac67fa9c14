"""Voice match: a per-voice correction of the WORLD codec's decoded features, fitted on the voice's clip,
stored with a model's voices, fitted for presets, and applied to every render in that voice."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soxr
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from engine.api import SamplingParams, SynthesisRequest
from engine.codec import world
from engine.codec.audio_stream import AudioStream, decode_audio
from engine.codec.voice_match import (MOVED, SCALE_RANGE, VoiceMatch, fit_voice_match, match_features,
                                      round_trip_features, voiced_statistics)
from engine.engine import Engine, EngineConfig
from engine.model_files import VOICES_DIR, load_model, read_modules
from engine.preset_voices import PresetVoices
from engine.voices.library import VoiceLibrary
from engine.voices.preset import Consent, read_reference
from tests.engine.clip_audio import speech

MODEL = Path(__file__).resolve().parents[2] / "assets" / "timbre-mini"
pytestmark = pytest.mark.skipif(not (MODEL / "config.json").is_file(), reason="timbre-mini is not shipped yet")
CONSENT = Consent("Ada Example", "I agree that Acme may use my voice.", "2026-11-20", "signed release")
PARAMS = SamplingParams(steps=1, seed=3, max_seconds=3.0)


@pytest.fixture(scope="module")
def codec():
    return read_modules(MODEL)[2].eval()


@pytest.fixture(scope="module")
def voice() -> np.ndarray:
    return speech(6.0, 16000, seed=11).astype(np.float32)


def test_a_match_takes_what_the_decoder_makes_of_a_voice_onto_the_voice(codec, voice):
    match = fit_voice_match(codec, voice, 16000)
    assert match is not None
    true = world.analyze(voice)
    decoded = round_trip_features(codec, true)
    (want_mean, want_std), (got_mean, got_std) = voiced_statistics(true), voiced_statistics(decoded)
    assert np.abs(got_mean[MOVED] - want_mean[MOVED]).max() > 0.1  # there is something to correct
    matched = match.apply(decoded)
    mean, std = voiced_statistics(matched)
    free = [k for k in MOVED if SCALE_RANGE[0] < match.scale[k] < SCALE_RANGE[1]]  # spreads not at a limit
    assert len(free) > 30
    np.testing.assert_allclose(mean[free], want_mean[free], atol=1e-3)
    np.testing.assert_allclose(std[free], want_std[free], rtol=1e-3)
    np.testing.assert_array_equal(matched[:, 1], decoded[:, 1])  # voicing is kept
    assert match.scale.min() >= SCALE_RANGE[0] and match.scale.max() <= SCALE_RANGE[1]
    # a clip at another rate is resampled to the codec's first
    at_44k = soxr.resample(voice, 16000, 44100).astype(np.float32)
    np.testing.assert_array_equal(fit_voice_match(codec, at_44k, 44100).shift,
                                  fit_voice_match(codec, soxr.resample(at_44k, 44100, 16000), 16000).shift)


def test_a_match_fitted_on_several_clips_pools_their_voiced_steps(codec, voice):
    other = speech(5.0, 16000, seed=12).astype(np.float32)
    clips = [world.analyze(voice), world.analyze(other)]
    pooled = match_features(codec, clips)
    np.testing.assert_array_equal(match_features(codec, clips[0]).shift, match_features(codec, clips[:1]).shift)
    # each clip is coded on its own; the statistics are those of all their voiced steps together
    decoded = np.concatenate([round_trip_features(codec, c) for c in clips])
    mean, std = voiced_statistics(pooled.apply(decoded))
    want_mean, want_std = voiced_statistics(np.concatenate(clips))
    free = [k for k in MOVED if SCALE_RANGE[0] < pooled.scale[k] < SCALE_RANGE[1]]
    assert len(free) > 30
    np.testing.assert_allclose(mean[free], want_mean[free], atol=1e-3)
    np.testing.assert_allclose(std[free], want_std[free], rtol=1e-3)
    # and differ from either clip's own
    assert np.abs(pooled.shift - match_features(codec, clips[1]).shift).max() > 0.01
    assert np.abs(pooled.shift - match_features(codec, clips[0]).shift).max() > 0.01


def test_a_clip_without_enough_voiced_speech_or_a_waveform_codec_gets_no_match(codec, voice):
    assert fit_voice_match(codec, voice[:8000], 16000) is None  # 0.5 s: under a second voiced
    noise = np.random.default_rng(0).standard_normal(48000).astype(np.float32) * 0.1
    assert fit_voice_match(codec, noise, 16000) is None
    waveform = read_modules(MODEL.parent / "tiny-random")[2]
    assert fit_voice_match(waveform, voice, 16000) is None


def test_the_offline_and_the_streamed_decode_both_render_the_matched_features(codec, voice):
    match = fit_voice_match(codec, voice, 16000)
    identity = VoiceMatch(np.ones(world.FEATURE_DIM, np.float32), np.zeros(world.FEATURE_DIM, np.float32))
    steps = torch.from_numpy(world.analyze(voice)).T[None]
    steps = torch.nn.functional.pad(steps, (0, (-steps.shape[-1]) % 16), mode="replicate")
    with torch.inference_mode():
        codes = codec.quantizer.encode(codec.encode_steps(steps))[0]  # [1 + K, T]
        features = codec.decode(codes[None])[0].T.numpy()
        offline = decode_audio(codec, codes, match)
    np.testing.assert_array_equal(offline, world.synthesize(match.apply(features)))

    def streamed(m: VoiceMatch | None) -> np.ndarray:
        stream = AudioStream(codec, 25, m)
        return np.concatenate([stream.push(codes.T[i:i + 5]) for i in range(0, codes.shape[1], 5)])

    plain = streamed(None)
    np.testing.assert_array_equal(streamed(identity), plain)
    assert np.abs(streamed(match) - plain).max() > 0.05  # the match changes the sound


def test_a_models_voice_files_keep_their_match_and_old_files_still_load(tmp_path, voice, codec):
    folder = tmp_path / "model"
    shutil.copytree(MODEL, folder)
    m = load_model(str(folder), torch.device("cpu"), torch.float32)
    assert set(m.voice_matches) == set(m.voices)  # the shipped voices carry theirs
    path = folder / VOICES_DIR / "flite-kal16.safetensors"
    with safe_open(str(path), "pt") as f:
        assert f.metadata()["format_version"] == "2"
    save_file({"codes": load_file(str(path))["codes"]}, str(path), metadata={"format_version": "1"})
    old = load_model(str(folder), torch.device("cpu"), torch.float32)
    assert "flite-kal16" not in old.voice_matches and torch.equal(old.voices["flite-kal16"], m.voices["flite-kal16"])
    np.testing.assert_array_equal(old.voice_matches["default"].scale, m.voice_matches["default"].scale)


def test_renders_in_a_voice_are_matched_to_it_and_only_the_sound_changes(tmp_path, voice):
    engines = {on: Engine(EngineConfig(model=str(MODEL), device="cpu", threads=1, voice_match=on)) for on in (True, False)}
    for e in engines.values():
        e.load()
    lib = VoiceLibrary(tmp_path / "voices")  # with the shipped built-in presets
    for e in engines.values():
        e.presets = PresetVoices(lib)
    on, off = engines[True], engines[False]
    m = on.model
    assert on.voice_match("flite-kal16") is m.voice_matches["flite-kal16"] and off.voice_match("flite-kal16") is None
    request = SynthesisRequest("Four hours of steady work faced us.", "flite-kal16", PARAMS)
    matched, plain = on.render(request), off.render(request)
    assert [f.codes.tolist() for f in matched.frames] == [f.codes.tolist() for f in plain.frames]
    assert len(matched.audio) == len(plain.audio) and np.abs(matched.audio - plain.audio).max() > 0.05
    # a built-in preset of the model's voice gets the voice's match (its clip is a decode, not the voice)
    builtin = next(p for p in lib.presets() if p.origin == "builtin" and p.name == "timbre-mini flite-kal16")
    assert on.voice_match(builtin.voice_ref) is m.voice_matches["flite-kal16"]
    # a preset made from a clip gets the match of its clip
    preset = on.create_voice(on.prepare_reference([_wav(tmp_path, voice)]), "Ada", consent=CONSENT)
    audio, sr = read_reference(preset.folder)
    fitted = on.voice_match(preset.voice_ref)
    np.testing.assert_allclose(fitted.shift, fit_voice_match(m.codec, audio, sr).shift, atol=1e-5)
    assert on.voice_match(preset.voice_ref) is fitted  # fitted once per session
    assert off.voice_match(preset.voice_ref) is None


def _wav(tmp_path: Path, audio: np.ndarray) -> Path:
    import soundfile as sf

    path = tmp_path / "ada.wav"
    sf.write(path, audio, 16000, subtype="PCM_24")
    return path


def test_a_voice_match_round_trips_through_its_tensors():
    match = VoiceMatch(np.linspace(0.5, 2, world.FEATURE_DIM, dtype=np.float32),
                       np.linspace(-1, 1, world.FEATURE_DIM, dtype=np.float32))
    back = VoiceMatch.from_tensors(match.tensors())
    np.testing.assert_array_equal(back.scale, match.scale)
    np.testing.assert_array_equal(back.shift, match.shift)
    assert VoiceMatch.from_tensors({"match_scale": torch.ones(3), "match_shift": torch.zeros(3)}) is None
    assert VoiceMatch.from_tensors({}) is None
