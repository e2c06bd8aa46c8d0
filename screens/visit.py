"""The application a citizen is filling in: the app holds it, the screens walk it."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.drafts import DraftKey
    from kiosk.engine import FormSession
    from kiosk.engine_nav import Step
    from kiosk.form import Form


def _new_key() -> DraftKey:
    """In a worker thread: the module (cryptography) is imported there too."""
    from kiosk.drafts import new_key

    return new_key()


def mentions_answers(step: Step) -> bool:
    """Whether the step's spoken prompt (label, hint) has answers filled in (`${x}`), in
    any language: such a prompt is spoken privately and never pre-warmed into the cache."""
    q = step.question
    return any("${" in text for text in (*q.labels.values(), *q.hints.values()))


@dataclass(frozen=True)
class Prefilled:
    """One answer filled from the registry: the field, the registry's value, and the
    answer as filled (the engine's value, and the payload's form of it), so a change
    is told from the engine's own normalisation (apostrophes, dates, phone numbers)."""

    field: str
    registry: object
    value: object
    as_payload: object


@dataclass
class Visit:
    """One citizen's application in progress."""

    form: Form
    session: FormSession
    # Chosen up front so that saves queued before the first one returns share one row.
    draft_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    keep_draft: bool = False
    returning_to_review: bool = False
    # The draft's key (kiosk/drafts.py): in memory for this visit only, dropped with it.
    draft_key: DraftKey | None = field(default=None, repr=False)
    slot: int | None = None  # the draft's public slot, once saved: the code's first digits
    # An operator's fix of a rejected item (kiosk/rejected.py): its tracking code, and
    # the portal's reason in the operator's language, shown on every question.
    resubmits: str | None = None
    resubmit_reason: str = ""
    # Once-only prefill (operator mode only, screens/prefill.py): the look-up's id, and
    # {question: Prefilled} of the answers it filled; the submission's prefill section
    # carries the registry's value beside the answer submitted (kiosk/prefill.py).
    # ``prefill_notice``: why nothing was filled (a msgid and its params), if so.
    prefill_lookup_id: str | None = None
    prefilled: dict[str, Prefilled] = field(default_factory=dict, repr=False)
    prefill_notice: tuple[str, dict[str, object]] | None = None
    prefill_notice_spoken: bool = False
    _key_task: asyncio.Future[DraftKey] | None = field(default=None, repr=False)

    def prepare_key(self) -> None:
        """Derive the draft's key in a worker thread now (scrypt: slow), so that it is
        ready by the first answer. Call from the event loop."""
        if self.draft_key is None and self._key_task is None:
            self._key_task = asyncio.ensure_future(asyncio.to_thread(_new_key))

    async def key(self) -> DraftKey:
        """The draft's key, derived (off the event loop) if it is not yet."""
        if self.draft_key is None:
            self.prepare_key()
            assert self._key_task is not None
            try:
                self.draft_key = await self._key_task
            finally:
                self._key_task = None  # a failure (StoreError) is tried again next time
        return self.draft_key

    @property
    def code(self) -> str | None:
        """The resume code, once the draft has been saved (in memory only)."""
        if self.draft_key is None or self.slot is None:
            return None
        return self.draft_key.code(self.slot)

    def registry_mark(self, ref: str, lang: str) -> str:
        """The mark of a prefilled answer ("From the registry", or that it was corrected,
        with the registry's value), or "" for an answer the registry did not give."""
        from kiosk.i18n import tr
        from kiosk.prefill import as_answer

        found = self.prefilled.get(ref)
        if found is None:
            return ""
        if self.session.value(ref) == found.value:
            return tr(lang, "From the registry")
        registry = as_answer(found.field, found.registry)
        return tr(lang, "Corrected; the registry has: {value}", value=registry)

    def payload(self) -> dict[str, object]:
        """The submission's payload: the answers, and the prefill section when the
        registry filled any (each prefilled question's registry value and answer)."""
        from kiosk.prefill import PAYLOAD_KEY, section

        payload: dict[str, object] = self.session.payload()
        if self.prefill_lookup_id and self.prefilled:
            filled = {q: (p.field, p.registry, p.as_payload) for q, p in self.prefilled.items()}
            payload[PAYLOAD_KEY] = section(self.prefill_lookup_id, filled, payload)
        return payload
