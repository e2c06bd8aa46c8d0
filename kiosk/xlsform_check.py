"""Checking an XLSForm file for its author: `check_file` lists every problem it finds.

Each `XlsformIssue` names sheet, row and column (`kiosk catalog check`): unsupported
types, expression syntax, unknown `${}` fields, choice_filter columns, circular
calculations, missing Uzbek and Russian labels, settings, and what pyxform (and ODK
Validate, if asked) refuse. Reading the file is `kiosk.xlsform_load`'s job.
"""

from __future__ import annotations

import csv
import logging
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyxform.builder import create_survey_element_from_dict
from pyxform.errors import PyXFormError
from pyxform.utils import default_is_dynamic
from pyxform.validators.odk_validate import ODKValidateError
from pyxform.xls2json_backends import DefinitionData

from kiosk import expr, prefill
from kiosk.calc_chain import chains
from kiosk.expr.limits import CHAIN_TOO_LONG, MAX_CHAIN
from kiosk.expr.nodes import Bare, walk
from kiosk.expr_check import check_regexes, check_repeat_sizes, check_string_sizes
from kiosk.form import column_lang, is_true
from kiosk.i18n import N_, tr
from kiosk.xlsform_load import XlsformError, first_line, load_form, read_sheets, sheets_to_json
from kiosk.xlsform_types import classify, normal

logger = logging.getLogger(__name__)

_FILE_SELECT = re.compile(
    r"^(select_one_from_file|select_multiple_from_file|select one from file|"
    r"select all that apply from file|select multiple from file)\s+(\S+)$",
    re.IGNORECASE,
)
_PYX_ROW = re.compile(r"\[row\s*:\s*(\d+)\]")
_PYX_SHEET = re.compile(r"'(survey|choices|settings|external_choices|entities)' sheet")
_PYX_COLUMN = re.compile(r"the '([\w:() -]+)' (?:value|column)")

_STRUCTURE_END = frozenset({"end_group", "end group", "end_repeat", "end repeat"})
_EXPRESSION_COLUMNS: tuple[str, ...] = (
    "relevant",
    "constraint",
    "calculation",
    "required",
    "read_only",
    "choice_filter",
    "repeat_count",
    "default",
)
_SHEET_ORDER = {"": 0, "survey": 1, "choices": 2, "settings": 3}
_CITIZEN_SCRIPTS = {"uz": ("uz_Latn", "uz_Cyrl"), "ru": ("ru",)}
_NO_LABEL = {"uz": N_("no label in Uzbek"), "ru": N_("no label in Russian")}
_NO_TITLE = {"uz": N_("no form title in Uzbek"), "ru": N_("no form title in Russian")}
_NO_LANGUAGE = {
    "uz": N_("the {sheet} sheet has no Uzbek labels: shown in the closest language it has"),
    "ru": N_("the {sheet} sheet has no Russian labels: shown in the closest language it has"),
}


@dataclass(frozen=True)
class XlsformIssue:
    sheet: str
    row: int | None
    column: str | None
    message: str  # already in the language the check was asked in
    # A warning (a regex ODK Collect could hang on, a missing translation) is shown,
    # but fails no check.
    warning: bool = False
    # "pyxform": pyxform (or ODK Validate) refuses the form itself; "kiosk": a feature
    # a kiosk cannot serve (a photo, a GPS point); "" for everything else.
    kind: str = ""

    def where(self, lang: str = "en") -> str:
        """ "survey, row 5, column type" in `lang` (sheet names are the file's own)."""
        parts = [self.sheet] if self.sheet else []
        if self.row is not None:
            parts.append(tr(lang, "row {row}", row=self.row))
        if self.column:
            parts.append(tr(lang, "column {column}", column=self.column))
        return ", ".join(parts)

    def text(self, lang: str = "en") -> str:
        """The whole line in `lang`: place, message, and the warning mark."""
        where = self.where(lang)
        line = f"{where}: {self.message}" if where else self.message
        return tr(lang, "warning: {issue}", issue=line) if self.warning else line

    def __str__(self) -> str:
        return self.text("en")


def check_file(path: Path, odk_validate: bool = False, lang: str = "en") -> list[XlsformIssue]:
    """Every problem found in an XLSForm, each naming sheet, row and column.

    pyxform's own refusal comes first (it is what ODK would say too), then the
    kiosk's findings by sheet and row. `odk_validate` also runs ODK Validate (Java,
    about two seconds) on the XForm. Messages are in `lang`; text quoted from pyxform
    and ODK Validate stays English inside a translated sentence.
    """
    path = Path(path)
    try:
        data = read_sheets(path, lang)
    except XlsformError as exc:
        # The caller names the file; the message says what is wrong with it.
        kind = "pyxform" if exc.pyxform else ""
        return [XlsformIssue("", None, None, str(exc).removeprefix(f"{path.name}: "), kind=kind)]
    survey = _lower_headers(data.survey)
    choices = _lower_headers(data.choices)
    settings = _lower_headers(data.settings)
    names = {str(r.get("name")).strip() for r in survey if r.get("name")}
    choice_columns = {str(c) for r in choices for c in r}
    issues: list[XlsformIssue] = []
    issues += _check_types(survey, path.parent, lang)
    issues += _check_expressions(survey, names, choice_columns, path.parent, lang)
    issues += _check_cycles(survey, lang)
    issues += _check_labels(survey, _header(data.survey_header), lang)
    issues += _check_choice_labels(choices, _header(data.choices_header), lang)
    issues += _check_settings(settings, _header(data.settings_header), lang)
    issues += prefill_issues(survey, lang)
    issues.sort(key=lambda i: (_SHEET_ORDER.get(i.sheet, 9), i.row or 0))
    # pyxform's refusal is fatal: it comes first, unless the kiosk already names the
    # very same cell (in the chosen language) -- never dropped for a problem elsewhere.
    cells = {(i.sheet, i.row, i.column) for i in issues if not i.warning and i.row is not None}
    fatal = [
        i
        for i in _pyxform_issues(data, odk_validate, lang)
        if (i.sheet, i.row, i.column) not in cells
    ]
    issues = fatal + issues
    if not any(not i.warning for i in issues):
        try:
            load_form(path)
        except XlsformError as exc:
            issues.append(
                XlsformIssue("survey", None, None, str(exc).removeprefix(f"{path.name}: "))
            )
    return issues


# Column names as pyxform reads them, whatever their case: `List Name`, `TYPE`.
_COLUMN_ALIASES = {
    "list name": "list_name",
    "caption": "label",
    "relevance": "relevant",
    "calculate": "calculation",
    "readonly": "read_only",
    "read only": "read_only",
    "constraint message": "constraint_message",
    "constraining_message": "constraint_message",
    "required message": "required_message",
    "requiredmsg": "required_message",
    "choice filter": "choice_filter",
    "repeat count": "repeat_count",
    "jr:count": "repeat_count",
    "count": "repeat_count",
    "form title": "form_title",
    "form id": "form_id",
}


# The columns pyxform knows, matched whatever their case (other columns, such as a
# choice_filter's own, keep theirs: an expression names them as written).
_KNOWN_COLUMNS = frozenset(
    {
        *_COLUMN_ALIASES.values(),
        "type",
        "name",
        "label",
        "hint",
        "guidance_hint",
        "required",
        "relevant",
        "constraint",
        "appearance",
        "default",
        "parameters",
        "trigger",
        "media",
        "image",
        "audio",
        "video",
        "body",
        "bind",
        "control",
        "instance_name",
        "default_language",
        "style",
        "public_key",
        "submission_url",
        "documents",
        "description",
    }
)


def _column(name: object) -> str:
    """A header as pyxform matches it: known names whatever their case, `::language`
    kept as written."""
    text = str(name).strip()
    head, sep, tail = text.partition("::")
    low = re.sub(r"\s+", " ", head.strip()).lower()
    low = _COLUMN_ALIASES.get(low, low)
    head = low if low in _KNOWN_COLUMNS else head.strip()
    return f"{head}::{tail.strip()}" if sep else head


def _lower_headers(rows: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    return [{_column(k): v for k, v in row.items()} for row in rows or []]


def _header(header: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    return _lower_headers(header[:1] if header else [])


def _rows(rows: list[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows with their sheet row numbers (row 1 is the header), as pyxform counts them."""
    for i, row in enumerate(rows):
        yield i + 2, row


def _cell(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value).strip()


def _check_types(survey: list[dict[str, Any]], folder: Path, lang: str) -> list[XlsformIssue]:
    issues = []
    for row_no, row in _rows(survey):
        qtype = re.sub(r"\s+", " ", _cell(row, "type"))
        if not qtype:
            continue
        info = classify(qtype, _cell(row, "appearance"))
        if info.refusal is not None:
            message = tr(
                lang,
                N_("'{type}' ({feature}) cannot be used at a kiosk; instead: {instead}"),
                type=qtype,
                feature=tr(lang, info.refusal.feature),
                instead=tr(lang, info.refusal.instead),
            )
            issues.append(XlsformIssue("survey", row_no, "type", message, kind="kiosk"))
        elif info.ignored:
            message = tr(
                lang,
                _IGNORED_WHY.get(normal(qtype), _IGNORED_WHY["audit"]),
                type=qtype,
            )
            issues.append(XlsformIssue("survey", row_no, "type", message, warning=True))
        elif not info.known:
            message = tr(lang, "type '{type}' is not supported by the kiosk", type=qtype)
            issues.append(XlsformIssue("survey", row_no, "type", message))
        elif (m := _FILE_SELECT.match(qtype)) and not (folder / m.group(2)).is_file():
            message = tr(lang, "choice file {file} not found beside the form", file=m.group(2))
            issues.append(XlsformIssue("survey", row_no, "type", message))
    return issues


def _base_type(qtype: str) -> str:
    """select_one list -> select_one; select one from file x.csv -> select_one."""
    words = qtype.lower().replace("select all that apply", "select_multiple")
    words = words.replace("select one", "select_one")
    head = words.split(" ")[0] if words else ""
    return {
        "select_one_from_file": "select_one",
        "select_multiple_from_file": "select_multiple",
    }.get(head, head)


def prefill_issues(survey: Sequence[Mapping[str, object]], lang: str = "en") -> list[XlsformIssue]:
    """The ``prefill`` column (once-only prefill, kiosk/prefill.py): every name must be a
    registry field (an unknown one is refused with the closest known name), fit the
    question's type, and stand outside repeats."""
    issues = []
    repeats = 0
    for row_no, row in _rows([dict(r) for r in survey]):
        qtype = re.sub(r"\s+", " ", _cell(row, "type")).lower()
        if qtype in ("begin_repeat", "begin repeat"):
            repeats += 1
        elif qtype in ("end_repeat", "end repeat"):
            repeats = max(0, repeats - 1)
        name = _cell(row, "prefill")
        if not name:
            continue
        base = _base_type(qtype)
        if name not in prefill.FIELDS:
            near = prefill.suggestion(name)
            if near:
                text = tr(
                    lang,
                    "unknown registry field '{name}'; did you mean '{near}'?",
                    name=name,
                    near=near,
                )
            else:
                known = ", ".join(prefill.FIELDS)
                text = tr(
                    lang, "unknown registry field '{name}' (known: {known})", name=name, known=known
                )
        elif base not in prefill.FIELD_TYPES[name]:
            allowed = " / ".join(prefill.FIELD_TYPES[name])
            text = tr(
                lang,
                "'{field}' cannot fill a question of type {type} (only: {allowed})",
                field=name,
                allowed=allowed,
                type=base,
            )
        elif repeats:
            text = tr(lang, "'{field}' cannot fill a question inside a repeat", field=name)
        else:
            continue
        issues.append(XlsformIssue("survey", row_no, "prefill", text))
    return issues


def _check_expressions(
    survey: list[dict[str, Any]],
    names: set[str],
    choice_columns: set[str],
    folder: Path,
    lang: str,
) -> list[XlsformIssue]:
    issues = []
    for row_no, row in _rows(survey):
        columns: set[str] | None = choice_columns
        if m := _FILE_SELECT.match(re.sub(r"\s+", " ", _cell(row, "type"))):
            columns = _csv_columns(folder / m.group(2))
        for column in _EXPRESSION_COLUMNS:
            text = _cell(row, column)
            if not text:
                continue
            if column in ("required", "read_only") and (
                is_true(text) or text.lower() in ("no", "false", "false()", "0")
            ):
                continue
            if column == "default" and not default_is_dynamic(text, _cell(row, "type")):
                continue
            issues += _check_expression(row_no, column, text, names, columns, lang)
    return issues


def _csv_columns(path: Path) -> set[str] | None:
    """The header of a choice file; None when it cannot be read (reported elsewhere)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return {c.strip() for c in next(csv.reader(fh), [])}
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


def _check_expression(
    row_no: int,
    column: str,
    text: str,
    names: set[str],
    choice_columns: set[str] | None,
    lang: str,
) -> list[XlsformIssue]:
    try:
        tree = expr.parse(text)
    except expr.ExplainedError as exc:
        return [XlsformIssue("survey", row_no, column, exc.say(lang))]
    except expr.ExprError as exc:
        return [XlsformIssue("survey", row_no, column, exc.message)]
    issues = [
        XlsformIssue("survey", row_no, column, message, warning=warning)
        for message, warning in check_regexes(tree, lang)
    ]
    for name in sorted(expr.references(text) - names):
        issues.append(
            XlsformIssue(
                "survey", row_no, column, tr(lang, "unknown field '{ref}'", ref="${" + name + "}")
            )
        )
    if column == "choice_filter" and choice_columns is not None:
        for node in walk(tree):
            if isinstance(node, Bare) and node.name not in choice_columns | {"name"}:
                issues.append(
                    XlsformIssue(
                        "survey",
                        row_no,
                        column,
                        tr(lang, "'{name}' is not a column of the choices", name=node.name),
                    )
                )
    return issues


def _check_cycles(survey: list[dict[str, Any]], lang: str) -> list[XlsformIssue]:
    """Calculations that depend on themselves (directly or through others) never settle;
    chains longer than MAX_CHAIN are refused. Found by loops, never recursion."""
    rows: dict[str, int] = {}
    deps: dict[str, set[str]] = {}
    for row_no, row in _rows(survey):
        name, calc = _cell(row, "name"), _cell(row, "calculation")
        if name and calc:
            try:
                deps[name] = expr.references(calc)
            except expr.ExprError:
                continue  # reported as a syntax error
            rows[name] = row_no
    found = chains(deps)
    issues = []
    for cycle in found.cycles:
        chain = " -> ".join("${" + n + "}" for n in [*cycle, cycle[0]])
        message = tr(lang, "the calculation depends on itself: {chain}", chain=chain)
        issues.append(XlsformIssue("survey", rows[cycle[0]], "calculation", message))
    if too_long := found.too_long():
        name, depth = too_long
        message = tr(lang, CHAIN_TOO_LONG, field=name, depth=depth, limit=MAX_CHAIN)
        issues.append(XlsformIssue("survey", rows[name], "calculation", message))
    issues += [
        XlsformIssue("survey", row, "calculation", message)
        for row, message in check_string_sizes(survey, deps, rows, lang)
    ]
    issues += [
        XlsformIssue("survey", row, "repeat_count", message)
        for row, message in check_repeat_sizes(survey, lang)
    ]
    return issues


def _language_columns(
    header: Sequence[Mapping[str, Any]] | None, prefix: str
) -> dict[str, list[str]]:
    """`{"uz": [label::Uzbek (uz), ...], "ru": [...]}` for the columns starting with prefix::."""
    found: dict[str, list[str]] = {"uz": [], "ru": []}
    columns = list(header[0]) if header else []
    for column in columns:
        column = str(column)
        if not column.startswith(prefix + "::"):
            continue
        lang = column_lang(column.split("::", 1)[1].strip())
        for key, scripts in _CITIZEN_SCRIPTS.items():
            if lang in scripts:
                found[key].append(column)
    return found


def _missing_languages(
    row: Mapping[str, Any], columns: dict[str, list[str]], prefix: str
) -> Iterator[tuple[str, str]]:
    """(column to name, language) for each citizen language that has columns in the
    sheet but no text in this row (a sheet without the language is said once)."""
    for key, cols in columns.items():
        if cols and not any(_cell(row, c) for c in cols):
            yield cols[0], key


def _absent_languages(
    sheet: str, columns: dict[str, list[str]], has_rows: bool, lang: str
) -> list[XlsformIssue]:
    """One warning per citizen language the sheet has no column for at all: the form
    still runs, shown in the closest language it has (kiosk.form.pick_text)."""
    if not has_rows:
        return []
    return [
        XlsformIssue("", None, None, tr(lang, _NO_LANGUAGE[key], sheet=sheet), warning=True)
        for key, cols in columns.items()
        if not cols
    ]


def _check_labels(
    survey: list[dict[str, Any]], header: Sequence[Mapping[str, Any]] | None, lang: str
) -> list[XlsformIssue]:
    columns = _language_columns(header, "label")
    issues = []
    labelled = False
    for row_no, row in _rows(survey):
        qtype = _cell(row, "type").lower()
        if (
            not qtype
            or qtype in _STRUCTURE_END
            or qtype.startswith(("calculate", "begin_group", "begin group", "hidden"))
            or classify(qtype).meta
            or classify(qtype).ignored
        ):
            continue
        labelled = True
        for column, language in _missing_languages(row, columns, "label"):
            message = tr(lang, _NO_LABEL[language])
            issues.append(XlsformIssue("survey", row_no, column, message, warning=True))
    return _absent_languages("survey", columns, labelled, lang) + issues


def _check_choice_labels(
    choices: list[dict[str, Any]], header: Sequence[Mapping[str, Any]] | None, lang: str
) -> list[XlsformIssue]:
    columns = _language_columns(header, "label")
    issues = []
    for row_no, row in _rows(choices):
        if not _cell(row, "list_name"):
            continue
        for column, language in _missing_languages(row, columns, "label"):
            message = tr(lang, _NO_LABEL[language])
            issues.append(XlsformIssue("choices", row_no, column, message, warning=True))
    return _absent_languages("choices", columns, bool(choices), lang) + issues


_IGNORED_WHY = {
    "audit": N_("'{type}' is ignored: the kiosk keeps its own audit log"),
    "start-geopoint": N_("'{type}' is ignored: a kiosk has no GPS; the field stays empty"),
    "background-geopoint": N_("'{type}' is ignored: a kiosk has no GPS; the field stays empty"),
    "background-audio": N_("'{type}' is ignored: a kiosk records no sound"),
}
_NO_SETTING = {
    "form_id": N_("form_id is missing: the file name is used"),
    "version": N_("version is missing: the file's content names the version"),
    "category": N_("category is missing: the form is listed under other services"),
}


def _check_settings(
    settings: list[dict[str, Any]], header: Sequence[Mapping[str, Any]] | None, lang: str
) -> list[XlsformIssue]:
    """The kiosk's settings; each missing one is a warning with the default it gets."""
    if not settings:
        message = tr(
            lang,
            N_(
                "no settings sheet: form_id from the file name, version from its content,"
                " category other, title from the file name"
            ),
        )
        return [XlsformIssue("settings", None, None, message, warning=True)]
    row = settings[0]
    issues = [
        XlsformIssue("settings", 2, column, tr(lang, _NO_SETTING[column]), warning=True)
        for column in ("form_id", "version", "category")
        if not _cell(row, column)
    ]
    issues.extend(_check_decision_settings(row, lang))
    title_columns = _language_columns(header, "form_title")
    if any(title_columns.values()):
        for column, language in _missing_languages(row, title_columns, "form_title"):
            message = tr(lang, _NO_TITLE[language])
            issues.append(XlsformIssue("settings", 2, column, message, warning=True))
    return issues


# Settings of issue 16 (docs/appeals.md, docs/sync-protocol.md "Item kinds").
ITEM_KINDS = ("application", "vote", "petition_sign", "petition_start", "appeal")
MAX_DEADLINE_DAYS = 3650


def _check_decision_settings(row: Mapping[str, Any], lang: str) -> list[XlsformIssue]:
    """``deadline_days``: a whole number of days 0..3650; ``kind``: a known item kind."""
    issues = []
    days = _cell(row, "deadline_days")
    if days and not (days.isdigit() and int(days) <= MAX_DEADLINE_DAYS):
        message = tr(
            lang,
            "deadline_days must be a whole number of days from 0 to {limit}",
            limit=MAX_DEADLINE_DAYS,
        )
        issues.append(XlsformIssue("settings", 2, "deadline_days", message))
    kind = _cell(row, "kind")
    if kind and kind not in ITEM_KINDS:
        message = tr(lang, "kind must be one of: {kinds}", kinds=", ".join(ITEM_KINDS))
        issues.append(XlsformIssue("settings", 2, "kind", message))
    return issues


def _pyxform_issues(data: DefinitionData, odk_validate: bool, lang: str) -> list[XlsformIssue]:
    """What pyxform itself refuses, converting all the way to an XForm as ODK would.

    pyxform stops at its first error, which is fatal: it is listed first, never left
    out because a finding of the kiosk's own names the same row.
    """
    try:
        spec = sheets_to_json(data)
        # form_title::<language> is this kiosk's extension; XForms have one title.
        title = spec.get("title")
        if isinstance(title, dict):
            spec["title"] = next(iter(title.values()), "")
        create_survey_element_from_dict(spec).to_xml(validate=odk_validate and _has_java())
    except ODKValidateError as exc:  # "ODK Validate Errors:" then what they are
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        message = " ".join(lines[:3]) or type(exc).__name__
    except PyXFormError as exc:
        message = first_line(exc)
    except Exception as exc:  # pyxform's own bugs on odd input: still one clear line
        logger.info("pyxform failed on a form", exc_info=True)
        message = tr(lang, "pyxform could not convert the form ({error})", error=exc)
    else:
        return []
    row_m, sheet_m, col_m = (
        _PYX_ROW.search(message),
        _PYX_SHEET.search(message),
        _PYX_COLUMN.search(message),
    )
    row = int(row_m.group(1)) if row_m else None
    sheet = sheet_m.group(1) if sheet_m else "survey"
    column = col_m.group(1) if col_m else None
    text = _PYX_ROW.sub("", message).strip()
    said = tr(lang, N_("pyxform (ODK's converter) refuses the form: {error}"), error=text)
    return [XlsformIssue(sheet, row, column, said, kind="pyxform")]


def _has_java() -> bool:
    return shutil.which("java") is not None
