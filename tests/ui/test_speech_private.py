"""No personal answer in the speech cache: the read-back (and every prompt holding an
answer) is spoken privately, its file gone after the idle wipe and after exit.

The real speech service (espeak-ng) and a real null-sink player process: the WAV is
really synthesised and played; the test then looks at what is left on disk.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.catalog import load_sample
from kiosk.speech import SpeechService
from kiosk.speech.player import NULL_SINK_COMMAND
from screens.receipt import ReceiptScreen
from screens.review import ReviewScreen
from tests.ui.driver import choose_language, choose_service, fill_form, ready

FORM = "criminal_record_certificate"
MARKER_NAME = "Markerova Zulfiya Qwertyevna"
MARKER_PINFL = "31405902620419"


async def until(predicate: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Poll (yielding to the app) until ``predicate`` holds; generous, not a budget."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.02)
    return predicate()


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")
async def test_read_back_is_never_cached_and_gone_after_wipe_and_exit(
    make_app, clock, data_dir: Path
) -> None:
    service = SpeechService(data_dir / "speech", player=list(NULL_SINK_COMMAND))
    assert service.wait_ready() == "ok", service.problem
    app = make_app(speech=service, idle_timeout=120, idle_warning=30)
    sample = {**load_sample(FORM), "full_name": MARKER_NAME, "pinfl": MARKER_PINFL}
    lang = "uz_Latn"
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await choose_language(pilot, lang, "keyboard")
        await choose_service(pilot, FORM, "keyboard")
        await fill_form(pilot, sample, "keyboard")
        assert isinstance(app.screen, ReviewScreen)
        assert app.visit is not None
        items = app.visit.session.review()
        read_back = ". ".join(f"{item.label}: {item.display}" for item in items)
        assert MARKER_NAME in read_back and MARKER_PINFL in read_back
        key = service._key(service._prepare(read_back, lang, "text"), lang)

        # The read-back is synthesised and playing, from a private 0600 file.
        assert await until(
            lambda: service.player_pid is not None and bool(files_under(service.private_dir))
        )
        (private_wav,) = files_under(service.private_dir)
        assert private_wav.stat().st_mode & 0o777 == 0o600
        assert key not in private_wav.name
        assert not service.is_cached(read_back, lang)

        clock.advance(121)  # the idle wipe
        await app.check_idle_timeout()
        await pilot.pause()
        assert app.visit is None
        # Its playback was stopped (the player may now greet the next person) and the
        # file removed, at once: not when the read-back would have ended.
        assert not private_wav.exists()
        assert not files_under(service.private_dir)
    # The app has exited and closed the service.
    speech_dir = data_dir / "speech"
    assert service.cache.lookup(key) is None
    assert not list(speech_dir.rglob(f"{key}*"))
    assert not files_under(service.private_dir)
    assert not list(speech_dir.rglob("*.tmp"))
    for path in files_under(speech_dir):  # the engine log, say, must not quote it either
        data = path.read_bytes()
        for marker in (MARKER_NAME, MARKER_PINFL):
            for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
                assert marker.encode(encoding) not in data, (path, marker, encoding)


async def test_prompts_holding_answers_are_spoken_privately(make_app, speech) -> None:
    """The stand-in records ``private``: read-back, errors, the receipt's code."""
    app = make_app()
    sample = {**load_sample(FORM), "full_name": MARKER_NAME, "pinfl": MARKER_PINFL}
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await choose_language(pilot, "ru", "keyboard")
        await choose_service(pilot, FORM, "keyboard")
        await fill_form(pilot, sample, "keyboard")
        assert isinstance(app.screen, ReviewScreen)
        read_back = [t for t in speech.texts() if MARKER_PINFL in t]
        assert read_back and all(t in speech.private for t in read_back)
        # Every other prompt so far was public: no answer in any of them.
        assert all(MARKER_NAME not in t for t in speech.texts() if t not in speech.private)
        await pilot.press("enter")  # submit
        await pilot.pause()
        assert isinstance(app.screen, ReceiptScreen)
        from kiosk.speech.prepare import code_prompt

        spelled = code_prompt(app.screen.receipt.tracking_code, "ru")
        assert any(spelled in text for text in speech.private)  # in the receipt's sentence
