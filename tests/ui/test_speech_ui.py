"""The app with the real speech service (espeak-ng here): started off the event loop
after the first screen, its state shown in the status bar, closed on exit."""

from __future__ import annotations

from kiosk.speech import SpeechService
from screens.widgets.statusbar import StatusBar
from tests.ui.driver import ready


async def test_real_speech_service_starts_behind_the_first_screen(make_app) -> None:
    app = make_app(speech=None, lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        service = app.speech
        assert isinstance(service, SpeechService)
        assert app.speech_status == service.status
        assert app.speech_status in {"ok", "muted", "no-engine", "no-audio"}
        shown = str(app.screen.query_one(StatusBar).query_one("#sb-speech").content)
        assert ("Sound on" in shown) == (service.status == "ok")
    # Closed with the app: no engine or player process left behind.
    assert service.player_pid is None
