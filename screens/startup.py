"""What `KioskApp` does behind its first screen, as functions that need no app state.

The first screen comes first (start-up budget: within 1.3x of a bare Textual app);
the rest waits until the process is idle (`until_idle`), then the later screens'
stylesheet is read (`read_later_css`) and the speech service opened on a worker
thread (`open_speech`). `portal_url` reads the enrolment on a worker's own
connection, for the probe. Kept apart from screens/app.py, which holds the app's
state and handlers and calls these in order (`KioskApp._warm_up`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App

from kiosk.config import KioskConfig
from screens.base import LATER_CSS

if TYPE_CHECKING:
    from kiosk.speech import SpeechService

logger = logging.getLogger(__name__)

# The warm-up waits for the first screen to settle: the process idle (using less than
# a quarter of the CPU) over one step, or at most IDLE_WAIT_MAX seconds.
IDLE_STEP = 0.02
IDLE_WAIT_MAX = 1.0


async def until_idle(step: float = IDLE_STEP, longest: float = IDLE_WAIT_MAX) -> None:
    """Return once the process has been idle over one ``step`` (or after ``longest``).

    Idle: its CPU time (all threads) grew by less than a quarter of the wall time.
    """
    deadline = time.monotonic() + longest
    while time.monotonic() < deadline:
        cpu = time.process_time()
        await asyncio.sleep(step)
        if time.process_time() - cpu < step / 4:
            return


def read_later_css(app: App[Any]) -> None:
    """The later screens' stylesheet, parsed now rather than when one is first pushed
    (as Textual does for a screen's CSS_PATH: the same steps, so whichever comes
    first reads it, once)."""
    if app.stylesheet.has_source(str(LATER_CSS), ""):
        return
    app.stylesheet.read(LATER_CSS)
    app.stylesheet.reparse()
    app.stylesheet.update(app)


def open_speech(config: KioskConfig) -> SpeechService | None:
    """The speech service (it spawns its engine process: call from a worker thread),
    or None when there is none: no speech is a state, never a crash."""
    try:
        from kiosk.speech import SpeechService

        return SpeechService(
            config.data_dir / "speech",
            engines=config.speech_engines,
            player=config.speech_player or None,
        )
    except Exception:  # no speech is a state, never a crash
        logger.warning("speech unavailable", exc_info=True)
        return None


def portal_url(data_dir: Path) -> tuple[str | None, tuple[str, ...]]:
    """The enrolled portal's URL and key pins, read from a worker thread on its own
    connection."""
    from kiosk.store import Store

    with Store.open(data_dir) as store:
        return store.state.portal_url, store.state.portal_pins
