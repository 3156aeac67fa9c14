"""How presets, clips and consent read in the UI: one place for the wording, so the consent marker
looks the same everywhere a preset is shown."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from engine.voices.preset import Consent, VoicePreset

if TYPE_CHECKING:
    from engine.voices.clips import ClipIssue, ClipSource

NO_CONSENT = "no consent record"
NO_CONSENT_MARK = f"⚠ {NO_CONSENT}"
NO_CONSENT_COLOUR = "#b9770e"
ORIGINS = {"user": "", "builtin": "built-in", "family": "model voice"}


def consent_mark(preset: VoicePreset) -> str:
    """The marker a preset without a consent record carries ("" when it has one, or is a model voice)."""
    return NO_CONSENT_MARK if needs_consent_mark(preset) else ""


def needs_consent_mark(preset: VoicePreset) -> bool:
    # The released voices of a model family come with the model's licence, not a speaker's record.
    return preset.consent is None and preset.origin != "family"


def preset_title(preset: VoicePreset) -> str:
    """One line for lists and combos: name, language, brand, origin and the consent marker."""
    bits = [b for b in (preset.language, preset.brand, ORIGINS.get(preset.origin, "")) if b]
    title = preset.name + (f"  ({', '.join(bits)})" if bits else "")
    mark = consent_mark(preset)
    return f"{title}  {mark}" if mark else title


def consent_text(consent: Consent | None) -> str:
    if consent is None:
        return f"{NO_CONSENT_MARK}: nobody recorded that the speaker agreed to this voice being made."
    return (f"Consent of {consent.speaker}, {consent.date} ({consent.method}): “{consent.statement}”")


def preset_details(preset: VoicePreset) -> str:
    """A few lines (rich text) about a preset, for the library's detail pane."""
    rows = [f"<b>{_esc(preset.name)}</b>" + (" — read-only" if preset.read_only else "")]
    if preset.description:
        rows.append(_esc(preset.description))
    facts = [("family", preset.family), ("language", preset.language), ("brand", preset.brand),
             ("tags", ", ".join(preset.tags)), ("model", preset.model_hash[:8])]
    rows.append(" · ".join(f"{k}: {_esc(v)}" for k, v in facts if v))
    if preset.params:
        rows.append("settings: " + ", ".join(f"{k} {v}" for k, v in sorted(preset.params.items())))
    colour = NO_CONSENT_COLOUR if needs_consent_mark(preset) else "inherit"
    if preset.origin != "family":
        rows.append(f"<span style='color:{colour}'>{_esc(consent_text(preset.consent))}</span>")
    return "<br>".join(rows)


def source_text(source: ClipSource) -> str:
    """One clip's facts: "interview.wav — 96 kHz · 2 channels · PCM_24 · 12.3 s"."""
    channels = "mono" if source.channels == 1 else f"{source.channels} channels"
    rate = f"{source.sample_rate / 1000:g} kHz"
    return f"{source.path.name} — {rate} · {channels} · {source.subtype} · {source.seconds:.1f} s"


def issue_text(issue: ClipIssue) -> str:
    """Rich text for one analysis finding: the sentence, then what to do; blocking ones in red."""
    colour = "#c0392b" if issue.blocking else NO_CONSENT_COLOUR
    lead = "Cannot create: " if issue.blocking else ""
    return f"<span style='color:{colour}'>{lead}{_esc(issue.message)}</span> — {_esc(issue.advice)}"


def _esc(text: str) -> str:
    return escape(text, quote=False)
