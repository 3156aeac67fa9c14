"""Prompts as the generation loop consumes them: token ids plus the rows that fill the [AUDIO] slots.

A family turns (text, voice) into one or more consecutive chunks; the engine renders them one after
the other into one take (a fresh backbone context per chunk, one continuous codec stream).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import torch

from engine.api import EngineError, VoiceInfo
from engine.nn.tts_model import VoxtralTTS
from engine.text import ByteTokenizer

DEFAULT_VOICE = "default"


@dataclass
class PromptChunk:
    """text: the chunk's text; ids [P]: prompt token ids; voice_rows [N, D]: rows for the N [AUDIO] ids;
    text_ids: the text's own token ids (what an aligned-text model's pointer walks over); units: their
    symbols ("" where none): the pointer must not jump over a phone (``engine.text_pointer``)."""

    text: str
    ids: list[int]
    voice_rows: torch.Tensor | None
    text_ids: list[int] = field(default_factory=list)
    units: list[str] = field(default_factory=list)


class Prompter(Protocol):
    voices: tuple[VoiceInfo, ...]
    can_clone: bool

    def chunks(self, text: str, voice: str) -> list[PromptChunk]:
        """(text, voice name) -> consecutive prompt chunks; EngineError for an unknown voice."""
        ...


def unknown_voice(voice: str, model: str, names: list[str]) -> EngineError:
    return EngineError(f"unknown voice {voice!r} for model {model}: choose from {', '.join(names)}")


class Tokenizer(Protocol):
    def encode(self, text: str) -> list[int]: ...

    def symbols(self, ids: list[int]) -> list[str]: ...


class ReferencePrompter:
    """Our own models: byte or phone tokens, voices as reference codes embedded by the model (one chunk)."""

    can_clone = True

    def __init__(self, model_name: str, tts: VoxtralTTS, voice_codes: dict[str, torch.Tensor],
                 tokenizer: Tokenizer | None = None) -> None:
        cfg = tts.cfg
        self.model_name, self.tts, self.voice_codes = model_name, tts, voice_codes
        self.tokenizer = tokenizer or ByteTokenizer(cfg.tokens, cfg.backbone.vocab_size)
        names = (DEFAULT_VOICE, *sorted(set(voice_codes) - {DEFAULT_VOICE}))
        self.voices = tuple(VoiceInfo(n) for n in names)

    def codes(self, voice: str) -> torch.Tensor | None:
        """Reference codes [N, 1 + K] of a voice (None: the default voice of a model without one)."""
        if voice == DEFAULT_VOICE:
            return self.voice_codes.get(DEFAULT_VOICE)
        if voice not in self.voice_codes:
            raise unknown_voice(voice, self.model_name, [v.name for v in self.voices])
        return self.voice_codes[voice]

    def chunks(self, text: str, voice: str) -> list[PromptChunk]:
        return self.chunks_for_codes(text, self.codes(voice))

    def chunks_for_codes(self, text: str, codes: torch.Tensor | None) -> list[PromptChunk]:
        """Text spoken in the voice of reference codes [N, 1 + K] (a preset's prompt; None: no reference)."""
        dev = self.tts.tok_embeddings.weight.device
        rows = self.tts.voice_rows(codes.to(dev)) if codes is not None else None
        text_ids = self.tokenizer.encode(text)
        ids = self.tts.prompt_ids(text_ids, 0 if rows is None else rows.shape[0])
        return [PromptChunk(text, ids, rows, text_ids, self.tokenizer.symbols(text_ids))]
