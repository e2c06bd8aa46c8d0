"""Spoken prompts, read-back and receipts in Uzbek and Russian, offline (espeak-ng).

The UI uses ``SpeechService`` and the prompt helpers; see docs/ARCHITECTURE.md.
Names are loaded on first use, so that the engine and player processes
(``python -m kiosk.speech.engine_proc``) do not import the whole package first.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.speech.prepare import choices_prompt, code_prompt, prepare_text
    from kiosk.speech.service import SpeechService

__all__ = ["SpeechService", "choices_prompt", "code_prompt", "prepare_text"]

_HOMES = {
    "SpeechService": "kiosk.speech.service",
    "choices_prompt": "kiosk.speech.prepare",
    "code_prompt": "kiosk.speech.prepare",
    "prepare_text": "kiosk.speech.prepare",
}


def __getattr__(name: str) -> object:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
