"""Drafts belong to their citizen (issue 13), in Pilot tests: save, restart the app,
the start screen shows nothing of the previous citizen; three wrong codes lock the
draft (the message says so); past the lock (an injected clock) the right code resumes
the form with the answers restored."""

from __future__ import annotations

from typing import Any

from textual.widgets import Button, Input, Static

from kiosk.catalog import load_sample
from kiosk.drafts import spoken_code
from kiosk.store import Store
from screens.question import QuestionScreen
from screens.resume import DraftSavedScreen, ResumeScreen
from screens.start import StartScreen, resume_key
from tests.ui.driver import answer_step, choose_language, choose_service, ready, type_text

FORM = "criminal_record_certificate"
MARKER = "Zulfiyaxon Markerova Qodirovna"
PINFL = "31405902620419"


def screen_text(app: Any) -> str:
    """Everything the current screen shows, as text (labels, statics, buttons)."""
    parts = []
    for widget in app.screen.query("*"):
        if isinstance(widget, Button):
            parts.append(str(widget.label))
        elif isinstance(widget, Static):
            parts.append(str(widget.content))
        elif isinstance(widget, Input):
            parts.append(widget.value)
    return "\n".join(parts)


async def until(pilot: Any, condition: Any, what: str) -> None:
    """Poll (generous deadline, no timing assumption) until ``condition()`` holds."""
    for _ in range(600):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never: {what}")


async def answer_until(pilot: Any, ref: str, sample: dict[str, Any]) -> None:
    for _ in range(40):
        if pilot.app.visit.session.current.ref == ref:
            return
        await answer_step(pilot, sample, "keyboard")
    raise AssertionError(f"never reached {ref}")


async def try_code(pilot: Any, code: str) -> str:
    """Type a code on the resume screen; the message it gives (or '' when it opened)."""
    app = pilot.app
    screen = app.screen
    assert isinstance(screen, ResumeScreen)
    await type_text(pilot, code)
    await pilot.press("enter")
    await until(pilot, lambda: not screen.busy or app.screen is not screen, "the code checked")
    if app.screen is not screen:
        return ""
    return str(screen.query_one("#resume-result", Static).content)


async def test_save_restart_wrong_codes_lock_then_the_right_code_resumes(
    make_app, clock, speech, data_dir
) -> None:
    sample = dict(load_sample(FORM), full_name=MARKER, pinfl=PINFL)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await choose_language(pilot, "uz_Latn", "keyboard")
        await choose_service(pilot, FORM, "keyboard")
        await answer_until(pilot, "pinfl", sample)
        screen = app.screen
        assert isinstance(screen, QuestionScreen)
        # The code was given with the first answer: shown and spoken, privately.
        code = app.visit.code
        assert code is not None and len(code) == 12 and code.isdigit()
        shown = f"{code[:4]} {code[4:8]} {code[8:]}"
        assert shown in str(screen.query_one("#q-code", Static).content)
        assert any(spoken_code(code) in t for t in speech.private)
        assert not any(code in t for t, _, _ in speech.said)  # read digit by digit
        await answer_step(pilot, sample, "keyboard")  # the PINFL, saved too
        await pilot.click("#keep")
        await until(pilot, lambda: isinstance(app.screen, DraftSavedScreen), "saved screen")
        assert shown in screen_text(app)
        await pilot.press("enter")  # Done
        await until(pilot, lambda: isinstance(app.screen, StartScreen), "home")
        assert app.visit is None  # the key is forgotten with the visit

    again = make_app()
    async with again.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert isinstance(again.screen, StartScreen)  # no draft offered by itself
        text = screen_text(again)
        for secret in (MARKER, *MARKER.split(), PINFL, code, shown):
            assert secret not in text
        assert again.visit is None
        await pilot.press(resume_key())
        await pilot.pause()
        assert isinstance(again.screen, ResumeScreen)
        wrong = code[:2] + str((int(code[2:]) + 1) % 10**10).zfill(10)
        first = await try_code(pilot, wrong)
        assert "kod" in first.lower() and MARKER not in first
        await try_code(pilot, f"{wrong[:4]}-{wrong[4:8]}-{wrong[8:]}")
        locked = await try_code(pilot, wrong)
        assert "15" in locked, locked  # locked, and for how long
        with Store.open(data_dir) as store:
            actions = [r[0] for r in store.db.execute("SELECT action FROM audit")]
        assert "draft_locked" in actions
        # Locked: even the right code does not open it now.
        assert "15" in await try_code(pilot, code)
        clock.advance(15 * 60 + 1)
        assert await try_code(pilot, code) == ""
        await until(pilot, lambda: isinstance(again.screen, QuestionScreen), "resumed")
        session = again.visit.session
        assert session.value("full_name") == MARKER
        assert session.value("pinfl") == PINFL
        assert session.current.ref == "passport"
        assert again.visit.code == code  # the same code goes on sealing the draft


async def test_a_killed_kiosk_offers_nothing_and_the_code_resumes(make_app, data_dir) -> None:
    """A power cut: no Save for later, yet the next person sees no draft; its code
    (given with the first answer) resumes it where it stopped, in its language."""
    sample = load_sample(FORM)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await choose_language(pilot, "ru", "keyboard")
        await choose_service(pilot, FORM, "keyboard")
        await answer_until(pilot, "birth_date", sample)
        code = app.visit.code
    assert code is not None
    again = make_app()
    async with again.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert isinstance(again.screen, StartScreen)
        assert sample["full_name"] not in screen_text(again)
        await pilot.click("#to-resume")
        await pilot.pause()
        assert await try_code(pilot, " ".join([code[:4], code[4:8], code[8:]])) == ""
        await until(pilot, lambda: isinstance(again.screen, QuestionScreen), "resumed")
        assert again.lang == "ru"
        session = again.visit.session
        assert session.current.ref == "birth_date"
        assert session.value("full_name") == sample["full_name"]


async def test_a_malformed_code_is_explained(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press(resume_key())
        await pilot.pause()
        assert await try_code(pilot, "12345") != ""
        screen = app.screen
        assert isinstance(screen, ResumeScreen)
        assert "12" in str(screen.query_one("#resume-result", Static).content)
