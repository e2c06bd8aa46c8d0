"""`kiosk catalog list|show|check|sample`: the service catalog from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kiosk.cliutil import Subcommands, add_command, fail, lang, open_store, print_json
from kiosk.columns import aligned
from kiosk.i18n import ntr, tr

if TYPE_CHECKING:
    from kiosk.form import Form, Question

# `show` prints this many choices of a list in text mode (districts has ~200).
SHOWN_CHOICES = 20
T = TypeVar("T")


def register(sub: Subcommands) -> None:
    parser = add_command(sub, "catalog", "the service catalog (XLSForm)", _list)
    parser.add_argument("--json", action="store_true", help="print JSON")
    inner = parser.add_subparsers(dest="catalog_command", metavar="ACTION")

    p = add_command(inner, "list", "list the forms offered (active versions)", _list)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = add_command(inner, "show", "show a form: questions, types, choices and logic", _show)
    p.add_argument("form_id", metavar="ID")
    p.add_argument("--version", help="a cached version other than the active one")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = add_command(inner, "check", "check XLSForm files; exit 2 when one has problems", _check)
    p.add_argument("files", metavar="FILE", nargs="+")

    p = add_command(inner, "sample", "print a bundled form's sample answers (JSON)", _sample)
    p.add_argument("form_id", metavar="ID")


def _read_catalog(args: argparse.Namespace, read: Callable[[Any], T]) -> T:
    """`read(catalog)` over the data directory's store, bundled forms cached first."""
    from kiosk.catalog import Catalog

    with open_store(args) as store:
        catalog = Catalog(store)
        for problem in catalog.ensure_bundled():
            # A broken bundled file is worth a warning, not a refusal to list the rest.
            print(problem.message(lang(args)), file=sys.stderr)
        return read(catalog)


def _list(args: argparse.Namespace) -> int:
    from kiosk.catalog import category_name
    from kiosk.store import StoreError

    language = lang(args)
    try:
        forms = _read_catalog(args, lambda catalog: catalog.list())
    except StoreError as exc:
        return fail(exc.message(language), 1)
    if getattr(args, "json", False):
        print_json(
            [
                {
                    "id": f.id,
                    "version": f.version,
                    "category": f.category,
                    "category_name": category_name(f.category, language),
                    "title": f.title(language),
                    "description": f.description(language),
                    "documents": f.documents(language),
                }
                for f in forms
            ]
        )
        return 0
    if not forms:
        print(tr(language, "The catalog is empty."))
        return 0
    rows = [
        (f.id, f.version, category_name(f.category, language), f.list_title(language))
        for f in forms
    ]
    header = (
        tr(language, "ID"),
        tr(language, "Version"),
        tr(language, "Category"),
        tr(language, "Title"),
    )
    for line in aligned([header, *rows]):  # by terminal cells (kiosk/columns.py)
        print(line)
    return 0


def _show(args: argparse.Namespace) -> int:
    from kiosk.catalog import CatalogError
    from kiosk.store import StoreError

    language = lang(args)
    try:
        form = _read_catalog(args, lambda catalog: catalog.get(args.form_id, args.version))
    except CatalogError as exc:
        return fail(exc.message(language))
    except StoreError as exc:
        return fail(exc.message(language), 1)
    described = describe_form(form, language)
    if args.json:
        print_json(described)
    else:
        _print_form(described, language)
    return 0


def describe_form(form: Form, language: str) -> dict[str, object]:
    """A form as plain data in one language: what `show` prints."""
    return {
        "id": form.id,
        "version": form.version,
        "category": form.category,
        "title": form.title(language),
        "description": form.description(language),
        "documents": form.documents(language),
        "questions": [_describe_question(q, language) for q in form.questions],
    }


def _describe_question(q: Question, language: str) -> dict[str, object]:
    out: dict[str, Any] = {"name": q.name, "type": q.type, "label": q.label(language)}
    optional = {
        "hint": q.hint(language),
        "kind": q.kind,
        "required": q.required,
        "relevant": q.relevant,
        "constraint": q.constraint,
        "constraint_message": q.constraint_message(language),
        "calculation": q.calculation,
        "default": q.default,
        "choice_filter": q.choice_filter,
        "repeat_count": q.repeat_count,
        "list_name": q.list_name,
    }
    out.update({k: v for k, v in optional.items() if v})
    if q.choices:
        out["choices"] = [
            {"name": c.name, "label": c.label(language), **c.extra} for c in q.choices
        ]
    if q.children:
        out["children"] = [_describe_question(child, language) for child in q.children]
    return out


def _print_form(form: dict[str, Any], language: str) -> None:
    print(f"{form['title']}  ({form['id']}, {form['version']}, {form['category']})")
    if form["description"]:
        print(form["description"])
    if form["documents"]:
        print(tr(language, "Documents to bring:"))
        for item in form["documents"]:
            print(f"  - {item}")
    print()
    for q in form["questions"]:
        _print_question(q, language, 0)


def _print_question(q: dict[str, Any], language: str, depth: int) -> None:
    pad = "  " * depth
    kind = f" [{q['kind']}]" if q.get("kind") else ""
    print(f"{pad}{q['name']} ({q['type']}{kind}): {q['label']}")
    labels = {
        "required": tr(language, "required"),
        "relevant": tr(language, "relevant"),
        "constraint": tr(language, "constraint"),
        "constraint_message": tr(language, "constraint message"),
        "calculation": tr(language, "calculation"),
        "default": tr(language, "default"),
        "choice_filter": tr(language, "choice filter"),
        "repeat_count": tr(language, "repeat count"),
    }
    for key, label in labels.items():
        value = q.get(key)
        if value:
            shown = tr(language, "yes") if value == "true()" else value
            print(f"{pad}    {label}: {shown}")
    choices = q.get("choices") or []
    for choice in choices[:SHOWN_CHOICES]:
        print(f"{pad}    - {choice['name']}: {choice['label']}")
    if len(choices) > SHOWN_CHOICES:
        more = len(choices) - SHOWN_CHOICES
        print(f"{pad}    " + tr(language, "... and {n} more choices (see --json)", n=more))
    for child in q.get("children") or []:
        _print_question(child, language, depth + 1)


def _check(args: argparse.Namespace) -> int:
    from kiosk.xlsform_check import check_file

    language = lang(args)
    found = warned = 0
    for name in args.files:
        issues = check_file(Path(name), lang=language)
        if not issues:
            print(tr(language, "{file}: no problems found", file=name))
        for issue in issues:  # every part of the line in the chosen language
            print(f"{name}: {issue.text(language)}")
        warned += sum(issue.warning for issue in issues)
        found += sum(not issue.warning for issue in issues)
    if warned:  # warnings (a regex that could hang ODK Collect) fail no check
        print(tr(language, "Warnings (they fail no check): {n}", n=warned), file=sys.stderr)
    if found:
        print(ntr(language, "{n} problem found", "{n} problems found", found), file=sys.stderr)
        return 2
    return 0


def _sample(args: argparse.Namespace) -> int:
    from kiosk.catalog import CatalogError, load_sample

    try:
        data = load_sample(args.form_id)
    except CatalogError as exc:
        return fail(exc.message(lang(args)))
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0
