"""The Voxtral family end to end on a tiny random checkpoint in the released layout (CPU, no network)."""

import numpy as np
import pytest
import torch

from engine.api import Done, EngineError, SamplingParams, Started, SynthesisRequest
from engine.codec.voxtral_codec import StreamingDecoder
from engine.families.voxtral.prompt import MAX_CHUNK_CHARS, load_tekken
from engine.nn.flow_graph import FlowSampler
from engine.text import split_sentences

TEXTS = ["Paris is a beautiful city!", "Hello there, this is the tiny checkpoint.", "Café déjà vu: 1234 numbers?!",
         "  leading and   inner spaces", "emoji 🎤 test\nnew line"]


def _params(engine, **kw):
    d = engine.info.default_params
    kw.setdefault("max_seconds", 1.6)
    return SamplingParams(**{**d.__dict__, "keep_trajectory": False, **kw})


def _codes(done: Done) -> np.ndarray:
    return np.stack([f.codes for f in done.frames if not f.end_of_speech])


@pytest.mark.parametrize("voice", ["casual_male", "fr_female", "ar_male", "hi_female"])
def test_prompt_ids_equal_mistral_commons(voxtral_engine, voxtral_dir, voice):
    """Our prompts are mistral-common's SpeechRequest ids, and match the documented layout built by hand."""
    from mistral_common.protocol.speech.request import SpeechRequest
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    reference = MistralTokenizer.from_file(str(voxtral_dir / "tekken.json"))
    tts, prompter = voxtral_engine.model.tts, voxtral_engine.model.prompter
    counts = reference.instruct_tokenizer.audio_encoder.audio_config.voice_num_audio_tokens
    for text in TEXTS:
        (chunk,) = prompter.chunks(text, voice)
        assert chunk.ids == reference.encode_speech_request(SpeechRequest(input=text, voice=voice)).tokens
        text_ids = reference.instruct_tokenizer.tokenizer.encode(text, bos=False, eos=False)
        assert chunk.ids == tts.prompt_ids(text_ids, counts[voice])
        assert chunk.ids[:2] == [1, 25] and chunk.ids[-2:] == [35, 25] and chunk.ids.count(24) == counts[voice]


def test_preset_rows_replace_the_audio_token_embeddings(voxtral_engine):
    tts = voxtral_engine.model.tts
    (chunk,) = voxtral_engine.model.prompter.chunks("Hi.", "de_female")
    emb = tts.embed_prompt(chunk.ids, chunk.voice_rows)[0]
    ids = torch.tensor(chunk.ids)
    torch.testing.assert_close(emb[ids == 24], chunk.voice_rows.float())
    torch.testing.assert_close(emb[ids != 24], tts.tok_embeddings(ids[ids != 24]))


def test_model_info_lists_the_twenty_presets_with_language_and_gender(voxtral_engine):
    info = voxtral_engine.info
    assert info.family == "voxtral" and info.sample_rate == 24000 and info.acoustic_dim == 36
    assert len(info.voices) == 21 and info.voices[0] == "default" and not info.can_clone
    details = {v.name: v for v in info.voice_details}
    assert (details["fr_male"].language, details["fr_male"].gender) == ("French", "male")
    assert (details["cheerful_female"].language, details["cheerful_female"].style) == ("English", "cheerful")
    assert details["default"].style == "= casual_female"
    d = info.default_params
    assert (d.steps, d.guidance, d.temperature) == (7, 1.2, 1.0)


def test_render_gives_37_codes_per_frame_at_24khz_and_is_reproducible(voxtral_engine):
    req = SynthesisRequest("Paris is a beautiful city!", "es_female", _params(voxtral_engine, seed=11))
    a, b = voxtral_engine.render(req), voxtral_engine.render(req)
    codes = _codes(a)
    assert codes.shape[1] == 37 and a.sample_rate == 24000
    assert len(a.audio) == len(codes) * 1920
    assert codes[:, 0].max() < 126 and 0 <= codes[:, 1:].min() and codes[:, 1:].max() <= 20
    np.testing.assert_array_equal(codes, _codes(b))
    np.testing.assert_array_equal(a.audio, b.audio)


def test_first_frame_comes_from_the_prefill_hidden_at_the_last_prompt_token(voxtral_engine):
    m, seed = voxtral_engine.model, 5
    done = voxtral_engine.render(SynthesisRequest("Hi there.", "nl_male", _params(voxtral_engine, seed=seed,
                                                                                 max_seconds=0.08)))
    (chunk,) = m.prompter.chunks("Hi there.", "nl_male")
    noise = torch.randn(1, 36, generator=torch.Generator().manual_seed(seed))
    with torch.inference_mode():
        h = m.tts.prefill(m.tts.embed_prompt(chunk.ids, chunk.voice_rows), m.tts.backbone.new_cache(capacity=200))
        out = m.tts.step(h, noise, 7, 1.2, 0.0, 0, torch.Generator(), False)
    assert done.frames[0].codes.tolist() == [out.semantic - 2, *out.levels.tolist()]


def test_steps_guidance_temperature_and_seed_each_change_the_frames(voxtral_engine):
    base = _codes(voxtral_engine.render(SynthesisRequest("Bonjour.", "fr_male", _params(voxtral_engine, seed=3))))
    for change in ({"steps": 4}, {"guidance": 2.0}, {"temperature": 0.5}, {"seed": 4}):
        kw = {"seed": 3, **change}
        other = _codes(voxtral_engine.render(SynthesisRequest("Bonjour.", "fr_male", _params(voxtral_engine, **kw))))
        assert other.shape != base.shape or not np.array_equal(other, base), change


def test_end_of_audio_stops_generation(voxtral_engine):
    """A zero final norm makes every semantic logit 0: argmax is index 1, [END_AUDIO], at the first frame."""
    norm = voxtral_engine.model.tts.backbone.norm.weight
    saved = norm.detach().clone()
    try:
        with torch.inference_mode():
            norm.zero_()
        done = voxtral_engine.render(SynthesisRequest("Hi.", "default", _params(voxtral_engine, seed=1)))
    finally:
        with torch.inference_mode():
            norm.copy_(saved)
    assert len(done.frames) == 1 and done.frames[0].end_of_speech and len(done.audio) == 0


def test_long_text_renders_as_consecutive_sentence_chunks(voxtral_engine):
    text = " ".join(f"Sentence {i} adds a few words to the text." for i in range(18))
    assert len(text) > MAX_CHUNK_CHARS
    chunks = voxtral_engine.model.prompter.chunks(text, "it_female")
    assert len(chunks) == 2 and " ".join(c.text for c in chunks) == text
    events = list(voxtral_engine.synthesize(SynthesisRequest(text, "it_female", _params(
        voxtral_engine, seed=2, max_seconds=1.6))))
    started, done = events[0], events[-1]
    assert isinstance(started, Started) and started.max_frames == 20
    assert [f.index for f in done.frames] == list(range(20)) and len(done.audio) == 20 * 1920


def test_chunks_continue_frame_numbers_and_audio_across_sentences(voxtral_engine, monkeypatch):
    import engine.families.voxtral.prompt as prompt

    monkeypatch.setattr(prompt, "MAX_CHUNK_CHARS", 20)
    text = "One two three. Four five six. Seven eight."
    assert len(voxtral_engine.model.prompter.chunks(text, "pt_male")) == 3
    done = voxtral_engine.render(SynthesisRequest(text, "pt_male", _params(voxtral_engine, seed=9, max_seconds=600)))
    codes = _codes(done)
    assert [f.index for f in done.frames] == list(range(len(done.frames)))
    assert len(done.audio) == len(codes) * 1920
    assert len(codes) > 3 * 10  # each chunk runs until its own cap (random weights never end)


def test_streaming_decode_with_25_frames_of_context_equals_offline(voxtral_engine):
    codec = voxtral_engine.model.codec
    g = torch.Generator().manual_seed(0)
    codes = torch.cat([torch.randint(0, 126, (70, 1), generator=g), torch.randint(0, 21, (70, 36), generator=g)], 1)
    with torch.inference_mode():
        offline = codec.decode(codes.T[None])[0]
        stream, pieces, at = StreamingDecoder(codec, 25), [], 0
        for n in (5, 25, 25, 15):
            pieces.append(stream.push(codes[at:at + n]))
            at += n
    torch.testing.assert_close(torch.cat(pieces), offline, atol=1e-5, rtol=0)


def test_cloning_from_a_clip_is_refused_plainly(voxtral_engine):
    for clip in ("me.wav", "/home/me/voice.flac"):
        with pytest.raises(EngineError, match="cannot clone a voice from a clip: .*released without its codec encoder"):
            voxtral_engine.render(SynthesisRequest("Hi.", clip, _params(voxtral_engine)))
    with pytest.raises(EngineError, match="unknown voice 'nobody'.*casual_female"):
        voxtral_engine.voice_codes("nobody")
    assert voxtral_engine.voice_codes("fr_male") is None


def test_flow_sampler_on_cpu_is_the_eager_head():
    """A multi-layer head (the released model's three) runs its own eager ODE on the CPU, bit for bit;
    one-layer heads take the lean path (tests/engine/test_lean_paths.py)."""
    from engine.config import FlowHeadConfig
    from engine.nn.flow_head import AcousticHead

    head = AcousticHead(FlowHeadConfig(dim=32, n_layers=3, n_heads=4, n_kv_heads=2, head_dim=8, hidden_dim=64),
                        input_dim=24, acoustic_dim=6, semantic_size=34).eval()
    sampler = FlowSampler(head)
    assert not sampler.use_graphs
    h, noise = torch.randn(1, 24), torch.randn(1, 6)
    with torch.inference_mode():
        x, traj = sampler.sample(h, noise, 7, 1.2, True)
        ref, _ = head.sample(h, noise, 7, 1.2)
    torch.testing.assert_close(x, ref, atol=0, rtol=0)
    assert traj.shape == (8, 1, 6) and sampler.replays == 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a CUDA GPU")
def test_flow_sampler_graph_replay_equals_eager_on_cuda():
    from engine.config import FlowHeadConfig
    from engine.nn.flow_head import AcousticHead

    head = AcousticHead(FlowHeadConfig(dim=64, n_layers=3, n_heads=4, n_kv_heads=2, head_dim=16, hidden_dim=128),
                        input_dim=64, acoustic_dim=36, semantic_size=130).cuda().eval()
    sampler = FlowSampler(head)
    with torch.inference_mode():
        for batch in (1, 3):
            h, noise = torch.randn(batch, 64, device="cuda"), torch.randn(batch, 36, device="cuda")
            for guidance in (1.0, 1.2, 2.0):
                x, traj = sampler.sample(h, noise, 7, guidance, True)
                ref, ref_traj = head.sample(h, noise, 7, guidance, True)
                torch.testing.assert_close(x, ref)
                torch.testing.assert_close(traj, ref_traj)
    assert sampler.replays == 6 and len(sampler._graphs) == 4  # buckets 1 and 4, guided or not


def test_split_sentences_groups_whole_sentences_and_cuts_long_ones():
    assert split_sentences("One. Two! Three?", 9) == ["One. Two!", "Three?"]
    assert split_sentences("  Short one.  Next   one here.\n", 100) == ["  Short one.  Next   one here.\n"]
    assert split_sentences("First one.\n\nSecond one. Third.", 22) == ["First one.", "Second one. Third."]
    long = "word " * 30 + "end, and the rest."
    parts = split_sentences(long, 40)
    assert all(len(p) <= 40 for p in parts) and " ".join(parts).split() == long.split()
    assert split_sentences("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_sentences("   ", 10) == []


def test_tokenizer_without_an_audio_section_is_refused(voxtral_dir, tmp_path):
    import json

    from engine.config import ConfigError

    data = json.loads((voxtral_dir / "tekken.json").read_text())
    del data["audio"]
    (tmp_path / "tekken.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="no audio section with voice_num_audio_tokens"):
        load_tekken(tmp_path / "tekken.json")


def test_speed_benchmark_runs_at_tiny_size_on_cpu(capsys):
    """The GPU benchmark's code path (random weights built on the device, fixed frame count) on a CPU."""
    from engine.bench_voxtral import main

    assert main(["--size", "tiny", "--device", "cpu", "--frames", "6", "--repeats", "1", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "6 frames" in out and "eager" in out
