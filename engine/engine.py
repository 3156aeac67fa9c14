"""The engine: owns one model on one device and turns requests into a stream of events.

Not thread-safe: one thread (``EngineWorker``) owns an Engine. Same model + text + voice + params +
seed gives identical frames on the same device, because all noise is drawn from one seeded CPU
generator in a fixed order (semantic sample if any, then the flow's start noise, per frame).

A family's prompter may cut long text into consecutive chunks (sentences): each gets a fresh backbone
context, frames are numbered on across chunks, and one codec stream decodes them all.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.api import (
    FRAME_RATE,
    AudioChunk,
    CancelToken,
    Done,
    EngineConfig,
    EngineError,
    Event,
    Frame,
    FrameEvent,
    Loaded,
    Loading,
    ModelInfo,
    Progress,
    SamplingParams,
    Started,
    SynthesisRequest,
)
from engine.codec import world
from engine.codec.decode_worker import ChunkDecoder
from engine.codec.voice_match import VoiceMatch
from engine.device import apply_threads, describe, resolve_device, resolve_dtype
from engine.model_files import LoadedModel, load_model
from engine.nn.backbone_lean import LeanBackbone
from engine.nn.flow_graph import FlowSampler
from engine.nn.tts_model import END, N_SPECIAL
from engine.preset_voices import PresetVoices, preset_id
from engine.prompting import PromptChunk
from engine.text_pointer import stop_at_phones
from engine.voices.clips import PreparedReference
from engine.voices.library import VoiceLibrary
from engine.voices.preset import Consent, VoicePreset
SECONDS_PER_CHAR = 0.2
"""Max-frames guard: no request renders longer than 2 s + 0.2 s per character (about 3x speech)."""
FIRST_CHUNK_FRAMES, CHUNK_FRAMES = 1, 4
"""Audio is decoded after the first frame (low latency), then every few frames."""


class Engine:
    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.device = resolve_device(self.config.device)
        self.dtype = resolve_dtype(self.config.dtype, self.device)
        self.threads = apply_threads(self.config.threads) if self.device.type == "cpu" else None
        self.model: LoadedModel | None = None
        self.info: ModelInfo | None = None
        self._flow: FlowSampler | None = None
        self._lean: LeanBackbone | None = None
        self.presets = PresetVoices()

    @property
    def flow_sampler(self) -> FlowSampler:
        """The flow head's ODE sampler that generation runs (CUDA graphs on a GPU); the benchmarks time it."""
        if self._flow is None:
            raise EngineError("no model loaded")
        return self._flow

    @property
    def lean_backbone(self) -> LeanBackbone | None:
        """The backbone's fused CPU step that generation feeds frames through (None on a GPU)."""
        return self._lean

    # ---- loading ------------------------------------------------------------------------------

    def load_events(self, model: str | None = None) -> Iterator[Event]:
        """Load (or switch to) a model, yielding Loading then Loaded."""
        yield Loading(model or "default", describe(self.device, self.dtype))
        self.load(model)
        assert self.info is not None
        yield Loaded(self.info)

    def load(self, model: str | None = None) -> ModelInfo:
        name = model if model is not None else self.config.model
        with torch.inference_mode():
            m = load_model(name, self.device, self.dtype)
        return self.install(m)

    def install(self, m: LoadedModel) -> ModelInfo:
        """Make ``m`` the engine's model (``load`` reads it from files; the benchmarks hand in modules built
        in memory)."""
        self.model = m
        cfg = m.config
        if cfg.codec.io == "world":
            world.load_vocoder()  # import pyworld now, not during the first render
        d = cfg.sampling
        self._flow = FlowSampler(m.tts.acoustic_transformer, use_graphs=self.config.cuda_graphs)
        # the fused copies double the backbone's weights in memory: right for the CPU's small models,
        # not for a 4B model on a GPU
        self._lean = LeanBackbone(m.tts.backbone) if self.device.type == "cpu" else None
        with torch.inference_mode():
            self._flow.warm_up(d.steps, d.guidance)
        n_params = sum(p.numel() for p in m.tts.parameters()) + sum(p.numel() for p in m.codec.parameters())
        note = cfg.note or ("" if cfg.trained else "untrained random weights: output is noise, not speech")
        voices = m.prompter.voices
        self.info = ModelInfo(
            name=m.name, family=cfg.family, model_hash=m.model_hash, sample_rate=cfg.codec.sample_rate,
            acoustic_dim=cfg.tts.acoustic_dim, semantic_size=cfg.tts.semantic_codebook_size,
            parameters=n_params, device=describe(self.device, self.dtype), dtype=str(self.dtype).removeprefix("torch."),
            trained=cfg.trained,
            default_params=SamplingParams(steps=d.steps, guidance=d.guidance, temperature=d.temperature),
            voices=tuple(v.name for v in voices), can_clone=m.prompter.can_clone and cfg.codec.has_encoder,
            note=note, voice_details=voices, acoustic_levels=cfg.tts.acoustic_levels,
            unsupported=d.unsupported_pairs(),
        )
        return self.info

    def _require_model(self) -> LoadedModel:
        if self.model is None:
            self.load()
        assert self.model is not None
        return self.model

    # ---- synthesis ----------------------------------------------------------------------------

    # ---- voice presets --------------------------------------------------------------------------

    @property
    def library(self) -> VoiceLibrary:
        """The voice library this engine renders presets from (the studio reads the same folder)."""
        return self.presets.library

    def prepare_reference(self, paths: Sequence[str | Path],
                          selection: tuple[float, float] | None = None) -> PreparedReference:
        """Reference clips -> one cleaned reference at the loaded codec's rate, with what is wrong."""
        return self.presets.prepare(self._require_model(), paths, selection)

    def create_voice(self, prepared: PreparedReference, name: str, *, consent: Consent | None = None,
                     **meta: Any) -> VoicePreset:
        """Encode a prepared reference with the loaded codec and save it as a preset in the library."""
        return self.presets.create(self._require_model(), prepared, name, consent=consent, **meta)

    def _chunks(self, m: LoadedModel, text: str, voice: str) -> list[PromptChunk]:
        """(text, a model voice or "preset:<id>") -> the family's prompt chunks."""
        if preset_id(voice) is None:
            return m.prompter.chunks(text, voice)
        for_codes = getattr(m.prompter, "chunks_for_codes", None)
        if for_codes is None or not m.config.codec.has_encoder:
            raise EngineError(f"model {m.name} cannot speak in a preset made from a clip: use one of its own voices")
        return for_codes(text, torch.from_numpy(self.presets.codes(m, voice)).long())

    def voice_codes(self, voice: str) -> torch.Tensor | None:
        """Reference codes [N, 1 + K] of a voice or preset (None for preset-embedding voices)."""
        m = self._require_model()
        if preset_id(voice) is not None:
            return torch.from_numpy(self.presets.codes(m, voice)).long()
        codes = getattr(m.prompter, "codes", None)
        if codes is None:
            m.prompter.chunks(".", voice)  # checks the name (and refuses clips) the family's way
            return None
        return codes(voice)

    def voice_match(self, voice: str) -> VoiceMatch | None:
        """The feature correction a render in ``voice`` (a model voice or preset) gets; None when it has
        none or the engine's config switches it off."""
        m = self._require_model()
        if not self.config.voice_match:
            return None
        if preset_id(voice) is None:
            return m.voice_matches.get(voice)
        return self.presets.match(m, voice)

    def max_frames(self, text: str, params: SamplingParams, prompt_len: int) -> int:
        m = self._require_model()
        by_text = int((2.0 + SECONDS_PER_CHAR * len(text)) * FRAME_RATE)
        by_params = max(1, int(round(params.max_seconds * FRAME_RATE)))
        by_context = m.config.tts.backbone.max_seq_len - prompt_len - 1
        if by_context < 1:
            raise EngineError(f"the text is too long for this model's context ({m.config.tts.backbone.max_seq_len} positions)")
        return min(by_text, by_params, by_context)

    def synthesize(self, request: SynthesisRequest, cancel: CancelToken | None = None) -> Iterator[Event]:
        """Yield Started, then per frame FrameEvent (+ AudioChunk, Progress), then Done.

        Raises EngineError for bad requests and Cancelled when ``cancel`` is set (checked before
        every frame, so a cancel takes effect within one frame).
        """
        request = request.validated()
        m = self._require_model()
        cancel = cancel or CancelToken()
        p = request.params
        seed = p.seed if p.seed is not None else secrets.randbelow(2**31)
        request = SynthesisRequest(request.text, request.voice, p.with_seed(seed))
        t0 = time.perf_counter()
        with torch.inference_mode():
            yield from self._generate(m, request, seed, cancel, t0)

    def _generate(self, m: LoadedModel, request: SynthesisRequest, seed: int, cancel: CancelToken,
                  t0: float) -> Iterator[Event]:
        p, tts = request.params, m.tts
        chunks = self._chunks(m, request.text, request.voice)
        caps = [self.max_frames(c.text, p, len(c.ids)) for c in chunks]
        total = min(sum(caps), max(1, int(round(p.max_seconds * FRAME_RATE))))
        yield Started(request, seed, total)
        gen = torch.Generator().manual_seed(seed)
        decoder = ChunkDecoder(m.codec, self.config.decode_context, match=self.voice_match(request.voice))
        frames: list[Frame] = []
        pending: list[torch.Tensor] = []
        audio: list[np.ndarray] = []
        first_audio = 0.0
        sr, k = m.codec.cfg.sample_rate, tts.cfg.acoustic_dim

        def emit(wait: bool = False) -> Iterator[AudioChunk]:
            nonlocal first_audio
            for chunk in decoder.ready(wait):
                if not audio:
                    first_audio = time.perf_counter() - t0
                start = sum(len(a) for a in audio)
                audio.append(chunk)
                yield AudioChunk(chunk, start, sr)

        try:
            for n, (chunk, cap) in enumerate(zip(chunks, caps)):
                cancel.raise_if_cancelled()
                cache = tts.backbone.new_cache(capacity=len(chunk.ids) + cap + 1)
                aligned = tts.cfg.aligned_text
                text_t = torch.tensor(chunk.text_ids, dtype=torch.long, device=self.device)
                pointer = 0  # aligned text: the unit being said (the model moves it on)

                def stream() -> torch.Tensor | None:
                    return tts.text_stream(text_t, torch.tensor([pointer], device=self.device)) if aligned else None

                h = tts.prefill(tts.embed_prompt(chunk.ids, chunk.voice_rows), cache, stream())
                for _ in range(cap):
                    if len(frames) >= total or (frames and frames[-1].end_of_speech):
                        break
                    cancel.raise_if_cancelled()
                    i = len(frames)
                    noise = torch.randn(1, k, generator=gen) * p.temperature
                    out = tts.step(h, noise.to(self.device), p.steps, p.guidance, p.semantic_temperature,
                                   p.semantic_top_k, gen, p.keep_trajectory, self._flow)
                    unit = chunk.units[pointer] if aligned and pointer < len(chunk.units) else ""
                    if aligned:
                        if pointer >= len(chunk.text_ids):  # the pointer passed the last unit: speech is over
                            out.semantic = END
                        step = tts.advance(h)
                        pointer += step if self.config.skip_phones else stop_at_phones(pointer, step, chunk.units)
                    if out.semantic == END:
                        if n == len(chunks) - 1:  # a chunk's end inside the text is not the end of speech
                            frame = Frame(i, -1, out.semantic_prob, out.acoustic.cpu().numpy(),
                                          np.full(1 + k, -1, dtype=np.int64), None, end_of_speech=True)
                            frames.append(frame)
                            yield FrameEvent(frame)
                        break
                    raw = torch.cat([torch.tensor([out.semantic - N_SPECIAL]), out.levels.cpu()])
                    frame = Frame(i, out.semantic - N_SPECIAL, out.semantic_prob, out.acoustic.cpu().numpy(),
                                  raw.numpy(), None if out.trajectory is None else out.trajectory.cpu().numpy(),
                                  unit=unit)
                    frames.append(frame)
                    yield FrameEvent(frame)
                    pending.append(raw)
                    if len(pending) >= (FIRST_CHUNK_FRAMES if not audio else CHUNK_FRAMES):
                        decoder.submit(torch.stack(pending))
                        pending.clear()
                    yield from emit(wait=not audio)  # the first chunk as soon as it exists, then no waiting
                    yield Progress(i + 1, total, time.perf_counter() - t0)
                    h = tts.feed((raw + N_SPECIAL)[None].to(self.device), cache, stream(), self._lean)
            if pending:
                decoder.submit(torch.stack(pending))
            yield from emit(wait=True)
        finally:
            decoder.close()
        wav = np.concatenate(audio) if audio else np.zeros(0, dtype=np.float32)
        yield Done(request, seed, tuple(frames), wav, sr, m.name, m.model_hash, time.perf_counter() - t0, first_audio)

    def render(self, request: SynthesisRequest, cancel: CancelToken | None = None) -> Done:
        """Run a request to the end and return its Done event."""
        for event in self.synthesize(request, cancel):
            if isinstance(event, Done):
                return event
        raise EngineError("generation ended without a result")
