"""Reading XLSForm files (.md, .csv, .xlsx, .xls) through pyxform: `load_spec`, `load_form`.

`load_spec` gives pyxform's JSON with `select_one_from_file` lists inlined, so the
form model never reads files. Every failure is an `XlsformError` with one clear line.
Checking a file for its author, problem by problem, is `kiosk.xlsform_check`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pyxform.errors import PyXFormError
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import DefinitionData, get_xlsform

from kiosk.form import Form, FormError
from kiosk.i18n import N_, tr

SUFFIXES: tuple[str, ...] = (".md", ".csv", ".xlsx", ".xlsm", ".xls")


class XlsformError(ValueError):
    """A file that cannot be read as an XLSForm; the message says why. `pyxform` is
    True when pyxform itself refuses it (ODK could not use it either)."""

    def __init__(self, message: str, pyxform: bool = False) -> None:
        super().__init__(message)
        self.pyxform = pyxform


def read_sheets(path: Path, lang: str = "en") -> DefinitionData:
    """The raw sheets of an XLSForm file; XlsformError for anything unreadable."""
    if path.suffix.lower() not in SUFFIXES:
        raise XlsformError(
            tr(
                lang,
                "{file}: not an XLSForm file (expected .md, .csv, .xlsx or .xls)",
                file=path.name,
            )
        )
    if not path.is_file():
        raise XlsformError(tr(lang, "{file}: no such file", file=path.name))
    try:
        with warnings.catch_warnings():
            # openpyxl's notes on a workbook's styles and extensions ("no default style")
            # say nothing to a form author: the form's own problems are reported.
            warnings.simplefilter("ignore", UserWarning)
            data = get_xlsform(str(path))
    except PyXFormError as exc:  # "Duplicate column header: label" is no damaged file
        raise XlsformError(_reading_error(path, first_line(exc), lang), pyxform=True) from None
    except Exception as exc:  # corrupt zip, bad encoding, not a table: one clear message
        raise XlsformError(
            tr(lang, "{file}: the file is damaged or is not an XLSForm", file=path.name)
        ) from exc
    if not data.survey:
        raise XlsformError(
            tr(
                lang,
                "{file}: no 'survey' sheet with questions; is this an XLSForm?",
                file=path.name,
            )
        )
    return data


def _reading_error(path: Path, error: str, lang: str) -> str:
    if error.startswith("Duplicate column header:"):
        column = error.split(":", 1)[1].strip()
        return tr(
            lang, N_("{file}: the column {column} appears twice"), file=path.name, column=column
        )
    return tr(lang, "{file}: the file is damaged or is not an XLSForm", file=path.name)


def sheets_to_json(data: DefinitionData) -> dict[str, object]:
    """pyxform's JSON of the sheets; "data" as the instance name, as pyxform's own default."""
    spec: dict[str, object] = workbook_to_json(
        workbook_dict=data,
        form_name="data",
        fallback_form_name=data.fallback_form_name,
        default_language="default",
        warnings=[],
    )
    return spec


def load_spec(path: Path) -> dict[str, object]:
    """pyxform's JSON of the form at `path`, with choice files inlined into `choices`.

    Raises XlsformError with a clear message for a broken or unreadable file.
    """
    path = Path(path)
    data = read_sheets(path)
    try:
        spec = sheets_to_json(data)
    except PyXFormError as exc:
        raise XlsformError(f"{path.name}: {first_line(exc)}") from None
    except Exception as exc:
        raise XlsformError(f"{path.name}: the form could not be read ({exc})") from exc
    _inline_choice_files(spec, path.parent)
    _inline_data_files(spec, path.parent)
    if not str(spec.get("version") or "").strip():
        # An outside form often has no version: its content names it, so an edited
        # file is a new version and an unchanged one is the same.
        spec["version"] = "h" + _file_hash(path, spec)[:12]
    return spec


def _file_hash(path: Path, spec: dict[str, object]) -> str:
    """The SHA-256 of the form file and the choice lists inlined from files beside it."""
    digest = hashlib.sha256(path.read_bytes())
    digest.update(json.dumps(spec.get("choices") or {}, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _inline_choice_files(spec: dict[str, Any], folder: Path) -> None:
    """`select_one_from_file X.csv` lists into spec["choices"]["X"]; the question's
    `list_name` points at them."""
    choices: dict[str, Any] = spec.setdefault("choices", {})
    for node in _nodes(spec.get("children") or []):
        itemset = node.get("itemset")
        if not isinstance(itemset, str) or not itemset.lower().endswith(".csv"):
            continue
        list_name = Path(itemset).stem
        if list_name not in choices:
            choices[list_name] = read_choice_file(folder / itemset)
        node["list_name"] = list_name


# pulldata('fruits', ...) and instance('fruits') read fruits.csv beside the form.
_DATA_FILE = re.compile(r"""(?:pulldata|instance)\(\s*['"]([\w.\-]+)['"]""")
MAX_DATA_ROWS = 20_000  # a CSV beside a form: a list of places or prices, not a database


def _inline_data_files(spec: dict[str, Any], folder: Path) -> None:
    """The CSV files the form's expressions read into spec["kiosk_csv"] (rows of text
    by column), so the form model never reads files."""
    choices = spec.get("choices") or {}
    names = set(_DATA_FILE.findall(json.dumps(spec.get("children") or [])))
    data: dict[str, list[dict[str, str]]] = {}
    for name in sorted(names - set(choices)):
        path = folder / f"{name}.csv"
        if not path.is_file():
            continue
        try:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                rows: list[dict[str, str]] = []
                for row in csv.DictReader(fh):
                    if len(rows) >= MAX_DATA_ROWS:
                        break
                    rows.append({k.strip(): (v or "").strip() for k, v in row.items() if k})
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise XlsformError(f"data file {path.name} could not be read ({exc})") from None
        data[name] = rows
    if data:
        spec["kiosk_csv"] = data


def _nodes(children: Sequence[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for node in children:
        yield node
        yield from _nodes(node.get("children") or [])


def read_choice_file(path: Path) -> list[dict[str, object]]:
    """A CSV choice list (name, label or label::<language>, extra columns) as pyxform rows."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        raise XlsformError(f"choice file {path.name} not found beside the form") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise XlsformError(f"choice file {path.name} could not be read ({exc})") from None
    out: list[dict[str, object]] = []
    for row in rows:
        item: dict[str, object] = {}
        labels: dict[str, str] = {}
        for key, value in row.items():
            if key is None:
                continue
            key = key.strip()
            value = (value or "").strip()
            if key == "label":
                labels["default"] = value
            elif key.startswith("label::"):
                labels[key.split("::", 1)[1].strip()] = value
            elif value:
                item[key] = value
        if not item.get("name"):
            continue
        if list(labels) == ["default"]:
            item["label"] = labels["default"]
        elif labels:
            item["label"] = {k: v for k, v in labels.items() if v}
        out.append(item)
    return out


def load_form(path: Path) -> Form:
    """The runnable Form of an XLSForm file; XlsformError (a ValueError) when broken."""
    spec = load_spec(path)
    try:
        return Form.from_pyxform(spec)
    except FormError as exc:
        raise XlsformError(f"{Path(path).name}: {exc}") from None


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (pyxform's can run long), or its type."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
