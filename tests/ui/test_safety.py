"""Kiosk safety in citizen mode: idle wipe (fake clock), no way out without the PIN."""

from __future__ import annotations

from kiosk.catalog import load_sample
from kiosk.store import Store
from screens.idle import IdleWarningScreen
from screens.operator_login import OperatorLoginScreen
from screens.question import QuestionScreen
from screens.resume import DraftSavedScreen
from screens.start import StartScreen, tool_keys
from tests.ui.driver import answer_step, choose_language, choose_service, click, ready

FORM = "criminal_record_certificate"


async def begin(pilot, lang: str = "ru") -> None:
    await ready(pilot)
    await choose_language(pilot, lang, "keyboard")
    await choose_service(pilot, FORM, "keyboard")
    await answer_step(pilot, load_sample(FORM), "keyboard")


async def test_idle_warning_then_wipe_discards_the_draft(make_app, clock, data_dir) -> None:
    app = make_app(idle_timeout=120, idle_warning=30)
    async with app.run_test(size=(80, 24)) as pilot:
        await begin(pilot)
        assert isinstance(app.screen, QuestionScreen)
        with Store.open(data_dir) as store:
            assert store.list_drafts() != []

        clock.advance(85)  # not yet
        await app.check_idle_timeout()
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen)

        clock.advance(10)  # 95 s: inside the 30 s warning
        await app.check_idle_timeout()
        await pilot.pause()
        warning = app.screen
        assert isinstance(warning, IdleWarningScreen)
        assert warning.remaining == 25
        assert "25" in str(warning.query_one("#idle-countdown").content)

        clock.advance(20)
        await app.check_idle_timeout()
        await pilot.pause()
        assert warning.remaining == 5

        clock.advance(5)  # 120 s: wiped
        await app.check_idle_timeout()
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        assert app.visit is None
        assert app.lang == app.home_lang
    with Store.open(data_dir) as store:
        assert store.list_drafts() == []


async def test_any_key_during_the_warning_keeps_the_session(make_app, clock) -> None:
    app = make_app(idle_timeout=120, idle_warning=30)
    async with app.run_test(size=(80, 24)) as pilot:
        await begin(pilot)
        clock.advance(100)
        await app.check_idle_timeout()
        await pilot.pause()
        assert isinstance(app.screen, IdleWarningScreen)
        await pilot.press("space")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen)
        clock.advance(60)  # the countdown started again from the key press
        await app.check_idle_timeout()
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen)
        assert app.visit is not None


async def test_kept_draft_survives_the_wipe(make_app, clock, data_dir) -> None:
    app = make_app(idle_timeout=120, idle_warning=30)
    async with app.run_test(size=(80, 24)) as pilot:
        await begin(pilot)
        await click(pilot, app.screen.query_one("#keep"))
        await pilot.pause()
        assert isinstance(app.screen, DraftSavedScreen)  # the code, large and spoken
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        clock.advance(500)
        await app.check_idle_timeout()
        await pilot.pause()
    with Store.open(data_dir) as store:
        (draft,) = store.list_drafts()
    assert draft["form_id"] == FORM


async def test_quit_keys_ask_for_the_operator_pin(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for key in ("ctrl+q", "ctrl+c"):
            await pilot.press(key)
            await pilot.pause()
            assert app.is_running
            assert isinstance(app.screen, OperatorLoginScreen)
            assert app.screen.purpose == "exit"
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, StartScreen)
        # No command palette in citizen mode.
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        assert app.is_running


async def test_exit_with_the_operator_pin(make_app, data_dir) -> None:
    from kiosk.operators import add_operator

    with Store.open(data_dir) as store:
        add_operator(store, "Dilnoza", "432165")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press(*"Dilnoza", "enter", *"111111", "enter")
        await pilot.pause()
        assert app.is_running  # wrong PIN: still here
        await pilot.press(*"432165", "enter")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_sound_indicator_mutes_and_unmutes(make_app, speech) -> None:
    app = make_app(lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        indicator = app.screen.query_one("#sb-speech")
        assert "Sound on" in str(indicator.content)
        await pilot.click("#sb-speech")
        await pilot.pause()
        assert speech.muted and app.speech_status == "muted"
        assert "Muted" in str(app.screen.query_one("#sb-speech").content)
        await pilot.press("f2")
        await pilot.pause()
        assert not speech.muted
        assert "Sound on" in str(app.screen.query_one("#sb-speech").content)


async def test_high_contrast_switch_on_the_start_screen(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert app.theme == "kiosk"
        await pilot.click("#toggle-contrast")
        await pilot.pause()
        assert app.theme == "kiosk-contrast"
        await pilot.press(tool_keys()[1])
        await pilot.pause()
        assert app.theme == "kiosk"


async def test_large_terminal_keeps_everything_on_screen(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await choose_language(pilot, "uz_Latn", "mouse")
        await choose_service(pilot, FORM, "mouse")
        screen = app.screen
        for selector in ("#q-label", "#back", "#next", "StatusBar", "LangBar"):
            widget = screen.query_one(selector)
            assert screen.region.contains_region(widget.region), selector
        assert screen.query_one("#next").region.right <= 160
