"""The engine: owns one model on one device and turns requests into a stream of events.

Not thread-safe: one thread (``EngineWorker``) owns an Engine. Same model + text + voice + params +
seed gives identical frames on the same device, because all noise is drawn from one seeded CPU
generator in a fixed order (semantic sample if any, then the flow's start noise, per frame).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

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
from engine.codec.audio_stream import AudioStream
from engine.device import apply_threads, describe, resolve_device, resolve_dtype
from engine.model_files import LEXICON_NAME, LoadedModel, load_model
from engine.nn.tts_model import END, N_SPECIAL
from engine.phonemes import Lexicon, PhoneTokenizer
from engine.text import ByteTokenizer

DEFAULT_VOICE = "default"
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
        self.model = m
        cfg = m.config
        self._tokenizer = self._make_tokenizer(m)
        if cfg.codec.io == "world":
            world.load_vocoder()  # import pyworld now, not during the first render
        d = cfg.sampling
        n_params = sum(p.numel() for p in m.tts.parameters()) + sum(p.numel() for p in m.codec.parameters())
        note = cfg.note or ("" if cfg.trained else "untrained random weights: output is noise, not speech")
        self.info = ModelInfo(
            name=m.name, family=cfg.family, model_hash=m.model_hash, sample_rate=cfg.codec.sample_rate,
            acoustic_dim=cfg.tts.acoustic_dim, semantic_size=cfg.tts.semantic_codebook_size,
            parameters=n_params, device=describe(self.device, self.dtype), dtype=str(self.dtype).removeprefix("torch."),
            trained=cfg.trained,
            default_params=SamplingParams(steps=d.steps, guidance=d.guidance, temperature=d.temperature),
            voices=(DEFAULT_VOICE, *sorted(set(m.voices) - {DEFAULT_VOICE})), can_clone=cfg.codec.has_encoder, note=note,
        )
        return self.info

    @staticmethod
    def _make_tokenizer(m: LoadedModel) -> ByteTokenizer | PhoneTokenizer:
        t = m.config.tts
        if t.tokenizer == "bytes":
            return ByteTokenizer(t.tokens, t.backbone.vocab_size)
        if t.tokenizer == "phones":
            lexicon = m.folder / LEXICON_NAME
            if not lexicon.is_file():
                raise EngineError(f"model {m.name} uses phones but its folder has no {LEXICON_NAME}")
            return PhoneTokenizer(Lexicon.read(lexicon), t.tokens.text_offset, t.backbone.vocab_size)
        raise EngineError(f"tokenizer {t.tokenizer!r} is not supported by this family")

    def _require_model(self) -> LoadedModel:
        if self.model is None:
            self.load()
        assert self.model is not None
        return self.model

    # ---- synthesis ----------------------------------------------------------------------------

    def voice_codes(self, voice: str) -> torch.Tensor | None:
        m = self._require_model()
        if voice == DEFAULT_VOICE:
            return m.voices.get(DEFAULT_VOICE)
        if voice not in m.voices:
            raise EngineError(f"unknown voice {voice!r} for model {m.name}: choose from "
                              f"{', '.join(self.info.voices if self.info else ())}")
        return m.voices[voice]

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
        p, tts, codec = request.params, m.tts, m.codec
        voice = self.voice_codes(request.voice)
        text_ids = self._tokenizer.encode(request.text)
        rows = tts.voice_rows(voice.to(self.device)) if voice is not None else None
        ids = tts.prompt_ids(text_ids, 0 if rows is None else rows.shape[0])
        max_frames = self.max_frames(request.text, p, len(ids))
        yield Started(request, seed, max_frames)
        gen = torch.Generator().manual_seed(seed)
        cache = tts.backbone.new_cache(capacity=len(ids) + max_frames + 1)
        cancel.raise_if_cancelled()
        aligned = tts.cfg.aligned_text
        text_t = torch.tensor(text_ids, dtype=torch.long, device=self.device)
        pointer = 0
        h = tts.prefill(tts.embed_prompt(ids, rows), cache,
                        tts.text_stream(text_t, torch.tensor([pointer], device=self.device)) if aligned else None)
        decoder = AudioStream(codec, self.config.decode_context)
        frames: list[Frame] = []
        pending: list[torch.Tensor] = []
        audio: list[np.ndarray] = []
        written, first_audio = 0, 0.0
        sr, k = codec.cfg.sample_rate, tts.cfg.acoustic_dim
        for i in range(max_frames):
            cancel.raise_if_cancelled()
            noise = torch.randn(1, k, generator=gen) * p.temperature
            out = tts.step(h, noise.to(self.device), p.steps, p.guidance, p.semantic_temperature, p.semantic_top_k,
                           gen, p.keep_trajectory)
            if aligned:
                if pointer >= len(text_ids):  # the pointer has passed the last unit: speech is over
                    out.semantic = END
                pointer += tts.advance(h)
            if out.semantic == END:
                frame = Frame(i, -1, out.semantic_prob, out.acoustic.cpu().numpy(),
                              np.full(1 + k, -1, dtype=np.int64), None, end_of_speech=True)
                frames.append(frame)
                yield FrameEvent(frame)
                break
            raw = torch.cat([torch.tensor([out.semantic - N_SPECIAL]), out.levels.cpu()])
            frame = Frame(i, out.semantic - N_SPECIAL, out.semantic_prob, out.acoustic.cpu().numpy(), raw.numpy(),
                          None if out.trajectory is None else out.trajectory.cpu().numpy())
            frames.append(frame)
            yield FrameEvent(frame)
            pending.append(raw)
            if len(pending) >= (FIRST_CHUNK_FRAMES if not audio else CHUNK_FRAMES):
                chunk = self._decode(decoder, pending)
                if not audio:
                    first_audio = time.perf_counter() - t0
                audio.append(chunk)
                yield AudioChunk(chunk, written, sr)
                written += len(chunk)
            yield Progress(i + 1, max_frames, time.perf_counter() - t0)
            stream = tts.text_stream(text_t, torch.tensor([pointer], device=self.device)) if aligned else None
            h = tts.feed((raw + N_SPECIAL)[None].to(self.device), cache, stream)
        if pending:
            chunk = self._decode(decoder, pending)
            if not audio:
                first_audio = time.perf_counter() - t0
            audio.append(chunk)
            yield AudioChunk(chunk, written, sr)
        wav = np.concatenate(audio) if audio else np.zeros(0, dtype=np.float32)
        yield Done(request, seed, tuple(frames), wav, sr, m.name, m.model_hash, time.perf_counter() - t0, first_audio)

    def _decode(self, decoder: AudioStream, pending: list[torch.Tensor]) -> np.ndarray:
        codes = torch.stack(pending).to(self.device)
        pending.clear()
        return decoder.push(codes)

    def render(self, request: SynthesisRequest, cancel: CancelToken | None = None) -> Done:
        """Run a request to the end and return its Done event."""
        for event in self.synthesize(request, cancel):
            if isinstance(event, Done):
                return event
        raise EngineError("generation ended without a result")
