"""Messages the app's workers post back to the event loop (probe, sync, queue counts)."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class Connectivity(Message):
    """The probe's finding: ``online`` is None when no portal is configured."""

    def __init__(self, online: bool | None) -> None:
        super().__init__()
        self.online = online


class SyncFinished(Message):
    """A sync run ended; ``error`` is a short reason when it failed."""

    def __init__(self, report: Any = None, error: str | None = None) -> None:
        super().__init__()
        self.report = report
        self.error = error


class QueueChanged(Message):
    """Counts of the outbox by state."""

    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__()
        self.counts = counts


class StatusesPulled(Message):
    """The background status pull ended: how many changes, or why it failed."""

    def __init__(self, count: int = 0, error: str | None = None) -> None:
        super().__init__()
        self.count = count
        self.error = error
