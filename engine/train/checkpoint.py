"""Training checkpoints: weights and optimizer tensors in safetensors, the rest in JSON; atomic.

A run folder holds ``ckpt-<step>.safetensors`` and ``state.json`` (format_version, step, the file
name, optimizer hyper-parameters, the caller's extra data). state.json is written last, so it
always names a complete weights file; older weight files are removed after it is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from engine.atomic import write_atomic, write_text_atomic
from engine.train.errors import TrainingError, reading

CHECKPOINT_FORMAT_VERSION = 1
STATE_NAME = "state.json"


class CheckpointError(TrainingError):
    pass


def _optimizer_tensors(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"opt.{pid}.{k}"] = v.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{k}"] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def save_checkpoint(folder: Path, step: int, modules: dict[str, torch.nn.Module], opt: torch.optim.Optimizer,
                    extra: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"{name}.{k}": v.detach().cpu().contiguous()
               for name, m in modules.items() for k, v in m.state_dict().items()}
    opt_tensors, opt_json = _optimizer_tensors(opt)
    tensors.update(opt_tensors)
    tensors["rng.torch"] = torch.get_rng_state()
    name = f"ckpt-{step:07d}.safetensors"
    write_atomic(folder / name, lambda p: save_file(tensors, str(p), metadata={"format_version": "1"}))
    state = {"format_version": CHECKPOINT_FORMAT_VERSION, "step": step, "weights": name, "optimizer": opt_json,
             "extra": extra}
    write_text_atomic(folder / STATE_NAME, json.dumps(state, indent=1))
    for old in folder.glob("ckpt-*.safetensors"):
        if old.name != name:
            old.unlink()
    return folder / name


def read_run_state(folder: Path) -> dict[str, Any]:
    """A run folder's state.json (step, weights file, optimizer, the caller's extra data)."""
    path = folder / STATE_NAME
    if not path.is_file():
        raise CheckpointError(f"{folder} is not a training run: it has no {STATE_NAME}")
    with reading(path, CheckpointError):
        state = json.loads(path.read_text(encoding="utf-8"))
    if state.get("format_version") != CHECKPOINT_FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {state.get('format_version')} is not supported")
    return state


def _weights(folder: Path, state: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The tensors of the checkpoint ``state`` names."""
    path = folder / state["weights"]
    with reading(path, CheckpointError):
        return load_file(str(path))


def _module_state(tensors: dict[str, torch.Tensor], name: str) -> dict[str, torch.Tensor]:
    """The tensors a checkpoint saved for module ``name`` (dotted: ``trainer.phone_head``), unprefixed."""
    return {k[len(name) + 1:]: v for k, v in tensors.items() if k.startswith(name + ".")}


def checkpoint_module_state(folder: Path, name: str) -> dict[str, torch.Tensor] | None:
    """Module ``name``'s weights in the last checkpoint of the run ``folder``; None if ``folder`` is not a
    run or the checkpoint has no such module."""
    try:
        state = read_run_state(folder)
    except CheckpointError:
        return None
    return _module_state(_weights(folder, state), name) or None


def load_checkpoint(folder: Path, modules: dict[str, torch.nn.Module],
                    opt: torch.optim.Optimizer | None) -> dict[str, Any] | None:
    """Restore modules (and optimizer) from ``folder``; returns the state dict, or None if none."""
    if not (folder / STATE_NAME).is_file():
        return None
    state = read_run_state(folder)
    tensors = _weights(folder, state)
    for name, m in modules.items():
        m.load_state_dict(_module_state(tensors, name), strict=True)
    if opt is not None:
        opt_json = state["optimizer"]
        st: dict[int, dict[str, Any]] = {}
        for k, v in tensors.items():
            if k.startswith("opt."):
                _, pid, key = k.split(".", 2)
                st.setdefault(int(pid), {})[key] = v
        for k, v in opt_json["scalars"].items():
            pid, key = k.split(".", 1)
            st.setdefault(int(pid), {})[key] = v
        opt.load_state_dict({"state": st, "param_groups": opt_json["param_groups"]})
    torch.set_rng_state(tensors["rng.torch"])
    return state
