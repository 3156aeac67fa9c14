"""Starting a TTS run from another TTS's weights (``timbre train tts --init``): a run folder's last
checkpoint or an exported model folder, on a codec with the same or more acoustic values per frame.

A codec widened from K to K2 acoustic values (new values appended) keeps its first K values' meaning, so
the TTS trained on it carries over: the tensors that depend on K are copied into their leading slice and
the rest starts at zero (new codebooks' embedding rows, the flow head's new input columns and output
rows), so the widened TTS starts out as the old one on the old values and draws the new ones from noise
until it learns them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from engine.model_files import is_model_folder, read_modules
from engine.nn.tts_model import N_SPECIAL, VoxtralTTS
from engine.train.checkpoint import checkpoint_module_state, load_checkpoint
from engine.train.errors import TrainingError

INPUT_PROJECTION = "acoustic_transformer.input_projection.weight"  # [flow dim, K]
WIDENED = ("audio_embeddings.embeddings.weight", INPUT_PROJECTION,
           "acoustic_transformer.acoustic_codebook_output.weight")


def widened_state(state: dict[str, torch.Tensor], model: VoxtralTTS) -> dict[str, torch.Tensor]:
    """A TTS's weights ``state`` (K acoustic values) fitted to ``model`` (K2 ≥ K, same levels and sizes
    otherwise): see the module's docstring. Raises ValueError for any other difference."""
    target = model.state_dict()
    k_old, k_new = state[INPUT_PROJECTION].shape[1], model.cfg.acoustic_dim
    if k_old > k_new:
        raise ValueError(f"the TTS draws {k_old} acoustic values and this codec has {k_new}: a TTS can only "
                         "start from one with as many or fewer")
    # the embedding table is padded past its last codebook: only the rows of the old codebooks are copied
    used_rows = model.cfg.semantic_codebook_size + N_SPECIAL + k_old * (model.cfg.acoustic_levels + N_SPECIAL)
    out = {}
    for name, want in target.items():
        have = state.get(name)
        if have is None:
            raise ValueError(f"the TTS to start from has no {name}")
        if have.shape == want.shape and (name not in WIDENED or k_old == k_new):
            out[name] = have
            continue
        if name not in WIDENED or any(a > b for a, b in zip(have.shape, want.shape)):
            raise ValueError(f"{name} is {tuple(have.shape)} in the TTS to start from and {tuple(want.shape)} "
                             "here: only the acoustic values' count may differ (pass the --size it was trained with)")
        if name == WIDENED[0]:
            have = have[:used_rows]
        grown = torch.zeros_like(want)
        grown[tuple(slice(0, n) for n in have.shape)] = have
        out[name] = grown
    return out


def start_tts_from(model: VoxtralTTS, init: Path, size: str) -> None:
    """Load ``init`` (a TTS run folder or an exported model folder) into ``model`` (built for ``size``),
    widening it when the codec under ``model`` has more acoustic values. A run of the same width is
    restored as it always was (its random generator state included), so earlier commands reproduce."""
    if is_model_folder(init):
        cfg, tts, _ = read_modules(init)
        if replace(cfg.tts, acoustic_dim=model.cfg.acoustic_dim) != model.cfg:
            raise TrainingError(f"the TTS of {init} is not the {size!r} size on this codec; pass the --size and "
                                "--codec it was trained with (a codec with more acoustic values is the one change "
                                "allowed)")
        state = tts.state_dict()
    else:
        state = checkpoint_module_state(init, "tts")
        if state is None:
            raise TrainingError(f"{init} is neither a TTS training run nor a model folder")
        if state[INPUT_PROJECTION].shape[1] == model.cfg.acoustic_dim:
            load_checkpoint(init, {"tts": model}, None)
            return
    try:
        model.load_state_dict(widened_state(state, model))
    except ValueError as e:
        raise TrainingError(f"cannot start from {init}: {e}") from e
