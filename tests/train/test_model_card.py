"""The model card names the exact commands that rebuild the model, including fine-tuning runs."""

import json

from pathlib import Path

from engine.cli import main
from engine.model_files import WEIGHTS_NAME, file_hash
from engine.train.data import Plan
from engine.train.model_card import run_chain, training_commands
from engine.train.sizes import SAMPLING


def _run(folder, step, **extra):
    folder.mkdir(parents=True)
    (folder / "state.json").write_text(json.dumps({"format_version": 1, "step": step, "extra": extra}))
    return folder


def _tiny_card_inputs(tmp_path):
    """A model folder with the tiny model's config, and a codec and a TTS run of 100 steps: (model, codec, tts)."""
    import shutil

    model = tmp_path / "model"
    model.mkdir()
    shutil.copy(Path(__file__).resolve().parents[2] / "assets" / "tiny-random" / "config.json", model)
    codec = _run(tmp_path / "codec", 100, size="tiny", losses={"loss": 1.0})
    tts = _run(tmp_path / "tts", 100, size="tiny", codec=str(codec), losses={"loss": 1.0}, input_noise=1.0)
    return model, codec, tts


def test_training_commands_follow_every_init_back_to_the_first_run(tmp_path):
    codec = _run(tmp_path / "codec", 3000, size="mini")
    codec2 = _run(tmp_path / "codec2", 5000, size="mini", init=str(codec), low_envelope=1.0)
    tts = _run(tmp_path / "tts", 3000, size="mini", codec=str(codec))
    tts2 = _run(tmp_path / "tts2", 2000, size="mini", init=str(tts), codec=str(codec2), input_noise=0.5, dropout=0.1)
    assert [f.name for f, _ in run_chain(tts2)] == ["tts", "tts2"]
    lines = training_commands(Path("data/corpus"), 0.7, codec2, tts2)
    assert lines[1] == ".venv/bin/timbre train data --out data/corpus --scale 0.7"
    assert lines[2:6] == [
        ".venv/bin/timbre train codec --data data/corpus --out data/runs/codec --steps 3000",
        ".venv/bin/timbre train codec --data data/corpus --out data/runs/codec2 --steps 5000 --init data/runs/codec",
        # a run from before the input corruption trained on true frames
        ".venv/bin/timbre train tts --data data/corpus --codec data/runs/codec --out data/runs/tts --steps 3000 "
        "--input-noise 0",
        ".venv/bin/timbre train tts --data data/corpus --codec data/runs/codec2 --out data/runs/tts2 --steps 2000 "
        "--input-noise 0.5 --dropout 0.1 --init data/runs/tts --export assets/timbre-mini",
    ]
    assert lines[-1].startswith(".venv/bin/timbre eval")
    decoder = _run(tmp_path / "decoder", 1500, codec=str(codec2), tts=str(tts2), sample_steps=SAMPLING.steps)
    with_decoder = training_commands(Path("data/corpus"), 0.7, codec2, tts2, decoder)
    assert not with_decoder[5].endswith("--export assets/timbre-mini")  # the decoder stage exports instead
    assert with_decoder[6] == (".venv/bin/timbre train decoder --data data/corpus --codec data/runs/codec2 "
                               "--tts data/runs/tts2 --out data/runs/decoder --steps 1500 --export assets/timbre-mini")
    # the flow steps the TTS's values were drawn with, where they are not the default; a run from before
    # the flag drew them with 8
    for name, recorded in (("decoder-legacy", {}), ("decoder-other", {"sample_steps": 8})):
        run = _run(tmp_path / name, 1500, codec=str(codec2), tts=str(tts2), **recorded)
        assert training_commands(Path("data/corpus"), 0.7, codec2, tts2, run)[6].endswith(
            "--steps 1500 --sample-steps 8 --export assets/timbre-mini")
    weighted = _run(tmp_path / "decoder2", 1200, codec=str(codec2), tts=str(tts2), low_envelope=4.0,
                    sample_steps=SAMPLING.steps)
    assert training_commands(Path("data/corpus"), 0.7, codec2, tts2, weighted)[6].endswith(
        "--steps 1200 --low-envelope-weight 4 --export assets/timbre-mini")
    critic = _run(tmp_path / "decoder-critic", 1200, codec=str(codec2), tts=str(tts2), adversarial=0.05,
                  sample_steps=SAMPLING.steps)
    assert training_commands(Path("data/corpus"), 0.7, codec2, tts2, critic)[6].endswith(
        "--steps 1200 --adversarial 0.05 --export assets/timbre-mini")
    (codec2 / "codec.json").write_text(json.dumps({"format_version": 1, "codec": {"decoder_transformer_lengths": [2, 1, 0]}}))
    same = _run(tmp_path / "decoder3", 1200, codec=str(codec2), tts=str(tts2), decoder_layers=[2, 1, 0],
                sample_steps=SAMPLING.steps)
    grown = _run(tmp_path / "decoder4", 1200, codec=str(codec2), tts=str(tts2), decoder_layers=[2, 1, 1],
                 sample_steps=SAMPLING.steps)
    assert training_commands(Path("data/corpus"), 0.7, codec2, tts2, same)[6].endswith(
        "--steps 1200 --export assets/timbre-mini")
    assert training_commands(Path("data/corpus"), 0.7, codec2, tts2, grown)[6].endswith(
        "--steps 1200 --decoder-layers 2,1,1 --export assets/timbre-mini")
    codec3 = _run(tmp_path / "codec3", 3000, size="mini", init=str(codec2), low_envelope=4.0)
    assert training_commands(Path("data/corpus"), 0.7, codec3, tts2)[4] == (
        ".venv/bin/timbre train codec --data data/corpus --out data/runs/codec3 --steps 3000 "
        "--low-envelope-weight 4 --init data/runs/codec2")
    # a codec run names the shares of corrupted crops only where they are not the defaults
    codec4 = _run(tmp_path / "codec4", 2000, size="mini", init=str(codec3), low_envelope=4.0, acoustic_drop=0.0,
                  acoustic_noise=0.2)
    assert training_commands(Path("data/corpus"), 0.7, codec4, tts2)[5] == (
        ".venv/bin/timbre train codec --data data/corpus --out data/runs/codec4 --steps 2000 "
        "--low-envelope-weight 4 --acoustic-drop 0 --init data/runs/codec3")


def test_each_run_names_the_corpus_it_trained_on_and_each_corpus_its_scale(tmp_path):
    def corpus(name, scale, extra=0):
        folder = tmp_path / name
        folder.mkdir()
        plan = {"format_version": 1, "counts": Plan().scaled(scale).counts, "held_out_speakers": ["flite-rms"]}
        plan |= {"extra_sentences": extra} if extra else {}  # plans from before the extra pool lack it
        (folder / "plan.json").write_text(json.dumps(plan))
        return folder

    small, large = corpus("corpus", 0.7), corpus("corpus25", 2.5, extra=6000)
    codec = _run(tmp_path / "codec", 3000, data=str(small))
    tts = _run(tmp_path / "tts", 3000, codec=str(codec), input_noise=1.0)  # from before runs recorded their corpus
    tts2 = _run(tmp_path / "tts2", 2000, codec=str(codec), init=str(tts), input_noise=1.5, data=str(large))
    decoder = _run(tmp_path / "decoder", 1200, data=str(large), codec=str(codec), tts=str(tts2))
    lines = training_commands(small, 1.0, codec, tts2, decoder)
    assert lines[1:3] == [".venv/bin/timbre train data --out data/corpus --scale 0.7",
                          ".venv/bin/timbre train data --out data/corpus25 --scale 2.5 --extra-sentences 6000"]
    assert [line.split(" --data ")[1].split()[0] for line in lines[3:]] == [
        "data/corpus", "data/corpus", "data/corpus25", "data/corpus25", "data/corpus"]
    # a corpus that is not on this machine takes the scale it was given
    assert training_commands(tmp_path / "gone", 1.0, codec, tts)[1:3] == [
        ".venv/bin/timbre train data --out data/corpus --scale 0.7",
        ".venv/bin/timbre train data --out data/gone --scale 1"]


def test_a_run_that_names_itself_as_its_init_is_listed_once(tmp_path):
    loop = _run(tmp_path / "codec", 10)
    (loop / "state.json").write_text(json.dumps({"format_version": 1, "step": 10, "extra": {"init": str(loop)}}))
    assert [f.name for f, _ in run_chain(loop)] == ["codec"]


def test_the_card_names_dropout_only_when_a_run_of_the_chain_used_it(tmp_path):
    import shutil

    from engine.train.model_card import write_model_card

    model = tmp_path / "model"
    model.mkdir()
    shutil.copy(Path(__file__).resolve().parents[2] / "assets" / "tiny-random" / "config.json", model)
    losses = {"loss": 1.0}
    codec = _run(tmp_path / "codec", 100, size="tiny", losses=losses)
    plain = _run(tmp_path / "tts", 100, size="tiny", codec=str(codec), losses=losses, input_noise=1.0)
    dropped = _run(tmp_path / "tts2", 50, size="tiny", codec=str(codec), losses=losses, init=str(plain),
                   input_noise=1.5, dropout=0.1, lr=3e-4)
    card = write_model_card(model, tmp_path / "no-corpus", codec, plain, None, 0.7).read_text(encoding="utf-8")
    assert "against exposure bias." in card and "--dropout" not in card
    card = write_model_card(model, tmp_path / "no-corpus", codec, dropped, None, 0.7).read_text(encoding="utf-8")
    assert "runs marked `--dropout` also with residual dropout" in card
    assert ("--input-noise 1.5 --dropout 0.1 --lr 0.0003 --size tiny --init data/runs/tts "
            f"--export {model}") in card  # the folder the card is written for (assets/timbre-mini for the shipped one)
    assert f".venv/bin/timbre eval --model {model} " in card
    assert card.count(" --lr ") == 1  # the first run used the default peak


def test_the_card_states_the_models_sampling_defaults(tmp_path):
    from engine.train.model_card import write_model_card

    model, codec, tts = _tiny_card_inputs(tmp_path)
    for steps, words in ((1, "1 flow step,"), (4, "4 flow steps,")):
        config = json.loads((model / "config.json").read_text())
        config["sampling"].update(steps=steps, guidance=1.5)
        (model / "config.json").write_text(json.dumps(config))
        card = write_model_card(model, tmp_path / "no-corpus", codec, tts, None, 0.7).read_text(encoding="utf-8")
        assert f"- **Sampling defaults**: {words} guidance 1.5, temperature" in card


def test_the_card_gives_the_tts_held_out_losses_when_the_run_measured_them(tmp_path):
    import shutil

    from engine.train.model_card import write_model_card

    model = tmp_path / "model"
    model.mkdir()
    shutil.copy(Path(__file__).resolve().parents[2] / "assets" / "tiny-random" / "config.json", model)
    codec = _run(tmp_path / "codec", 100, size="tiny", losses={"loss": 1.0})
    old = _run(tmp_path / "tts", 100, size="tiny", codec=str(codec), losses={"loss": 2.5, "semantic": 1.6})
    card = write_model_card(model, tmp_path / "no-corpus", codec, old, None, 0.7).read_text(encoding="utf-8")
    assert "- tts: 100 steps, final losses loss 2.500, semantic 1.600\n" in card and "held-out" not in card
    new = _run(tmp_path / "tts2", 100, size="tiny", codec=str(codec), losses={"loss": 2.5, "semantic": 1.6},
               held_out={"loss": 2.9, "semantic": 2.02})
    card = write_model_card(model, tmp_path / "no-corpus", codec, new, None, 0.7).read_text(encoding="utf-8")
    assert ("- tts: 100 steps, final losses loss 2.500, semantic 1.600; on held-out sentences (true input frames): "
            "loss 2.900, semantic 2.020\n") in card
    read = _run(tmp_path / "tts3", 100, size="tiny", codec=str(codec), losses={"loss": 2.5},
                held_out={"loss": 2.9, "wer": 0.4125, "similarity": 0.8})
    card = write_model_card(model, tmp_path / "no-corpus", codec, read, None, 0.7).read_text(encoding="utf-8")
    assert ("- tts: 100 steps, final losses loss 2.500; on held-out sentences (true input frames): loss 2.900; "
            "held-out sentences read aloud (default sampling): wer 0.412, similarity 0.800\n") in card
    # the codec's and the decoder stage's lines give their round trip of held-out clips (and the reading)
    scored = _run(tmp_path / "codec2", 100, size="tiny", losses={"loss": 1.0}, held_out={"feat": 0.52, "delta": 0.44})
    decoder = _run(tmp_path / "decoder", 50, losses={"loss": 0.7}, codec=str(scored), tts=str(tmp_path / "tts4"),
                   held_out={"feat": 0.5, "wer": 0.6, "similarity": 0.8})
    read2 = _run(tmp_path / "tts4", 100, size="tiny", codec=str(scored), losses={"loss": 2.5})
    card = write_model_card(model, tmp_path / "no-corpus", scored, read2, None, 0.7, decoder)
    card = card.read_text(encoding="utf-8")
    assert ("- codec: 100 steps, final losses loss 1.000; round trip of held-out clips: feat 0.520, "
            "delta 0.440\n") in card
    assert ("50 steps, final losses loss 0.700; round trip of held-out clips: feat 0.500; held-out sentences read "
            "aloud (default sampling): wer 0.600, similarity 0.800\n") in card
    assert "--self-feed" not in card


def test_the_card_says_when_its_runs_trained_on_more_than_one_corpus(tmp_path):
    import shutil

    from engine.train.model_card import write_model_card

    model = tmp_path / "model"
    model.mkdir()
    shutil.copy(Path(__file__).resolve().parents[2] / "assets" / "tiny-random" / "config.json", model)
    large = tmp_path / "corpus25"
    large.mkdir()
    clip = {"seconds": 3.0, "split": "train", "speaker": "flite-slt"}
    manifest = {"format_version": 1, "created": "2026-11-24", "clips": [clip] * 4, "sentences": [{}] * 30,
                "held_out_speakers": ["flite-rms"], "voices": {"flite-slt": {"engine": "flite", "arg": "slt",
                                                                             "licence": "BSD-style"}}}
    (large / "manifest.json").write_text(json.dumps(manifest))
    losses = {"loss": 1.0}
    codec = _run(tmp_path / "codec", 100, size="tiny", losses=losses, data=str(tmp_path / "corpus"))
    tts = _run(tmp_path / "tts", 100, size="tiny", codec=str(codec), losses=losses, data=str(large))
    card = write_model_card(model, large, codec, tts, None, 0.7).read_text(encoding="utf-8")
    assert "| flite-slt | 4 |" in card
    assert "trained on 2 corpora (data/corpus, data/corpus25)" in card
    assert "man-pages" not in card  # no clip reads the extra pool
    manifest["clips"].append(clip | {"source": "manpage:pipe.7"})
    (large / "manifest.json").write_text(json.dumps(manifest))
    card = write_model_card(model, large, codec, tts, None, 0.7).read_text(encoding="utf-8")
    assert "| flite-slt | 5 |" in card and "Extra text (`--extra-sentences`)" in card and "Linux man-pages" in card
    single = _run(tmp_path / "tts2", 100, size="tiny", codec=str(codec), losses=losses, data=str(tmp_path / "corpus"))
    card = write_model_card(model, large, codec, single, None, 0.7).read_text(encoding="utf-8")
    assert "corpora" not in card


def test_runs_started_from_a_model_folder_list_that_models_own_commands_first(tmp_path):
    from engine.train.lineage import card_commands

    base = tmp_path / "tm16"
    base.mkdir()
    base_lines = [".venv/bin/timbre train data --out data/corpus --scale 0.7",
                  ".venv/bin/timbre train codec --data data/corpus --out data/runs/codec --steps 3000",
                  ".venv/bin/timbre train tts --data data/corpus --codec data/runs/codec --out data/runs/tts "
                  "--steps 3000 --input-noise 1",
                  ".venv/bin/timbre train decoder --data data/corpus --codec data/runs/codec --tts data/runs/tts "
                  "--out data/runs/decoder --steps 1200 --export assets/timbre-mini"]
    (base / "MODEL_CARD.md").write_text("# card\n\nExact commands (a run with `--init` ...):\n\n```bash\nmake setup\n"
                                        + "\n".join(base_lines) + "\n.venv/bin/timbre eval --model assets/timbre-mini "
                                        "--data data/corpus --out data/eval\n```\n\n## Evaluation\n")
    assert card_commands(base) == ["make setup", *base_lines, ".venv/bin/timbre eval --model assets/timbre-mini "
                                   "--data data/corpus --out data/eval"]
    record = {"hash": "abc123", "commands": card_commands(base)}
    init = "data/models/tm16"
    codec3 = _run(tmp_path / "codec3", 3000, size="mini", init=init, init_model=record, low_envelope=4.0)
    tts11 = _run(tmp_path / "tts11", 2000, size="mini", init=init, init_model=record, codec=str(codec3),
                 input_noise=1.5, lr=5e-4)
    tts12 = _run(tmp_path / "tts12", 3000, size="mini", init=str(tts11), codec=str(codec3), input_noise=1.5, lr=3e-4)
    assert [f.name for f, _ in run_chain(tts12)] == ["tts11", "tts12"]  # the model folder ends the chain
    decoder = _run(tmp_path / "decoder13", 1200, codec=str(codec3), tts=str(tts12), low_envelope=4.0)
    lines = training_commands(Path("data/corpus"), 0.7, codec3, tts12, decoder)
    assert lines == [
        "make setup",
        ".venv/bin/timbre train data --out data/corpus --scale 0.7",  # once, though both use it
        *base_lines[1:3],
        # the base model's export goes where the new runs start from, and its decoder stage (from before
        # --sample-steps) drew the TTS's values with 8 steps
        base_lines[3].replace("--export assets/timbre-mini", "--export data/models/tm16")
        .replace(" --out ", " --sample-steps 8 --out "),
        ".venv/bin/timbre train codec --data data/corpus --out data/runs/codec3 --steps 3000 --low-envelope-weight 4 "
        "--init data/models/tm16",
        ".venv/bin/timbre train tts --data data/corpus --codec data/runs/codec3 --out data/runs/tts11 --steps 2000 "
        "--input-noise 1.5 --lr 0.0005 --init data/models/tm16",
        ".venv/bin/timbre train tts --data data/corpus --codec data/runs/codec3 --out data/runs/tts12 --steps 3000 "
        "--input-noise 1.5 --lr 0.0003 --init data/runs/tts11",
        ".venv/bin/timbre train decoder --data data/corpus --codec data/runs/codec3 --tts data/runs/tts12 "
        "--out data/runs/decoder13 --steps 1200 --low-envelope-weight 4 --sample-steps 8 --export assets/timbre-mini",
        ".venv/bin/timbre eval --model assets/timbre-mini --data data/corpus --out data/eval",
    ]
    assert card_commands(tmp_path / "nothing-here") == []
    from engine.train.model_card import _base_model_note

    assert _base_model_note(codec3, tts12).startswith(" `data/models/tm16` is the earlier model (weights abc123)")
    assert _base_model_note(tmp_path / "decoder13") == ""


def test_commands_name_a_runs_size_batch_and_gpu_where_they_are_not_the_defaults(tmp_path):
    codec = _run(tmp_path / "codec", 3000, size="mini", batch=16, device="cpu")
    tts = _run(tmp_path / "tts", 2000, size="mini", codec=str(codec), input_noise=1.0, batch=64, device="cuda")
    decoder = _run(tmp_path / "decoder", 1200, codec=str(codec), tts=str(tts), sample_steps=SAMPLING.steps,
                   batch=12, device="cuda")
    lines = training_commands(Path("data/corpus"), 1.0, codec, tts, decoder)
    codec_line, tts_line, decoder_line = (next(x for x in lines if f"train {stage} " in x)
                                          for stage in ("codec", "tts", "decoder"))
    assert codec_line.endswith("--out data/runs/codec --steps 3000")  # mini, its default batch, CPU: no flags
    assert tts_line.endswith("--steps 2000 --input-noise 1 --batch 64 --device cuda")
    assert decoder_line.endswith("--steps 1200 --device cuda --export assets/timbre-mini")
    base = _run(tmp_path / "codec-base", 3000, size="base", batch=16, device="cuda")
    assert next(x for x in training_commands(Path("data/corpus"), 1.0, base, tts) if "train codec " in x).endswith(
        "--steps 3000 --size base --device cuda")


def _card_and_report(tmp_path, weights_hash=None):
    model = tmp_path / "model"
    model.mkdir()
    (model / WEIGHTS_NAME).write_bytes(b"not really weights, but hashed all the same")
    card = ("# m\n\nintro\n\n## Evaluation (`timbre eval`)\n\n# Evaluation of m (old), 30 sentences\n\nWER 0.40\n\n"
            "## Licence\n\nApache-2.0.\n")
    (model / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    report = tmp_path / "eval" / "report.md"
    report.parent.mkdir()
    report.write_text("# Evaluation of m (new), 30 sentences\n\nWER 0.39\n", encoding="utf-8")
    report.with_suffix(".json").write_text(json.dumps({"model_hash": weights_hash or file_hash(model / WEIGHTS_NAME)}))
    return model, report


def test_a_re_evaluation_replaces_only_the_cards_evaluation(tmp_path, capsys):
    model, report = _card_and_report(tmp_path)
    assert main(["train", "card", "--model", str(model), "--eval", str(report), "--evaluation-only",
                 "--data", str(tmp_path / "no-corpus"), "--tts", str(tmp_path / "no-run")]) == 0
    assert (model / "MODEL_CARD.md").read_text(encoding="utf-8") == (
        "# m\n\nintro\n\n## Evaluation (`timbre eval`)\n\n# Evaluation of m (new), 30 sentences\n\nWER 0.39\n\n"
        "## Licence\n\nApache-2.0.\n")


def test_a_report_of_other_weights_or_a_card_without_its_section_is_refused_and_the_card_kept(tmp_path, capsys):
    model, report = _card_and_report(tmp_path, weights_hash="0123456789abcdef")
    before = (model / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert main(["train", "card", "--model", str(model), "--eval", str(report), "--evaluation-only"]) == 2
    err = capsys.readouterr().err
    assert "evaluates weights 0123456789abcdef" in err and "Traceback" not in err
    (model / "MODEL_CARD.md").write_text(before.replace("## Licence", "## Terms"), encoding="utf-8")
    report.with_suffix(".json").unlink()
    assert main(["train", "card", "--model", str(model), "--eval", str(report), "--evaluation-only"]) == 2
    assert "report.json is damaged or unreadable" in capsys.readouterr().err
    report.with_suffix(".json").write_text(json.dumps({"model_hash": file_hash(model / WEIGHTS_NAME)}))
    assert main(["train", "card", "--model", str(model), "--eval", str(report), "--evaluation-only"]) == 2
    assert "has no '## Evaluation (`timbre eval`)' section before '## Licence'" in capsys.readouterr().err
    assert (model / "MODEL_CARD.md").read_text(encoding="utf-8") == before.replace("## Licence", "## Terms")


def test_the_card_names_the_voices_whose_prompt_was_chosen(tmp_path):
    import torch

    from engine.model_files import write_voice
    from engine.train.model_card import write_model_card

    model, codec, tts = _tiny_card_inputs(tmp_path)
    (model / "voices").mkdir()
    for voice in ("default", "flite-slt"):
        write_voice(model / "voices" / f"{voice}.safetensors", torch.zeros(4, 3, dtype=torch.long), None)
    card = write_model_card(model, tmp_path / "no-corpus", codec, tts, None, 0.7).read_text(encoding="utf-8")
    assert "of its longest training clip; `default`" in card and "--choose-prompts" not in card
    write_voice(model / "voices" / "flite-slt.safetensors", torch.zeros(4, 3, dtype=torch.long), None, "slt-00007")
    card = write_model_card(model, tmp_path / "no-corpus", codec, tts, None, 0.7).read_text(encoding="utf-8")
    assert "longest training clip (`flite-slt`: another of the speaker's longest clips" in card
    assert "`default`:" not in card
