"""`FormSession`: a citizen filling one form, one question at a time.

A thin facade over the parts that do the work: `engine_model` (the answers tree and
its one walk), `engine_eval` (relevance, calculations, defaults, constraints),
`engine_nav` (steps and position), `engine_present` (labels and review),
`engine_check` (errors of an answer) and `engine_payload` (JSON out and back).
State is the answers dict plus a position (a step ref); everything else is derived
after every change, so a session is rebuilt exactly from `draft_state()`.
JSON answers from outside the UI are checked by `kiosk.engine_json.validate_answers`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Mapping

from kiosk.engine_check import Checker, FieldError
from kiosk.engine_eval import Evaluator
from kiosk.engine_model import Answers, locate, question_at
from kiosk.engine_nav import REVIEW, Navigator, Step
from kiosk.engine_payload import answers_from_json, payload
from kiosk.engine_present import Presenter, ReviewItem
from kiosk.engine_values import BadValue, parse_value, to_json
from kiosk.expr import ExplainedError
from kiosk.form import Choice, Form, Question
from kiosk.i18n import DEFAULT_LANG, LANGS, N_, check_lang

__all__ = ["REVIEW", "FieldError", "FormSession", "ReviewItem", "Step"]


class FormSession:
    """A citizen filling one form: answers, position, language."""

    def __init__(
        self,
        form: Form,
        answers: Answers | None = None,
        lang: str = "uz_Latn",
        position: str | None = None,
        today: dt.date | None = None,
        device_id: str | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        seed: int | None = None,
    ) -> None:
        self.form = form
        self._lang = check_lang(lang)
        self._clock = clock or (lambda: dt.datetime.now().astimezone())
        # random() draws from this seed: the same numbers when a draft is resumed.
        self.seed = seed if seed is not None else secrets.randbits(62)
        self._eval = Evaluator(form, answers if answers is not None else {}, today, self.seed)
        self._eval.lang = self._lang
        if answers is None:  # a new session; a given dict is used as is
            self._eval.apply_defaults(form.questions, self._eval.answers, ())
        self._fill_meta(device_id)
        self._nav = Navigator(self._eval, position)
        self._nav.refresh()
        self._present = Presenter(self._eval)
        self._checker = Checker(self._eval, self._present)

    @property
    def lang(self) -> str:
        return self._lang

    @lang.setter
    def lang(self, value: str) -> None:
        self._lang = check_lang(value)
        self._eval.lang = self._lang

    @property
    def answers(self) -> Answers:
        return self._eval.answers

    @property
    def today(self) -> dt.date | None:
        return self._eval.today

    @today.setter
    def today(self, value: dt.date | None) -> None:
        self._eval.today = value

    # ----- steps and navigation ------------------------------------------------------

    def steps(self) -> list[Step]:
        return list(self._nav.steps)

    @property
    def at_review(self) -> bool:
        """Past the last step (also when the steps after the position all went away)."""
        return self._nav.current_index() is None

    @property
    def current(self) -> Step | None:
        return self._nav.current

    def progress(self) -> tuple[int, int]:
        return self._nav.progress()

    def next(self) -> list[FieldError]:
        """Check the current step; move on only when it has no errors."""
        step = self._nav.current
        errors = self._check_step(step) if step is not None else []
        if not errors:
            self._nav.advance()
        return errors

    def back(self) -> None:
        self._nav.back()

    def jump(self, ref: str) -> None:
        """Go to a step (from the review) or `REVIEW`; KeyError for any other ref."""
        self._nav.jump(ref)

    def add_repeat(self, name: str, parent: str = "") -> int:
        return self._nav.add_repeat(name, parent)

    def remove_repeat(self, name: str, index: int, parent: str = "") -> None:
        self._nav.remove_repeat(name, index, parent)

    # ----- answers -------------------------------------------------------------------

    def value(self, ref: str) -> object:
        container, q, _ = locate(self.form, self.answers, ref)
        return container.get(q.name)

    def set(self, ref: str, raw: object) -> list[FieldError]:
        """Parse and store raw input (kept even when invalid, so the screen shows it)."""
        container, q, scope = locate(self.form, self.answers, ref)
        if not q.is_input or q.read_only or q.calculation:
            msgid = N_("{field}: this answer cannot be changed")
            return [self._checker.error(ref, q, scope, self._lang, "read_only", msgid)]
        try:
            value = parse_value(q.type, raw, q.kind)
        except BadValue:
            value = raw if isinstance(raw, str) else str(raw)
        if value is None:
            container.pop(q.name, None)
        else:
            container[q.name] = value
        self._nav.refresh()
        return self._checker.check_value(ref, q, scope, container.get(q.name), self._lang)

    def check(self, ref: str) -> list[FieldError]:
        """The errors of the answer at `ref` as it stands (in the current language)."""
        return self._checker.check(ref, self._lang)

    def is_required(self, ref: str) -> bool:
        """Whether the question at `ref` must be answered now (required may be an expression)."""
        _, q, scope = locate(self.form, self.answers, ref)
        return self._eval.is_required(q, scope)

    def is_relevant(self, ref: str) -> bool:
        """Whether the field, group, repeat or instance at `ref` is relevant now."""
        return self._eval.is_relevant(ref)

    def repeat_count(self, ref: str) -> int:
        """Active instances of the repeat at `ref` ("rep" or "rep[0]/inner")."""
        return self._eval.repeat_count(ref)

    def choices(self, ref: str) -> list[Choice]:
        """The choices of the select at `ref` that pass its choice_filter now."""
        q, scope = question_at(self.form, ref)
        return self._eval.choices(q, scope)

    # ----- texts, review, validation, payload ----------------------------------------

    def label(self, ref: str) -> str:
        """The label of the step at `ref` in the session's language, `${x}` filled in."""
        return self._present.label(ref, self._lang)

    def hint(self, ref: str) -> str:
        return self._present.hint(ref, self._lang)

    def review(self) -> list[ReviewItem]:
        return self._present.review(self._nav.steps, self._lang)

    def validate_all(self) -> list[FieldError]:
        return [error for step in self._nav.steps for error in self._check_step(step)]

    def limit_errors(self) -> dict[str, ExplainedError]:
        """Evaluation limits the last recalculation hit (ref -> error; "" for the form):
        the form's fault, left empty in the answers, reported by `kiosk submit`."""
        return dict(self._eval.limit_errors)

    def payload(self) -> dict[str, object]:
        """Relevant answers (and calculations) as JSON; call `validate_all()` first."""
        out = payload(self._eval)
        for q in self._meta("end"):  # the form is finished when its answers are sent
            out[q.name] = self._moment()
        return out

    # ----- metadata (start, end, deviceid: kiosk.xlsform_types.META) -------------------

    def _meta(self, name: str) -> list[Question]:
        return [q for q in self.form.walk() if q.meta == name and not q.repeats]

    def _moment(self) -> str:
        # ODK's dateTime with its zone: 2026-11-26T09:30:00+00:00.
        return self._clock().replace(microsecond=0).isoformat()

    def _fill_meta(self, device_id: str | None) -> None:
        """start once, when the session first begins; deviceid as a pseudonym of this
        kiosk for this form (never a person's data, never the same across forms)."""
        answers = self._eval.answers
        for q in self._meta("start"):
            answers.setdefault(q.name, self._moment())
        if device_id:
            seed = f"{device_id}\0{self.form.id}".encode()
            for q in self._meta("deviceid"):
                answers[q.name] = "kiosk-" + hashlib.sha256(seed).hexdigest()[:16]

    def _check_step(self, step: Step) -> list[FieldError]:
        if step.kind != "question" or not step.question.is_input:
            return []
        return self._checker.check(step.ref, self._lang)

    # ----- drafts --------------------------------------------------------------------

    def draft_state(self) -> dict[str, object]:
        return {
            "form_id": self.form.id,
            "form_version": self.form.version,
            "answers": to_json(self.answers),
            "position": self._nav.position,
            "lang": self._lang,
            "seed": self.seed,
        }

    @classmethod
    def from_draft(
        cls,
        form: Form,
        state: Mapping[str, object],
        today: dt.date | None = None,
        device_id: str | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> FormSession:
        """Resume a `draft_state()`. A damaged draft resumes what it can, never crashes."""
        if not isinstance(state, dict):
            state = {}
        raw = state.get("answers")
        answers = answers_from_json(form.questions, raw if isinstance(raw, dict) else {})
        lang = state.get("lang")
        position = state.get("position")
        seed = state.get("seed")
        return cls(
            form,
            answers=answers,
            lang=lang if lang in LANGS else DEFAULT_LANG,
            position=position if isinstance(position, str) else None,
            today=today,
            device_id=device_id,
            clock=clock,
            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        )
