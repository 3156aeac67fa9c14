"""One auditable path from a model folder to modules: resolve, read config, hash, load, fold, eval.

A model folder holds ``config.json`` (strict ModelConfig, with format_version) and
``model.safetensors`` (keys ``tts.*`` and ``codec.*``), and optionally ``voices/<name>.safetensors``
(key ``codes``: raw reference codes [N, 1 + K]; from format 2 optionally ``match_scale``/``match_shift``,
the voice's feature correction, ``engine.codec.voice_match``). A folder in the released Voxtral layout
(params.json + consolidated.safetensors) is loaded by ``engine.families.voxtral``; names registered
with ``timbre models add`` resolve to their folders.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from engine.api import EngineError
from engine.atomic import write_atomic, write_text_atomic
from engine.bundled import assets_dir
from engine.codec.voice_match import VoiceMatch
from engine.codec.voxtral_codec import VoxtralCodec
from engine.config import ConfigError, ModelConfig, from_dict, to_dict
from engine.nn.tts_model import VoxtralTTS
from engine.phonemes import Lexicon, PhoneTokenizer
from engine.prompting import Prompter, ReferencePrompter
from engine.text import ByteTokenizer

CONFIG_NAME, WEIGHTS_NAME, VOICES_DIR = "config.json", "model.safetensors", "voices"
LEXICON_NAME = "lexicon.txt.gz"
"""Pronouncing dictionary of a model whose tokenizer is ``phones`` (cmudict format, gzip)."""
PROMPT_CLIP_KEY = "prompt_clip"


def builtin_models() -> dict[str, Path]:
    root = assets_dir()
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir()) if (p / CONFIG_NAME).is_file()}


def default_model_name() -> str:
    models = builtin_models()
    for name in ("timbre-mini", "tiny-random"):
        if name in models:
            return name
    raise EngineError(f"no built-in model found in {assets_dir()}")


def resolve_model(name_or_path: str | None) -> Path:
    """A built-in or registered model name, or a folder path -> the model folder; EngineError names the choices."""
    from engine.families.voxtral.checkpoint import is_voxtral_folder
    from engine.model_registry import load_registry

    name = name_or_path or default_model_name()
    models = builtin_models()
    if name in models:
        return models[name]
    registered = load_registry()
    if name in registered:
        folder = Path(registered[name].path)
        if not folder.is_dir():
            raise EngineError(f"model {name!r} is registered at {folder}, but that folder is gone "
                              f"(timbre models remove {name}, then add it again)")
        return folder
    path = Path(name).expanduser()
    if path.is_dir() and ((path / CONFIG_NAME).is_file() or is_voxtral_folder(path)):
        return path
    known = ", ".join([*models, *registered]) or "none"
    raise EngineError(f"unknown model {name!r}: not a built-in or registered model ({known}) nor a model folder "
                      f"({CONFIG_NAME}, or a Voxtral download with params.json)")


def model_name(name_or_path: str | None, folder: Path) -> str:
    """The name a model is shown under: its registered name, else its folder's name."""
    from engine.model_registry import load_registry

    return name_or_path if name_or_path and name_or_path in load_registry() else folder.name


def read_config(folder: Path) -> ModelConfig:
    try:
        data = json.loads((folder / CONFIG_NAME).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"{folder / CONFIG_NAME} is not readable JSON: {e}") from e
    return from_dict(ModelConfig, data, str(folder / CONFIG_NAME)).check()


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def build_modules(cfg: ModelConfig) -> tuple[VoxtralTTS, VoxtralCodec]:
    return VoxtralTTS(cfg.tts), VoxtralCodec(cfg.codec)


@dataclass
class LoadedModel:
    name: str
    folder: Path
    config: ModelConfig
    tts: VoxtralTTS
    codec: VoxtralCodec
    model_hash: str
    voices: dict[str, torch.Tensor]  # name -> raw codes [N, 1 + K] (our own models; empty for presets)
    prompter: Prompter
    voice_matches: dict[str, VoiceMatch] = field(default_factory=dict)  # name -> its feature correction


def read_modules(folder: Path) -> tuple[ModelConfig, VoxtralTTS, VoxtralCodec]:
    """A model folder's config and modules as saved: fp32 on the CPU, weight norm not folded (so
    training can continue from them); EngineError names a missing, damaged or mismatched file."""
    cfg = read_config(folder)
    weights = folder / WEIGHTS_NAME
    if not weights.is_file():
        raise EngineError(f"model folder {folder} has no {WEIGHTS_NAME}")
    tts, codec = build_modules(cfg)
    try:
        state = load_file(str(weights))
    except Exception as e:  # safetensors raises several types for damaged files
        raise EngineError(f"{weights} is damaged or not a safetensors file: {e}") from e
    _load_strict(tts, state, "tts.", weights)
    _load_strict(codec, state, "codec.", weights)
    return cfg, tts, codec


def is_model_folder(folder: Path) -> bool:
    """A folder in our own model layout (config.json + model.safetensors)."""
    return (folder / CONFIG_NAME).is_file() and (folder / WEIGHTS_NAME).is_file()


def load_model(name_or_path: str | None, device: torch.device, dtype: torch.dtype) -> LoadedModel:
    folder = resolve_model(name_or_path)
    if not (folder / CONFIG_NAME).is_file():
        from engine.families.voxtral.family import load_voxtral

        return load_voxtral(folder, model_name(name_or_path, folder), device, dtype)
    cfg, tts, codec = read_modules(folder)
    weights = folder / WEIGHTS_NAME
    codec.fold_weight_norm()
    tts.to(device=device, dtype=dtype).eval()
    # the codec stays fp32: it is small, and audio quality is sensitive to its precision
    codec.to(device=device).eval()
    voices, matches = {}, {}
    vdir = folder / VOICES_DIR
    if vdir.is_dir():
        for p in sorted(vdir.glob("*.safetensors")):
            tensors = load_file(str(p))
            voices[p.stem] = tensors["codes"].long()
            if (match := VoiceMatch.from_tensors(tensors)) is not None:
                matches[p.stem] = match
    return LoadedModel(folder.name, folder, cfg, tts, codec, file_hash(weights), voices,
                       ReferencePrompter(folder.name, tts, voices, make_tokenizer(folder, cfg)), matches)


def make_tokenizer(folder: Path, cfg: ModelConfig) -> ByteTokenizer | PhoneTokenizer:
    """The text tokenizer a model folder asks for: UTF-8 bytes, or phones from its own lexicon."""
    t = cfg.tts
    if t.tokenizer == "bytes":
        return ByteTokenizer(t.tokens, t.backbone.vocab_size)
    if t.tokenizer == "phones":
        lexicon = folder / LEXICON_NAME
        if not lexicon.is_file():
            raise EngineError(f"model {folder.name} uses phones but its folder has no {LEXICON_NAME}")
        return PhoneTokenizer(Lexicon.read(lexicon), t.tokens.text_offset, t.backbone.vocab_size)
    raise EngineError(f"tokenizer {t.tokenizer!r} is not supported by this family")


def _load_strict(module: torch.nn.Module, state: dict[str, torch.Tensor], prefix: str, where: Path) -> None:
    own = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    expected = module.state_dict()
    missing = sorted(set(expected) - set(own))
    unexpected = sorted(set(own) - set(expected))
    wrong = sorted(k for k in set(own) & set(expected) if own[k].shape != expected[k].shape)
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} (e.g. {prefix}{missing[0]})")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} (e.g. {prefix}{unexpected[0]})")
        if wrong:
            k = wrong[0]
            parts.append(f"wrong shape {prefix}{k}: {tuple(own[k].shape)} vs {tuple(expected[k].shape)}")
        raise EngineError(f"{where} does not match its config: " + "; ".join(parts))
    module.load_state_dict(own, strict=True)


def save_model(folder: Path, cfg: ModelConfig, tts: VoxtralTTS, codec: VoxtralCodec,
               voices: dict[str, torch.Tensor] | None = None, matches: dict[str, VoiceMatch] | None = None) -> None:
    """Write a model folder (atomic per file). The codec is saved with weight norm unfolded.
    ``matches``: voices' feature corrections, stored in their voice files."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {f"tts.{k}": v.detach().float().cpu().contiguous() for k, v in tts.state_dict().items()}
    state.update({f"codec.{k}": v.detach().float().cpu().contiguous() for k, v in codec.state_dict().items()})
    write_atomic(folder / WEIGHTS_NAME, lambda p: save_file(state, str(p), metadata={"format_version": "1"}))
    write_text_atomic(folder / CONFIG_NAME, json.dumps(to_dict(cfg), indent=2) + "\n")
    if voices:
        (folder / VOICES_DIR).mkdir(exist_ok=True)
        for name, codes in voices.items():
            write_voice(folder / VOICES_DIR / f"{name}.safetensors", codes, (matches or {}).get(name))


def write_voice(path: Path, codes: torch.Tensor, match: VoiceMatch | None, prompt_clip: str | None = None) -> None:
    """One voice file: ``codes`` int64 [N, 1 + K], and its match's ``match_scale``/``match_shift`` float32 [43]
    when it has one (format 2; format 1 files hold the codes alone). ``prompt_clip``: the training clip the
    codes were taken from, when it is not the speaker's longest (metadata; see ``voice_prompt_clip``)."""
    tensors = {"codes": codes.long().cpu().contiguous(), **(match.tensors() if match is not None else {})}
    metadata = {"format_version": "2", **({PROMPT_CLIP_KEY: prompt_clip} if prompt_clip else {})}
    write_atomic(path, lambda p: save_file(tensors, str(p), metadata=metadata))


def voice_prompt_clip(path: Path) -> str | None:
    """The training clip a voice file says its codes come from, or None (the speaker's longest, as exported)."""
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        return (f.metadata() or {}).get(PROMPT_CLIP_KEY)
