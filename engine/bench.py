"""Benchmarks (figures, not pass/fail): per-frame time of backbone, flow head and codec, real-time
factor and time to first audio, for the shipped model and the tiny and ~20M-parameter random configs,
on CPU and on CUDA when present. The parts are the ones generation runs: the lean backbone step and
flow ODE (CUDA graphs on a GPU), and the codec with its vocoder.

    python -m engine.bench [--models timbre-mini,tiny,20m] [--devices cpu,cuda] [--frames 60] [--steps N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from engine.api import FRAME_SECONDS, SamplingParams, SynthesisRequest
from engine.codec.audio_stream import AudioStream
from engine.device import apply_threads, resolve_dtype
from engine.engine import CHUNK_FRAMES, Engine, EngineConfig
from engine.random_model import SIZES, write_random_model

TEXT = "The quick brown fox jumps over the lazy dog, and then it runs far away."


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_components(engine: Engine, frames: int, steps: int, guidance: float) -> dict[str, float]:
    """Median milliseconds per frame for each part of the generation loop, each run on its own."""
    m = engine.model
    assert m is not None
    tts, codec, dev = m.tts, m.codec, engine.device
    k = tts.cfg.acoustic_dim
    ids = tts.prompt_ids([70 + i % 20 for i in range(len(TEXT))], 0)
    gen = torch.Generator().manual_seed(0)
    times: dict[str, list[float]] = {"backbone": [], "head": [], "codec": []}
    with torch.inference_mode():
        cache = tts.backbone.new_cache(capacity=len(ids) + frames + 2)
        h = tts.prefill(tts.embed_prompt(ids, None), cache)
        stream = AudioStream(codec, 25)
        pending = []
        for _ in range(frames):
            _sync(dev)
            t0 = time.perf_counter()
            out = tts.step(h, torch.randn(1, k, generator=gen).to(dev), steps, guidance, 0.0, 0, gen, False,
                           engine.flow_sampler)
            _sync(dev)
            t1 = time.perf_counter()
            raw = torch.cat([torch.tensor([max(out.semantic - 2, 0)]), out.levels.cpu()]).to(dev)
            h = tts.feed((raw + 2)[None], cache, None, engine.lean_backbone)
            _sync(dev)
            t2 = time.perf_counter()
            pending.append(raw)
            if len(pending) == CHUNK_FRAMES:
                stream.push(torch.stack(pending))
                pending.clear()
                _sync(dev)
                times["codec"].append((time.perf_counter() - t2) * 1000 / CHUNK_FRAMES)
            times["head"].append((t1 - t0) * 1000)
            times["backbone"].append((t2 - t1) * 1000)
    return {name: statistics.median(v[3:] or v) for name, v in times.items()}


def bench_end_to_end(engine: Engine, steps: int, guidance: float, repeats: int = 3) -> tuple[float, float, float]:
    """(real-time factor, time to first audio in ms, audio seconds), best of ``repeats`` renders."""
    best = None
    for r in range(repeats):
        req = SynthesisRequest(TEXT, params=SamplingParams(steps=steps, guidance=guidance, seed=r, max_seconds=8.0,
                                                           keep_trajectory=False))
        done = engine.render(req)
        seconds = len(done.audio) / done.sample_rate
        result = (done.elapsed / seconds, done.first_audio_latency * 1000, seconds)
        best = result if best is None or result[0] < best[0] else best
    assert best is not None
    return best


def machine_reference(repeats: int = 3) -> tuple[float, float]:
    """(ms for 10^6 pure-Python additions, ms for a 256x256 float32 matmul on torch's threads), best of
    ``repeats``. The same workload every day, printed beside the model figures so a slow reading can be
    told apart: a busy or throttled machine slows these too, a slower model does not."""
    loop_ms, matmul_ms = [], []
    a = torch.randn(256, 256)
    for _ in range(repeats):
        t0 = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        loop_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        for _ in range(20):
            a @ a
        matmul_ms.append((time.perf_counter() - t0) * 1000 / 20)
    return min(loop_ms), min(matmul_ms)


def profile(engine: Engine, frames: int, steps: int, guidance: float) -> None:
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if engine.device.type == "cuda" else [])
    with torch_profile(activities=acts) as prof:
        bench_components(engine, frames, steps, guidance)
    key = "self_cuda_time_total" if engine.device.type == "cuda" else "self_cpu_time_total"
    print(prof.key_averages().table(sort_by=key, row_limit=12))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="timbre-mini,tiny,20m",
                   help="models by name or folder, or random configs of the architecture: " + ", ".join(SIZES))
    p.add_argument("--devices", default="cpu,cuda")
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--steps", type=int, default=None, help="flow steps (default: each model's own default)")
    p.add_argument("--guidance", type=float, default=None, help="guidance (default: each model's own default)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--profile", action="store_true", help="print the torch profiler's top ops per config")
    args = p.parse_args(argv)
    devices = [d for d in args.devices.split(",") if d == "cpu" or torch.cuda.is_available()]
    threads = apply_threads(args.threads)
    print(f"torch {torch.__version__}, {threads} CPU threads")
    loop_ms, matmul_ms = machine_reference()
    print(f"machine reference: 10^6 Python additions {loop_ms:.0f} ms, 256x256 float32 matmul {matmul_ms:.2f} ms "
          "(the same work every run: compare readings from different days by these first)")
    if "cuda" in args.devices and not torch.cuda.is_available():
        print("(no CUDA GPU here: CUDA rows skipped)")
    header = (f"{'model':<12} {'params':>7} {'device':<6} {'dtype':<9} {'steps':>5} {'backbone':>9} {'head':>8} "
              f"{'codec':>8} {'frame':>8} {'RTF':>7} {'first audio':>11}")
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            model = str(write_random_model(Path(tmp) / name, SIZES[name])) if name in SIZES else name
            for dev in devices:
                engine = Engine(EngineConfig(model=model, device=dev, threads=args.threads))
                info = engine.load()
                engine.render(SynthesisRequest("warm up", params=SamplingParams(max_seconds=0.5, seed=0)))
                d = info.default_params
                steps = args.steps or d.steps
                guidance = d.guidance if args.guidance is None else args.guidance
                ms = bench_components(engine, args.frames, steps, guidance)
                rtf, first, _ = bench_end_to_end(engine, steps, guidance)
                if args.profile:
                    profile(engine, args.frames, steps, guidance)
                frame_ms = sum(ms.values())
                dtype = str(resolve_dtype("auto", engine.device)).removeprefix("torch.")
                print(f"{name:<12} {info.parameters / 1e6:>6.1f}M {dev:<6} {dtype:<9} {steps:>5} "
                      f"{ms['backbone']:>7.2f}ms {ms['head']:>6.2f}ms {ms['codec']:>6.2f}ms {frame_ms:>6.2f}ms "
                      f"{rtf:>7.3f} {first:>9.0f}ms")
    print(f"(per-frame medians of each part run alone; a frame is {FRAME_SECONDS * 1000:.0f} ms of audio; RTF and "
          "first audio from whole renders of one sentence, best of 3, with the codec overlapped where a core is spare)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
