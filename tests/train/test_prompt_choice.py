"""`timbre train voices --choose-prompts`: a built-in voice's prompt clip is chosen by how well the model reads
with it, within limits on how it sounds, and the choice reaches the voice file, its refit and its preset."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from engine.codec.voice_match import VoiceMatch
from engine.model_files import VOICES_DIR, read_modules, voice_prompt_clip, write_voice
from engine.train.corpus import load_clips
from engine.train.export import clip_codes, longest_clips, refit_voice_matches, write_presets
from engine.cli import main
from engine.train.prompt_choice import DNSMOS_SLACK, SIMILARITY_SLACK, WER_MARGIN, PromptTrial, pick
from engine.voices.preset import read_preset, read_prompt

ROOT = Path(__file__).resolve().parents[2]
MODEL, PRESETS = ROOT / "assets" / "timbre-mini", ROOT / "presets"


def _trial(clip: str, wer: float, similarity: float = 0.85, dnsmos: float = 2.8, current: bool = False):
    return PromptTrial(clip, 5.0, "a sentence", current, wer, similarity, dnsmos)


def test_the_fewest_word_errors_win_among_the_prompts_that_sound_like_the_voice():
    now = _trial("a", 0.40, current=True)
    assert pick([now, _trial("b", 0.35), _trial("c", 0.30)]) == 2
    # a clip that reads better but sounds less like the voice than the best, or less clean, beyond the slack
    # is passed over
    assert pick([now, _trial("b", 0.35), _trial("c", 0.30, similarity=0.85 - SIMILARITY_SLACK - 0.001)]) == 1
    assert pick([now, _trial("b", 0.20, dnsmos=2.8 - DNSMOS_SLACK - 0.01), _trial("c", 0.39)]) == 2
    assert pick([now, _trial("b", 0.30, similarity=0.85 - SIMILARITY_SLACK / 2)]) == 1  # within the slack
    # the current prompt too: another that sounds much more like the voice wins though it reads worse
    assert pick([now, _trial("b", 0.45, similarity=0.85 + SIMILARITY_SLACK + 0.001)]) == 1
    # the current prompt stays when nothing reads better by the margin
    assert pick([now, _trial("b", 0.40 - WER_MARGIN / 2, similarity=0.86)]) == 0
    assert pick([now, _trial("b", 0.45), _trial("c", 0.41)]) == 0
    assert pick([_trial("b", 0.40 - WER_MARGIN * 1.5), now]) == 0  # the current one is known by its flag


def test_a_voice_with_a_broken_prompt_gets_a_clip_that_sounds_like_it(corpus, tmp_path, capsys):
    model = tmp_path / "timbre-mini"
    shutil.copytree(MODEL, model)
    path = model / VOICES_DIR / "flite-slt.safetensors"
    shipped = load_file(str(path))
    # the prompt ruined: its first frame held for all its length (no voice to speak of); the match stays
    broken = shipped["codes"][:1].repeat(len(shipped["codes"]), 1)
    write_voice(path, broken, VoiceMatch.from_tensors(shipped))
    # as an own-voice model's: its default voice a copy of the speaker's
    shutil.copy(path, model / VOICES_DIR / "default.safetensors")
    kal16 = (model / VOICES_DIR / "flite-kal16.safetensors").read_bytes()
    presets = tmp_path / "presets"  # the model's built-in presets, rewritten with it
    shutil.copytree(PRESETS / "timbre-mini-flite-slt", presets / "timbre-mini-flite-slt")
    report = tmp_path / "choice.json"
    assert main(["train", "voices", "--model", str(model), "--data", str(corpus), "--choose-prompts", "2",
                 "--speakers", "flite-slt", "--sentences", "2", "--report", str(report),
                 "--presets", str(presets)]) == 0
    lines = capsys.readouterr().out.splitlines()
    chosen = json.loads(report.read_text())
    assert chosen["format_version"] == 1 and chosen["speakers"]["flite-slt"]["chosen"] == 1
    assert chosen["wer_margin"] == WER_MARGIN and chosen["similarity_slack"] == SIMILARITY_SLACK
    trials = [PromptTrial(**t) for t in chosen["speakers"]["flite-slt"]["trials"]]
    assert [t.current for t in trials] == [True, False] and trials[0].clip != trials[1].clip
    assert all(0.0 <= t.wer and -1.0 <= t.similarity <= 1.0 and 1.0 < t.dnsmos < 5.0 for t in trials)
    # it reads with fewer word errors than any clip (a held vowel is easy to speak over) but sounds like
    # nobody, so it goes
    assert trials[0].similarity < trials[1].similarity - SIMILARITY_SLACK and pick(trials) == 1, lines
    assert any(line.startswith("flite-slt: prompt now from " + trials[1].clip) for line in lines)
    # the voice file now holds the chosen clip's codes under its name, and keeps its match
    rewritten = load_file(str(path))
    assert rewritten.keys() == shipped.keys()
    for key in shipped.keys() - {"codes"}:
        assert torch.equal(rewritten[key], shipped[key])
    clip = next(c for c in load_clips(corpus, "train") if c.name == trials[1].clip)
    assert torch.equal(rewritten["codes"], clip_codes(read_modules(model)[2].eval(), clip, len(broken)))
    longest = longest_clips(corpus, 1)["flite-slt"][0]
    assert voice_prompt_clip(path) == (None if clip.name == longest.name else clip.name)
    # the copy follows; other voices are left alone
    default = model / VOICES_DIR / "default.safetensors"
    assert torch.equal(load_file(str(default))["codes"], rewritten["codes"])
    assert voice_prompt_clip(default) == voice_prompt_clip(path)
    assert (model / VOICES_DIR / "flite-kal16.safetensors").read_bytes() == kal16
    assert np.array_equal(read_prompt(presets / "timbre-mini-flite-slt"), rewritten["codes"].numpy())
    assert read_preset(presets / "timbre-mini-flite-slt").transcript == clip.meta["spoken"]


def test_refit_and_presets_keep_the_chosen_clip(corpus, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(MODEL, model)
    for other in (model / VOICES_DIR).glob("*.safetensors"):  # the voices the smoke corpus has clips of
        if other.stem not in ("default", "flite-slt", "flite-kal16"):
            other.unlink()
    path = model / VOICES_DIR / "flite-slt.safetensors"
    second = longest_clips(corpus, 2)["flite-slt"][1]
    codec = read_modules(model)[2].eval()
    write_voice(path, clip_codes(codec, second), None, second.name)
    said = []
    refit_voice_matches(model, corpus, log=said.append)
    # the refit compares the codes with the clip they came from, not the longest, and keeps its name
    slt = next(line for line in said if line.startswith("flite-slt:"))
    assert "another take" not in slt and voice_prompt_clip(path) == second.name
    assert "match_scale" in load_file(str(path))
    folders = write_presets(tmp_path / "presets", model, corpus)
    voice = json.loads((next(f for f in folders if f.name.endswith("flite-slt")) / "voice.json").read_text())
    assert voice["transcript"] == second.meta["spoken"]


def test_choosing_refuses_what_it_cannot_do_in_one_line(corpus, tmp_path, capsys):
    def fails(*argv: str) -> str:
        assert main(["train", "voices", "--data", str(corpus), *argv]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and err.count("\n") <= 2
        return err

    model = tmp_path / "model"
    shutil.copytree(MODEL, model)
    (model / VOICES_DIR / "flite-kal16.safetensors").unlink()
    chose = ["--model", str(model), "--choose-prompts", "2", "--sentences", "1", "--presets", str(tmp_path / "p")]
    assert "not an unwarped training speaker" in fails(*chose, "--speakers", "flite-awb")  # held out
    assert "no voice 'flite-kal16'" in fails(*chose, "--speakers", "flite-kal16")
    with pytest.raises(SystemExit) as refused:  # argparse's own refusal
        main(["train", "voices", "--model", str(model), "--choose-prompts", "17"])
    assert refused.value.code == 2 and "must be from 0 to 16, got 17" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()  # nothing written
