"""Runs that start from an exported model folder (``--init assets/timbre-mini``) instead of a run.

A model folder keeps no training state, and the runs that made it may be long gone (or on another
machine), so a run started from one records the folder, its weights' hash and the commands that built
it, read from its MODEL_CARD.md; the new model's card then lists every command from an empty disk.
"""

from __future__ import annotations

from pathlib import Path

from engine.model_files import WEIGHTS_NAME, file_hash, is_model_folder

CARD_NAME = "MODEL_CARD.md"
COMMANDS_HEADING = "Exact commands"
LEGACY_SAMPLE_STEPS = 8  # the flow steps decoder stages drew the TTS's values with before --sample-steps


def card_commands(model: Path) -> list[str]:
    """The lines of the bash block under "Exact commands" in ``model``'s card ([] without a card)."""
    card = model / CARD_NAME
    if not card.is_file():
        return []
    text = card.read_text(encoding="utf-8")
    at = text.find(COMMANDS_HEADING)
    if at < 0 or (start := text.find("```bash\n", at)) < 0:
        return []
    block = text[start + len("```bash\n"):]
    return [line for line in block[: block.find("```")].splitlines() if line.strip()]


def init_record(init: Path) -> dict:
    """What a new run records about its ``--init``: the folder, and for a model folder its weights'
    hash and the commands that built it."""
    record: dict = {"init": str(init)}
    if is_model_folder(init):
        record["init_model"] = {"hash": file_hash(init / WEIGHTS_NAME), "commands": card_commands(init)}
    return record


def base_commands(init: str, commands: list[str]) -> tuple[list[str], list[str]]:
    """A base model's card commands split into (corpus lines, training lines); its export goes to the
    folder the new run started from, and its setup and evaluation lines are left to the new card."""
    corpora = [c for c in commands if " train data " in c or " train recordings " in c]
    training = [_pinned(c.replace("--export assets/timbre-mini", f"--export {init}")) for c in commands
                if " train " in c and c not in corpora and " train card " not in c]
    return corpora, training


def _pinned(command: str) -> str:
    """A card's command as it reproduces today: a decoder stage from before ``--sample-steps`` existed
    drew the TTS's values with 8 steps, whatever the default is now."""
    if " train decoder " in command and "--sample-steps" not in command:
        return command.replace(" --out ", f" --sample-steps {LEGACY_SAMPLE_STEPS} --out ", 1)
    return command
