"""Issue 14, finding 7: the sound indicator shows three states distinctly (on, muted,
no audio device), F2 changes it at once, and a missing device is found from the
speech service's own state (a playback that fails), not assumed."""

from __future__ import annotations

import sys

from screens.widgets.statusbar import StatusBar
from tests.ui.conftest import SilentSpeech
from tests.ui.driver import ready, wait_until


class NoDeviceSpeech(SilentSpeech):
    """The real service's order: a fault (no device) before the choice (muted)."""

    @property
    def status(self) -> str:
        return "no-audio"


def shown(app) -> str:
    return str(app.screen.query_one(StatusBar).query_one("#sb-speech").content)


async def test_three_states_and_f2_changes_the_indicator_at_once(make_app) -> None:
    app = make_app(lang="en", speech=NoDeviceSpeech())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        no_device = shown(app)
        assert "No audio device" in no_device
        await pilot.press("f2")
        muted = shown(app)
        assert "Muted" in muted and muted != no_device
        await pilot.press("f2")
        assert shown(app) == no_device


async def test_on_and_muted_are_distinct_and_translated(make_app) -> None:
    app = make_app(lang="ru")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        on = shown(app)
        await pilot.press("f2")
        muted = shown(app)
        assert on != muted
        for text in (on, muted):
            assert not any(word in text for word in ("Sound", "Muted", "device"))


async def test_a_failing_playback_shows_no_audio_device(make_app, tmp_path) -> None:
    """The real speech service with a player that passes the start-up probe but cannot
    play anything else (as when the device goes away): the indicator must say so."""
    script = tmp_path / "player.py"
    script.write_text("import sys\nsys.exit(0 if 'probe-' in sys.argv[-1] else 1)\n")
    app = make_app(speech=None, lang="en", speech_player=(sys.executable, str(script)))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await wait_until(pilot, lambda: app.speech is not None, "the speech service")
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: "Sound on" in shown(app), "the probe passed")
        app.say("Salom")
        await wait_until(pilot, lambda: "No audio device" in shown(app), "no device shown")
