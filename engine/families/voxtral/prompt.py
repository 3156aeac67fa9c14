"""Prompt ids from mistral-common (>= 1.10) and preset voice rows, per sentence chunk.

The ids are exactly ``MistralTokenizer.from_file(tekken.json).encode_speech_request(SpeechRequest(
input=chunk, voice=name)).tokens``: [BOS] [BEGIN_AUDIO] [AUDIO]*N [NEXT_AUDIO_TEXT] text
[REPEAT_AUDIO_TEXT] [BEGIN_AUDIO]. No text normalisation beyond mistral-common's own; long text is only
cut at sentence ends (whitespace at the cuts is dropped).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from engine.api import EngineError, VoiceInfo
from engine.config import ConfigError
from engine.families.voxtral.voices import NO_CLONING, describe_voice, looks_like_audio_clip
from engine.prompting import DEFAULT_VOICE, PromptChunk, unknown_voice
from engine.text import split_sentences

MAX_CHUNK_CHARS = 400
"""Longest text rendered in one backbone context (about 25-30 s of speech); longer text is cut at
sentence ends into consecutive chunks."""


def load_tekken(path: Path) -> Any:
    """mistral-common's MistralTokenizer for ``tekken.json``; ConfigError when it cannot do speech."""
    from mistral_common.exceptions import MistralCommonException
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    try:
        tok = MistralTokenizer.from_file(str(path))
    except (MistralCommonException, ValueError, AssertionError, KeyError, TypeError, OSError) as e:
        raise ConfigError(f"{path} is not a tekken tokenizer mistral-common can read: {e}") from e
    audio = getattr(tok.instruct_tokenizer, "audio_encoder", None)
    if audio is None or not audio.audio_config.voice_num_audio_tokens:
        raise ConfigError(f"{path} has no audio section with voice_num_audio_tokens (not a Voxtral TTS tokenizer)")
    return tok


def voice_token_counts(tokenizer: Any) -> dict[str, int]:
    return dict(tokenizer.instruct_tokenizer.audio_encoder.audio_config.voice_num_audio_tokens)


def speech_prompt_ids(tokenizer: Any, text: str, voice: str) -> list[int]:
    """mistral-common's prompt ids for one chunk of text in one preset voice."""
    from mistral_common.protocol.speech.request import SpeechRequest

    return list(tokenizer.encode_speech_request(SpeechRequest(input=text, voice=voice)).tokens)


class TekkenPrompter:
    """Voxtral prompts: mistral-common ids with the preset's rows at the [AUDIO] positions."""

    can_clone = False

    def __init__(self, model_name: str, tokenizer: Any, voices: dict[str, torch.Tensor], default_voice: str,
                 device: torch.device) -> None:
        self.model_name, self.tokenizer, self.default_voice = model_name, tokenizer, default_voice
        self.rows = voices  # name -> [N, D] on the CPU, as stored
        self.device = device
        names = sorted(voices)
        self.voices: tuple[VoiceInfo, ...] = (VoiceInfo(DEFAULT_VOICE, style=f"= {default_voice}"),
                                              *(describe_voice(n) for n in names))

    def resolve(self, voice: str) -> str:
        if voice == DEFAULT_VOICE:
            return self.default_voice
        if voice in self.rows:
            return voice
        if looks_like_audio_clip(voice):
            raise EngineError(f"{NO_CLONING}; choose one of: {', '.join(sorted(self.rows))}")
        raise unknown_voice(voice, self.model_name, [DEFAULT_VOICE, *sorted(self.rows)])

    def chunks(self, text: str, voice: str) -> list[PromptChunk]:
        name = self.resolve(voice)
        rows = self.rows[name].to(self.device)
        out = []
        for piece in split_sentences(text, MAX_CHUNK_CHARS):
            ids = speech_prompt_ids(self.tokenizer, piece, name)
            out.append(PromptChunk(piece, ids, rows))
        if not out:
            raise EngineError("the text is empty: type something to say")
        return out
