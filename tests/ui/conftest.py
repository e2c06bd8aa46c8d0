"""UI test fixtures: a kiosk app over a real store in a temp dir, a fixed clock, and a
silent speech stand-in that records what would have been said.

Only the speech is stood in for (audio cannot be heard in a test); the store, the
catalog, the form engine and the operators module are the real ones.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kiosk.config import KioskConfig
from screens.app import KioskApp
from screens.clock import FakeClock

FIXED_NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


class SilentSpeech:
    """Speech stand-in for UI tests: records (text, lang, kind) instead of playing."""

    def __init__(self) -> None:
        self.said: list[tuple[str, str, str]] = []
        self.private: list[str] = []  # the texts spoken with private=True
        self.muted = False
        self.closed = False

    @property
    def status(self) -> str:
        return "muted" if self.muted else "ok"

    def speak(self, text: str, lang: str, kind: str = "text", *, private: bool = False) -> None:
        if not self.muted:
            self.said.append((text, lang, kind))
            if private:
                self.private.append(text)

    def stop(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def texts(self) -> list[str]:
        return [text for text, _lang, _kind in self.said]


@pytest.fixture
def speech() -> SilentSpeech:
    return SilentSpeech()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(FIXED_NOW)


MakeApp = Callable[..., KioskApp]


@pytest.fixture
def make_app(data_dir: Path, speech: SilentSpeech, clock: FakeClock) -> MakeApp:
    """``make_app(mode="citizen", **kw)``: a KioskApp with no background probe."""

    def make(**kw: Any) -> KioskApp:
        options: dict[str, Any] = {"probe_interval": None, "animations": False}
        options.update(kw)
        fakes = {"speech": options.pop("speech", speech), "clock": options.pop("clock", clock)}
        return KioskApp(KioskConfig(data_dir, **options), **fakes)

    return make
