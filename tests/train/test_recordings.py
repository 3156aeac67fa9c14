"""`timbre train recordings`: a one-speaker corpus from a folder of your own recordings, and the fine-tune
path it feeds (the model's codec taken as it is, the TTS trained on the new voice and exported with it).

The "recordings" are the session corpus's real flite clips (audio the aligner can follow), copied into
the two layouts the command reads, plus files that are wrong in the ways users' folders are."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from safetensors.numpy import load_file

from engine.cli import main
from engine.train.corpus import load_clips, read_plan
from engine.train.errors import TrainingError
from engine.train.recordings import MIN_CLIPS, SKIPPED_NAME, find_recordings, make_recordings_corpus

LICENCE = "recorded for the tests"


def _teacher_clips(corpus: Path, n: int) -> list[dict]:
    clips = [c for c in json.loads((corpus / "manifest.json").read_text())["clips"] if c["speaker"] == "flite-slt"]
    assert len(clips) >= n
    return clips[:n]


@pytest.fixture(scope="module")
def folder(corpus, tmp_path_factory) -> Path:
    """Audio files with .txt transcripts: 7 good (one of them stereo at 44.1 kHz), and one of each bad kind."""
    out = tmp_path_factory.mktemp("recordings")
    for i, c in enumerate(_teacher_clips(corpus, 7)):
        audio, sr = sf.read(str(corpus / c["audio"]), dtype="float32")
        if i == 3:  # a stereo CD-rate file: resampled and mixed down like any other
            import soxr
            up = soxr.resample(audio, sr, 44100)
            sf.write(str(out / f"take {i}.wav"), np.stack([up, 0.5 * up], axis=1), 44100)
        else:
            sf.write(str(out / f"take {i}.flac"), audio, sr)
        (out / f"take {i}.txt").write_text(c["text"] + "\n", encoding="utf-8")
    (out / "corrupt.wav").write_text("this is not audio\n")
    (out / "corrupt.txt").write_text("Hello there.\n")
    shutil.copy(out / "take 0.flac", out / "untranscribed.flac")
    shutil.copy(out / "take 1.flac", out / "odd word.flac")
    (out / "odd word.txt").write_text("Zqxvrt spoke.\n")
    shutil.copy(out / "take 2.flac", out / "wrong text.flac")  # says one sentence, transcribed as another
    (out / "wrong text.txt").write_text("Seven green apples fell on the old wooden table today.\n")
    return out


@pytest.fixture(scope="module")
def recordings_corpus(folder, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rec-corpus") / "corpus"
    make_recordings_corpus(folder, out, "ana", LICENCE, log=lambda *_: None)
    return out


def test_usable_clips_become_an_aligned_corpus_and_every_other_file_is_listed_with_its_reason(recordings_corpus):
    manifest = json.loads((recordings_corpus / "manifest.json").read_text())
    assert manifest["format_version"] == 1 and manifest["kind"] == "recordings"
    clips = manifest["clips"]
    assert sorted(c["clip"] for c in clips) == sorted(f"take_{i}" for i in range(7))
    assert {c["speaker"] for c in clips} == {"ana"} and all(c["voice_licence"] == LICENCE for c in clips)
    for c in clips:
        audio, sr = sf.read(str(recordings_corpus / c["audio"]))
        assert sr == 16000 and audio.ndim == 1 and abs(len(audio) / sr - c["seconds"]) < 0.01
        assert abs(sum(c["durations_10ms"]) - c["seconds"] * 100) <= 1 and len(c["units"]) == len(c["durations_10ms"])
    feats = load_file(str(recordings_corpus / "shards" / "0000.safetensors"))
    assert all(feats[c["clip"]].shape == (c["steps"], 43) for c in clips)
    skipped = {s["name"]: s["reason"] for s in json.loads((recordings_corpus / SKIPPED_NAME).read_text())}
    assert set(skipped) == {"corrupt.wav", "untranscribed.flac", "odd word.flac", "wrong text.flac"}
    assert "not audio" in skipped["corrupt.wav"] and "no transcript" in skipped["untranscribed.flac"]
    assert "zqxvrt" in skipped["odd word.flac"] and "does not match" in skipped["wrong text.flac"]


def test_some_clips_are_held_out_and_training_reads_only_the_rest(recordings_corpus):
    plan = read_plan(recordings_corpus)
    assert plan["kind"] == "recordings" and plan["held_out_speakers"] == []
    evals = {c.name for c in load_clips(recordings_corpus, "eval")}
    train = {c.name for c in load_clips(recordings_corpus, "train")}
    assert len(evals) >= 2 and len(train) >= 4 and not evals & train
    manifest = json.loads((recordings_corpus / "manifest.json").read_text())
    assert sorted(s["text"] for s in manifest["sentences"]) == sorted(
        c["text"] for c in manifest["clips"] if c["split"] == "eval")


def test_a_rerun_resumes_and_other_input_into_the_same_folder_is_refused(folder, recordings_corpus):
    before = {p.name: p.stat().st_mtime_ns for p in (recordings_corpus / "shards").iterdir()}
    lines = []
    make_recordings_corpus(folder, recordings_corpus, "ana", LICENCE, log=lines.append)
    assert "0 shards to make" in lines[0]
    assert {p.name: p.stat().st_mtime_ns for p in (recordings_corpus / "shards").iterdir()} == before
    with pytest.raises(TrainingError, match="other input"):
        make_recordings_corpus(folder, recordings_corpus, "ben", LICENCE, log=lambda *_: None)


def test_a_folder_that_changed_since_its_corpus_was_started_is_refused(folder, tmp_path):
    grown = tmp_path / "grown"
    shutil.copytree(folder, grown)
    out = tmp_path / "corpus"
    make_recordings_corpus(grown, out, "ana", LICENCE, log=lambda *_: None)
    shutil.copy(grown / "take 0.flac", grown / "take 00.flac")  # sorts between take 0 and take 1
    shutil.copy(grown / "take 0.txt", grown / "take 00.txt")
    with pytest.raises(TrainingError, match="holds 11 clips with a transcript, and held 10 when"):
        make_recordings_corpus(grown, out, "ana", LICENCE, log=lambda *_: None)


def test_the_ljspeech_layout_is_read_and_bad_lines_are_named(corpus, tmp_path):
    wavs = tmp_path / "wavs"
    wavs.mkdir()
    lines = []
    for i, c in enumerate(_teacher_clips(corpus, 3)):
        audio, sr = sf.read(str(corpus / c["audio"]), dtype="float32")
        sf.write(str(wavs / f"LJ{i}.wav"), audio, sr)
        lines.append(f"LJ{i}|{c['text']}|{c['spoken']}")
    lines += ["LJ9|A clip that is missing.", "only a name", ""]
    (tmp_path / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    recordings, skipped = find_recordings(tmp_path)
    assert [r.name for r in recordings] == ["LJ0", "LJ1", "LJ2"] and all(r.audio.parent == wavs for r in recordings)
    assert {s["name"]: s["reason"].split(" ")[0] for s in skipped} == {"LJ9": "no", "metadata.csv:5": "not"}


def test_bad_requests_are_refused_before_any_work(folder, tmp_path, capsys):
    def fails(argv: list[str]) -> str:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("timbre: error: ") and "Traceback" not in err
        return err

    base = ["train", "recordings", "--in", str(folder), "--licence", LICENCE]
    assert "speaker name" in fails([*base, "--speaker", "Ana Ruiz", "--out", str(tmp_path / "a")])
    assert "not a folder" in fails([*base[:3], str(tmp_path / "nowhere"), *base[4:], "--speaker", "ana",
                                    "--out", str(tmp_path / "b")])
    few = tmp_path / "few"
    few.mkdir()
    shutil.copy(folder / "take 0.flac", few / "a.flac")
    (few / "a.txt").write_text("x")
    assert f"at least {MIN_CLIPS}" in fails([*base[:3], str(few), *base[4:], "--speaker", "ana",
                                             "--out", str(tmp_path / "c")])
    assert not (tmp_path / "a").exists() and not (tmp_path / "c").exists()


def test_a_voice_fine_tune_keeps_the_models_codec_and_tts_and_tunes_its_decoder(recordings_corpus, tmp_path):
    """The README's recipe: `train codec --steps 0 --init MODEL` and `train tts --steps 0 --init MODEL` take the
    model's codec and TTS unchanged (its semantic tokens stay); `train decoder` tunes the decoder on the
    recordings and exports a model that has the speaker as a voice and is named after its folder. The model
    here is a tiny WORLD-codec one trained and exported on the spot (the built-in tiny-random's codec renders
    waveforms, which a WORLD-feature corpus cannot train)."""
    import torch

    from engine.model_files import load_model, read_modules
    from engine.train.codec_train import load_trained_codec, train_codec
    from engine.train.decoder_train import train_decoder
    from engine.train.tts_train import train_tts

    quiet = {"threads": 2, "log": lambda *_: None, "batch": 4}
    base_codec, base = tmp_path / "base-codec", tmp_path / "base"
    train_codec(recordings_corpus, base_codec, 1, "tiny", **quiet)
    train_tts(recordings_corpus, base_codec, tmp_path / "base-tts", 1, "tiny", export=base, listen=0, **quiet)
    for stage in (lambda out: train_codec(recordings_corpus, out, 0, "tiny", **quiet),
                  lambda out: train_tts(recordings_corpus, base_codec, out, 0, "tiny", listen=0, **quiet)):
        with pytest.raises(TrainingError, match="--init"):
            stage(tmp_path / "nothing")
    with pytest.raises(TrainingError, match="already holds a run trained to step 1"):
        train_codec(recordings_corpus, base_codec, 0, init=base, **quiet)  # would keep the trained weights
    codec_run, tts_run, model = tmp_path / "codec", tmp_path / "tts", tmp_path / "ana-voice"
    train_codec(recordings_corpus, codec_run, 0, init=base, **quiet)
    train_tts(recordings_corpus, codec_run, tts_run, 0, "tiny", init=base, listen=0, **quiet)
    _, base_tts, base_codec_modules = read_modules(base)
    for run, module, started in ((codec_run, load_trained_codec(codec_run), base_codec_modules),
                                 (tts_run, None, base_tts)):
        assert json.loads((run / "state.json").read_text())["step"] == 0
        if module is not None:
            assert _same(module.state_dict(), started.state_dict())
    train_decoder(recordings_corpus, codec_run, tts_run, tmp_path / "decoder", 2, export=model, listen=0, **quiet)
    m = load_model(str(model), torch.device("cpu"), torch.float32)
    assert m.name == "ana-voice" and "ana" in m.config.note
    assert set(m.voices) == {"ana", "default"} and torch.equal(m.voices["ana"], m.voices["default"])
    _, tts, codec = read_modules(model)
    assert _same(tts.state_dict(), base_tts.state_dict())  # the TTS is the model's
    tuned, started = codec.state_dict(), base_codec_modules.state_dict()
    encoder = [k for k in started if k.startswith(("encoder_blocks", "input_proj", "quantizer"))]
    assert encoder and all(torch.equal(tuned[k], started[k]) for k in encoder)  # so are its semantic tokens
    assert any(not torch.equal(tuned[k], started[k]) for k in started if k.startswith(("decoder_blocks", "output_proj")))

    from engine.train.model_card import write_model_card

    card = write_model_card(model, recordings_corpus, codec_run, tts_run, None, 1.0, tmp_path / "decoder").read_text()
    assert card.startswith("# ana-voice — timbre-mini fine-tuned on one voice") and "`default` is ana" in card
    assert f"- `ana` (recordings in `{Path(read_plan(recordings_corpus)['args']['recordings']).name}`): {LICENCE}" in card
    assert f"- codec: `{base}`'s, unchanged (`--steps 0`)" in card and "- tts: " in card
    commands = card[card.index("```bash"):]
    assert (f"timbre train recordings --in {read_plan(recordings_corpus)['args']['recordings']} --speaker ana "
            f"--licence 'recorded for the tests' --out data/{recordings_corpus.name}") in commands
    for stage in ("codec", "tts"):
        line = next(c for c in commands.splitlines() if f" train {stage} " in c)
        assert " --steps 0 " in line and line.endswith(f"--init {base}")
    assert f"--export {model}" in commands


def _same(a: dict, b: dict) -> bool:
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
