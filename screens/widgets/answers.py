"""Answer widgets for one question, chosen by the question's type, plus live formatting.

Each widget reports the raw answer with an ``AnswerWidget.Answered`` message; the
question screen hands it to ``FormSession.set`` (which parses and normalises it).
A message names the widget (and its step) it came from: one that arrives after the
step has changed is dropped rather than stored into the next question.

Keys reach the question screen, not these widgets (``screens.base.KeysInOrder``): the
screen asks a widget what a number key or Enter means (``pick``, ``activate``) and
handles the resulting message at once, before the next key.
"""

from __future__ import annotations

import re
from typing import Any

from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.content import Content
from textual.events import DescendantFocus
from textual.message import Message
from textual.widgets import Button, Input, Static
from textual.widgets.input import Selection

from kiosk.formatting import date_pattern
from kiosk.i18n import N_, tr
from kiosk.validators import passport_latin
from screens.spoken import MORE_OPTIONS, more_options, numbered
from screens.widgets.textbox import TextBox
from screens.widgets.tr import TrButton

_STORED_TIME = re.compile(r"\d{2}:\d{2}:\d{2}")
_STORED_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
KEYS = 9  # options with a number key at a time (1-9; 0 numbers the next ones)

# Which characters each kind of field lets through; the engine does the real checks.
_RESTRICT = {
    "pinfl": r"[0-9 ]*",
    "phone": r"[0-9+ ()\-]*",
    "passport": r"[A-Za-zА-Яа-яЎўҚқҒғҲҳЁё0-9 ]*",
    "integer": r"-?[0-9 ]*",
    "decimal": r"-?[0-9 ]*[.,]?[0-9]*",
    "date": r"[0-9./\- ]*",
    "card": r"[0-9 \-]*",
    "time": r"[0-9:. ]*",
    "dateTime": r"[0-9./\-: T]*",
    "range": r"-?[0-9 ]*[.,]?[0-9]*",
}
_MAX_LENGTH = {
    "pinfl": 20,
    "phone": 20,
    "passport": 12,
    "date": 10,
    "card": 23,
    "time": 8,
    "dateTime": 19,
}
_PLACEHOLDER = {
    "pinfl": "_ ______ ___ ___ _",
    "phone": "+998 __ ___ __ __",
    "passport": "AA 1234567",
    "card": "8600 ____ ____ ____",
    "time": "__:__",
}


def live_format(kind: str | None, text: str) -> str:
    """How a PINFL, phone or passport number looks once typed, grouped for reading back."""
    if kind == "pinfl":
        digits = re.sub(r"\D", "", text)[:14]
        groups, start = [], 0
        for size in (1, 6, 3, 3, 1):
            if start < len(digits):
                groups.append(digits[start : start + size])
            start += size
        return " ".join(groups)
    if kind == "phone":
        digits = re.sub(r"\D", "", text)
        if len(digits) == 9:
            digits = "998" + digits
        if not digits.startswith("998"):
            return text.strip()
        rest = digits[3:12]
        parts = [rest[0:2], rest[2:5], rest[5:7], rest[7:9]]
        return " ".join(["+998", *[p for p in parts if p]])
    if kind == "passport":
        # As the engine reads it: a Cyrillic series shows in the Latin it is taken as.
        clean = passport_latin(text)
        return f"{clean[:2]} {clean[2:]}".strip()
    if kind == "card":
        digits = re.sub(r"\D", "", text)[:16]
        return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))
    return text


def placeholder(key: str, lang: str, bounds: tuple[float, float, float] | None = None) -> str:
    """The answer box's placeholder: an identifier's shape, a date's order in ``lang``,
    a range's ends."""
    if key == "date":
        return date_pattern(lang)
    if key == "dateTime":
        return f"{date_pattern(lang)} __:__"
    if key == "range" and bounds is not None:
        start, end, _ = (_number(b) for b in bounds)
        return f"{start} … {end}"
    return _PLACEHOLDER.get(key, "")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class AnswerWidget(Vertical):
    """Base of the answer widgets; ``value`` is what the session holds now."""

    class Answered(Message):
        def __init__(self, answer: AnswerWidget, raw: Any, final: bool = False) -> None:
            super().__init__()
            self.answer = answer  # the widget, so a late message can be told apart
            self.ref = answer.step.ref
            self.raw = raw
            self.final = final  # Enter pressed / a choice made: the citizen is done

    def __init__(self, step: Any, session: Any, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="answer")
        self.step = step
        self.session = session

    def relabel(self, lang: str) -> None:
        """Choice labels follow the language; typed input is left alone."""

    def spoken(self, lang: str) -> str:
        """What the widget offers, for the ear (the options with their numbers)."""
        return ""

    def sync(self) -> None:
        """Show the session's current value (called once the screen has stored it)."""

    def focus_first(self) -> bool:
        """Focus the first control now (not after a refresh); False when there is none."""
        focusable = [w for w in self.query("*") if w.can_focus]
        if focusable:
            self.screen.set_focus(focusable[0])
            return True
        return False

    def pick(self, number: int) -> Message | None:
        """Number keys: the message choosing the n-th option; None when there is none."""
        return None

    def activate(self, button: Button) -> Message | None:
        """The message for pressing one of this widget's buttons (Enter or a click)."""
        return None

    def is_stale(self, message: AnswerWidget.Answered) -> bool:
        """True for a message that a newer state of this widget has overtaken."""
        return False

    def on_button_pressed(self, event: Button.Pressed) -> None:
        message = self.activate(event.button)
        if message is not None:
            event.stop()
            self.post_message(message)


class TextAnswer(AnswerWidget):
    """Typed answers: text, numbers, dates and the Uzbek identifiers.

    Beside the box, while it holds something, "✕ Clear": a click empties it (a default
    answer or a mistake goes without a key). A form's default answer, untouched, is
    selected when drawn: the first key typed replaces it, so nobody has to rub it out.
    """

    CLEAR = N_("Clear")

    def compose(self) -> ComposeResult:
        q = self.step.question
        key = q.kind or q.type
        value = self.session.value(self.step.ref)
        text = "" if value is None else _as_text(value)
        with Horizontal(classes="answer-row"):
            yield TextBox(
                value=text,
                restrict=_RESTRICT.get(key),
                max_length=_MAX_LENGTH.get(key, 0),
                placeholder=placeholder(key, self.session.lang, q.bounds),
                id="answer-input",
            )
            clear = TrButton(self.CLEAR, prefix="✕ ", id="answer-clear")
            clear.display = bool(text)
            yield clear

    def _is_default(self) -> bool:
        q = self.step.question
        value = self.box.value
        return bool(value) and not q.default_is_expression and value == (q.default or "")

    def focus_first(self) -> bool:
        box = self.box
        self.screen.set_focus(box)
        if self._is_default():
            box.selection = Selection(0, len(box.value))  # typing replaces the default
        return True

    @property
    def box(self) -> Input:
        return self.query_one("#answer-input", Input)

    def relabel(self, lang: str) -> None:
        """The placeholder follows the language (a date's order is spelt in it)."""
        q = self.step.question
        self.box.placeholder = placeholder(q.kind or q.type, lang, q.bounds)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one("#answer-clear", Button).display = bool(event.value)
        self.post_message(self.Answered(self, event.value))

    def activate(self, button: Button) -> Message | None:
        """ "✕ Clear": the box emptied, the focus back in it for what comes next."""
        if button.id != "answer-clear":
            return None
        box = self.box
        box.value = ""
        button.display = False
        self.screen.set_focus(box)
        return self.Answered(self, "")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Answered(self, event.value, final=True))

    def submit(self) -> AnswerWidget.Answered:
        """Enter: what the box shows now is the answer, and the citizen is done."""
        return self.Answered(self, self.box.value, final=True)

    def is_stale(self, message: AnswerWidget.Answered) -> bool:
        # Typing in a burst: the box has moved on (and its own message follows).
        return not message.final and message.raw != self.box.value


class ChoiceButton(Button):
    def __init__(self, choice: Any, number: int, multiple: bool) -> None:
        super().__init__(Content(""), classes="choice big")
        self.choice = choice
        self.position = number  # 1.. in the list
        self.number: int | None = number if number < 10 else None  # its key now, if any
        self.multiple = multiple
        self.selected = False
        self.rank: int | None = None  # its place in a rank question's order
        self.ranking = False

    def relabel(self, lang: str) -> None:
        if self.ranking:
            mark = f"[{self.rank}]" if self.rank is not None else "[ ]"
        elif self.multiple:
            mark = "☑" if self.selected else "☐"
        else:
            mark = "●" if self.selected else "○"
        number = f"{self.number}  " if self.number is not None else ""
        self.label = Content(f"{number}{mark} {self.choice.label(lang)}")
        self.set_class(self.selected, "-selected")


class ChoiceAnswer(AnswerWidget):
    """select_one and select_multiple: big buttons, number keys 1-9.

    A list longer than nine numbers nine options at a time; 0 numbers the next nine
    (and after the last, the first nine again), so every option has a number key."""

    _cursor: int | None = None  # index of the option that has (or is getting) the focus
    _window = 0  # the index of the option numbered 1

    def compose(self) -> ComposeResult:
        multiple = self.step.question.type == "select_multiple"
        choices = self.session.choices(self.step.ref)
        with Grid(classes="choices -many" if len(choices) > 4 else "choices"):
            for n, choice in enumerate(choices, start=1):
                yield ChoiceButton(choice, n, multiple)
        if len(choices) > KEYS:
            yield Static(Content(""), id="choice-more", markup=False)

    def more(self) -> bool:
        """Key 0: number the next nine options, and bring the first of them into view."""
        buttons = list(self.query(ChoiceButton))
        if len(buttons) <= KEYS:
            return False
        self._window = self._window + KEYS if self._window + KEYS < len(buttons) else 0
        for index, button in enumerate(buttons):
            inside = self._window <= index < self._window + KEYS
            button.number = index - self._window + 1 if inside else None
        self.relabel(self.session.lang)
        self._cursor = self._window
        self.screen.set_focus(buttons[self._window])
        buttons[self._window].scroll_visible(animate=False, top=True)
        return True

    def on_mount(self) -> None:
        self._mark()

    def _selected(self) -> set[str]:
        value = self.session.value(self.step.ref)
        if value is None:
            return set()
        if isinstance(value, list):
            return set(value)
        if isinstance(value, str) and self.step.question.type == "select_multiple":
            return set(value.split())
        return {str(value)}

    def _mark(self) -> None:
        chosen = self._selected()
        lang = self.session.lang
        for button in self.query(ChoiceButton):
            button.selected = button.choice.name in chosen
            button.relabel(lang)

    def relabel(self, lang: str) -> None:
        for button in self.query(ChoiceButton):
            button.relabel(lang)
        for hint in self.query("#choice-more").results(Static):
            hint.update(Content("0  " + tr(lang, MORE_OPTIONS)))

    def spoken(self, lang: str) -> str:
        """The options that have a number key now, with it; then "0: More options"."""
        buttons = list(self.query(ChoiceButton))
        keyed = [(b.number, b.choice.label(lang)) for b in buttons if b.number is not None]
        text = numbered(keyed)
        if len(buttons) > KEYS:
            text = f"{text} {more_options(lang)}"
        return text

    def focus_first(self) -> bool:
        buttons = list(self.query(ChoiceButton))
        chosen = [b for b in buttons if b.selected]
        target = next(iter(chosen or buttons), None)
        if target is None:
            return False
        self._cursor = buttons.index(target)
        self.screen.set_focus(target)
        return True

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        buttons = list(self.query(ChoiceButton))
        if event.widget in buttons:
            self._cursor = buttons.index(event.widget)

    def move(self, step: int) -> bool:
        """Up/down walk the options (lists longer than the nine number keys).

        The position is kept here rather than read back from the focus, so fast
        repeated keys each count; False at either end (or with nothing focused here).
        """
        buttons = list(self.query(ChoiceButton))
        if self._cursor is None or not buttons:
            return False
        index = self._cursor + step
        if not 0 <= index < len(buttons):
            return False
        self._cursor = index
        self.screen.set_focus(buttons[index])
        return True

    def activate(self, button: Button) -> Message | None:
        if isinstance(button, ChoiceButton):
            return self.choose(button)
        return None

    def pick(self, number: int) -> Message | None:
        for button in self.query(ChoiceButton):
            if button.number == number:
                self.screen.set_focus(button)
                return self.choose(button)
        return None

    def choose(self, button: ChoiceButton) -> AnswerWidget.Answered:
        if button.multiple:
            chosen = self._selected() ^ {button.choice.name}
            order = [b.choice.name for b in self.query(ChoiceButton)]
            raw: Any = [name for name in order if name in chosen]
        else:
            raw = button.choice.name
        return self.Answered(self, raw or None)

    def sync(self) -> None:
        self._mark()


class RankAnswer(ChoiceAnswer):
    """rank: put every option in order. Choosing an option (number key or click) gives
    it the next place; choosing a placed one takes it (and those after it) out again."""

    def on_mount(self) -> None:
        self._mark()

    def _order(self) -> list[str]:
        value = self.session.value(self.step.ref)
        if isinstance(value, list):
            return [str(v) for v in value]
        return value.split() if isinstance(value, str) else []

    def _mark(self) -> None:
        order = self._order()
        lang = self.session.lang
        for button in self.query(ChoiceButton):
            name = button.choice.name
            button.ranking = True
            button.rank = order.index(name) + 1 if name in order else None
            button.selected = button.rank is not None
            button.relabel(lang)

    def choose(self, button: ChoiceButton) -> AnswerWidget.Answered:
        order = self._order()
        name = button.choice.name
        order = order[: order.index(name)] if name in order else [*order, name]
        return self.Answered(self, order or None)


class AcknowledgeAnswer(AnswerWidget):
    """acknowledge: one button to confirm (pressing again withdraws it)."""

    def compose(self) -> ComposeResult:
        yield Button(Content(""), id="ack", classes="choice big")

    def on_mount(self) -> None:
        self.relabel(self.session.lang)

    def relabel(self, lang: str) -> None:
        done = self.session.value(self.step.ref) is not None
        button = self.query_one("#ack", Button)
        button.label = Content(("☑ " if done else "☐ ") + tr(lang, "I confirm"))
        button.set_class(done, "-selected")

    def spoken(self, lang: str) -> str:
        return numbered([(1, tr(lang, "I confirm"))])

    def pick(self, number: int) -> Message | None:
        return self._toggle() if number == 1 else None

    def activate(self, button: Button) -> Message | None:
        return self._toggle() if button.id == "ack" else None

    def _toggle(self) -> AnswerWidget.Answered:
        done = self.session.value(self.step.ref) is not None
        return self.Answered(self, None if done else "OK")

    def sync(self) -> None:
        self.relabel(self.session.lang)


class RepeatPrompt(AnswerWidget):
    """Ask whether to add another instance of a repeat: Yes / No."""

    class Decided(Message):
        def __init__(self, answer: RepeatPrompt, add: bool) -> None:
            super().__init__()
            self.answer = answer
            self.ref = answer.step.ref
            self.add = add

    def compose(self) -> ComposeResult:
        with Grid(classes="choices"):
            yield Button(Content(""), id="repeat-yes", classes="choice big")
            yield Button(Content(""), id="repeat-no", classes="choice big")

    def on_mount(self) -> None:
        self.relabel(self.session.lang)

    def relabel(self, lang: str) -> None:
        self.query_one("#repeat-yes", Button).label = Content("1  " + tr(lang, "Yes, add another"))
        self.query_one("#repeat-no", Button).label = Content("2  " + tr(lang, "No, continue"))

    def spoken(self, lang: str) -> str:
        return numbered([(1, tr(lang, "Yes, add another")), (2, tr(lang, "No, continue"))])

    def pick(self, number: int) -> Message | None:
        return self.Decided(self, number == 1) if number in (1, 2) else None

    def activate(self, button: Button) -> Message | None:
        if button.id in ("repeat-yes", "repeat-no"):
            return self.Decided(self, button.id == "repeat-yes")
        return None


class NoteAnswer(AnswerWidget):
    """A note has no answer: the label says it all."""


def answer_widget(step: Any, session: Any) -> AnswerWidget:
    """The widget suited to the step's question type."""
    q = step.question
    if step.kind == "repeat_prompt":
        return RepeatPrompt(step, session)
    if q.type in ("select_one", "select_multiple"):
        return ChoiceAnswer(step, session)
    if q.type == "rank":
        return RankAnswer(step, session)
    if q.type == "acknowledge":
        return AcknowledgeAnswer(step, session)
    typed = ("text", "integer", "decimal", "date", "time", "dateTime", "range")
    if q.type in typed and not q.read_only:
        return TextAnswer(step, session)
    return NoteAnswer(step, session)


def _as_text(value: Any) -> str:
    import datetime as dt

    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, str) and _STORED_TIME.fullmatch(value):
        return value[:5]  # 09:05:00 shows as typed: 09:05
    if isinstance(value, str) and _STORED_DATETIME.fullmatch(value):
        try:
            day = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
        return f"{day.strftime('%d.%m.%Y')} {value[11:16]}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
