"""The released Voxtral layout: the 386-tensor manifest, the key remap, folder checks and their errors."""

import argparse
import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from engine.api import EngineError
from engine.config import ConfigError
from engine.families.voxtral.checkpoint import CheckpointError, build_on_meta, inspect_folder, load_checkpoint
from engine.families.voxtral.family import cpu_warning
from engine.families.voxtral.keys import release_manifest, to_engine, to_release
from engine.families.voxtral.params import parse_params
from engine.families.voxtral.synthetic import RELEASE_PARAMS, tiny_params

RELEASE = parse_params(RELEASE_PARAMS, "voxtral-4b-tts-2603").config


def test_release_manifest_has_the_386_released_tensors():
    m = release_manifest(RELEASE)
    assert len(m) == 386
    groups = {p: sum(k.startswith(p) for k in m) for p in ("layers.", "acoustic_transformer.", "audio_tokenizer.")}
    assert groups == {"layers.": 234, "acoustic_transformer.": 33, "audio_tokenizer.": 116}
    assert m["layers.25.attention.wq.weight"] == (4096, 3072) and m["layers.0.attention.wk.weight"] == (1024, 3072)
    assert m["layers.3.attention.wo.weight"] == (3072, 4096) and m["layers.0.feed_forward.w2.weight"] == (3072, 9216)
    assert m["mm_audio_embeddings.tok_embeddings.weight"] == (131072, 3072)
    assert m["mm_audio_embeddings.audio_codebook_embeddings.embeddings.weight"] == (9088, 3072)
    assert m["acoustic_transformer.semantic_codebook_output.weight"] == (8320, 3072)
    assert m["acoustic_transformer.input_projection.weight"] == (3072, 36)
    assert m["acoustic_transformer.acoustic_codebook_output.weight"] == (36, 3072)
    assert m["audio_tokenizer.decoder_blocks.0.conv.parametrizations.weight.original1"] == (1024, 292, 3)
    assert m["audio_tokenizer.decoder_blocks.6.conv.parametrizations.weight.original0"] == (1024, 1, 1)
    assert m["audio_tokenizer.decoder_blocks.6.conv.parametrizations.weight.original1"] == (1024, 1024, 4)
    assert m["audio_tokenizer.decoder_blocks.7.layers.1.attention.q_norm.weight"] == (1024,)
    assert m["audio_tokenizer.output_proj.conv.parametrizations.weight.original1"] == (240, 1024, 7)
    assert m["audio_tokenizer.quantizer.semantic_codebook.embedding_sum"] == (8192, 256)
    assert "output.weight" not in m and "acoustic_transformer.time_embedding.inv_freq" not in m
    assert not [k for k in m if k.startswith(("audio_tokenizer.encoder_blocks.", "audio_tokenizer.input_proj."))]


def test_our_modules_are_exactly_the_released_layout_through_the_remap():
    """Every parameter and persistent buffer of our modules maps to one released tensor of the same shape."""
    from engine.families.voxtral.checkpoint import VoxtralFolder
    from engine.families.voxtral.params import VoxtralParams

    tts, codec = build_on_meta(VoxtralFolder(None, VoxtralParams(RELEASE, {}, {}), None, {}))
    ours = {to_release("tts", k): tuple(v.shape) for k, v in tts.state_dict().items()}
    ours |= {to_release("codec", k): tuple(v.shape) for k, v in codec.state_dict().items()}
    assert ours == release_manifest(RELEASE)
    assert all(to_engine(to_release(p, k)) == (p, k) for p, k in (("tts", "backbone.norm.weight"),
                                                                 ("codec", "output_proj.conv.parametrizations.weight.original0")))


def test_tiny_checkpoint_loads_with_weight_norm_folded_and_time_frequencies_recomputed(voxtral_dir):
    checked = inspect_folder(voxtral_dir)
    assert len(checked.voices) == 20
    tts, codec = load_checkpoint(checked, torch.device("cpu"), torch.float32)
    assert {p.dtype for p in tts.parameters()} == {torch.float32}
    state = load_file(str(voxtral_dir / "consolidated.safetensors"))
    g = state["audio_tokenizer.decoder_blocks.2.conv.parametrizations.weight.original0"].float()
    v = state["audio_tokenizer.decoder_blocks.2.conv.parametrizations.weight.original1"].float()
    conv = codec.decoder_blocks[2].conv
    assert not hasattr(conv, "parametrizations")  # folded: a plain ConvTranspose1d weight
    torch.testing.assert_close(conv.weight, g * v / v.norm(dim=(1, 2), keepdim=True))
    half = tts.cfg.flow.dim // 2
    expected = torch.exp(-torch.log(torch.tensor(1e4)) * torch.arange(half) / half)
    torch.testing.assert_close(tts.acoustic_transformer.time_embedding.inv_freq, expected)
    torch.testing.assert_close(tts.tok_embeddings.weight, state["mm_audio_embeddings.tok_embeddings.weight"].float())


def test_cpu_warning_is_for_the_big_model_only():
    assert "16 GB" in cpu_warning(RELEASE, torch.device("cpu"))
    assert cpu_warning(RELEASE, torch.device("cuda")) is None
    assert cpu_warning(parse_params({k: v for k, v in tiny_params().items() if k[0] != "_"}, "t").config,
                       torch.device("cpu")) is None


@pytest.fixture
def broken(voxtral_dir, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(voxtral_dir, folder)
    return folder


def _rewrite(folder, change):
    path = folder / "consolidated.safetensors"
    state = load_file(str(path))
    change(state)
    save_file(state, str(path))


def test_missing_files_are_all_named(broken):
    (broken / "tekken.json").unlink()
    shutil.rmtree(broken / "voice_embedding")
    with pytest.raises(CheckpointError, match=r"missing tekken\.json\n  missing voice_embedding/"):
        inspect_folder(broken)


def test_missing_tensor_is_named(broken):
    _rewrite(broken, lambda s: s.pop("layers.1.feed_forward.w3.weight"))
    with pytest.raises(CheckpointError, match=r"missing tensor layers\.1\.feed_forward\.w3\.weight \[128, 64\]"):
        inspect_folder(broken)


def test_wrong_shape_and_dtype_are_named(broken):
    def change(s):
        s["acoustic_transformer.norm.weight"] = torch.ones(63, dtype=torch.bfloat16)
        s["norm.weight"] = s["norm.weight"].float()
        s["audio_tokenizer.encoder_blocks.0.conv.weight"] = torch.ones(2, dtype=torch.bfloat16)
    _rewrite(broken, change)
    with pytest.raises(CheckpointError) as e:
        inspect_folder(broken)
    assert e.value.problems == [
        "unexpected tensor audio_tokenizer.encoder_blocks.0.conv.weight (the codec encoder was not part of the release)",
        "wrong shape for acoustic_transformer.norm.weight: [63], expected [64]",
        "wrong dtype for norm.weight: F32, expected BF16",
    ]


def test_a_pickle_where_safetensors_belongs_is_refused_without_unpickling(broken):
    torch.save({"layers.0.attention.wq.weight": torch.zeros(2)}, broken / "consolidated.safetensors")
    with pytest.raises(CheckpointError, match="is a zip archive .*pickle checkpoint.*not safetensors"):
        inspect_folder(broken)
    (broken / "consolidated.safetensors").write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(CheckpointError, match="is a Python pickle, not safetensors"):
        inspect_folder(broken)


def test_truncated_weights_are_named(broken):
    path = broken / "consolidated.safetensors"
    path.write_bytes(path.read_bytes()[:-1000])
    with pytest.raises(CheckpointError, match="is truncated: .*interrupted download"):
        inspect_folder(broken)


def test_voice_presets_are_checked(broken):
    torch.save(torch.zeros(3, 64), broken / "voice_embedding" / "fr_male.pt")
    torch.save({"rows": torch.zeros(4, 64)}, broken / "voice_embedding" / "de_male.pt")
    (broken / "voice_embedding" / "it_male.pt").unlink()
    with pytest.raises(CheckpointError) as e:
        inspect_folder(broken)
    text = str(e.value)
    assert "de_male.pt holds a dict, expected a tensor [N, 64]" in text
    assert "fr_male.pt has 3 rows but tekken.json says the voice takes 4 [AUDIO] tokens" in text
    assert "it_male.pt is missing" in text


def test_voice_preset_with_arbitrary_objects_is_not_unpickled(broken):
    torch.save(argparse.Namespace(rows=torch.zeros(9, 64)), broken / "voice_embedding" / "es_male.pt")
    with pytest.raises(CheckpointError, match="es_male.pt holds more than a plain tensor; refusing to unpickle"):
        inspect_folder(broken)


def test_params_json_is_read_against_the_release_schema(broken):
    params = json.loads((broken / "params.json").read_text())
    params["multimodal"]["audio_tokenizer_args"]["n_kv_headz"] = 8
    (broken / "params.json").write_text(json.dumps(params))
    with pytest.raises(CheckpointError, match=r"unknown key\(s\) multimodal\.audio_tokenizer_args\.n_kv_headz"):
        inspect_folder(broken)
    del params["multimodal"]["audio_tokenizer_args"]["n_kv_headz"]
    params["multimodal"]["audio_model_args"]["input_embedding_concat_type"] = "concat"
    with pytest.raises(ConfigError, match="input_embedding_concat_type is 'concat'; this loader implements only 'sum'"):
        parse_params(params, "x")
    del params["dim"]
    with pytest.raises(ConfigError, match="missing key dim"):
        parse_params(params, "x")


def test_not_a_folder_is_a_clear_error(tmp_path):
    with pytest.raises(EngineError, match="is not a folder"):
        inspect_folder(tmp_path / "nope")
