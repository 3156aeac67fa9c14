"""The Voxtral TTS model: embeddings, backbone and acoustic head, plus the per-frame step.

Code spaces: "raw" codes are what the codec uses (semantic 0..S-1, acoustic 0..L-1). The model adds
2 to every code so that 0 = EMPTY and 1 = END in each codebook, as the released checkpoint does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from engine.config import TTSConfig
from engine.nn.backbone import Backbone
from engine.nn.flow_head import AcousticHead, pad_to
from engine.nn.fsq import fsq_encode
from engine.nn.layers import KVCache

if TYPE_CHECKING:
    from engine.nn.backbone_lean import LeanBackbone
    from engine.nn.flow_graph import FlowSampler

EMPTY, END = 0, 1
N_SPECIAL = 2


class AudioCodebookEmbeddings(nn.Module):
    """One table for all 1 + K codebooks; a frame's code embeddings are summed into one position."""

    def __init__(self, semantic_size: int, acoustic_dim: int, acoustic_levels: int, dim: int) -> None:
        super().__init__()
        sizes = [semantic_size + N_SPECIAL] + [acoustic_levels + N_SPECIAL] * acoustic_dim
        offsets = torch.tensor([0] + sizes[:-1], device="cpu").cumsum(0)  # cumsum of the unpadded sizes
        self.register_buffer("offsets", offsets, persistent=False)
        self.embeddings = nn.Embedding(pad_to(sum(sizes)), dim)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [..., 1 + K] in model space (raw + 2) -> summed embedding [..., dim]."""
        return self.embeddings(codes + self.offsets).sum(dim=-2)


class TextStream(nn.Module):
    """The alignment aid: embeddings of the text unit under the pointer and the next one, added to
    an audio position, and the head that predicts how far the pointer advances after a frame."""

    def __init__(self, vocab: int, dim: int, max_advance: int, end_id: int) -> None:
        super().__init__()
        self.current = nn.Embedding(vocab, dim)
        self.next = nn.Embedding(vocab, dim)
        self.advance_head = nn.Linear(dim, max_advance + 1, bias=False)
        self.end_id = end_id

    def units(self, text_ids: torch.Tensor, pointer: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """text_ids [L], pointer [...] -> (current, next) ids [...]; past the end reads ``end_id``."""
        padded = torch.cat([text_ids, text_ids.new_full((2,), self.end_id)])
        p = pointer.clamp(max=len(text_ids))
        return padded[p], padded[p + 1]

    def forward(self, text_ids: torch.Tensor, pointer: torch.Tensor) -> torch.Tensor:
        """text_ids [L], pointer [...] -> embedding [..., dim]."""
        cur, nxt = self.units(text_ids, pointer)
        return self.current(cur) + self.next(nxt)


@dataclass
class StepOutput:
    """One frame drawn from a hidden state (batch of 1)."""

    semantic: int  # model space: 1 = END, 2.. = codes
    semantic_prob: float
    acoustic: torch.Tensor  # (K,) float, clamped to [-1, 1]
    levels: torch.Tensor  # (K,) int64, raw FSQ levels
    trajectory: torch.Tensor | None  # (steps + 1, K)


class VoxtralTTS(nn.Module):
    def __init__(self, cfg: TTSConfig) -> None:
        super().__init__()
        self.cfg = cfg
        b = cfg.backbone
        self.tok_embeddings = nn.Embedding(b.vocab_size, b.dim)
        self.audio_embeddings = AudioCodebookEmbeddings(
            cfg.semantic_codebook_size, cfg.acoustic_dim, cfg.acoustic_levels, b.dim
        )
        self.backbone = Backbone(b)
        self.acoustic_transformer = AcousticHead(
            cfg.flow, b.dim, cfg.acoustic_dim, cfg.semantic_codebook_size + N_SPECIAL
        )
        if cfg.aligned_text:
            self.text_stream = TextStream(b.vocab_size, b.dim, cfg.max_advance, cfg.tokens.repeat_audio_text)

    # ---- prompt -------------------------------------------------------------------------------

    def prompt_ids(self, text_ids: list[int], n_voice: int) -> list[int]:
        """[BOS] [BEGIN_AUDIO] [AUDIO]*N [NEXT_AUDIO_TEXT] text [REPEAT_AUDIO_TEXT] [BEGIN_AUDIO]."""
        t = self.cfg.tokens
        return ([t.bos, t.begin_audio] + [t.audio] * n_voice + [t.next_audio_text] + list(text_ids)
                + [t.repeat_audio_text, t.begin_audio])

    def voice_rows(self, raw_codes: torch.Tensor) -> torch.Tensor:
        """Reference frames raw [N, 1 + K] -> prompt rows [N + 1, D]: embedded frames plus an END frame."""
        end = torch.full((1, raw_codes.shape[1]), EMPTY - N_SPECIAL, dtype=torch.long, device=raw_codes.device)
        end[0, 0] = END - N_SPECIAL
        return self.audio_embeddings(torch.cat([raw_codes.long(), end]) + N_SPECIAL)

    def embed_prompt(self, ids: list[int], voice_rows: torch.Tensor | None) -> torch.Tensor:
        """Token ids [P] with voice rows [N, D] placed at the [AUDIO] positions -> [1, P, D]."""
        dev = self.tok_embeddings.weight.device
        idt = torch.tensor(ids, dtype=torch.long, device=dev)
        emb = self.tok_embeddings(idt)
        # the slots from the id list, not the device tensor: no GPU sync, and no data-dependent shape
        slots = [i for i, t in enumerate(ids) if t == self.cfg.tokens.audio]
        n = 0 if voice_rows is None else voice_rows.shape[0]
        if len(slots) != n:
            raise ValueError(f"prompt has {len(slots)} [AUDIO] slots for {n} voice rows")
        if n:
            emb = emb.clone()
            emb[torch.tensor(slots, device=dev)] = voice_rows.to(emb.dtype)
        return emb[None]

    # ---- generation ---------------------------------------------------------------------------

    def prefill(self, prompt: torch.Tensor, cache: KVCache, stream: torch.Tensor | None = None) -> torch.Tensor:
        """prompt [1, P, D] -> hidden at the last position (the final [BEGIN_AUDIO]) [1, D].
        ``stream`` [1, D] (aligned text) is added to that last position."""
        if stream is not None:
            prompt = torch.cat([prompt[:, :-1], prompt[:, -1:] + stream[:, None]], dim=1)
        return self.backbone(prompt, cache)[:, -1]

    def feed(self, levels_model: torch.Tensor, cache: KVCache, stream: torch.Tensor | None = None,
             lean: "LeanBackbone | None" = None) -> torch.Tensor:
        """Codes of one frame in model space [1, 1 + K] (+ aligned-text embedding [1, D]) -> next hidden [1, D].

        ``lean`` (built from this model's backbone) runs the position with fused projections."""
        x = self.audio_embeddings(levels_model)
        if stream is not None:
            x = x + stream
        return lean.step(x, cache) if lean is not None else self.backbone(x[:, None], cache)[:, -1]

    def advance(self, h: torch.Tensor) -> int:
        """Aligned text: how many units the pointer moves after the frame drawn from h [1, D] (greedy)."""
        return int(self.text_stream.advance_head(h)[0].argmax())

    def step(self, h: torch.Tensor, noise: torch.Tensor, steps: int, guidance: float,
             semantic_temperature: float, top_k: int, generator: torch.Generator,
             keep_trajectory: bool, flow: "FlowSampler | None" = None) -> StepOutput:
        """Draw one frame from hidden h [1, D]; noise [1, K] is the flow's start point.

        ``flow`` runs the ODE (a CUDA-graph replay on GPUs); by default the head's eager ``sample``.
        """
        head = self.acoustic_transformer
        logits = head.semantic_logits(h)[0]  # (S + 2,)
        probs = torch.softmax(logits, dim=-1)
        if semantic_temperature > 0:
            scaled = logits / semantic_temperature
            if 0 < top_k < scaled.numel():
                kth = torch.topk(scaled, top_k).values[-1]
                scaled = scaled.masked_fill(scaled < kth, float("-inf"))
            p = torch.softmax(scaled, dim=-1).cpu()
            semantic = int(torch.multinomial(p, 1, generator=generator))
        else:
            semantic = int(logits.argmax())
        x, traj = (flow or head).sample(h, noise, steps, guidance, keep_trajectory)
        x = x[0].float().clamp(-1.0, 1.0)
        return StepOutput(semantic, float(probs[semantic]), x, fsq_encode(x, self.cfg.acoustic_levels),
                          None if traj is None else traj[:, 0].float())
