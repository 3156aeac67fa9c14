"""The TTS's free-running check: held-out sentences of training voices, read aloud and heard by pocketsphinx."""

from pathlib import Path

import torch

from engine.model_files import load_model, read_modules
from engine.nn.tts_model import VoxtralTTS
from engine.train.corpus import load_clips, read_plan
from engine.train.export import reference_clips, voice_name
from engine.train.held_out_reading import READ_SENTENCES, SCRATCH_MODEL, HeldOutReading
from engine.train.tts_train import encode_corpus

SHIPPED = "assets/timbre-mini"


def test_the_check_draws_unseen_sentences_of_the_built_in_voices_the_same_way_every_time(corpus, tmp_path):
    reading = HeldOutReading.from_corpus(corpus, tmp_path, n=4)
    assert reading.scratch == tmp_path / SCRATCH_MODEL
    train_texts = {c.meta["text"] for c in load_clips(corpus, "train")}
    assert len(reading.clips) == 4
    assert not {m["text"] for m in reading.clips} & train_texts
    speakers = {m["speaker"] for m in reading.clips}
    assert speakers <= set(reference_clips(corpus)) and not speakers & set(read_plan(corpus)["held_out_speakers"])
    assert all("~" not in s for s in speakers)  # warped speakers get no built-in voice
    assert set(reading.references) == speakers
    again = HeldOutReading.from_corpus(corpus, tmp_path, n=4)
    assert [m["clip"] for m in again.clips] == [m["clip"] for m in reading.clips]
    assert len(HeldOutReading.from_corpus(corpus, tmp_path, n=1000).clips) == len(
        [c for c in load_clips(corpus, "eval") if c.meta["speaker"] in reference_clips(corpus)])
    assert HeldOutReading.from_corpus(corpus, tmp_path, n=0) is None
    default = HeldOutReading.from_corpus(corpus, tmp_path)  # READ_SENTENCES, or every clip of a smaller corpus
    assert len(default.clips) == min(READ_SENTENCES, len(HeldOutReading.from_corpus(corpus, tmp_path, n=1000).clips))


def test_a_model_that_reads_scores_far_better_than_one_that_babbles(corpus, tmp_path):
    _, tts, codec = read_modules(Path(SHIPPED))
    codes = encode_corpus(codec, load_clips(corpus, "train"), tmp_path / "codes.safetensors", "shipped",
                          log=lambda _: None)
    reading = HeldOutReading.from_corpus(corpus, tmp_path, n=4)

    trained = reading(tts, codec, codes)
    assert trained == reading(tts, codec, codes)  # a fixed seed: the same takes, the same figures
    exported = load_model(str(reading.scratch), torch.device("cpu"), torch.float32)
    assert {voice_name(m["speaker"]) for m in reading.clips} <= set(exported.voices)

    torch.manual_seed(0)
    untrained = VoxtralTTS(tts.cfg)
    babble = reading(untrained, codec, codes)
    # measured: WER 0.52-0.58 against 0.92, similarity 0.78 against 0.53 (4 sentences; piper's audio, and so the
    # voices' codes, differ a little from one corpus build to the next)
    assert trained["wer"] < 0.8 and babble["wer"] > trained["wer"] + 0.2
    assert trained["similarity"] > 0.6 and trained["similarity"] > babble["similarity"] + 0.1
