"""Drives the kiosk through a form as a person would: by keyboard or by mouse clicks.

The answers come from the form's bundled ``ID.sample.json``; dates are typed the way
people write them (DD.MM.YYYY), choices are picked by number key or by clicking.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets import Button, Input

from kiosk import languages
from screens.app import KioskApp
from screens.question import QuestionScreen
from screens.review import ReviewScreen
from screens.services import ServiceButton
from screens.widgets.answers import ChoiceButton

# "digits": number keys and Enter only (and the typed answers themselves): no Tab, no
# arrows, no other letters.
How = Literal["keyboard", "mouse", "digits"]

LANG_KEYS = {code: str(n) for n, code in enumerate(languages.citizen_codes(), start=1)}


def sample_value(sample: dict[str, Any], ref: str) -> Any:
    """The sample's answer at a step ref such as ``name`` or ``family[0]/member_name``."""
    node: Any = sample
    for part in ref.split("/"):
        name, _, index = part.partition("[")
        node = node.get(name) if isinstance(node, dict) else None
        if index and node is not None:
            i = int(index.rstrip("]"))
            node = node[i] if isinstance(node, list) and i < len(node) else None
    return node


def typed(value: Any, qtype: str) -> str:
    """The text a person types for a sample value."""
    if qtype == "date":
        return dt.date.fromisoformat(str(value)).strftime("%d.%m.%Y")
    return str(value)


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Key events for each character, through the driver like a terminal's input.

    Unlike ``pilot.press`` this does not wait for idle after every key (a person
    types faster than that), only once at the end; the events keep their order.
    """
    await send_keys(
        pilot, *[(_character_to_key(ch) if not ch.isalnum() else ch, ch) for ch in text]
    )


async def send_keys(pilot: Pilot[Any], *keys: str | tuple[str, str | None]) -> None:
    """Keys (names, or (name, character) pairs) sent in a burst, then one wait."""
    driver = pilot.app._driver
    assert driver is not None
    for item in keys:
        key, char = item if isinstance(item, tuple) else (item, None)
        event = events.Key(key, char)
        event.set_sender(pilot.app)
        driver.send_message(event)
    await pilot.pause()


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool], what: str = "") -> None:
    """Pause until ``condition()`` holds: a screen change that waits on the store thread
    (a draft save, a submit) may take more than one pause on a loaded machine. The
    deadline is generous and only guards against a hang; it never decides a result."""
    for _ in range(3000):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"still waiting for {what or condition}")


async def click(pilot: Pilot[Any], widget: Any) -> None:
    """Scroll the widget into view, then click it.

    A Button pressed moments ago (Next, from step to step) ignores clicks while it shows
    its press (Textual's ``-active``, a fifth of a second: a double click is not two
    presses); a person's next click comes later, so the test waits for it to pass.
    """
    widget.scroll_visible(animate=False, immediate=True)
    await pilot.pause()
    if isinstance(widget, Button):
        await wait_until(pilot, lambda: not widget.has_class("-active"), f"{widget!r} released")
    assert await pilot.click(widget), f"click on {widget!r} missed"


async def ready(pilot: Pilot[Any]) -> None:
    """Wait until the app has warmed up (store, catalog, resume offer) and settled."""
    await pilot.app.ready.wait()  # type: ignore[attr-defined]
    await pilot.pause()


async def choose_language(pilot: Pilot[Any], lang: str, how: How) -> None:
    if how == "keyboard":
        await pilot.press(LANG_KEYS[lang])
    else:
        await pilot.click(f"#choose-{lang}")
    await pilot.pause()


async def switch_language(pilot: Pilot[Any], lang: str) -> None:
    """F5 until ``lang`` is the app's language (F5 steps through the citizen languages)."""
    for _ in languages.citizen_codes():
        if pilot.app.lang == lang:  # type: ignore[attr-defined]
            return
        await pilot.press("f5")
    assert pilot.app.lang == lang  # type: ignore[attr-defined]


async def choose_service(pilot: Pilot[Any], form_id: str, how: How) -> None:
    """Turn the pages (0, or "More") until the service shows, then choose it."""
    app = pilot.app
    for _ in range(20):
        buttons = list(app.screen.query(f"#svc-{form_id}").results(ServiceButton))
        if buttons:
            break
        if how == "mouse":
            await click(pilot, app.screen.query_one("#more", Button))
        else:
            await pilot.press("0")
        await pilot.pause()
    button = buttons[0]
    if how != "mouse" and button.number is not None and button.number < 10:
        await pilot.press(str(button.number))
    else:
        await click(pilot, button)
    await pilot.pause()


async def answer_step(pilot: Pilot[Any], sample: dict[str, Any], how: How) -> None:
    """Answer the current step from the sample and go on to the next one."""
    app = pilot.app
    assert isinstance(app, KioskApp) and app.visit is not None
    screen = app.screen
    assert isinstance(screen, QuestionScreen), screen
    session = app.visit.session
    step = session.current
    q = step.question
    if step.kind == "repeat_prompt":
        # Add instances until the sample's list is matched, then go on.
        name = step.ref.rpartition("/")[2].removesuffix("[#]")
        have = len(session.value(step.ref.removesuffix("[#]")) or [])
        want = len(sample_value(sample, step.ref.removesuffix("[#]")) or [])
        if how == "mouse":
            await click(pilot, screen.query_one("#repeat-yes" if have < want else "#repeat-no"))
        else:
            await pilot.press("1" if have < want else "2")
        assert name
        return
    value = sample_value(sample, step.ref)
    if q.type in ("select_one", "select_multiple") and value is not None:
        wanted = value if isinstance(value, list) else [value]
        buttons = list(screen.query(ChoiceButton))
        for name in wanted:
            button = next(b for b in buttons if b.choice.name == name)
            if how == "digits":
                for _ in range(len(buttons)):  # 0 numbers the next nine options
                    if button.number is not None:
                        break
                    await pilot.press("0")
            if how == "mouse":
                await click(pilot, button)
            elif button.number is not None:
                await pilot.press(str(button.number))
            else:
                # Enter on an option takes it and goes on (Enter means Next).
                await send_keys(pilot, *["down"] * buttons.index(button), "enter")
                return
        await next_step(pilot, how)
    elif q.type == "acknowledge" and value is not None:
        if how == "mouse":
            await click(pilot, screen.query_one("#ack", Button))
        else:
            await pilot.press("1")
        await next_step(pilot, how)
    elif q.type in ("text", "integer", "decimal", "date") and value is not None:
        box = screen.query_one("#answer-input", Input)
        if how == "mouse":
            await click(pilot, box)
        text = typed(value, q.type)
        if box.value and box.value != text:
            if how == "mouse":  # "✕ Clear", a click
                await click(pilot, screen.query_one("#answer-clear", Button))
            elif box.selection.is_empty:  # an answer given before: cleared as a person would
                await pilot.press("home", "ctrl+k")
            # else a form's default, selected: the first key typed replaces it
        if box.value != text:
            await type_text(pilot, text)
        if how == "mouse":
            await next_step(pilot, how)
        else:
            await pilot.press("enter")
    else:
        await next_step(pilot, how)


async def next_step(pilot: Pilot[Any], how: How) -> None:
    if how == "mouse":
        await click(pilot, pilot.app.screen.query_one("#next", Button))
    elif how == "digits":
        await pilot.press("enter")  # Enter means Next, whatever has the focus
    else:
        focused = pilot.app.focused
        # Tab from the options on to Next: a long list (14 regions) takes more than a
        # dozen when the focus is back on its first option after a redraw.
        for _ in range(len(pilot.app.screen.query(ChoiceButton)) + 12):
            if isinstance(focused, Button) and focused.id == "next":
                break
            await pilot.press("tab")
            focused = pilot.app.focused
        assert isinstance(focused, Button) and focused.id == "next", focused
        await pilot.press("enter")
    await pilot.pause()


def drawn(screen: Any) -> bool:
    """The step the session is at has its answer widget on screen (the session moves
    on before the draft save and the redraw, which wait on the store thread)."""
    if not isinstance(screen, QuestionScreen):
        return True
    if screen.kiosk.visit is None or screen.session.at_review:
        return True
    answer = screen.current_answer()
    return answer is not None and answer.step.ref == screen.session.current.ref


async def fill_form(pilot: Pilot[Any], sample: dict[str, Any], how: How, limit: int = 200) -> None:
    """Answer every step until the review screen shows."""
    for _ in range(limit):
        screen = pilot.app.screen
        if isinstance(screen, ReviewScreen):
            return
        assert isinstance(screen, QuestionScreen), screen
        await wait_until(pilot, lambda s=screen: drawn(s), "the step drawn")
        before = screen.session.current.ref
        await answer_step(pilot, sample, how)

        def moved_or_refused(was: QuestionScreen = screen, before: str = before) -> bool:
            now = pilot.app.screen
            if now is not was or not isinstance(now, QuestionScreen):
                return True
            if now.session.current.ref == before:
                return bool(str(now.query_one("#q-error").render()))
            return drawn(now)

        await wait_until(pilot, moved_or_refused, f"the step after {before!r}")
        screen = pilot.app.screen
        if isinstance(screen, QuestionScreen) and screen.session.current.ref == before:
            error = screen.query_one("#q-error").render()
            raise AssertionError(f"stuck at {before!r}: {error}")
    raise AssertionError("the form did not reach the review")
