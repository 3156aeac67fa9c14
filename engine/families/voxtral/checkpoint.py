"""Load a user-downloaded Voxtral-4B-TTS-2603 folder: check it, then stream its weights into our modules.

The folder holds ``consolidated.safetensors`` (386 BF16 tensors), ``params.json``, ``tekken.json`` and
``voice_embedding/<name>.pt``. ``inspect_folder`` checks everything without reading the weights
(files, params schema, tokenizer, the tensor manifest from the safetensors header, voice presets) and
reports every problem it finds. ``load_checkpoint`` builds the modules on the meta device and assigns
each tensor once, converted to its final device and dtype: no full second copy of the weights ever
exists. Weight norm is folded at load; the time embedding's frequencies are recomputed.
"""

from __future__ import annotations

import json
import logging
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open

from engine.api import EngineError
from engine.codec.voxtral_codec import VoxtralCodec
from engine.config import ConfigError
from engine.families.voxtral.keys import manifest_problems, release_manifest, to_engine
from engine.families.voxtral.params import VoxtralParams, read_params
from engine.families.voxtral.prompt import load_tekken, voice_token_counts
from engine.families.voxtral.voices import VOICES_DIR, load_voice_rows
from engine.nn.tts_model import VoxtralTTS

log = logging.getLogger(__name__)

WEIGHTS, PARAMS, TEKKEN = "consolidated.safetensors", "params.json", "tekken.json"
REQUIRED = (WEIGHTS, PARAMS, TEKKEN, VOICES_DIR)
MAX_HEADER = 100 * 1024 * 1024
CPU_WARNING = ("running Voxtral-4B-TTS on the CPU in fp32: it needs about 16 GB of memory and takes seconds per "
               "80 ms frame (far slower than real time); a CUDA GPU with 16 GB runs it in bf16 faster than real time")


class CheckpointError(EngineError):
    """A Voxtral folder that cannot be loaded; the message lists every problem found."""

    def __init__(self, folder: Path, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:12] + ([f"... and {len(problems) - 12} more"] if len(problems) > 12 else [])
        super().__init__(f"{folder} is not a usable Voxtral TTS checkpoint:\n  " + "\n  ".join(shown))


def is_voxtral_folder(folder: Path) -> bool:
    """Looks like a released Voxtral folder (params.json + consolidated.safetensors)."""
    return (folder / PARAMS).is_file() and (folder / WEIGHTS).exists()


@dataclass
class VoxtralFolder:
    """A checked folder: its params, tokenizer and preset voices (rows [N, D] on the CPU)."""

    folder: Path
    params: VoxtralParams
    tokenizer: Any
    voices: dict[str, torch.Tensor]


def read_header(path: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    """The safetensors header: name -> (dtype, shape). EngineError says why a file is not safetensors."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(8)
            if head[:2] == b"PK":
                raise EngineError(f"{path} is a zip archive (a PyTorch .pt/.bin pickle checkpoint?), not safetensors; "
                                  "download the release's consolidated.safetensors")
            if head[:1] == b"\x80":
                raise EngineError(f"{path} is a Python pickle, not safetensors; download the release's "
                                  "consolidated.safetensors (pickles can run code and are never loaded)")
            if len(head) < 8:
                raise EngineError(f"{path} is empty or truncated ({size} bytes), not a safetensors file")
            (n,) = struct.unpack("<Q", head)
            if n > min(MAX_HEADER, size - 8):
                raise EngineError(f"{path} is not a safetensors file (header length {n} for a {size}-byte file)")
            header = json.loads(f.read(n))
    except OSError as e:
        raise EngineError(f"cannot read {path}: {e.strerror or e}") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise EngineError(f"{path} is not a safetensors file (its header is not JSON: {e})") from e
    header.pop("__metadata__", None)
    try:
        out = {k: (v["dtype"], tuple(v["shape"])) for k, v in header.items()}
        ends = [v["data_offsets"][1] for v in header.values()]
    except (TypeError, KeyError) as e:
        raise EngineError(f"{path} has a damaged safetensors header: {e}") from e
    if 8 + n + max(ends, default=0) > size:
        raise EngineError(f"{path} is truncated: the header describes {8 + n + max(ends)} bytes, the file has {size} "
                          "(an interrupted download?)")
    return out


def inspect_folder(folder: Path, name: str | None = None) -> VoxtralFolder:
    """Check a folder without loading weights; CheckpointError lists everything that is missing or wrong."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise EngineError(f"{folder} is not a folder")
    missing = [f for f in REQUIRED if not (folder / f).exists()]
    if missing:
        raise CheckpointError(folder, [f"missing {f}" + ("/" if f == VOICES_DIR else "") for f in missing])
    problems: list[str] = []
    try:
        params = read_params(folder / PARAMS, name or folder.name)
    except ConfigError as e:
        raise CheckpointError(folder, [str(e)]) from e
    cfg = params.config
    try:
        header = read_header(folder / WEIGHTS)
        problems += manifest_problems(header, release_manifest(cfg))
    except EngineError as e:
        problems.append(str(e))
    tokenizer = None
    try:
        tokenizer = load_tekken(folder / TEKKEN)
        n_words = tokenizer.instruct_tokenizer.tokenizer.n_words
        if n_words != cfg.tts.backbone.vocab_size:
            problems.append(f"{TEKKEN} has {n_words} token ids but params.json's vocab_size is "
                            f"{cfg.tts.backbone.vocab_size}")
    except ConfigError as e:
        problems.append(str(e))
    voices: dict[str, torch.Tensor] = {}
    counts = voice_token_counts(tokenizer) if tokenizer is not None else {}
    for voice in sorted(params.voice_ids):
        if tokenizer is not None and voice not in counts:
            problems.append(f"voice {voice} of params.json is not in {TEKKEN}'s voice_num_audio_tokens")
            continue
        try:
            voices[voice] = load_voice_rows(folder / VOICES_DIR / f"{voice}.pt", cfg.tts.backbone.dim,
                                            counts.get(voice))
        except EngineError as e:
            problems.append(str(e))
    if not params.voice_ids:
        problems.append("params.json lists no preset voice")
    if problems:
        raise CheckpointError(folder, problems)
    return VoxtralFolder(folder, params, tokenizer, voices)


def build_on_meta(checked: VoxtralFolder) -> tuple[VoxtralTTS, VoxtralCodec]:
    """Our modules for the folder's config, with no memory behind their parameters yet."""
    cfg = checked.params.config
    with torch.device("meta"):
        return VoxtralTTS(cfg.tts), VoxtralCodec(cfg.codec)


def load_checkpoint(checked: VoxtralFolder, device: torch.device, dtype: torch.dtype
                    ) -> tuple[VoxtralTTS, VoxtralCodec]:
    """Stream every tensor into modules on ``device``: the TTS model in ``dtype``, the codec in fp32.

    Tensors are read one at a time (straight onto the GPU when there is one), converted once and
    assigned; weight norm is folded when the codec is complete.
    """
    tts, codec = build_on_meta(checked)
    states: dict[str, dict[str, torch.Tensor]] = {"tts": {}, "codec": {}}
    wants = {"tts": dtype, "codec": torch.float32}
    path = checked.folder / WEIGHTS
    read_device = str(device) if device.type == "cuda" else "cpu"
    try:
        with safe_open(str(path), framework="pt", device=read_device) as f:
            for name in f.keys():
                part, key = to_engine(name)
                states[part][key] = f.get_tensor(name).to(device=device, dtype=wants[part])
    except (OSError, RuntimeError, ValueError) as e:
        raise EngineError(f"{path} could not be read: {e}") from e
    for module, part in ((tts, "tts"), (codec, "codec")):
        module.load_state_dict(states[part], strict=True, assign=True)
        states[part].clear()
    codec.fold_weight_norm()
    # derived tables (RoPE, time-embedding frequencies, codebook offsets, ALiBi slopes) were built on the
    # CPU at construction; move them with the modules
    return tts.to(device).eval(), codec.to(device).eval()
