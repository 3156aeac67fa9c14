"""The evaluation metrics on real teacher audio: they rank what they should."""

import soundfile as sf

from engine.train import metrics
from engine.train.corpus import load_clips
from engine.train.evaluate import render_markdown


def _eval_audio(corpus, speaker):
    clips = sorted((c for c in load_clips(corpus, "eval", exclude_held_out=False) if c.meta["speaker"] == speaker),
                   key=lambda c: c.meta["sentence"])
    return [(sf.read(str(corpus / c.meta["audio"]), dtype="float32")[0], c.meta["spoken"]) for c in clips]


def test_metrics_rank_teacher_audio_sensibly(corpus):
    slt, kal = _eval_audio(corpus, "flite-slt"), _eval_audio(corpus, "flite-kal16")
    assert metrics.wer([t for _, t in slt], [metrics.transcribe(a) for a, _ in slt]) < 0.6
    same = metrics.similarity(slt[0][0], slt[1][0])
    other = metrics.similarity(slt[0][0], kal[1][0])
    assert same > 0.8 and same > other + 0.05
    p, s = metrics.pesq_stoi(slt[0][0], slt[0][0])
    assert p > 4.0 and s > 0.99
    assert 2.0 < metrics.dnsmos(slt[0][0]) < 4.5


def test_report_markdown_has_every_section():
    row = {"wer": 0.2, "similarity": 0.9, "dnsmos": 3.0}
    codec_row = {"pesq": 2.1, "stoi": 0.9, "dnsmos": 2.8, "dnsmos_original": 3.0, "world_pesq": 2.6, "world_stoi": 0.97,
                 "wer": 0.3, "wer_original": 0.2}
    report = {"model": "m", "model_hash": "h", "sentences": 2, "voices": {"flite-slt": {"model": row, "teacher": row}},
              "codec": {"clips": 2, "pesq": 2.1, "stoi": 0.9, "dnsmos": 2.8, "dnsmos_original": 3.0,
                        "world_pesq": 2.6, "world_stoi": 0.97, "wer": 0.3, "wer_original": 0.2,
                        "per_speaker": {"flite-slt": {**codec_row, "similarity": 0.85, "similarity_original": 0.93},
                                        "flite-rms": codec_row}},
              "cloning": {"speaker": "x", "clone_similarity": 0.8, "default_similarity": 0.6, "teacher_similarity": 0.9,
                          "clone_wer": 0.3},
              "steps": {"1": row, "8": row},
              "speed": {"threads": 2, "steps": 8, "model": {"rtf": 0.05, "first_audio_s": 0.05},
                        "piper_joe": {"rtf": 0.04, "first_audio_s": 0.2}}}
    md = render_markdown(report)
    for needle in ("| flite-slt | 0.200", "PESQ-WB 2.10", "WORLD alone, no bottleneck: PESQ-WB 2.60, STOI 0.970",
                   "| flite-slt | 2.10 (2.60) | 0.900 (0.970) | 2.80 (3.00) | 0.300 (0.200) | 0.850 (0.930) |",
                   "| flite-rms | 2.10 (2.60) | 0.900 (0.970) | 2.80 (3.00) | 0.300 (0.200) | — |", "Cloning x", "| 8 | 0.200", "| model | 0.050 | 50 ms |",
                   "| piper joe | 0.040 | 200 ms |", "| model / piper joe | 1.25 | 0.25 |"):
        assert needle in md
    assert "Speed (2 threads, 8 flow steps" in md  # reports from before "cores" was recorded
    report["speed"].update(threads=1, cores=2)
    assert "Speed (2 cores, torch on 1 thread, 8 flow steps" in render_markdown(report)
    report["speed"].update(steps=1)
    assert "Speed (2 cores, torch on 1 thread, 1 flow step, one sentence)" in render_markdown(report)
    report["speed"].update(steps=8)
    report["speed"]["piper_joe"] = {"error": "No module named 'piper'"}
    assert "piper joe could not be measured: No module named 'piper'" in render_markdown(report)


def test_a_transcript_does_not_depend_on_the_clips_decoded_before_it(corpus):
    import numpy as np

    t = np.arange(4 * metrics.SR) / metrics.SR
    buzz = (0.3 * ((t * 110) % 1.0 - 0.5)).astype(np.float32)  # shifts a live cepstral mean far from speech's
    for speaker in ("flite-slt", "flite-kal16", "piper-joe", "flite-awb"):
        for audio, _ in _eval_audio(corpus, speaker):
            alone = metrics.transcribe(audio)
            metrics.transcribe(buzz)
            assert metrics.transcribe(audio) == alone
