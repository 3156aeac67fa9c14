"""The flow head's per-frame ODE replayed from CUDA graphs (GPU only; plain eager code elsewhere).

One frame is 7 Euler steps x (cond + uncond) = 14 small transformer forwards: on a GPU the launch
overhead dominates, so the whole integration is captured once per (batch bucket, steps, guided) and
replayed. Buckets are the reference serving code's (vLLM-omni's CUDA-graph acoustic transformer):
batch 1, 2, 4, 8, 16, 32; a batch is padded up to its bucket. Noise and the guidance weight are graph
inputs (static buffers), so seeds and guidance change without a new capture. On the CPU, while
another capture is running, for batches above 32 or when a capture fails, ``sample`` runs eagerly:
through ``LeanFlow`` (constants hoisted out of the ODE) where graphs are off and the head has one
layer, else through the head's own ``sample``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from engine.nn.flow_head import AcousticHead
from engine.nn.flow_lean import LeanFlow

log = logging.getLogger(__name__)

CAPTURE_SIZES = (1, 2, 4, 8, 16, 32)


@dataclass
class _Captured:
    graph: "torch.cuda.CUDAGraph"
    h: torch.Tensor  # (bucket, D) static input
    noise: torch.Tensor  # (bucket, K) static input
    alpha: torch.Tensor | None  # (bucket, 1) static input
    x: torch.Tensor  # (bucket, K) static output
    traj: torch.Tensor  # (steps + 1, bucket, K) static output


class FlowSampler:
    """``sample(h, noise, steps, guidance, keep_trajectory)`` as AcousticHead.sample, graph-replayed on CUDA."""

    def __init__(self, head: AcousticHead, use_graphs: bool = True, sizes: tuple[int, ...] = CAPTURE_SIZES) -> None:
        self.head, self.sizes = head, tuple(sorted(sizes))
        p = next(head.parameters())
        self.device, self.dtype = p.device, p.dtype
        self.use_graphs = use_graphs and self.device.type == "cuda"
        self.lean = LeanFlow(head) if not self.use_graphs and len(head.layers) == 1 else None
        self._graphs: dict[tuple[int, int, bool], _Captured | None] = {}
        self._pool = None
        self.replays = 0

    def sample(self, h: torch.Tensor, noise: torch.Tensor, steps: int, guidance: float,
               keep_trajectory: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """h [B, D], noise [B, K] -> x [B, K] and the trajectory [steps + 1, B, K] if asked."""
        b = h.shape[0]
        bucket = next((s for s in self.sizes if s >= b), None)
        if not self.use_graphs:
            return (self.lean or self.head).sample(h, noise, steps, guidance, keep_trajectory)
        if bucket is None or torch.cuda.is_current_stream_capturing():
            return self.head.sample(h, noise, steps, guidance, keep_trajectory)
        guided = guidance != 1.0
        key = (bucket, steps, guided)
        if key not in self._graphs:
            self._graphs[key] = self._capture(bucket, steps, guided)
        cap = self._graphs[key]
        if cap is None:  # capture failed once: stay eager for this shape
            return self.head.sample(h, noise, steps, guidance, keep_trajectory)
        cap.h.zero_()
        cap.h[:b].copy_(h)
        cap.noise.zero_()
        cap.noise[:b].copy_(noise)
        if cap.alpha is not None:
            cap.alpha.fill_(guidance)
        cap.graph.replay()
        self.replays += 1
        self.head.evaluations += steps
        x = cap.x[:b].clone()
        return x, (cap.traj[:, :b].clone() if keep_trajectory else None)

    def warm_up(self, steps: int, guidance: float) -> None:
        """Capture the batch-1 graph for the default sampler settings (so the first frame does not pay)."""
        if self.use_graphs:
            h = torch.zeros(1, self.head.llm_projection.in_features, device=self.device, dtype=self.dtype)
            self.sample(h, torch.zeros(1, self.head.acoustic_dim, device=self.device, dtype=self.dtype), steps,
                        guidance)

    @torch.inference_mode()
    def _capture(self, bucket: int, steps: int, guided: bool) -> _Captured | None:
        head, dev, dt = self.head, self.device, self.dtype
        h = torch.zeros(bucket, head.llm_projection.in_features, device=dev, dtype=dt)
        noise = torch.zeros(bucket, head.acoustic_dim, device=dev, dtype=dt)
        alpha = torch.ones(bucket, 1, device=dev, dtype=dt) if guided else None
        ts = torch.linspace(0.0, 1.0, steps + 1, device=dev)
        evaluations = head.evaluations
        try:
            side = torch.cuda.Stream(dev)
            side.wait_stream(torch.cuda.current_stream(dev))
            with torch.cuda.stream(side):  # warm-up runs (lazy cuBLAS init) outside the capture
                for _ in range(2):
                    head.integrate(h, noise, alpha, ts)
            torch.cuda.current_stream(dev).wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph, pool=self._pool):
                x, traj = head.integrate(h, noise, alpha, ts)
            self._pool = graph.pool()
        except RuntimeError:
            log.warning("CUDA graph capture of the flow head failed for batch %d, %d steps; running eagerly",
                        bucket, steps, exc_info=True)
            return None
        finally:
            head.evaluations = evaluations
        log.info("captured the flow head in a CUDA graph: batch %d, %d steps, guided=%s", bucket, steps, guided)
        return _Captured(graph, h, noise, alpha, x, traj)
