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

from kiosk import expr
from kiosk.calc_chain import chains
from kiosk.expr.limits import CHAIN_TOO_LONG, MAX_CHAIN
from kiosk.expr.nodes import Bare, walk
from kiosk.expr_check import check_regexes, check_repeat_sizes, check_string_sizes
from kiosk.form import column_lang, is_true
from kiosk.i18n import N_, tr
from kiosk.xlsform_load import XlsformError, first_line, load_form, read_sheets, sheets_to_json

logger = logging.getLogger(__name__)

_FILE_SELECT = re.compile(r"^(select_one_from_file|select_multiple_from_file)\s+(\S+)$")
_PYX_ROW = re.compile(r"\[row\s*:\s*(\d+)\]")
_PYX_SHEET = re.compile(r"'(survey|choices|settings|external_choices|entities)' sheet")
_PYX_COLUMN = re.compile(r"the '([\w:() -]+)' (?:value|column)")

# The types the kiosk runs, as written in the type column (pyxform spellings included).
_SUPPORTED_BASE_TYPES: frozenset[str] = frozenset(
    {
        "text",
        "integer",
        "int",
        "decimal",
        "date",
        "note",
        "calculate",
        "acknowledge",
        "trigger",
        "select_one",
        "select one",
        "select_multiple",
        "select all that apply",
        "select_one_from_file",
        "select_multiple_from_file",
        "begin_group",
        "begin group",
        "end_group",
        "end group",
        "begin_repeat",
        "begin repeat",
        "end_repeat",
        "end repeat",
    }
)
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


@dataclass(frozen=True)
class XlsformIssue:
    sheet: str
    row: int | None
    column: str | None
    message: str
    # A warning (a regex ODK Collect could hang on) is shown, but fails no check.
    warning: bool = False

    def __str__(self) -> str:
        where = [self.sheet] if self.sheet else []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        text = f"{', '.join(where)}: {self.message}" if where else self.message
        return "warning: " + text if self.warning else text


def check_file(path: Path, odk_validate: bool = False, lang: str = "en") -> list[XlsformIssue]:
    """Every problem found in an XLSForm, each naming sheet, row and column.

    `odk_validate` also runs ODK Validate (Java, about two seconds) on the XForm.
    Messages are in `lang`; those quoted from pyxform and ODK Validate stay English.
    """
    path = Path(path)
    try:
        data = read_sheets(path, lang)
    except XlsformError as exc:
        # The caller names the file; the message says what is wrong with it.
        return [XlsformIssue("", None, None, str(exc).removeprefix(f"{path.name}: "))]
    issues: list[XlsformIssue] = []
    survey = list(data.survey or [])
    choices = list(data.choices or [])
    settings = list(data.settings or [])
    names = {str(r.get("name")).strip() for r in survey if r.get("name")}
    choice_columns = {str(c) for r in choices for c in r}
    issues += _check_types(survey, path.parent, lang)
    issues += _check_expressions(survey, names, choice_columns, path.parent, lang)
    issues += _check_cycles(survey, lang)
    issues += _check_labels(survey, data.survey_header, lang)
    issues += _check_choice_labels(choices, data.choices_header, lang)
    issues += _check_settings(settings, data.settings_header, lang)
    issues += _pyxform_issues(data, issues, odk_validate, lang)
    issues.sort(key=lambda i: (_SHEET_ORDER.get(i.sheet, 9), i.row or 0))
    if not issues:
        try:
            load_form(path)
        except XlsformError as exc:
            issues.append(
                XlsformIssue("survey", None, None, str(exc).removeprefix(f"{path.name}: "))
            )
    return issues


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
        base = qtype.split(" ")[0] if not qtype.startswith(("select one", "select all")) else qtype
        if m := _FILE_SELECT.match(qtype):
            if not (folder / m.group(2)).is_file():
                issues.append(
                    XlsformIssue(
                        "survey",
                        row_no,
                        "type",
                        tr(lang, "choice file {file} not found beside the form", file=m.group(2)),
                    )
                )
            continue
        if qtype.lower().startswith(("select one ", "select all that apply ")):
            continue
        if base.lower() not in _SUPPORTED_BASE_TYPES:
            issues.append(
                XlsformIssue(
                    "survey",
                    row_no,
                    "type",
                    tr(lang, "type '{type}' is not supported by the kiosk", type=qtype),
                )
            )
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
    """(column to name, language) for each citizen language with no text in this row."""
    for key, cols in columns.items():
        if not any(_cell(row, c) for c in cols):
            yield (cols[0] if cols else prefix), key


def _check_labels(
    survey: list[dict[str, Any]], header: Sequence[Mapping[str, Any]] | None, lang: str
) -> list[XlsformIssue]:
    columns = _language_columns(header, "label")
    issues = []
    for row_no, row in _rows(survey):
        qtype = _cell(row, "type").lower()
        if (
            not qtype
            or qtype in _STRUCTURE_END
            or qtype.startswith(("calculate", "begin_group", "begin group"))
        ):
            continue
        for column, language in _missing_languages(row, columns, "label"):
            issues.append(XlsformIssue("survey", row_no, column, tr(lang, _NO_LABEL[language])))
    return issues


def _check_choice_labels(
    choices: list[dict[str, Any]], header: Sequence[Mapping[str, Any]] | None, lang: str
) -> list[XlsformIssue]:
    columns = _language_columns(header, "label")
    issues = []
    for row_no, row in _rows(choices):
        if not _cell(row, "list_name"):
            continue
        for column, language in _missing_languages(row, columns, "label"):
            issues.append(XlsformIssue("choices", row_no, column, tr(lang, _NO_LABEL[language])))
    return issues


def _check_settings(
    settings: list[dict[str, Any]], header: Sequence[Mapping[str, Any]] | None, lang: str
) -> list[XlsformIssue]:
    if not settings:
        return [
            XlsformIssue(
                "settings",
                None,
                None,
                tr(lang, "no settings sheet (form_id, version, form_title, category)"),
            )
        ]
    row = settings[0]
    issues = []
    for column in ("form_id", "version", "category"):
        if not _cell(row, column):
            issues.append(
                XlsformIssue("settings", 2, column, tr(lang, "{column} is missing", column=column))
            )
    issues.extend(_check_decision_settings(row, lang))
    for column, language in _missing_languages(
        row, _language_columns(header, "form_title"), "form_title"
    ):
        issues.append(XlsformIssue("settings", 2, column, tr(lang, _NO_TITLE[language])))
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


def _pyxform_issues(
    data: DefinitionData,
    found: list[XlsformIssue],
    odk_validate: bool,
    lang: str,
) -> list[XlsformIssue]:
    """What pyxform itself refuses, converting all the way to an XForm as ODK would.

    pyxform stops at its first error; one that repeats a problem found above is dropped.
    """
    try:
        spec = sheets_to_json(data)
        # form_title::<language> is this kiosk's extension; XForms have one title.
        title = spec.get("title")
        if isinstance(title, dict):
            spec["title"] = next(iter(title.values()), "")
        create_survey_element_from_dict(spec).to_xml(validate=odk_validate and _has_java())
    except (PyXFormError, ODKValidateError) as exc:
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
    if found and (row is None or any(i.sheet == sheet and i.row == row for i in found)):
        return []
    text = _PYX_ROW.sub("", message).strip()
    return [XlsformIssue(sheet, row, column, text)]


def _has_java() -> bool:
    return shutil.which("java") is not None
