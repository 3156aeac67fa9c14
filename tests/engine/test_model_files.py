"""Model folders: strict configs, damaged files and mismatched weights give specific errors."""

import json
import shutil

import pytest
import torch

from engine.api import EngineError
from engine.config import ConfigError, ModelConfig, from_dict, to_dict
from engine.model_files import load_model, read_config
from engine.random_model import TINY, write_random_model


@pytest.fixture
def model_dir(tmp_path):
    return write_random_model(tmp_path / "m", TINY, seed=3)


def test_config_round_trips_and_unknown_keys_are_errors():
    data = to_dict(TINY)
    assert from_dict(ModelConfig, data) == TINY
    data["tts"]["backbone"]["n_layerz"] = 3
    with pytest.raises(ConfigError, match=r"tts\.backbone: unknown key\(s\) n_layerz"):
        from_dict(ModelConfig, data)


def test_config_type_errors_name_the_field():
    data = to_dict(TINY)
    data["tts"]["backbone"]["dim"] = "big"
    with pytest.raises(ConfigError, match=r"tts\.backbone\.dim must be int"):
        from_dict(ModelConfig, data)


def test_wrong_frame_rate_and_format_version_are_rejected(model_dir):
    data = json.loads((model_dir / "config.json").read_text())
    data["codec"]["patch_size"] = 100
    (model_dir / "config.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="12.5 Hz"):
        read_config(model_dir)
    data["codec"]["patch_size"] = 160
    data["format_version"] = 99
    (model_dir / "config.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="format version 99"):
        read_config(model_dir)


def test_saved_model_loads_back_identically(model_dir):
    m = load_model(str(model_dir), torch.device("cpu"), torch.float32)
    assert m.config == TINY and set(m.voices) == {"default"}
    assert len(m.model_hash) == 16


def test_damaged_weights_are_a_clear_error(model_dir):
    (model_dir / "model.safetensors").write_bytes(b"\x00garbage")
    with pytest.raises(EngineError, match="damaged or not a safetensors file"):
        load_model(str(model_dir), torch.device("cpu"), torch.float32)


def test_weights_that_do_not_match_the_config_name_the_tensor(tmp_path, model_dir):
    data = json.loads((model_dir / "config.json").read_text())
    data["tts"]["backbone"]["hidden_dim"] = 96
    (model_dir / "config.json").write_text(json.dumps(data))
    with pytest.raises(EngineError, match=r"wrong shape tts\.backbone\.layers\.0\.feed_forward"):
        load_model(str(model_dir), torch.device("cpu"), torch.float32)


def test_missing_weights_file(model_dir):
    (model_dir / "model.safetensors").unlink()
    with pytest.raises(EngineError, match="has no model.safetensors"):
        load_model(str(model_dir), torch.device("cpu"), torch.float32)


def test_builtin_placeholder_matches_its_generator(tmp_path):
    """assets/tiny-random is exactly what random_model writes (so anyone can rebuild it)."""
    from engine.model_files import file_hash, resolve_model

    shipped = resolve_model("tiny-random")
    rebuilt = write_random_model(tmp_path / "tiny-random")
    assert file_hash(shipped / "model.safetensors") == file_hash(rebuilt / "model.safetensors")
    assert (shipped / "config.json").read_text() == (rebuilt / "config.json").read_text()
    shutil.rmtree(rebuilt)
