"""The extra sentence pool (more fortunes, the Linux man pages) and the corpus plan that reads it."""

import gzip
import json

import pytest

from engine.phonemes import Lexicon
from engine.train.data import Plan, make_corpus, plan_jobs
from engine.train.texts import Sentence, build_extra_sentences, manpage_sentences, roff_paragraphs

PAGE = r""".TH PIPE 7 2023-02-05 "Linux man-pages 6.03"
.SH NAME
pipe \- overview of pipes and FIFOs
.SH DESCRIPTION
Pipes and FIFOs provide a one\-way channel.
Data written to the
.I write end
can be read from the \fBread end\fP of the pipe.
.PP
Use \fI\-\-force\fR to skip the check.
The buffer is small.
.SH SEE ALSO
.BR fifo (7)
"""
WORDS = ("pipes and fifos provide a one way channel data written to the write end can be read from read of pipe "
         "use force skip check buffer is small overview").split()


def _lexicon(tmp_path, words=WORDS):
    path = tmp_path / "lex.txt.gz"
    path.write_bytes(gzip.compress("".join(f"{w} AH0\n" for w in words).encode()))
    return Lexicon.read(path)


def _page(tmp_path, text=PAGE, name="pipe.7.gz"):
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.encode()))
    return path


def test_roff_text_keeps_prose_and_font_lines_and_drops_requests():
    paras = roff_paragraphs(PAGE)
    assert "Data written to the write end can be read from the read end of the pipe." in paras[1]
    assert all(".SH" not in p and "\\f" not in p for p in paras)


def test_man_sentences_are_plain_prose_only(tmp_path):
    link = _page(tmp_path, ".so man7/pipe.7\n", "fifo.7.gz")
    got = dict(manpage_sentences([_page(tmp_path), link]))
    assert got == {"Pipes and FIFOs provide a one-way channel.": "manpage:pipe.7",
                   "Data written to the write end can be read from the read end of the pipe.": "manpage:pipe.7",
                   "The buffer is small.": "manpage:pipe.7"}  # options ("--force") and titles are not prose


def test_extra_pool_skips_base_sentences_and_names_licences(tmp_path):
    base = [Sentence("The buffer is small.", "The buffer is small.", "fortune:x", "BSD")]
    extra = build_extra_sentences(_lexicon(tmp_path), base, seed=0, fortune_dir=tmp_path / "none",
                                  man_files=[_page(tmp_path)])
    assert sorted(s.text for s in extra) == ["Data written to the write end can be read from the read end of the pipe.",
                                              "Pipes and FIFOs provide a one-way channel."]
    assert all(s.source == "manpage:pipe.7" and "man-pages" in s.licence for s in extra)


def test_extra_sentences_are_read_once_after_unchanged_base_shards():
    base = Plan(counts={"flite-slt": 30, "piper-joe": 90}, eval_sentences=5, shard_size=20)
    extended = Plan(counts=base.counts, eval_sentences=5, shard_size=20, extra_sentences=50)
    before, after = plan_jobs(base, 200), plan_jobs(extended, 200)
    assert after[: len(before)] == before  # growing a corpus keeps the clips it has
    extra = [j for shard in after[len(before):] for j in shard]
    assert sorted(j.sentence for j in extra) == list(range(200, 250))
    assert len({j.clip for shard in after for j in shard}) == sum(map(len, after))
    assert all(j.split == "train" and len({k.speaker for k in s}) == 1 for s in after[len(before):] for j in s)
    readers = {j.speaker for j in extra}
    assert readers == {"flite-slt", "piper-joe"}
    assert Plan(counts=base.counts, extra_sentences=7).scaled(2).extra_sentences == 7


def test_finishing_a_grown_corpus_without_its_extra_sentences_is_refused(tmp_path):
    plan = Plan(counts={"flite-slt": 3}, extra_sentences=40)
    (tmp_path / "plan.json").write_text(json.dumps({"format_version": 1, "extra_sentences": 40}))
    with pytest.raises(RuntimeError, match="made with --extra-sentences 40; pass it again"):
        make_corpus(tmp_path, Plan(counts=plan.counts))
    assert json.loads((tmp_path / "plan.json").read_text())["extra_sentences"] == 40  # untouched
