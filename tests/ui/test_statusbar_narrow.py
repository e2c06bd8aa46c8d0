"""The status bar at 60 columns (issue 14): the sound indicator is never cut, in any
language and any state, however long the connection and sync texts are (they give
way, ending in "…"); in operator mode too, with the operator's name."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.widgets import Static

from kiosk import languages
from screens.widgets.statusbar import StatusBar
from tests.ui.driver import ready
from tests.ui.test_layout import drawn_text


@pytest.mark.parametrize("mode", ["citizen", "operator"])
@pytest.mark.parametrize("lang", languages.citizen_codes())
async def test_the_sound_text_is_whole_at_60_columns(make_app, lang, mode) -> None:
    app = make_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await ready(pilot)
        # The longest texts the other parts can show.
        app.lang = lang
        app.online = None  # "Not connected to a portal"
        app.sync_state = "error"  # "Sync failed"
        app.queued = 12345
        if mode == "operator":
            app.mode = "operator"
            app.rejected = 7
            app.operator_name = "Abdurahmonov Abdulaziz"
        for state in ("ok", "muted", "no-audio", "no-engine"):
            app.speech_status = state
            await pilot.pause()
            bar = app.screen.query_one(StatusBar)
            part = bar.query_one("#sb-speech", Static)
            want = str(part.render())
            assert want.strip(), state
            assert app.screen.region.contains_region(part.region), (state, part.region)
            shown = drawn_text(part)
            assert want in shown, (lang, state, want, shown)
            assert part.region.width >= cell_len(want), (lang, state, part.region)
            # The others give way but still say something.
            for name in ("#sb-net", "#sb-sync"):
                other = bar.query_one(name, Static)
                assert other.region.width >= 2 and drawn_text(other).strip(), name
