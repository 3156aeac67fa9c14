"""A training command its user can fix stops with one line naming the cause (exit status 2), not a traceback."""

import pytest

from engine.cli import main
from engine.train.codec_train import train_codec


@pytest.fixture(scope="module")
def codec_run(corpus, tmp_path_factory):
    run = tmp_path_factory.mktemp("codec-run")
    train_codec(corpus, run, 1, "tiny", threads=2, seed=0, log=lambda *_: None, batch=4)
    return run


def _fails(argv: list[str], capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("timbre: error: ") and "Traceback" not in err
    return err


def test_missing_corpus_codec_run_and_tts_run_are_named(corpus, codec_run, tmp_path, capsys):
    out = str(tmp_path / "out")
    err = _fails(["train", "codec", "--data", str(tmp_path / "no-corpus"), "--out", out, "--steps", "1"], capsys)
    assert f"no corpus at {tmp_path / 'no-corpus'}: run `timbre train data" in err
    err = _fails(["train", "tts", "--data", str(corpus), "--codec", str(tmp_path / "no-codec"), "--out", out,
                  "--steps", "1"], capsys)
    assert f"{tmp_path / 'no-codec'} is not a codec run" in err and "timbre train codec --out" in err
    err = _fails(["train", "decoder", "--data", str(corpus), "--codec", str(codec_run), "--tts",
                  str(tmp_path / "no-tts"), "--out", out, "--steps", "1"], capsys)
    assert f"{tmp_path / 'no-tts'} is not a training run" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())  # nothing half-written


def test_a_bad_start_or_flag_combination_is_named(corpus, codec_run, tmp_path, capsys):
    err = _fails(["train", "tts", "--data", str(corpus), "--codec", str(codec_run), "--out", str(tmp_path / "tts"),
                  "--steps", "1", "--size", "tiny", "--listen", "0", "--init", str(tmp_path / "nothing")], capsys)
    assert f"{tmp_path / 'nothing'} is neither a TTS training run nor a model folder" in err
    err = _fails(["train", "codec", "--data", str(corpus), "--out", str(tmp_path / "c2"), "--steps", "1",
                  "--acoustic-drop", "0.7", "--acoustic-noise", "0.5"], capsys)
    assert "--acoustic-drop 0.7 and --acoustic-noise 0.5 must be shares of the crops" in err


def test_an_unknown_eval_voice_is_named_before_anything_renders(corpus, tmp_path, capsys):
    out = tmp_path / "eval"
    err = _fails(["eval", "--data", str(corpus), "--out", str(out), "--voices", "flite-slt,nobody", "--quick"], capsys)
    assert "--voices: nobody not among this corpus's training voices (" in err and "flite-slt" in err
    assert not out.exists()


@pytest.mark.parametrize("argv, message", [
    (["train", "data", "--scale", "-1"], "argument --scale: must be in (0, 100], got -1"),
    (["train", "codec", "--steps", "-1"], "argument --steps: must be from 0 to 100000000, got -1"),
    (["train", "decoder", "--steps", "0"], "argument --steps: must be from 1 to 100000000, got 0"),
    (["train", "tts", "--input-noise", "-0.5"], "argument --input-noise: must be in [0, 10], got -0.5"),
    (["eval", "--sentences", "0"], "argument --sentences: must be from 1 to 1000, got 0"),
    (["eval", "--steps-table", "1,x"], "argument --steps-table: must be a whole number, got x"),
    (["eval", "--steps-table", "1,99"], "argument --steps-table: must be from 1 to"),
])
def test_numbers_out_of_range_are_refused_before_any_work(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_a_damaged_run_or_corpus_file_is_named(corpus, codec_run, tmp_path, capsys):
    import shutil

    run = tmp_path / "codec"
    shutil.copytree(codec_run, run)
    weights = run / "codec.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # truncated, as by a full disk outside our atomic writes
    err = _fails(["train", "tts", "--data", str(corpus), "--codec", str(run), "--out", str(tmp_path / "tts"),
                  "--steps", "1", "--size", "tiny"], capsys)
    assert f"{weights} is damaged or unreadable (" in err
    (run / "state.json").write_text("{not json")
    err = _fails(["train", "codec", "--data", str(corpus), "--out", str(run), "--steps", "2", "--size", "tiny"], capsys)
    assert f"{run / 'state.json'} is damaged or unreadable (" in err
    bad_corpus = tmp_path / "corpus"
    bad_corpus.mkdir()
    (bad_corpus / "plan.json").write_bytes(b"\xff\xfe not text")
    err = _fails(["train", "codec", "--data", str(bad_corpus), "--out", str(tmp_path / "c"), "--steps", "1"], capsys)
    assert f"{bad_corpus / 'plan.json'} is damaged or unreadable (" in err


def test_the_corpus_is_never_written_into_a_file_or_a_folder_of_other_files(tmp_path, capsys):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me")
    err = _fails(["train", "data", "--out", str(a_file)], capsys)
    assert f"{a_file} is a file" in err and a_file.read_text() == "keep me"
    err = _fails(["train", "data", "--out", str(tmp_path)], capsys)
    assert f"{tmp_path} holds other files and no corpus" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # nothing added


def test_a_probe_of_a_folder_without_a_corpus_is_an_error_not_an_empty_report(tmp_path, capsys):
    err = _fails(["codec-probe", "--model", "assets/timbre-mini", "--data", str(tmp_path / "none"), "--out",
                  str(tmp_path / "probe")], capsys)
    assert f"no corpus at {tmp_path / 'none'}" in err and not (tmp_path / "probe").exists()


def test_the_card_checks_its_runs_before_writing_any_preset(corpus, codec_run, tmp_path, capsys):
    presets = tmp_path / "presets"
    err = _fails(["train", "card", "--model", "assets/timbre-mini", "--data", str(corpus), "--codec", str(codec_run),
                  "--tts", str(tmp_path / "no-tts"), "--presets", str(presets)], capsys)
    assert f"{tmp_path / 'no-tts'} is not a training run" in err and not presets.exists()


def test_zero_steps_without_a_start_is_named(corpus, tmp_path, capsys):
    """`--steps 0` takes --init's weights as they are (a voice fine-tune); without --init it is refused."""
    for stage in (["train", "codec"], ["train", "tts", "--codec", str(tmp_path / "no-codec")]):
        err = _fails([*stage, "--data", str(corpus), "--out", str(tmp_path / stage[1]), "--steps", "0"], capsys)
        assert "--steps 0" in err and "--init" in err
        assert not (tmp_path / stage[1]).exists()
