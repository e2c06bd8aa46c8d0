"""Keys and touch (issue 14, findings 1 and 8): search that keeps what is typed, digits that
always choose, Enter as Next and Space as tick on choice screens, Escape as Back, the
instance of a repeat on screen, and touch targets large enough for a finger."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Button, Input

from kiosk.catalog import load_sample
from kiosk.i18n import tr
from screens.question import QuestionScreen
from screens.services import ServicesScreen
from screens.start import StartScreen
from screens.widgets.answers import ChoiceButton
from tests.ui.driver import (
    answer_step,
    choose_language,
    choose_service,
    click,
    drawn,
    ready,
    send_keys,
    type_text,
    wait_until,
)

SOCIAL = "social_assistance"


async def to_services(pilot: Any, lang: str = "uz_Latn") -> ServicesScreen:
    await ready(pilot)
    await choose_language(pilot, lang, "keyboard")
    screen = pilot.app.screen
    assert isinstance(screen, ServicesScreen)
    return screen


def numbered(screen: ServicesScreen) -> dict[int, str]:
    from screens.services import ServiceButton

    return {b.number: b.form.id for b in screen.query(ServiceButton) if b.number is not None}


# ----- finding 1: search ---------------------------------------------------------------


async def test_letters_typed_fast_all_reach_the_search_box(make_app) -> None:
    """ "б", "о", "ғ" at a person's pace, then in one burst, from the service list: all
    stay (the box used to select everything as the focus arrived after the first
    letter, and the next letter replaced it)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_services(pilot, "uz_Cyrl")
        search = screen.query_one("#search", Input)
        assert app.focused is not search
        for letter in "боғ":
            await send_keys(pilot, (letter, letter))
            await pilot.pause()
        assert search.value == "боғ"
        search.value = ""
        app.set_focus(screen.query(Button).first())
        await pilot.pause()
        await send_keys(pilot, ("б", "б"), ("о", "о"), ("ғ", "ғ"))
        await pilot.pause()
        assert search.value == "боғ"


async def test_entering_the_search_box_keeps_its_text(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_services(pilot)
        search = screen.query_one("#search", Input)
        await type_text(pilot, "nafaqa")
        await pilot.pause()
        from screens.services import ServiceButton

        first = screen.query(ServiceButton).first()
        app.set_focus(first)  # away, and back by Tab
        await pilot.pause()
        for _ in range(3):
            if app.focused is search:
                break
            await pilot.press("shift+tab")
            await pilot.pause()
        assert app.focused is search
        assert search.value == "nafaqa"
        assert search.selection.is_empty
        await type_text(pilot, "x")
        assert search.value == "nafaqax"
        app.set_focus(first)  # and back by a click at its end
        await pilot.pause()
        await click(pilot, search)
        await pilot.pause()
        assert search.value == "nafaqax" and search.selection.is_empty


async def test_digits_choose_a_result_and_never_reach_the_search_box(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_services(pilot)
        search = screen.query_one("#search", Input)
        await type_text(pilot, "nafaqa")
        await pilot.pause()
        shown = numbered(screen)
        assert shown, "nafaqa finds services"
        assert app.focused is search  # the letters took the focus there
        await send_keys(pilot, "1")
        await wait_until(pilot, lambda: isinstance(app.screen, QuestionScreen), "the form")
        assert app.visit.form.id == shown[1]
        assert search.value == "nafaqa"


async def test_at_most_nine_numbered_and_zero_for_more(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_services(pilot)
        everything = [f.id for f in screen.forms]
        assert len(everything) > 9
        first = numbered(screen)
        assert sorted(first) == list(range(1, 10))
        await send_keys(pilot, "0")  # the next page
        await pilot.pause()
        second = numbered(screen)
        assert sorted(second) == list(range(1, len(everything) - 9 + 1))
        assert [first[n] for n in sorted(first)] + [second[n] for n in sorted(second)] == (
            everything
        )
        await send_keys(pilot, "0")  # and round to the first page again
        await pilot.pause()
        assert numbered(screen) == first
        await send_keys(pilot, "0", "1")
        await wait_until(pilot, lambda: isinstance(app.screen, QuestionScreen), "the form")
        assert app.visit.form.id == second[1]


async def test_escape_on_the_service_list_goes_back(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_services(pilot)
        await type_text(pilot, "pas")  # in the search box: Escape still means Back
        await send_keys(pilot, "escape")
        await pilot.pause()
        assert app.screen is not screen and isinstance(app.screen, StartScreen)


# ----- finding 8: multiple choice, Escape, repeats -------------------------------------


async def to_step(pilot: Any, form_id: str, ref: str, lang: str = "uz_Latn") -> None:
    await ready(pilot)
    await choose_language(pilot, lang, "keyboard")
    await choose_service(pilot, form_id, "keyboard")
    sample = load_sample(form_id)
    for _ in range(80):
        await wait_until(pilot, lambda: drawn(pilot.app.screen), "the step drawn")
        if pilot.app.visit.session.current.ref == ref:
            return
        before = pilot.app.visit.session.current.ref
        await answer_step(pilot, sample, "keyboard")

        def moved(before: str = before) -> bool:
            screen = pilot.app.screen
            if pilot.app.visit.session.current.ref == before:
                return False
            return not isinstance(screen, QuestionScreen) or drawn(screen)

        await wait_until(pilot, moved, f"past {before}")
    raise AssertionError(f"never reached {ref}")


async def test_multiple_choice_digits_and_space_tick_enter_goes_on(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_step(pilot, SOCIAL, "circumstances")
        session = app.visit.session
        await send_keys(pilot, "2", "3")  # number keys tick
        await pilot.pause()
        assert session.value("circumstances") == ["many_children", "single_parent"]
        focused = app.focused
        assert isinstance(focused, ChoiceButton) and focused.number == 3
        await send_keys(pilot, ("space", " "))  # Space toggles the focused box
        await pilot.pause()
        assert session.value("circumstances") == ["many_children"]
        await send_keys(pilot, ("space", " "))
        await send_keys(pilot, "up", ("space", " "))  # ...whichever box has the focus
        await pilot.pause()
        assert session.value("circumstances") == ["single_parent"]
        await send_keys(pilot, "enter")  # Enter is Next: nothing ticked by it
        await wait_until(pilot, lambda: session.current.ref != "circumstances", "the next step")
        assert session.value("circumstances") == ["single_parent"]


async def test_enter_on_one_choice_means_next(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_step(pilot, SOCIAL, "sex")
        session = app.visit.session
        await send_keys(pilot, "2", "enter")
        await wait_until(pilot, lambda: session.current.ref != "sex", "the next step")
        assert session.value("sex") == "female"


async def test_enter_on_an_option_the_arrows_reached_takes_it_and_goes_on(make_app) -> None:
    """One choice: Enter is Next, taking the option the arrows are on (it used to only
    mark it, and the citizen had to find Next)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_step(pilot, SOCIAL, "sex")
        session = app.visit.session
        assert isinstance(app.focused, ChoiceButton) and app.focused.choice.name == "male"
        await send_keys(pilot, "down", "enter")
        await wait_until(pilot, lambda: session.current.ref != "sex", "the next step")
        assert session.value("sex") == "female"


@pytest.mark.parametrize("ref", ["full_name", "pinfl", "sex"])
async def test_escape_means_back_even_in_a_text_box(make_app, ref) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_step(pilot, SOCIAL, ref)
        session = app.visit.session
        steps = [s.ref for s in session.steps()]
        if ref != "sex":
            assert isinstance(app.focused, Input)
        await send_keys(pilot, "escape")
        if ref == "full_name":  # the first question: back to the service list
            await wait_until(pilot, lambda: isinstance(app.screen, ServicesScreen), "services")
        else:
            want = steps[steps.index(ref) - 1]
            await wait_until(pilot, lambda: session.current.ref == want, "the step before")


@pytest.mark.parametrize("lang", ["uz_Latn", "uz_Cyrl", "ru"])
async def test_a_repeat_says_which_instance_is_on_screen(make_app, speech, lang) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_step(pilot, SOCIAL, "members[1]/member_name", lang)
        screen = app.screen
        assert isinstance(screen, QuestionScreen)
        form = app.visit.form
        label = str(screen.query_one("#q-label").content)
        said = tr(
            lang,
            "{label} ({repeat} {n} of {total})",
            label=form["member_name"].label(lang),
            repeat=form["members"].label(lang),
            n=2,
            total=2,
        )
        assert label.startswith(said), label
        assert "of" not in said  # translated
        assert any(said in text for text in speech.texts())  # and heard


async def test_zero_numbers_the_next_nine_options(make_app) -> None:
    """Fourteen regions: 1-9 choose among the first nine, 0 numbers the next ones."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_step(pilot, SOCIAL, "region")
        session = app.visit.session
        buttons = list(app.screen.query(ChoiceButton))
        assert len(buttons) > 9
        assert [b.number for b in buttons[:10]] == [*range(1, 10), None]
        await send_keys(pilot, "0")
        await pilot.pause()
        assert [b.number for b in buttons[9:]] == list(range(1, len(buttons) - 9 + 1))
        assert all(b.number is None for b in buttons[:9])
        assert buttons[9].label.plain.startswith("1  ")
        await send_keys(pilot, "5")
        await pilot.pause()
        assert session.value("region") == buttons[13].choice.name
        await send_keys(pilot, "0")  # after the last nine: the first nine again
        await pilot.pause()
        assert [b.number for b in buttons[:9]] == list(range(1, 10))
