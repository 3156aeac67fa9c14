"""Ctrl-C during training keeps every finished step: the step under way finishes, is saved, and the same
command continues from it to the weights an uninterrupted run reaches."""

import signal

import numpy as np
import pytest
import torch
from torch import nn

from engine.train.checkpoint import load_checkpoint, read_run_state
from engine.train.loop import run_steps


@pytest.fixture(autouse=True)
def ordinary_ctrl_c():
    """Ctrl-C as an interactive session has it, whatever the shell that started the tests did (a
    background job of a script inherits SIGINT ignored)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def _run(out, start, steps, ctrl_c_at=(), model=None, signum=signal.SIGINT):
    torch.manual_seed(0)
    model = model or nn.Linear(4, 1)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    state = load_checkpoint(out, {"m": model}, opt)
    start = state["step"] if state else start
    calls = []

    def losses_at(rng: np.random.Generator, gen: torch.Generator) -> dict[str, torch.Tensor]:
        calls.append(1)
        for _ in range(ctrl_c_at.count(len(calls))):
            signal.raise_signal(signum)  # a real Ctrl-C (or SIGTERM), delivered to this (main) thread
        x = torch.randn(8, 4, generator=gen)
        return {"loss": ((model(x) - x.sum(1, keepdim=True)) ** 2).mean()}

    logs = []
    run_steps(out, start, steps, {"m": model}, opt, losses_at, lambda s, t: 1e-2, 0, {}, logs.append)
    return model, logs


def test_ctrl_c_saves_the_finished_step_and_the_run_continues_to_the_same_weights(tmp_path):
    whole, _ = _run(tmp_path / "whole", 0, 6)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "cut", 0, 6, ctrl_c_at=(3,))
    assert read_run_state(tmp_path / "cut")["step"] == 3  # the third step finished, then it stopped
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Ctrl-C is ordinary again
    resumed, _ = _run(tmp_path / "cut", 0, 6)
    assert torch.equal(resumed.weight, whole.weight) and torch.equal(resumed.bias, whole.bias)


def test_a_second_ctrl_c_stops_at_once(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "run", 0, 6, ctrl_c_at=(2, 2))  # twice within the second step
    assert not (tmp_path / "run" / "state.json").exists()  # nothing saved: that step never finished
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigterm_also_saves_the_step_under_way(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "run", 0, 6, ctrl_c_at=(4,), signum=signal.SIGTERM)
    assert read_run_state(tmp_path / "run")["step"] == 4
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_ctrl_c_the_process_ignores_stays_ignored(tmp_path):
    """A run started in the background with ``nohup … &`` ignores SIGINT; training must not take it up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _run(tmp_path / "run", 0, 6, ctrl_c_at=(2,))  # no KeyboardInterrupt: the run goes on
    assert read_run_state(tmp_path / "run")["step"] == 6
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
