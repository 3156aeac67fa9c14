"""Parity of our Voxtral TTS family against Tenstorrent's CPU reference (tt-metal), on one checkpoint.

    .venv/bin/python scripts/voxtral_parity.py --reference /path/to/tt-metal [--checkpoint DIR] [--frames 40]

``--reference`` is a checkout (or a copy) of tenstorrent/tt-metal holding
``models/experimental/voxtral_tts/reference/voxtral_{common,backbone,flow,codec,pipeline}_ref.py``; it
is imported from there, never copied into this repository. Without ``--checkpoint`` a tiny random
checkpoint in the released layout is written to a temporary folder (37 codes per frame, 24 kHz).
The reference's module constants are the release's dimensions; they are set from params.json so it
runs on the shrunken checkpoint too (a no-op for the real one).

Both sides get the same prompt ids (mistral-common), the same preset voice rows and the same start
noise: the reference draws ``torch.randn(1, 36)`` per frame after ``torch.manual_seed(seed)``; our
engine draws the same from ``torch.Generator().manual_seed(seed)`` (checked below). Everything runs
in fp32 on the CPU. Prints the comparison and exits 1 when the codes differ.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.api import SynthesisRequest  # noqa: E402
from engine.codec.voxtral_codec import StreamingDecoder  # noqa: E402
from engine.engine import Engine, EngineConfig  # noqa: E402
from engine.families.voxtral.synthetic import write_checkpoint  # noqa: E402

REF = "models.experimental.voxtral_tts.reference"


def import_reference(path: Path, params: dict) -> dict:
    """Import the reference modules and set their dimensions from params.json."""
    sys.path.insert(0, str(path))
    mods = {n: importlib.import_module(f"{REF}.voxtral_{n}_ref") for n in ("common", "backbone", "flow", "codec",
                                                                          "pipeline")}
    mm = params["multimodal"]
    am, tk = mm["audio_model_args"], mm["audio_tokenizer_args"]
    at = am["acoustic_transformer_args"]
    ints = lambda s: tuple(int(x) for x in s.split(","))  # noqa: E731
    values = dict(
        DIM=params["dim"], N_LAYERS=params["n_layers"], N_HEADS=params["n_heads"], N_KV_HEADS=params["n_kv_heads"],
        HEAD_DIM=params["head_dim"], HIDDEN_DIM=params["hidden_dim"], NORM_EPS=params["norm_eps"],
        ROPE_THETA=params["rope_theta"], VOCAB_SIZE=params["vocab_size"],
        ATTN_DIM=params["n_heads"] * params["head_dim"], KV_DIM=params["n_kv_heads"] * params["head_dim"],
        SAMPLING_RATE=tk["sampling_rate"], PATCH_SIZE=tk["pretransform_patch_size"],
        SEMANTIC_CODEBOOK_SIZE=am["semantic_codebook_size"], N_ACOUSTIC_CODEBOOK=am["n_acoustic_codebook"],
        ACOUSTIC_CODEBOOK_SIZE=am["acoustic_codebook_size"], NUM_CODEBOOKS=1 + am["n_acoustic_codebook"],
        SEMANTIC_DIM=tk["semantic_dim"], ACOUSTIC_DIM=tk["acoustic_dim"],
        LATENT_DIM=tk["semantic_dim"] + tk["acoustic_dim"],
        FM_DIM=at["dim"], FM_N_LAYERS=at["n_layers"], FM_N_HEADS=at["n_heads"], FM_N_KV_HEADS=at["n_kv_heads"],
        FM_HEAD_DIM=at["head_dim"], FM_HIDDEN_DIM=at["hidden_dim"], FM_INPUT_DIM=at["input_dim"],
        FM_SEMANTIC_OUT=(am["semantic_codebook_size"] + 2 + 127) // 128 * 128,
        CODEC_DIM=tk["dim"], CODEC_HIDDEN_DIM=tk["hidden_dim"], CODEC_N_HEADS=tk["n_heads"],
        CODEC_N_KV_HEADS=tk["n_kv_heads"], CODEC_HEAD_DIM=tk["head_dim"], CODEC_NORM_EPS=tk["norm_eps"],
        CODEC_QK_NORM_EPS=tk["qk_norm_eps"], CODEC_ATTN_WINDOW=tk["attn_sliding_window_size"],
        PATCH_PROJ_KERNEL=tk["patch_proj_kernel_size"],
        DEC_TF_LENGTHS=ints(tk["decoder_transformer_lengths_str"]),
        DEC_CONV_KERNELS=ints(tk["decoder_convs_kernels_str"]),
        DEC_CONV_STRIDES=ints(tk["decoder_convs_strides_str"]),
    )
    for mod in mods.values():
        for k, v in values.items():
            if hasattr(mod, k):
                setattr(mod, k, v)
    # defaults bound at definition time
    mods["backbone"].IncrementalBackbone.__init__.__defaults__ = (params["n_layers"],)
    mods["backbone"].reference_forward.__defaults__ = (params["n_layers"],)
    d = mods["codec"].attention_bias.__defaults__
    mods["codec"].attention_bias.__defaults__ = (tk["n_heads"], *d[1:])
    return mods


def pcc(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64) - a.mean(), b.astype(np.float64) - b.mean()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", required=True, type=Path, help="tt-metal checkout (or copy) root")
    ap.add_argument("--checkpoint", type=Path, help="a Voxtral folder (default: a tiny random one)")
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--voice", default="fr_female")
    ap.add_argument("--text", default="Paris is a beautiful city! The quick brown fox jumps over the lazy dog.")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.checkpoint or write_checkpoint(Path(tmp) / "voxtral-tiny-random")
        params = json.loads((folder / "params.json").read_text())
        ref = import_reference(args.reference.resolve(), params)
        return compare(folder, ref, args)


def compare(folder: Path, ref: dict, args: argparse.Namespace) -> int:
    f, seed = args.frames, args.seed
    # ---- ours: the engine, as users run it -------------------------------------------------------
    engine = Engine(EngineConfig(model=str(folder), device="cpu", dtype="fp32", threads=args.threads))
    info = engine.load()
    m = engine.model
    chunks = m.prompter.chunks(args.text, args.voice)
    assert len(chunks) == 1, "keep the parity text below one chunk"
    ids = chunks[0].ids
    t0 = time.perf_counter()
    d = info.default_params  # the model's defaults: 7 Euler steps, guidance 1.2, noise scale 1
    assert (d.steps, d.guidance, d.temperature) == (7, 1.2, 1.0), d
    done = engine.render(SynthesisRequest(args.text, args.voice, replace(
        d, seed=seed, max_seconds=f / 12.5, keep_trajectory=False)))
    t_ours = time.perf_counter() - t0
    ours = np.stack([fr.codes for fr in done.frames if not fr.end_of_speech]) + 2  # model space, as the reference

    # ---- the same start noise on both sides ------------------------------------------------------
    g = torch.Generator().manual_seed(seed)
    ours_noise = torch.stack([torch.randn(1, info.acoustic_dim, generator=g) for _ in range(f)])
    torch.manual_seed(seed)
    ref_noise = torch.stack([torch.randn(1, info.acoustic_dim) for _ in range(f)])
    assert torch.equal(ours_noise, ref_noise), "noise streams differ"

    # ---- the reference -----------------------------------------------------------------------------
    ckpt = str(folder / "consolidated.safetensors")
    wb = ref["backbone"].load_backbone_state(ckpt)
    wf = ref["flow"].load_flow_state(ckpt)
    wc = ref["codec"].load_codec_state(ckpt)
    voice = ref["pipeline"].load_voice(m.prompter.resolve(args.voice), str(folder / "voice_embedding"))
    t0 = time.perf_counter()
    ref_frames, _, _ = ref["pipeline"].generate(torch.tensor(ids), voice, wb, wf, max_frames=f, seed=seed,
                                                verbose=False)
    t_ref = time.perf_counter() - t0
    ref_codes = ref_frames.numpy()

    # prefill hidden at the last prompt token, both sides
    with torch.inference_mode():
        cache = m.tts.backbone.new_cache(capacity=len(ids) + 1)
        h_ours = m.tts.prefill(m.tts.embed_prompt(ids, chunks[0].voice_rows), cache)
    emb = ref["pipeline"].build_inputs_embeds(torch.tensor(ids), voice, wb)
    h_ref = ref["backbone"].IncrementalBackbone(wb).prefill(emb)[:, 0]

    n = min(len(ours), len(ref_codes))
    same = n == len(ours) == len(ref_codes) and np.array_equal(ours, ref_codes)
    first_diff = next((i for i in range(n) if not np.array_equal(ours[i], ref_codes[i])), None)
    print(f"checkpoint: {folder} ({info.parameters / 1e6:.2f}M parameters), voice {args.voice}, seed {seed}")
    print(f"prompt: {len(ids)} ids from mistral-common ({sum(1 for i in ids if i == 24)} [AUDIO] slots)")
    print(f"prefill hidden at the last prompt token: max |ours - ref| = {(h_ours - h_ref).abs().max().item():.3e}")
    print(f"frames: ours {len(ours)}, reference {len(ref_codes)}, codes per frame {ours.shape[1]}")
    print(f"codes identical for all {n} frames: {same}" + ("" if same else f" (first difference at frame {first_diff})"))
    print(f"time: ours {t_ours:.1f} s, reference {t_ref:.1f} s")

    # ---- codec: the reference's decode of the same codes vs ours, offline and streamed ---------------
    ref_wav = ref["codec"].reference_decode(ref["codec"].strip_offset_and_trim(ref_frames), wc)[0, 0].numpy()
    raw = torch.from_numpy(ours - 2).long()
    with torch.inference_mode():
        offline = m.codec.decode(raw.T[None])[0].numpy()
        stream = StreamingDecoder(m.codec, 25)
        sizes = [5] + [25] * ((len(raw) - 5 + 24) // 25)
        pieces, at = [], 0
        for s in sizes:
            pieces.append(stream.push(raw[at:at + s]))
            at += s
        streamed = torch.cat(pieces).numpy()
    print(f"codec offline vs reference: PCC {pcc(offline, ref_wav):.9f}, max |diff| "
          f"{np.abs(offline - ref_wav).max():.3e} (peak {np.abs(ref_wav).max():.3f})")
    print(f"codec streamed (chunks 5, 25, ... with 25 frames of context) vs offline: max |diff| "
          f"{np.abs(streamed - offline).max():.3e}; vs reference PCC {pcc(streamed, ref_wav):.9f}")
    clamped = np.clip(ref_wav, -1, 1)
    print(f"engine audio (streamed in the render, clamped) vs reference clamped: PCC {pcc(done.audio, clamped):.9f}")
    ok = same and pcc(offline, ref_wav) >= 0.9999 and pcc(streamed, ref_wav) >= 0.9999
    print("PARITY OK" if ok else "PARITY FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
