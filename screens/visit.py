"""The application a citizen is filling in: the app holds it, the screens walk it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.engine import FormSession
    from kiosk.engine_nav import Step
    from kiosk.form import Form


def mentions_answers(step: Step) -> bool:
    """Whether the step's spoken prompt (label, hint) has answers filled in (`${x}`), in
    any language: such a prompt is spoken privately and never pre-warmed into the cache."""
    q = step.question
    return any("${" in text for text in (*q.labels.values(), *q.hints.values()))


@dataclass
class Visit:
    """One citizen's application in progress."""

    form: Form
    session: FormSession
    # Chosen up front so that saves queued before the first one returns share one row.
    draft_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    keep_draft: bool = False
    returning_to_review: bool = False
