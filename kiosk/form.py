"""The form model: `Form`, `Question`, `Choice`, built from pyxform's JSON of an XLSForm.

Pure data with per-language text. Answers and navigation live in `kiosk.engine`;
reading files lives in `kiosk.xlsform_load` (so building a Form never touches the disk).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kiosk import languages
from kiosk import prefill as prefill_rules
from kiosk.translit import to_cyrillic, to_latin
from kiosk.xlsform_types import IGNORED, META, classify

# Types the engine runs, by our name.
SUPPORTED_TYPES: frozenset[str] = frozenset(
    {
        "text",
        "integer",
        "decimal",
        "date",
        "select_one",
        "select_multiple",
        "note",
        "calculate",
        "acknowledge",
        "time",
        "dateTime",
        "range",
        "rank",
        "group",
        "repeat",
    }
)
# pyxform's JSON spells some types differently from the XLSForm column.
_PYXFORM_TYPES: dict[str, str] = {
    "select one": "select_one",
    "select all that apply": "select_multiple",
    "select one from file": "select_one",
    "select all that apply from file": "select_multiple",
    "trigger": "acknowledge",
    "loop": "group",
}
# Answers of these types come from a person; the rest are shown or computed.
INPUT_TYPES: frozenset[str] = frozenset(
    {
        "text",
        "integer",
        "decimal",
        "date",
        "time",
        "dateTime",
        "range",
        "select_one",
        "select_multiple",
        "rank",
        "acknowledge",
    }
)
# Forms without a category setting (outside forms) are listed under this one.
OTHER_CATEGORY = "other"
# `appearance` words that switch on an Uzbek validator (pyxform refuses unknown
# `parameters` keys on text questions, so the appearance column carries them).
# "card" (a bank card number) only normalises: spaces and dashes between digit groups go.
KINDS: tuple[str, ...] = ("pinfl", "phone", "passport", "card")
# The appearance word of a date of birth: never in the future, and checked against the
# date a PINFL beside it encodes (kiosk.engine_check).
BIRTH_DATE = "birthdate"
# `${name}` in a label or hint: the engine shows that answer there, the catalog checks
# that the field exists.
LABEL_REF = re.compile(r"\$\{\s*([^}\s]+)\s*\}")

_TRUE = {"yes", "true", "true()", "1"}
_FALSE = {"", "no", "false", "false()", "0"}
_LANG_CODE = re.compile(r"\(([A-Za-z]{2,3}(?:[-_][A-Za-z]{2,4})?)\)\s*$")
DEFAULT = "default"


# XLSForm names are XML names: a letter or '_' first, then letters, digits, '_', '-', '.'.
FIELD_NAME = re.compile(r"[^\W\d][\w.\-]*")


class FormError(ValueError):
    """The pyxform JSON describes something the engine cannot run."""


def column_lang(column: str) -> str | None:
    """`Uzbek (uz)` -> `uz_Latn`, `(uz-Cyrl)` -> `uz_Cyrl`, `default` -> `default`.

    None for a language this kiosk does not know (its texts are kept as a last resort).
    """
    if column == DEFAULT:
        return DEFAULT
    m = _LANG_CODE.search(column)
    if not m:
        return None
    return languages.from_form_code(m.group(1))


def column_code(column: str) -> str:
    """`French (fr)` -> `fr`; a column without a code stays as written."""
    m = _LANG_CODE.search(column)
    return m.group(1) if m else column


def texts_by_lang(value: object) -> dict[str, str]:
    """pyxform's label/hint value (a string, or a dict by language column) keyed by our codes."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {DEFAULT: value} if value.strip() else {}
    if not isinstance(value, Mapping):
        return {DEFAULT: str(value)}
    out: dict[str, str] = {}
    for column, text in value.items():
        if text is None or not str(text).strip():
            continue
        lang = column_lang(str(column)) or f"?{column}"
        out.setdefault(lang, str(text))
    return out


_UZBEK = ("uz_Latn", "uz_Cyrl")


def text_source(texts: Mapping[str, str], lang: str) -> str | None:
    """The key of `texts` that `pick_text` shows for `lang` (None when there is none).

    The closest language a form has: `lang` itself; for Uzbek the other script (by
    transliteration); then Russian for an Uzbek reader; then the form's default
    language (`default`); then the registered languages in order; then any.
    """
    if lang in texts:
        return lang
    if lang in _UZBEK:
        other = _UZBEK[1 - _UZBEK.index(lang)]
        for key in (other, "ru"):
            if key in texts:
                return key
    for key in (DEFAULT, *languages.codes()):
        if key in texts:
            return key
    return next(iter(texts), None)


def pick_text(texts: Mapping[str, str], lang: str) -> str:
    """The text for `lang` from the closest language the form has (`text_source`);
    Uzbek Latin and Cyrillic come from each other by transliteration."""
    key = text_source(texts, lang)
    if key is None:
        return ""
    text = texts[key]
    if lang == "uz_Cyrl" and key == "uz_Latn":
        return to_cyrillic(text)
    if lang == "uz_Latn" and key == "uz_Cyrl":
        return to_latin(text)
    return text


def is_true(flag: object) -> bool:
    return str(flag).strip().lower() in _TRUE


def expression_of(flag: object) -> str | None:
    """A yes/no-or-expression column (required, read_only) as an expression, or None."""
    if flag is None or isinstance(flag, bool):
        return "true()" if flag else None
    text = str(flag).strip()
    if text.lower() in _TRUE:
        return "true()"
    if text.lower() in _FALSE:
        return None
    return text


@dataclass
class Choice:
    """One option of a select: `name` is what is stored, labels are shown."""

    name: str
    labels: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def label(self, lang: str) -> str:
        return pick_text(self.labels, lang) or self.name

    @classmethod
    def from_pyxform(cls, row: Mapping[str, object]) -> Choice:
        extra = {k: v for k, v in row.items() if k not in ("name", "label", "media")}
        return cls(
            name=str(row.get("name", "")), labels=texts_by_lang(row.get("label")), extra=extra
        )


@dataclass
class Question:
    """A survey row. Groups and repeats hold `children`; everything else is a leaf."""

    name: str
    type: str
    labels: dict[str, str] = field(default_factory=dict)
    hints: dict[str, str] = field(default_factory=dict)
    choices: list[Choice] = field(default_factory=list, repr=False)
    kind: str | None = None
    children: list[Question] = field(default_factory=list, repr=False)
    required: str | None = None  # an expression ("true()" for yes), None when optional
    required_messages: dict[str, str] = field(default_factory=dict)
    relevant: str | None = None
    constraint: str | None = None
    constraint_messages: dict[str, str] = field(default_factory=dict)
    calculation: str | None = None
    default: str | None = None
    default_is_expression: bool = False
    read_only: bool = False
    choice_filter: str | None = None
    repeat_count: str | None = None
    appearance: str = ""
    list_name: str | None = None
    # The registry field this question is filled from in operator mode (the XLSForm
    # `prefill` column, kiosk/prefill.py), or None.
    prefill: str | None = None
    # Names of the repeats enclosing this question, outermost first (set by Form).
    repeats: tuple[str, ...] = ()
    order: int = 0  # document order, for sorting refs
    # Metadata the kiosk fills (start, end, today, deviceid, ...): kiosk.xlsform_types.
    meta: str | None = None
    # A range question's (start, end, step).
    bounds: tuple[float, float, float] | None = None

    def label(self, lang: str) -> str:
        return pick_text(self.labels, lang) or self.name

    def hint(self, lang: str) -> str:
        return pick_text(self.hints, lang)

    def constraint_message(self, lang: str) -> str | None:
        return pick_text(self.constraint_messages, lang) or None

    def required_message(self, lang: str) -> str | None:
        return pick_text(self.required_messages, lang) or None

    @property
    def is_birth_date(self) -> bool:
        """A date of birth (appearance ``birthdate``)."""
        return self.type == "date" and BIRTH_DATE in self.appearance.lower().split()

    @property
    def is_input(self) -> bool:
        return self.type in INPUT_TYPES

    def walk(self) -> Iterator[Question]:
        yield self
        for child in self.children:
            yield from child.walk()

    @classmethod
    def from_pyxform(cls, node: Mapping[str, object], choices: Mapping[str, object]) -> Question:
        """One survey row of pyxform's JSON; `choices` are the form's lists by name.

        Values are pyxform's: each is turned into text (or checked) where it is used; a
        row of the wrong shape fails with TypeError/AttributeError, as the catalog expects.
        """
        return cls._from_node(node, choices)

    @classmethod
    def _from_node(cls, node: Mapping[str, Any], choices: Mapping[str, Any]) -> Question:
        raw_type = str(node.get("type", ""))
        qtype = _PYXFORM_TYPES.get(raw_type, raw_type)
        name = node.get("name", "")
        if not isinstance(name, str) or not FIELD_NAME.fullmatch(name):
            # A name is part of every step ref ("rep[0]/name") and of ${name}: one with a
            # '/', a bracket or a space would be read as a path, so it is refused here.
            raise FormError(f"question name {name!r} is not a valid field name")
        bind = node.get("bind") or {}
        control = node.get("control") or {}
        appearance = str(control.get("appearance") or node.get("appearance") or "")
        meta = None
        itemset = str(node.get("itemset") or "")
        if itemset.lower().endswith(".geojson"):
            qtype = "geojson"
        if qtype not in SUPPORTED_TYPES:
            info = classify(qtype, appearance)
            if info.engine is None:
                what = f" ({info.refusal.feature})" if info.refusal else ""
                raise FormError(f"question {name!r}: type {raw_type!r}{what} is not supported")
            qtype, meta = info.engine, info.meta
        words = appearance.lower().split()
        kind = next((k for k in KINDS if k in words), None)
        q = cls(
            name=name,
            type=qtype,
            labels=texts_by_lang(node.get("label")),
            hints=texts_by_lang(node.get("hint")),
            kind=kind,
            required=expression_of(bind.get("required")),
            required_messages=texts_by_lang(bind.get("jr:requiredMsg")),
            relevant=_expr(bind.get("relevant")),
            constraint=_expr(bind.get("constraint")),
            constraint_messages=texts_by_lang(bind.get("jr:constraintMsg")),
            calculation=_expr(bind.get("calculate")),
            default=None if node.get("default") in (None, "") else str(node.get("default")),
            default_is_expression=bool(node.get("_dynamic_default")),
            read_only=expression_of(bind.get("readonly")) is not None,
            choice_filter=_expr(node.get("choice_filter")),
            repeat_count=_expr(control.get("jr:count")),
            appearance=appearance,
            list_name=node.get("list_name") or node.get("itemset"),
            meta=meta,
            prefill=_expr(node.get("prefill")),
        )
        if meta is not None:  # filled by the kiosk, never asked
            q.calculation = META[meta]
        elif raw_type == "hidden" and q.calculation is None and q.default is not None:
            q.calculation = _literal(q.default)  # a hidden field holds its default
        if qtype == "range":
            q.bounds = _bounds(node.get("parameters") or control)
        if qtype in ("select_one", "select_multiple", "rank"):
            rows = node.get("choices") or choices.get(q.list_name or "", [])
            q.choices = [Choice.from_pyxform(r) for r in rows]
        if qtype in ("group", "repeat"):
            for child in node.get("children") or []:
                if _is_hidden_meta(child):
                    continue
                q.children.append(cls._from_node(child, choices))
        return q


_TEXT_KEYS = ("label", "hint", "jr:constraintMsg", "jr:requiredMsg", "title")


def _default_language(node: object, column: str) -> None:
    """The form's `default_language` column also under `default`, so a reader whose
    language the form lacks falls back to the language its author chose."""
    if column == DEFAULT:
        return
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key in _TEXT_KEYS and isinstance(value, dict) and column in value:
                    value.setdefault(DEFAULT, value[column])
                elif isinstance(value, dict | list):
                    stack.append(value)


def _literal(text: str) -> str:
    """An XPath string literal of `text` (quoted with what it does not contain)."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return "concat(" + ', "\'", '.join(f"'{part}'" for part in text.split("'")) + ")"


def _bounds(params: Mapping[str, Any]) -> tuple[float, float, float]:
    """A range's (start, end, step) from its parameters; ODK's 1..10 step 1 by default."""
    values = []
    for key, fallback in (("start", 1.0), ("end", 10.0), ("step", 1.0)):
        try:
            values.append(float(params.get(key, fallback)))
        except (TypeError, ValueError):
            raise FormError(f"range parameter {key} is not a number") from None
    start, end, step = values
    if step <= 0 or end < start:
        raise FormError("range parameters: end must not be below start, step above 0")
    return start, end, step


# `../name`: a sibling, as pyxform writes the relevance of an `or_other` question
# ("selected(../sex, 'other')"). Names are unique in a kiosk form, so it is ${name}.
_SIBLING = re.compile(r"(?<![\w./])\.\./([^\W\d][\w.\-]*)(?![\w/(])")


def _expr(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if text.lower() == "false":
        # A spreadsheet's FALSE cell: a path to no node for JavaRosa, so false.
        return "false()"
    text = _SIBLING.sub(r"${\1}", text)
    return text or None


def _is_hidden_meta(node: Mapping[str, Any]) -> bool:
    """pyxform's own `meta` group (instanceID), and rows the kiosk ignores (audit: it
    keeps its own audit log): not part of what a citizen fills."""
    control = node.get("control") or {}
    if str(node.get("type", "")).strip().lower() in IGNORED:
        return True
    return node.get("type") == "group" and bool(control.get("bodyless"))


@dataclass
class Form:
    """A runnable form: settings, the question tree and its pyxform JSON (`spec`)."""

    id: str
    version: str
    category: str
    titles: dict[str, str]
    descriptions: dict[str, str]
    documents_by_lang: dict[str, str]
    questions: list[Question]
    spec: dict[str, Any]
    _by_name: dict[str, Question] = field(default_factory=dict, repr=False)
    _languages: frozenset[str] | None = field(default=None, repr=False, compare=False)

    def title(self, lang: str) -> str:
        return pick_text(self.titles, lang) or self.id

    def languages(self) -> frozenset[str]:
        """The language keys of the form's texts (our codes, `default`, `?Column`);
        worked out once (the services list asks on every language switch)."""
        if self._languages is None:
            found = set(self.titles)
            for q in self.walk():
                found |= set(q.labels)
                for c in q.choices:
                    found |= set(c.labels)
            self._languages = frozenset(found)
        return self._languages

    def shown_in(self, lang: str) -> str | None:
        """The language the form is shown in for a `lang` reader when it lacks `lang`
        (None when it has it, or its other Uzbek script): ru, en, or the form's own
        column name for a language the kiosk does not know."""
        have = self.languages()
        if lang in have or (lang in _UZBEK and set(_UZBEK) & have):
            return None
        key = text_source(dict.fromkeys(have, ""), lang)
        if key is None:
            return None
        if key == DEFAULT:
            column = str(self.spec.get("default_language") or "")
            return column_code(column) if column and column != DEFAULT else "?"
        return column_code(key[1:]) if key.startswith("?") else key.split("_")[0]

    def list_title(self, lang: str) -> str:
        """The title as the services list shows it: marked "(ru)" when the form is shown
        in another language than the reader's."""
        shown = self.shown_in(lang)
        return f"{self.title(lang)} ({shown})" if shown else self.title(lang)

    @property
    def kind(self) -> str:
        """The settings' ``kind`` (docs/sync-protocol.md, "Item kinds"): ``application``
        unless the form says otherwise (``appeal``, ``vote``...); only applications are
        listed among the services, the others have screens of their own."""
        kind = self.spec.get("kind")
        return kind if isinstance(kind, str) and kind else "application"

    def description(self, lang: str) -> str:
        return pick_text(self.descriptions, lang)

    def documents(self, lang: str) -> list[str]:
        """The documents a citizen should bring (`documents::<lang>`, items split by `;`)."""
        text = pick_text(self.documents_by_lang, lang)
        return [item.strip() for item in text.split(";") if item.strip()]

    def walk(self) -> Iterator[Question]:
        """Every question, depth first, in document order."""
        for q in self.questions:
            yield from q.walk()

    def get(self, name: str) -> Question | None:
        return self._by_name.get(name)

    def __getitem__(self, name: str) -> Question:
        return self._by_name[name]

    @classmethod
    def from_pyxform(cls, spec: object) -> Form:
        """Build from `pyxform.xls2json` output (with file choice lists already inlined).

        `spec` is JSON as read (a file, the portal): anything but a survey object is a
        FormError.
        """
        if not isinstance(spec, Mapping) or spec.get("type") != "survey":
            raise FormError("not a pyxform survey")
        _default_language(spec, str(spec.get("default_language") or DEFAULT))
        choices = spec.get("choices") or {}
        questions = [
            Question.from_pyxform(node, choices)
            for node in spec.get("children") or []
            if not _is_hidden_meta(node)
        ]
        form = cls(
            id=str(spec.get("id_string") or spec.get("name") or ""),
            version=str(spec.get("version") or ""),
            category=str(spec.get("category") or OTHER_CATEGORY),
            titles=texts_by_lang(spec.get("title")),
            descriptions=texts_by_lang(spec.get("description")),
            documents_by_lang=texts_by_lang(spec.get("documents")),
            questions=questions,
            spec=dict(spec),
        )
        form._index()
        problems = prefill_rules.problems(form.walk())
        if problems:
            raise FormError("; ".join(problems))
        return form

    def _index(self) -> None:
        order = 0

        def visit(qs: list[Question], repeats: tuple[str, ...]) -> None:
            nonlocal order
            for q in qs:
                if q.name in self._by_name:
                    raise FormError(f"the name {q.name!r} is used twice")
                order += 1
                q.order = order
                q.repeats = repeats
                self._by_name[q.name] = q
                inner = (*repeats, q.name) if q.type == "repeat" else repeats
                visit(q.children, inner)

        visit(self.questions, ())
