"""Question screens: constraint errors, language switching, the review edit loop (resume by
code: tests/ui/test_resume_code.py)."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input, Static

from kiosk.catalog import load_sample
from kiosk.i18n import tr
from screens.question import QuestionScreen
from screens.review import ReviewRow, ReviewScreen
from tests.ui.driver import (
    answer_step,
    choose_language,
    choose_service,
    click,
    fill_form,
    ready,
    send_keys,
    switch_language,
    type_text,
    wait_until,
)

FORM = "criminal_record_certificate"


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


async def until(pilot: Any, ref: str, sample: dict[str, Any]) -> None:
    """Answer steps from the sample until the step ``ref`` is on screen."""
    for _ in range(40):
        if pilot.app.visit.session.current.ref == ref:
            return
        await answer_step(pilot, sample, "keyboard")
    raise AssertionError(f"never reached {ref}")


async def start_form(pilot: Any, lang: str = "uz_Latn") -> None:
    await ready(pilot)
    await choose_language(pilot, lang, "keyboard")
    await choose_service(pilot, FORM, "keyboard")


async def test_constraint_error_is_shown_spoken_and_corrected(make_app, speech) -> None:
    app = make_app()
    sample = load_sample(FORM)
    async with app.run_test(size=(80, 24)) as pilot:
        await start_form(pilot, "ru")
        await until(pilot, "copies", sample)
        screen = app.screen
        assert isinstance(screen, QuestionScreen)
        await send_keys(pilot, "home", "ctrl+k")
        await type_text(pilot, "9")
        await pilot.press("enter")
        # Still on the same question, the session's own message beside the field.
        assert app.visit.session.current.ref == "copies"
        error = text_of(screen, "#q-error")
        message = app.visit.session.set("copies", "9")[0].message
        assert message in error and message
        assert message in speech.texts()  # and spoken
        assert screen.query_one("#answer-input", Input).value == "9"
        # Correcting it: the error goes as soon as the answer is right.
        await send_keys(pilot, "backspace")
        await type_text(pilot, "2")
        assert text_of(screen, "#q-error") == ""
        await pilot.press("enter")
        assert app.visit.session.current.ref != "copies"
        assert app.visit.session.value("copies") == 2


async def test_required_answer_cannot_be_skipped(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await start_form(pilot)
        first = app.visit.session.current.ref
        await click(pilot, app.screen.query_one("#next"))
        await pilot.pause()
        assert app.visit.session.current.ref == first
        assert text_of(app.screen, "#q-error") != ""


async def test_language_switch_mid_form_keeps_answers(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await start_form(pilot, "uz_Latn")
        session = app.visit.session
        ref = session.current.ref
        q = session.current.question
        await type_text(pilot, "Karimov Jasur")
        latin_label = text_of(app.screen, "#q-label")
        assert q.label("uz_Latn") in latin_label
        await switch_language(pilot, "ru")  # F5, by keyboard
        assert app.lang == "ru"
        assert q.label("ru") in text_of(app.screen, "#q-label")
        assert app.screen.query_one("#answer-input", Input).value == "Karimov Jasur"
        assert app.screen.query_one("#next").label.plain == tr("ru", "Next") + " ▶"
        await pilot.click("#lang-uz_Cyrl")  # the language bar, by mouse
        await pilot.pause()
        assert app.lang == "uz_Cyrl"
        assert q.label("uz_Cyrl") in text_of(app.screen, "#q-label")
        assert session.value(ref) == "Karimov Jasur"
        assert session.current.ref == ref
        # Going on keeps working in the new language.
        await pilot.press("enter")
        assert session.current.ref != ref
        assert session.lang == "uz_Cyrl"


async def test_review_edit_loop_returns_to_review(make_app) -> None:
    app = make_app()
    sample = load_sample(FORM)
    async with app.run_test(size=(80, 24)) as pilot:
        await start_form(pilot)
        await fill_form(pilot, sample, "keyboard")
        review = app.screen
        assert isinstance(review, ReviewScreen)
        row = next(r for r in review.query(ReviewRow) if r.item.ref == "country")
        await click(pilot, row)
        await wait_until(pilot, lambda: isinstance(app.screen, QuestionScreen), "the question")
        assert app.visit.session.current.ref == "country"
        await send_keys(pilot, "home", "ctrl+k")
        await type_text(pilot, "Germaniya")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen), "the review")
        review = app.screen
        assert isinstance(review, ReviewScreen)
        shown = {r.item.ref: r.item.display for r in review.query(ReviewRow)}
        assert shown["country"] == "Germaniya"
        assert shown["full_name"] == sample["full_name"]


async def test_search_finds_services_in_any_script(make_app) -> None:
    from screens.services import ServiceButton

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await choose_language(pilot, "ru", "keyboard")
        found: dict[str, set[str]] = {}
        for query in ("sudlanmagan", "судланмаган", "несудимост"):
            search = app.screen.query_one("#search", Input)
            search.value = ""
            await pilot.pause()
            await type_text(pilot, query)  # letters go to the search box from anywhere
            await pilot.pause()
            found[query] = {b.form.id for b in app.screen.query(ServiceButton)}
        assert found["sudlanmagan"] == found["судланмаган"] == found["несудимост"] == {FORM}
        for query in ("pasport", "паспорт", "ПАСПОРТ"):
            search = app.screen.query_one("#search", Input)
            search.value = ""
            await pilot.pause()
            await type_text(pilot, query)
            await pilot.pause()
            found[query] = {b.form.id for b in app.screen.query(ServiceButton)}
        assert found["pasport"] and found["pasport"] == found["паспорт"] == found["ПАСПОРТ"]
        search.value = ""
        await type_text(pilot, "sudlanmagan")
        await pilot.pause()
        await pilot.press("enter")  # the one match opens
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen)


async def test_chosen_option_is_marked(make_app) -> None:
    from screens.widgets.answers import ChoiceButton

    app = make_app()
    sample = load_sample(FORM)
    async with app.run_test(size=(80, 24)) as pilot:
        await start_form(pilot)
        await until(pilot, "purpose", sample)
        await pilot.press("3")
        await pilot.pause()
        buttons = list(app.screen.query(ChoiceButton))
        marked = [b for b in buttons if b.has_class("-selected")]
        assert marked == [buttons[2]]
        assert "●" in buttons[2].label.plain and "○" in buttons[0].label.plain
        assert app.focused is app.screen.query_one("#next")  # Enter now goes on


async def test_review_follows_the_language(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await start_form(pilot, "uz_Latn")
        await fill_form(pilot, load_sample(FORM), "keyboard")
        review = app.screen
        assert isinstance(review, ReviewScreen)
        form = app.visit.form
        rows = {r.item.ref: r for r in review.query(ReviewRow)}
        assert form["purpose"].label("uz_Latn") in rows["purpose"].label.plain
        await switch_language(pilot, "ru")
        assert form["purpose"].label("ru") in rows["purpose"].label.plain
        assert str(review.query_one("#review-title").content) == tr("ru", "Check your answers")
        assert review.query_one("#submit").label.plain.startswith(tr("ru", "Submit"))


async def test_review_edit_that_opens_a_new_question_stops_there(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await start_form(pilot)
        await fill_form(pilot, load_sample(FORM), "keyboard")
        row = next(r for r in app.screen.query(ReviewRow) if r.item.ref == "name_changed")
        await click(pilot, row)
        await wait_until(pilot, lambda: isinstance(app.screen, QuestionScreen), "the question")
        await pilot.press("1")  # yes: now the previous name is required too
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: app.visit.session.current.ref == "previous_name",
            "the previous name's question",
        )
        assert isinstance(app.screen, QuestionScreen)
        assert text_of(app.screen, "#q-error") != ""  # required, and said so
        await type_text(pilot, "Karimova Jasura")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen), "the review")
        refs = [r.item.ref for r in app.screen.query(ReviewRow)]
        assert refs.index("previous_name") == refs.index("name_changed") + 1
