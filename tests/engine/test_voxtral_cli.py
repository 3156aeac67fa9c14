"""timbre models add/remove and the Voxtral family through the CLI (registry under the test's own user folders)."""

import json

import soundfile as sf

from engine.cli import main
from engine.model_registry import REGISTRY_FORMAT, registry_path


def test_add_list_voices_say_and_remove(voxtral_dir, tmp_path, capsys):
    assert main(["models", "add", str(voxtral_dir), "--name", "vx"]) == 0
    assert "registered vx (voxtral" in capsys.readouterr().out
    data = json.loads(registry_path().read_text())
    assert data["format_version"] == REGISTRY_FORMAT and data["models"]["vx"]["path"] == str(voxtral_dir.resolve())

    assert main(["models"]) == 0
    assert "vx" in capsys.readouterr().out

    assert main(["voices", "--model", "vx"]) == 0
    out = capsys.readouterr().out
    assert "fr_female          French, female" in out and "hi_male            Hindi, male" in out
    assert "cloning a voice from a clip is not possible with this model: its codec encoder was not released" in out

    wav = tmp_path / "x.wav"
    assert main(["say", "Bonjour.", "-o", str(wav), "--model", "vx", "--voice", "fr_male", "--seed", "1",
                 "--max-seconds", "0.4", "--threads", "1", "-q"]) == 0
    audio, sr = sf.read(wav)
    assert sr == 24000 and len(audio) == 5 * 1920

    assert main(["say", "Hi.", "-o", str(tmp_path / "y.wav"), "--model", "vx", "--voice", "my_clip.wav"]) == 2
    assert "cannot clone a voice from a clip" in capsys.readouterr().err
    assert not (tmp_path / "y.wav").exists()

    assert main(["models", "add", str(voxtral_dir), "--name", "vx"]) == 2
    assert "already registered" in capsys.readouterr().err
    assert main(["models", "remove", "vx"]) == 0
    assert main(["say", "Hi.", "-o", str(tmp_path / "z.wav"), "--model", "vx"]) == 2
    assert "unknown model 'vx'" in capsys.readouterr().err


def test_adding_a_broken_folder_lists_its_problems_and_registers_nothing(voxtral_dir, tmp_path, capsys):
    import shutil

    folder = tmp_path / "broken"
    shutil.copytree(voxtral_dir, folder)
    (folder / "tekken.json").unlink()
    assert main(["models", "add", str(folder)]) == 2
    assert "missing tekken.json" in capsys.readouterr().err
    assert not registry_path().exists()
    assert main(["models", "add", str(tmp_path)]) == 2
    assert "neither a Voxtral TTS download" in capsys.readouterr().err


def test_a_damaged_registry_is_named_not_replaced(tmp_path, capsys):
    registry_path().parent.mkdir(parents=True, exist_ok=True)
    registry_path().write_text("{not json")
    assert main(["models"]) == 2
    assert f"model registry {registry_path()} is damaged" in capsys.readouterr().err
    assert registry_path().read_text() == "{not json"
