"""One question per screen: label and hint large, the answer widget, progress, Back/Next.

The screen lives for the whole visit and redraws itself for each step, so Back and
Next never move. Every answer goes to ``FormSession.set`` and, at once, to the draft
(the store thread keeps the saves in order); a killed kiosk resumes from the draft.

A draft that cannot be saved (full disk, read-only database) does not stop the
citizen: the answers stay in the session, the failure is shown under the question
until a save succeeds again, and the next save writes the whole draft.

Keys come to this screen in order (``KeysInOrder``) and each is handled to the end,
a step change included, before the next: a burst typed by a fast operator or a
scanner (a PINFL and Enter) lands in the question it was meant for.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.events import Key
from textual.message import Message
from textual.widgets import Button, Input, Static

from kiosk.i18n import N_, tr
from screens.base import LATER_CSS, KeysInOrder, KioskScreen, type_into
from screens.spoken import sentences
from screens.visit import mentions_answers
from screens.widgets.answers import (
    AnswerWidget,
    ChoiceAnswer,
    ChoiceButton,
    RepeatPrompt,
    TextAnswer,
    answer_widget,
    live_format,
)
from screens.widgets.tr import TrButton

if TYPE_CHECKING:
    from kiosk.store import StoreError

logger = logging.getLogger(__name__)


class QuestionScreen(KeysInOrder, KioskScreen):
    """Steps through ``app.visit.session`` until the review."""

    CSS_PATH = LATER_CSS

    def __init__(self) -> None:
        super().__init__()
        self.error_ref: str | None = None
        self._resumed_once = False
        self._preview_text: str | None = None
        # The last draft save failed: shown under the question until one succeeds.
        self.store_error: StoreError | None = None
        self._store_error_unspoken = False
        self._code_unspoken = False  # the resume code, said again before the next prompt

    @property
    def session(self) -> Any:
        assert self.kiosk.visit is not None
        return self.kiosk.visit.session

    def body(self) -> ComposeResult:
        with Horizontal(id="q-top"):
            yield Static(id="q-form", markup=False)
            yield Static(id="q-progress", markup=False)
        # The question stays in view; only a long answer list scrolls.
        # The resume code, once the first answer is saved (kiosk/drafts.py).
        yield Static(id="q-code", markup=False)
        # An operator's fix of a rejected item: why the portal refused the old one.
        resubmit = Static(id="q-resubmit", markup=False)
        resubmit.display = False
        yield resubmit
        yield Static(id="q-label", markup=False)
        yield Static(id="q-hint", markup=False)
        # Once-only prefill: "From the registry" (or corrected) on a prefilled answer.
        yield Static(id="q-registry", markup=False)
        with VerticalScroll(id="q-body"):
            yield Vertical(id="q-answer")
            yield Static(id="q-preview", markup=False)
            yield Static(id="q-error", markup=False)
        # Four actions (a citizen's) take two rows on a narrow terminal (app.tcss).
        citizen = self.kiosk.mode == "citizen"
        with Horizontal(classes="nav -four" if citizen else "nav"):
            yield TrButton(N_("Back"), prefix="◀ ", id="back", classes="nav-back")
            yield TrButton(N_("Listen"), prefix="♪ ", id="listen", classes="nav-mid")
            if citizen:  # an operator's visit keeps no draft for later
                yield TrButton(N_("Save for later"), id="keep", classes="nav-mid")
            yield TrButton(
                N_("Next"), suffix=" ▶", id="next", classes="nav-next", variant="primary"
            )

    async def on_mount(self) -> None:
        await self.render_step()

    async def on_screen_resume(self) -> None:
        # Back from the review (Back or "change this answer"); the first resume is
        # the screen appearing, which on_mount has drawn already.
        if not self._resumed_once:
            self._resumed_once = True
            return
        if self.kiosk.visit is not None and not self.session.at_review:
            await self.render_step()

    # ----- drawing ---------------------------------------------------------------------

    async def render_step(self, speak: bool = True) -> None:
        """Draw the current step (or go to the review past the last one)."""
        session = self.session
        if session.at_review:
            await self.open_review()
            return
        step = session.current
        self.error_ref = None
        self.query_one("#q-error", Static).update("")
        self._show_store_error()
        container = self.query_one("#q-answer", Vertical)
        await container.remove_children()
        widget = answer_widget(step, session)
        await container.mount(widget)
        self.apply_lang(self.lang)
        # Focus now, not after a refresh: the next key must find the new step.
        if not widget.focus_first():
            self.set_focus(self.query_one("#next", Button))
        self.query_one("#q-body", VerticalScroll).scroll_home(animate=False)
        if speak:
            self.speak_prompt()

    def apply_lang(self, lang: str) -> None:
        visit = self.kiosk.visit
        if visit is None:
            return
        session = visit.session
        session.lang = lang
        self._show_code()
        if visit.resubmits:
            banner = self.query_one("#q-resubmit", Static)
            banner.display = True
            banner.update(
                Content(
                    tr(
                        lang,
                        "Replaces rejected {code}: {reason}",
                        code=visit.resubmits,
                        reason=visit.resubmit_reason,
                    )
                )
            )
        step = session.current
        if step is None:
            return
        index, total = session.progress()
        self.query_one("#q-form", Static).update(Content(visit.form.title(lang)))
        self.query_one("#q-progress", Static).update(Content(f"{index} / {total}"))
        label = self._label_text(step)
        if step.kind == "question" and step.question.required and step.question.is_input:
            label += " *"
        self.query_one("#q-label", Static).update(Content(label))
        hint = session.hint(step.ref) if step.kind == "question" else ""
        self.query_one("#q-hint", Static).update(Content(hint))
        self.query_one("#q-hint", Static).display = bool(hint)
        self._show_registry_mark()
        for widget in self.query(AnswerWidget):
            widget.relabel(lang)
        self._preview()
        if self.error_ref == step.ref:
            # The error stays beside the field, now in the new language.
            errors = session.set(step.ref, session.value(step.ref))
            self._show_errors(errors, speak=False)
        else:
            self._show_store_error()
        last = index == total
        next_label = N_("Check answers") if last else N_("Next")
        self.query_one("#next", TrButton).set_msg(next_label)

    def _registry_mark(self) -> str:
        visit = self.kiosk.visit
        step = self.session.current if visit is not None else None
        if visit is None or step is None or step.kind != "question":
            return ""
        return visit.registry_mark(step.ref, self.lang)

    def _show_registry_mark(self) -> None:
        mark = self._registry_mark()
        box = self.query_one("#q-registry", Static)
        box.update(Content("⎘ " + mark if mark else ""))
        box.display = bool(mark)

    def _label_text(self, step: Any) -> str:
        label = self.session.label(step.ref)
        if step.kind == "repeat_prompt":
            return tr(self.lang, "Add another: {label}?", label=label)
        instance = repeat_instance(self.session, step.ref)
        if instance is not None:
            # Which one of a repeat is on screen: the same label comes once per instance.
            repeat, n, total = instance
            return tr(
                self.lang,
                "{label} ({repeat} {n} of {total})",
                label=label,
                repeat=repeat.label(self.lang),
                n=n,
                total=total,
            )
        return label

    def _preview(self) -> None:
        """Live formatting of identifiers and the date as understood."""
        preview = self.query_one("#q-preview", Static)
        step = self.session.current
        text = ""
        if step is not None and step.kind == "question":
            q = step.question
            inputs = list(self.query("#answer-input").results(Input))
            raw = inputs[0].value if inputs else ""
            if q.kind and q.type == "text" and raw.strip():
                text = "→ " + live_format(q.kind, raw)
            elif q.type == "date" and raw.strip():
                text = _date_preview(self.session.value(step.ref), self.lang)
        if text != self._preview_text:  # unchanged: no relayout on every keystroke
            self._preview_text = text
            preview.update(Content(text))
            preview.display = bool(text)

    def _show_errors(self, errors: list[Any], speak: bool = True) -> None:
        box = self.query_one("#q-error", Static)
        if not errors:
            self.error_ref = None
            box.update("")
            box.remove_class("-shown")
            self._show_store_error()
            return
        self.error_ref = errors[0].field
        message = errors[0].message
        box.update(Content("⚠ " + message))
        box.add_class("-shown")
        box.scroll_visible(animate=False)
        if speak:
            # Private: a message names the field by its label, `${x}` filled in with
            # answers, and a form's constraint message can quote answers too.
            self.kiosk.say(message, private=True)

    def _show_code(self, speak: bool = False) -> None:
        """The resume code under the form's title, for the rest of the visit."""
        from kiosk.drafts import format_code
        from screens.resume import say_code

        visit = self.kiosk.visit
        code = visit.code if visit is not None else None
        box = self.query_one("#q-code", Static)
        if code is None:
            box.display = False
            return
        text = tr(self.lang, "Your code to continue later: {code}", code=format_code(code))
        box.update(Content(text))
        box.display = True
        if speak:
            say_code(self, code)

    def _show_store_error(self) -> None:
        """The failed draft save, where field errors go (a field error comes first)."""
        if self.store_error is None or self.error_ref is not None:
            return
        box = self.query_one("#q-error", Static)
        box.update(Content("⚠ " + self.store_error.message(self.lang)))
        box.add_class("-shown")

    def speak_prompt(self) -> None:
        step = self.session.current
        if step is None:
            return
        parts = [self._label_text(step)]
        if self.store_error is not None and self._store_error_unspoken:
            # One utterance: the prompt would cut off the failure spoken on its own.
            parts.insert(0, self.store_error.message(self.lang))
        self._store_error_unspoken = False
        from kiosk.drafts import code_sentence

        code = self.kiosk.visit.code if self.kiosk.visit is not None else None
        private = mentions_answers(step)
        if code is not None and self._code_unspoken:
            # Said when given, then once more before the next question (a prompt that
            # follows at once would cut it off). Private: the code opens the draft.
            parts.insert(0, code_sentence(self.lang, code))
            private = True
        self._code_unspoken = False
        hint = self.session.hint(step.ref) if step.kind == "question" else ""
        mark = self._registry_mark()
        if mark:  # said with the prompt; private: a correction names the registry's value
            private = True
        visit = self.kiosk.visit
        if visit is not None and visit.prefill_notice and not visit.prefill_notice_spoken:
            # Why nothing was filled, said once before the first question.
            visit.prefill_notice_spoken = True
            msgid, params = visit.prefill_notice
            parts.insert(0, tr(self.lang, msgid, **params))
        answer = self.current_answer()
        # The options with their numbers (and "0: More options" past nine).
        options = answer.spoken(self.lang) if answer is not None else ""
        self.kiosk.say(sentences(*parts, hint, mark or "", options), private=private)

    def speak_options(self) -> None:
        """After 0 numbered the next nine: those are heard with their numbers."""
        answer = self.current_answer()
        step = self.session.current
        if answer is not None and step is not None:
            self.kiosk.say(answer.spoken(self.lang), private=mentions_answers(step))

    # ----- answering ---------------------------------------------------------------------

    def current_answer(self) -> AnswerWidget | None:
        """The step's answer widget; None while a redraw has removed it."""
        answers = list(self.query_one("#q-answer", Vertical).query(AnswerWidget))
        return answers[0] if answers else None

    def _is_current(self, message: AnswerWidget.Answered | RepeatPrompt.Decided) -> bool:
        """From the widget of the step on screen (not one since replaced)."""
        step = self.session.current if self.kiosk.visit is not None else None
        return (
            step is not None and message.answer is self.current_answer() and message.ref == step.ref
        )

    async def on_answer_widget_answered(self, message: AnswerWidget.Answered) -> None:
        message.stop()
        if not self._is_current(message) or message.answer.is_stale(message):
            return
        step = self.session.current
        errors = self.session.set(step.ref, message.raw)
        for widget in self.query(AnswerWidget):
            widget.sync()
        if self.error_ref == step.ref:
            # Correcting an error: the message updates (or goes) as they type.
            self._show_errors(errors, speak=False)
        self._preview()
        self._show_registry_mark()
        await self.save_draft()
        if message.final:
            await self.go_next()
        elif step.question.type in ("select_one", "acknowledge") or (
            step.question.type == "rank" and not errors and message.raw
        ):
            # One choice made (or every option ranked): Enter now means Next.
            self.set_focus(self.query_one("#next", Button))

    async def on_repeat_prompt_decided(self, message: RepeatPrompt.Decided) -> None:
        message.stop()
        if not self._is_current(message):
            return
        step = self.session.current
        if message.add:
            parent, _, name = step.ref.rpartition("/")
            self.session.add_repeat(name.removesuffix("[#]"), parent)
            await self.save_draft()
            await self.render_step()
        else:
            await self.go_next()

    async def save_draft(self) -> bool:
        """Write the whole session to the draft; False when the store refused it."""
        from kiosk.store import Store, StoreError

        visit = self.kiosk.visit
        if visit is None:
            return False
        state = visit.session.draft_state()
        try:
            key = await visit.key()  # derived in a worker thread since the visit began
            saved = await self.kiosk.db.call(
                Store.save_draft,
                visit.draft_id,
                key,
                state["form_id"],
                state["form_version"],
                state["lang"],
                state["answers"],
                state["position"],
                operator_id=getattr(self.kiosk.operator, "id", None),
                now=self.kiosk.clock.now(),
                lifetime_hours=self.kiosk.config.draft_lifetime_hours,
            )
        except StoreError as exc:  # already shown and spoken by the app
            first = self.store_error is None
            self.store_error = exc
            self._store_error_unspoken = first
            self._show_store_error()
            return False
        visit.draft_id, new_code = saved.id, visit.slot != saved.slot
        visit.slot = saved.slot
        if new_code and self.kiosk.mode == "citizen":
            self._code_unspoken = True
            self._show_code(speak=True)
        if self.store_error is not None:
            self.store_error = None
            if self.error_ref is None:
                box = self.query_one("#q-error", Static)
                box.update("")
                box.remove_class("-shown")
        return True

    # ----- navigation ---------------------------------------------------------------------

    @on(Button.Pressed, "#next")
    async def go_next(self) -> None:
        visit = self.kiosk.visit
        if visit is None:
            return
        session = visit.session
        errors = session.next()
        if errors:
            self._show_errors(errors)
            return
        if visit.returning_to_review:
            # Back to the review, stopping at any step the change made newly required.
            while not session.at_review:
                errors = session.next()
                if errors:
                    break
        await self.save_draft()
        await self.render_step()
        if errors:
            self._show_errors(errors)

    @on(Button.Pressed, "#back")
    async def go_back(self) -> None:
        session = self.session
        index, _total = session.progress()
        if index <= 1:
            await self.leave()
            return
        session.back()
        await self.save_draft()
        await self.render_step()

    async def leave(self) -> None:
        """Back from the first question: the service list again, the draft dropped."""
        from kiosk.store import Store, StoreError

        visit = self.kiosk.visit
        self.kiosk.visit = None
        if visit is not None and visit.draft_id and not visit.keep_draft:
            try:
                await self.kiosk.db.call(Store.delete_draft, visit.draft_id)
            except StoreError:
                pass  # shown by the app; the draft stays, which loses nothing
        self.app.pop_screen()

    @on(Button.Pressed, "#listen")
    def _listen(self) -> None:
        self.speak_prompt()

    @on(Button.Pressed, "#keep")
    async def keep_for_later(self) -> None:
        """The citizen keeps the draft: it survives the idle wipe and is offered later."""
        visit = self.kiosk.visit
        if visit is None:
            return
        kept, visit.keep_draft = visit.keep_draft, True
        if not await self.save_draft() or visit.code is None:
            # Not saved: going home now would lose the answers. Stay; the error shows.
            visit.keep_draft = kept
            return
        # The code again, large and spoken; its Done goes home (the key forgotten).
        await self.app.push_screen(self.kiosk.new_screen("draft_saved", visit.code))

    async def open_review(self) -> None:
        visit = self.kiosk.visit
        if visit is not None:
            visit.returning_to_review = False
        await self.app.push_screen(self.kiosk.new_screen("review"))

    async def _deliver(self, message: Message | None) -> bool:
        """Handle an answer widget's message now, as if it had arrived."""
        if isinstance(message, AnswerWidget.Answered):
            await self.on_answer_widget_answered(message)
        elif isinstance(message, RepeatPrompt.Decided):
            await self.on_repeat_prompt_decided(message)
        else:
            return False
        return True

    async def handle_key(self, event: Key) -> bool:
        """Keys with a meaning here, each finished (step change included) in turn."""
        if self.kiosk.visit is None or self.session.at_review:
            return True  # leaving: nothing here to act on
        focused = self.focused
        answer = self.current_answer()
        key = event.key
        if key == "escape":  # Back, wherever the focus is (a text box too)
            await self.go_back()
            return True
        if isinstance(focused, Input):
            if key == "enter" and isinstance(answer, TextAnswer):
                await self._deliver(answer.submit())
                return True
            return False  # typed into the box, or its own editing keys
        if key == "0" and isinstance(answer, ChoiceAnswer):
            if answer.more():
                self.speak_options()
                return True
            return False
        if key.isdigit() and key != "0" and answer is not None:
            if await self._deliver(answer.pick(int(key))):
                return True
        if key in ("up", "down") and isinstance(answer, ChoiceAnswer):
            return answer.move(1 if key == "down" else -1)
        if isinstance(focused, ChoiceButton) and isinstance(answer, ChoiceAnswer):
            if key == "space" and focused.multiple:  # Space ticks or clears the box
                await self._deliver(answer.choose(focused))
                return True
            if key == "enter":
                # Enter means Next: in multiple choice it ticks nothing; in one choice
                # it takes the option the arrows are on (the one chosen, if any).
                if not focused.multiple and not focused.selected:
                    await self._deliver(answer.choose(focused))
                await self.go_next()
                return True
        if key == "enter" and isinstance(focused, Button):
            return await self._press(focused, answer)
        if key in ("enter", "right") and not isinstance(focused, Button):
            await self.go_next()
            return True
        if isinstance(answer, TextAnswer) and event.is_printable and event.character:
            # Typing anywhere goes into the answer box.
            box = answer.box
            self.set_focus(box)
            type_into(box, event.character)
            return True
        return False

    async def _press(self, button: Button, answer: AnswerWidget | None) -> bool:
        """Enter on a button, done now (a posted Pressed would let later keys overtake)."""
        if button.id == "next":
            await self.go_next()
        elif button.id == "back":
            await self.go_back()
        elif answer is not None and await self._deliver(answer.activate(button)):
            pass
        else:
            button.press()  # Listen, Save for later: nothing the next key depends on
        return True


def repeat_instance(session: Any, ref: str) -> tuple[Any, int, int] | None:
    """The innermost repeat a step is in: (its question, the instance's number from 1,
    how many there are now); None outside repeats. ``family[1]/member_name`` is the
    second of ``repeat_count("family")``."""
    parts = ref.split("/")
    for depth in range(len(parts) - 1, -1, -1):
        name, bracket, index = parts[depth].partition("[")
        if not bracket or not index.rstrip("]").isdigit():
            continue
        repeat = session.form.get(name)
        if repeat is None:
            return None
        count_ref = "/".join([*parts[:depth], name])
        n = int(index.rstrip("]")) + 1
        return repeat, n, max(n, session.repeat_count(count_ref))
    return None


def _date_preview(value: Any, lang: str) -> str:
    import datetime as dt

    if not isinstance(value, dt.date):
        return ""
    try:
        from kiosk.formatting import format_date

        return "→ " + format_date(value, lang)
    except Exception:  # formatting is a nicety, the answer stands
        logger.exception("date not formatted")
        return "→ " + value.isoformat()
