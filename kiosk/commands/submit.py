"""`kiosk submit`: queue a submission from a JSON answers file, validated as the UI does."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from kiosk.cliutil import Subcommands, add_command, fail, lang, open_store, print_json
from kiosk.errors import os_error_text
from kiosk.expr.limits import MAX_JSON_DEPTH
from kiosk.i18n import tr
from kiosk.wire import json_depth, json_problem


def register(sub: Subcommands) -> None:
    parser = add_command(
        sub, "submit", "validate answers to a form and queue them for sending", _submit
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--form", metavar="ID", help="a form in the catalog")
    which.add_argument("--form-file", metavar="FILE", help="an XLSForm file (.md, .csv, .xlsx)")
    parser.add_argument(
        "--answers", required=True, metavar="FILE", help="JSON object of field -> value"
    )
    parser.add_argument("--dry-run", action="store_true", help="validate only; queue nothing")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


class _InputError(Exception):
    """Bad command input; the message is already translated."""


def _read_answers(path_text: str, language: str) -> dict[str, Any]:
    path = Path(path_text)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise _InputError(
            tr(language, "The answers file does not exist: {path}", path=path_text)
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _InputError(
            tr(
                language,
                "The answers file cannot be read: {path} ({error})",
                path=path_text,
                error=os_error_text(exc, language),
            )
        ) from None
    if json_depth(text) > MAX_JSON_DEPTH:  # before json.loads, which would recurse
        raise _InputError(
            tr(
                language,
                "The answers file is nested more than {limit} levels deep.",
                limit=MAX_JSON_DEPTH,
            )
        )
    try:
        answers = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _InputError(
            tr(
                language,
                "The answers file is not valid JSON (line {line}, column {column}): {error}",
                line=exc.lineno,
                column=exc.colno,
                error=exc.msg,
            )
        ) from None
    if not isinstance(answers, dict):
        raise _InputError(
            tr(language, "The answers file must contain a JSON object of field names to values.")
        )
    if json_problem(answers):  # 1e999999, NaN, "\\ud800": could be neither hashed nor sent
        raise _InputError(
            tr(
                language,
                "The answers file holds a number out of range or text that is not valid Unicode.",
            )
        )
    return answers


def _load_form(args: argparse.Namespace, language: str, store: Any) -> Any:
    """The form named by --form (catalog) or --form-file; _InputError if unusable."""
    from kiosk import catalog

    try:
        if args.form_file:
            return catalog.load_form_file(Path(args.form_file))
        cat = catalog.Catalog(store)
        cat.ensure_bundled()
        return cat.get(args.form)
    except catalog.CatalogError as exc:  # UnknownForm included
        raise _InputError(exc.message(language)) from None


def _submit(args: argparse.Namespace) -> int:
    from kiosk.engine_json import validate_answers
    from kiosk.store import StoreError, failure_message
    from kiosk.tracking import format_code

    language = lang(args)
    try:
        answers = _read_answers(args.answers, language)
        with open_store(args) as store:
            form = _load_form(args, language, store)
            try:
                payload, errors = validate_answers(form, answers, language)
            except (ValueError, TypeError, KeyError):
                # The exception's text is English for developers: say what it means.
                raise _InputError(
                    tr(language, "The answers could not be checked: the form cannot read them.")
                ) from None
            if errors:
                return _report_errors(args, errors)
            if args.dry_run:
                submission = None
            else:
                submission = store.submit(form, payload, language, actor="cli")
    except _InputError as exc:
        return _input_failure(args, str(exc))
    except (StoreError, OSError) as exc:
        return _input_failure(args, failure_message(exc, language), code=1)

    if args.json:
        result: dict[str, Any] = {"tracking_code": None, "payload": payload}
        if submission is not None:
            result["tracking_code"] = submission.tracking_code
            result["display_code"] = format_code(submission.tracking_code)
            result["id"] = submission.id
        print_json(result)
    elif submission is None:
        print(tr(language, "The answers are valid. Nothing was queued (dry run)."))
    else:
        print(
            tr(
                language,
                "Queued. Tracking code: {code}",
                code=format_code(submission.tracking_code),
            )
        )
    return 0


def _input_failure(args: argparse.Namespace, message: str, code: int = 2) -> int:
    """A failure not tied to one field: the message on stderr (and as JSON with --json)."""
    if args.json:
        print_json({"errors": [{"field": None, "message": message}]})
    return fail(message, code)


def _report_errors(args: argparse.Namespace, errors: list[Any]) -> int:
    if args.json:
        print_json({"errors": [{"field": e.field, "message": e.message} for e in errors]})
    else:
        for error in errors:
            print(f"{error.field}: {error.message}", file=sys.stderr)
    return 2
