"""MODEL_CARD.md of a trained model folder: data sources and licences (from the corpus manifest),
the exact training commands, the run's steps and losses, and the evaluation report if there is one."""

from __future__ import annotations

import json
import shlex
from collections import Counter
from pathlib import Path

from engine.atomic import write_text_atomic
from engine.model_files import VOICES_DIR, WEIGHTS_NAME, file_hash, read_config, voice_prompt_clip
from engine.train.checkpoint import read_run_state
from engine.train import codec_train, decoder_train, tts_train
from engine.train.codec_train import ACOUSTIC_DROP, ACOUSTIC_NOISE, CODEC_CONFIG
from engine.train.corpus import plan_extra_sentences
from engine.train.errors import TrainingError, reading
from engine.train.export import MATCH_CLIPS
from engine.train.lineage import LEGACY_SAMPLE_STEPS, base_commands
from engine.train.progress import count_of
from engine.train.sizes import SAMPLING
from engine.train.texts import MANPAGE_LICENCE
from engine.train.tts_train import PEAK_LR

STAGE_BATCH = {"codec": codec_train.BATCH, "tts": tts_train.BATCH, "decoder": decoder_train.BATCH}


def run_chain(run: Path) -> list[tuple[Path, dict]]:
    """``run`` and the runs it started from (``--init``), oldest first: (folder, its state.json)."""
    chain: list[tuple[Path, dict]] = []
    seen: set[Path] = set()
    current: Path | None = run
    while current is not None and current.resolve() not in seen:
        seen.add(current.resolve())
        state = read_run_state(current)
        chain.append((current, state))
        extra = state.get("extra", {})
        # a model folder (``init_model``) ends the chain: its card's commands stand for the runs before it
        current = Path(extra["init"]) if extra.get("init") and "init_model" not in extra else None
    return chain[::-1]


def base_models(*runs: Path) -> dict[str, dict]:
    """The model folders the chains of ``runs`` started from, each once, in the order of ``runs``:
    folder -> its ``init_model`` record (weights hash, card commands)."""
    bases: dict[str, dict] = {}
    for run in runs:
        extra = run_chain(run)[0][1].get("extra", {})
        if "init_model" in extra:
            bases.setdefault(extra["init"], extra["init_model"])
    return bases


def base_model_commands(*runs: Path) -> tuple[list[str], list[str]]:
    """(corpus lines, training lines) of the model folders the chains of ``runs`` started from."""
    corpora: list[str] = []
    training: list[str] = []
    for folder, record in base_models(*runs).items():
        made, lines = base_commands(folder, record["commands"])
        corpora += [c for c in made if c not in corpora]
        training += lines
    return corpora, training


def corpus_scale(folder: Path, fallback: float) -> float:
    """The ``--scale`` a corpus was made with: its plan's counts against the base plan (``fallback``
    when the corpus is not on this machine)."""
    from engine.train.corpus import CorpusError, read_plan
    from engine.train.data import Plan

    try:
        counts = read_plan(folder)["counts"]
    except CorpusError:
        return fallback
    base = Plan().counts
    ratios = sorted(n / base[s] for s, n in counts.items() if s in base)
    return round(ratios[len(ratios) // 2], 2) if ratios else fallback


def run_corpus(state: dict, default: Path) -> Path:
    """The corpus a run trained on (``default`` for runs from before runs recorded it)."""
    return Path(state.get("extra", {}).get("data", default))


def trained_corpora(data: Path, codec_run: Path, tts_run: Path, decoder_run: Path | None = None) -> dict[str, Path]:
    """Every corpus the model's runs trained on, in order of first use: its name in the commands -> folder."""
    states = [st for run in (codec_run, tts_run) for _, st in run_chain(run)]
    states += [read_run_state(decoder_run)] if decoder_run is not None else []
    corpora: dict[str, Path] = {}
    for st in states:
        folder = run_corpus(st, data)
        corpora.setdefault(f"data/{folder.name}", folder)
    return corpora


def _low_envelope_flag(state: dict) -> str:
    """A codec or decoder run's ``--low-envelope-weight``, for runs that used a weight other than 1."""
    weight = state.get("extra", {}).get("low_envelope", 1.0)
    return f" --low-envelope-weight {weight:g}" if weight != 1.0 else ""


def _corruption_flags(state: dict) -> str:
    """A codec run's ``--acoustic-drop`` / ``--acoustic-noise``, for runs that used other shares than the
    defaults (runs from before the flags used the defaults)."""
    extra = state.get("extra", {})
    return "".join(f" --acoustic-{name} {share:g}"
                   for name, default in (("drop", ACOUSTIC_DROP), ("noise", ACOUSTIC_NOISE))
                   if (share := extra.get(f"acoustic_{name}", default)) != default)


def _sample_steps_flag(state: dict) -> str:
    """A decoder run's ``--sample-steps``, for runs that drew the TTS's values with other steps than the
    default (runs from before the flag drew them with 8)."""
    steps = state.get("extra", {}).get("sample_steps", LEGACY_SAMPLE_STEPS)
    return f" --sample-steps {steps}" if steps != SAMPLING.steps else ""


def _adversarial_flag(state: dict) -> str:
    """A decoder run's ``--adversarial``, for runs trained with the feature critic."""
    weight = state.get("extra", {}).get("adversarial", 0.0)
    return f" --adversarial {weight:g}" if weight else ""


def _placement_flags(state: dict, default_batch: int) -> str:
    """A run's ``--size`` (other than mini), ``--batch`` (other than its stage's default) and ``--device
    cuda`` (runs trained on a GPU): runs from before these were recorded were mini, default batch, CPU."""
    extra = state.get("extra", {})
    flags = f" --size {extra['size']}" if extra.get("size", "mini") != "mini" else ""
    flags += f" --batch {extra['batch']}" if extra.get("batch", default_batch) != default_batch else ""
    return flags + (" --device cuda" if extra.get("device") == "cuda" else "")


def _decoder_layers_flag(state: dict, codec_run: Path) -> str:
    """A decoder run's ``--decoder-layers``, for runs that grew the codec's decoder."""
    layers = state.get("extra", {}).get("decoder_layers")
    if layers is None:  # runs from before decoders could grow
        return ""
    own = json.loads((codec_run / CODEC_CONFIG).read_text(encoding="utf-8"))["codec"]["decoder_transformer_lengths"]
    if list(layers) == list(own):
        return ""
    return f" --decoder-layers {','.join(map(str, layers))}"


def training_commands(data: Path, scale: float, codec_run: Path, tts_run: Path,
                      decoder_run: Path | None = None, export: str = "assets/timbre-mini") -> list[str]:
    """The commands that rebuild the model, one per run in the chain of each stage. Each run names the
    corpus it trained on (``data`` for runs from before runs recorded it); every corpus, and ``data``
    for the evaluation, gets the command that made it (``corpus_command``). ``export``: the model folder
    the last stage writes."""
    corpora = trained_corpora(data, codec_run, tts_run, decoder_run)
    corpora.setdefault(f"data/{data.name}", data)  # the evaluation's
    lines = []
    for stage, run in (("codec", codec_run), ("tts", tts_run)):
        previous = None
        chain = run_chain(run)
        for i, (folder, state) in enumerate(chain):
            line = f".venv/bin/timbre train {stage} --data data/{run_corpus(state, data).name}"
            if stage == "tts":
                codec = Path(state.get("extra", {}).get("codec", codec_run))
                line += f" --codec data/runs/{codec.name}"
            line += f" --out data/runs/{folder.name} --steps {state['step']}"
            if stage == "tts":  # runs from before the input corruption existed trained on true frames
                line += f" --input-noise {state.get('extra', {}).get('input_noise', 0.0):g}"
                if state.get("extra", {}).get("dropout"):
                    line += f" --dropout {state['extra']['dropout']:g}"
                if state.get("extra", {}).get("self_feed"):
                    line += f" --self-feed {state['extra']['self_feed']:g}"
                if state.get("extra", {}).get("lr", PEAK_LR) != PEAK_LR:
                    line += f" --lr {state['extra']['lr']:g}"
            line += _low_envelope_flag(state) + _placement_flags(state, STAGE_BATCH[stage])
            if stage == "codec":
                line += _corruption_flags(state)
            if previous is not None:
                line += f" --init data/runs/{previous.name}"
            elif "init_model" in state.get("extra", {}):
                line += f" --init {state['extra']['init']}"
            if stage == "tts" and i == len(chain) - 1 and decoder_run is None:
                line += f" --export {export}"
            lines.append(line)
            previous = folder
    if decoder_run is not None:
        state = read_run_state(decoder_run)
        lines.append(f".venv/bin/timbre train decoder --data data/{run_corpus(state, data).name} "
                     f"--codec data/runs/{codec_run.name} --tts data/runs/{tts_run.name} "
                     f"--out data/runs/{decoder_run.name} --steps {state['step']}{_low_envelope_flag(state)}"
                     f"{_sample_steps_flag(state)}{_decoder_layers_flag(state, codec_run)}{_adversarial_flag(state)}"
                     f"{_placement_flags(state, STAGE_BATCH['decoder'])} --export {export}")
    lines.append(f".venv/bin/timbre eval --model {export} --data data/{data.name} --out data/eval")
    made = [corpus_command(name, folder, scale) for name, folder in corpora.items()]
    base_corpora, base_training = base_model_commands(codec_run, tts_run)
    made = [*base_corpora, *(m for m in made if m not in base_corpora)]
    return ["make setup", *made, *base_training, *lines]


def corpus_command(name: str, folder: Path, scale: float) -> str:
    """The command that made the corpus ``folder`` (named ``name`` in the card): ``timbre train data`` with
    the scale read from its plan (``scale`` where it is not on this machine), or ``timbre train recordings``
    with the arguments it was given."""
    from engine.train.corpus import CorpusError, read_plan

    try:
        plan = read_plan(folder)
    except CorpusError:
        plan = {}
    if plan.get("kind") == "recordings":
        a = plan["args"]
        return (f".venv/bin/timbre train recordings --in {shlex.quote(a['recordings'])} --speaker {a['speaker']} "
                f"--licence {shlex.quote(a['licence'])} --out {name}")
    return (f".venv/bin/timbre train data --out {name} --scale {corpus_scale(folder, scale):g}"
            + (f" --extra-sentences {n}" if (n := plan_extra_sentences(folder)) else ""))


def _base_model_note(*runs: Path) -> str:
    """For chains that start from an exported model: which one, by its weights' hash."""
    bases = base_models(*runs)
    return "".join(f" `{folder}` is the earlier model (weights {record['hash']}) that the commands before its first "
                   "use export, from its own card" + ("." if i == len(bases) - 1 else ";")
                   for i, (folder, record) in enumerate(bases.items()))


def _stage_line(stage: str, state: dict, measured: str) -> str:
    if state["step"] == 0:  # `--steps 0 --init`: a voice fine-tune keeps that part of the model it started from
        return f"- {stage}: `{state['extra'].get('init')}`'s, unchanged (`--steps 0`)"
    return (f"- {stage}: {state['step']} steps, final losses {_losses(state['extra']['losses'])}"
            + _held_out(state, measured))


def _decoder_line(decoder_run: Path | None) -> list[str]:
    if decoder_run is None:
        return []
    state = read_run_state(decoder_run)
    return [f"- decoder fine-tuned on the TTS's acoustic values: {state['step']} steps, "
            f"final losses {_losses(state['extra']['losses'])}" + _held_out(state, ROUND_TRIP)]


def _losses(losses: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in losses.items())


READ_ALOUD = ("wer", "similarity")  # the free-running check's figures (engine.train.held_out_reading)
ROUND_TRIP = "round trip of held-out clips"


def _held_out(state: dict, measured: str) -> str:
    """A stage line's tail: its last held-out figures, the losses (``measured`` says on what) apart from the
    held-out sentences read aloud."""
    figures = state["extra"].get("held_out", {})
    losses = {k: v for k, v in figures.items() if k not in READ_ALOUD}
    read = {k: v for k, v in figures.items() if k in READ_ALOUD}
    return ((f"; {measured}: {_losses(losses)}" if losses else "")
            + (f"; held-out sentences read aloud (default sampling): {_losses(read)}" if read else ""))


def _shown(folder: Path) -> str:
    """A folder as the card's commands name it: relative to the working folder where it is inside it."""
    try:
        return str(folder.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(folder)


def _recordings_data(manifest: dict) -> list[str]:
    """The Data section of a model fine-tuned on a ``timbre train recordings`` corpus."""
    clips = manifest["clips"]
    train = [c for c in clips if c["split"] == "train"]
    (speaker, info), = manifest["voices"].items()
    return ["## Data", "",
            f"{len(train)} recordings of one speaker, `{speaker}` ({sum(c['seconds'] for c in train) / 60:.1f} min of "
            f"training audio), made by `timbre train recordings` from `{info['arg']}` (corpus format "
            f"{manifest['format_version']}, {manifest['created']}); {len(clips) - len(train)} more were held out "
            "(never trained on). The model it was fine-tuned from learned from the data its own card lists.", "",
            "### Sources and licences", "",
            f"- `{speaker}` (recordings in `{info['arg']}`): {info['licence']}",
            "- Alignment: pocketsphinx 5 (BSD) with its en-us acoustic model and dictionary.",
            "- The recordings are not distributed; only these weights, which learned from them, are.", ""]


def _chosen_prompts_note(model: Path) -> str:
    """Which voices' prompts come from another clip than the longest (``timbre train voices --choose-prompts``)."""
    chosen = [p.stem for p in sorted((model / VOICES_DIR).glob("*.safetensors")) if voice_prompt_clip(p)]
    if not chosen:
        return ""
    return (f" ({', '.join(f'`{v}`' for v in chosen)}: another of the speaker's longest clips, the one the model "
            "read validation sentences best from within the voice, `timbre train voices --choose-prompts`)")


EVALUATION_HEADING = "## Evaluation (`timbre eval`)"
LICENCE_HEADING = "## Licence"


def write_model_card(model: Path, data: Path, codec_run: Path, tts_run: Path, eval_report: Path | None,
                     scale: float, decoder_run: Path | None = None) -> Path:
    cfg = read_config(model)
    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8")) if (data / "manifest.json").is_file() else None
    codec_state = read_run_state(codec_run)
    tts_state = read_run_state(tts_run)
    own_voice = bool(manifest) and manifest.get("kind") == "recordings"
    tuned = "its codec's decoder" + (" and its TTS" if tts_state["step"] > 0 else "")
    default_voice = next(iter(manifest["voices"])) if own_voice else "piper joe"
    lines = [f"# {cfg.name} — " + ("timbre-mini fine-tuned on one voice" if own_voice else "the built-in Timbre model"),
             "",
             "The Voxtral TTS architecture at small scale, trained on this project's own corpus of teacher voices, "
             "on a 2-core CPU" + (f", then fine-tuned on recordings of one speaker ({tuned}; the codec's encoder "
                                  "and semantic tokens are the base model's)" if own_voice else "")
             + ". It runs faster than real time on two CPU cores.", "",
             "## What it is", "",
             f"- **Codec** (16 kHz, 12.5 frames/s): a causal encoder/decoder over WORLD vocoder features (5 ms steps: "
             f"log f0, voicing, 40 coded spectral-envelope values, aperiodicity), rendered by the WORLD synthesiser "
             f"(pyworld). Per frame one semantic VQ token ({cfg.codec.semantic_codebook_size} codes, distilled to be "
             f"phonetic from forced-alignment phones, four per frame) and K = {cfg.codec.acoustic_dim} FSQ values of "
             f"{cfg.codec.acoustic_levels} levels. The decoder is trained with a share of the acoustic values zeroed "
             "or noised, so the words come from the semantic token, which the TTS predicts reliably.",
             f"- **TTS**: Mistral-style backbone (dim {cfg.tts.backbone.dim}, {cfg.tts.backbone.n_layers} layers), "
             f"semantic softmax head, 3-token flow-matching head (dim {cfg.tts.flow.dim}, {cfg.tts.flow.n_layers} layers) "
             "with classifier-free guidance against a zeroed hidden state, the Voxtral prompt layout "
             "`[BOS][BEGIN_AUDIO][AUDIO]*N[NEXT_AUDIO_TEXT] text [REPEAT_AUDIO_TEXT][BEGIN_AUDIO]` with the voice as "
             "the reference clip's frames. Trained with its fed-back input frames corrupted the way its own "
             "predictions are wrong (near-neighbour semantic tokens, jittered acoustic levels, blanked frames, "
             "swapped prompt text; targets stay true), against exposure bias"
             + ("; runs marked `--dropout` also with residual dropout in the backbone, against memorising the "
                "training sentences." if any(st.get("extra", {}).get("dropout") for _, st in run_chain(tts_run))
                else "."),
             f"- **Sampling defaults**: {count_of(cfg.sampling.steps, 'flow step')}, guidance {cfg.sampling.guidance:g}, "
             f"temperature {cfg.sampling.temperature:g} (why: `docs/sampling.md`); each can be changed per render.",
             "- **Text**: phones from the CMU pronouncing dictionary (`lexicon.txt.gz`, BSD-2-Clause, from "
             "pocketsphinx's `cmudict-en-us.dict`), numbers and symbols spelled out by `engine/text_normalize.py`; "
             "unknown words are split into known words or spelled. No GPL code runs in the product.",
             "- **Alignment aid**: each audio position also sees the phone under a text pointer (and the next one); "
             "an advance head moves the pointer 0–4 units per frame; speech ends when it passes the last phone. "
             "Trained on pocketsphinx forced-alignment timings of the teachers' audio. At run time the pointer may "
             "jump over word boundaries and punctuation but stops on every phone (`engine/text_pointer.py`; "
             "why: `docs/sampling.md`).",
             "- **Voices** (`voices/`): one per training voice, made from 50 frames (4 s) of its "
             f"longest training clip{_chosen_prompts_note(model)}; `default` is {default_voice}. Any clip can be "
             "cloned through the codec's encoder.",
             "- **Voice match**: every voice, built-in or cloned, corrects the decoded WORLD features toward its own "
             "(per feature, the mean and spread over voiced steps of the codec's round trip of the voice's clips "
             f"mapped onto theirs; built-in voices pool their {MATCH_CLIPS} longest training clips, a clone its "
             "reference clip), undoing the one shared decoder's pull toward the average voice (`docs/voices.md`).",
             ""]
    corpora = list(trained_corpora(data, codec_run, tts_run, decoder_run))
    if own_voice:
        lines += _recordings_data(manifest)
    elif manifest:
        clips = manifest["clips"]
        hours = sum(c["seconds"] for c in clips if c["split"] == "train") / 3600
        speakers = Counter(c["speaker"] for c in clips if c["split"] == "train")
        lines += ["## Data", "",
                  f"{len(clips)} clips ({hours:.2f} h of training audio), made by `timbre train data` "
                  f"(corpus format {manifest['format_version']}, {manifest['created']}). Held-out: "
                  f"{len(manifest['sentences'])} sentences (never trained on) and the voice(s) "
                  f"{', '.join(manifest['held_out_speakers'])}.", "",
                  "| speaker | training clips |", "|---|---|"]
        lines += [f"| {s} | {n} |" for s, n in sorted(speakers.items())]
        if len(corpora) > 1:
            lines += ["", f"The runs of this model trained on {len(corpora)} corpora ({', '.join(corpora)}), made by "
                      "`timbre train data` at different scales: the same voices, licences, base sentence pool and "
                      "held-out sentences and voice; a corpus whose line below has `--extra-sentences` also reads "
                      f"that many sentences of the extra pool. The table counts `data/{data.name}`; the commands "
                      "below name each run's corpus."]
        lines += ["", "Speakers with `~` are the base voice warped by WORLD analysis/synthesis (pitch, formant and "
                  "tempo factors in the manifest).", "", "### Sources and licences", ""]
        for v, info in manifest["voices"].items():
            lines.append(f"- `{v}` ({info['engine']} {info['arg']}): {info['licence']}")
        lines += ["- Text: fortune-mod collections (Debian `fortunes`, `fortunes-min`; BSD licence, quotations of "
                  "their authors) and sentences generated by `engine/train/texts.py` (Apache-2.0).",
                  *(["- Extra text (`--extra-sentences`): more fortune-mod files (same licence) and prose sentences "
                     f"of the {MANPAGE_LICENCE}."] if any(c.get("source", "").startswith("manpage:") for c in clips) else []),
                  "- Alignment: pocketsphinx 5 (BSD) with its en-us acoustic model and dictionary.",
                  "- The teachers' audio is not distributed; only these weights, which learned from it, are.", ""]
    lines += ["## Training (this machine: 2 CPU cores, no GPU)", "",
              _stage_line("codec", codec_state, ROUND_TRIP),
              _stage_line("tts", tts_state, "on held-out sentences (true input frames)"),
              *_decoder_line(decoder_run), "",
              "Exact commands (a run with `--init` starts from the weights of the run it names):"
              + _base_model_note(codec_run, tts_run), "", "```bash",
              *training_commands(data, scale, codec_run, tts_run, decoder_run, _shown(model)), "```", ""]
    if eval_report and eval_report.is_file():
        lines += [EVALUATION_HEADING, "", eval_report.read_text(encoding="utf-8")]
    lines += [LICENCE_HEADING, "", "Weights: Apache-2.0, like the project. Lexicon: BSD-2-Clause (CMUdict).", ""]
    return write_text_atomic(model / "MODEL_CARD.md", "\n".join(lines))


def replace_card_evaluation(model: Path, eval_report: Path) -> Path:
    """Put a newer ``timbre eval`` report into the model card, leaving the rest of the card as it is.

    For a re-evaluation of the same weights (a renderer or scorer changed) when the training runs the
    card was made from are no longer at hand. The report's ``report.json`` must name the weights in
    ``model`` (their hash), so a card never shows another model's figures.
    """
    card_path = model / "MODEL_CARD.md"
    report_json = eval_report.with_suffix(".json")
    with reading(card_path):
        card = card_path.read_text(encoding="utf-8")
    with reading(eval_report):
        report = eval_report.read_text(encoding="utf-8")
    with reading(report_json):
        evaluated = json.loads(report_json.read_text(encoding="utf-8"))
    evaluated = evaluated.get("model_hash") if isinstance(evaluated, dict) else None
    shipped = file_hash(model / WEIGHTS_NAME)
    if evaluated != shipped:
        raise TrainingError(f"{eval_report} evaluates weights {evaluated}, but {model} holds {shipped}: "
                             "evaluate this model (`timbre eval --model ...`) first")
    start, end = card.find(EVALUATION_HEADING), card.find(LICENCE_HEADING)
    if start < 0 or end < start:
        raise TrainingError(f"{card_path} has no '{EVALUATION_HEADING}' section before '{LICENCE_HEADING}': "
                             "write the whole card with `timbre train card`")
    section = f"{EVALUATION_HEADING}\n\n{report.rstrip()}\n\n"
    return write_text_atomic(card_path, card[:start] + section + card[end:])
