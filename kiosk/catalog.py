"""The service catalog: bundled XLSForms and the portal's, cached in the `forms` table.

Bundled forms live in `kiosk/forms_bundled/` (`ID.md`, its `ID.sample.json`, and the
shared choice files `regions.csv` / `districts.csv`). pyxform is slow next to a
start-up budget, so `Catalog.ensure_bundled()` parses a file only when its bytes (or a
choice file's) changed since the last run: the sha256 of every bundled file is kept in
the `bundled_catalog` setting, and the parsed JSON in `forms.spec`.

Versions are never overwritten by newer ones: drafts and outbox rows name
(form_id, version), so every version stays and one per form is `active` (the highest).
"""

from __future__ import annotations

import builtins
import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.errors import TranslatableError
from kiosk.form import LABEL_REF, Form
from kiosk.i18n import N_, tr
from kiosk.wire import content_hash, now_iso

if TYPE_CHECKING:
    from kiosk.store import Store

BUNDLED_DIR = Path(__file__).resolve().parent / "forms_bundled"
SOURCES: tuple[str, ...] = ("bundled", "portal")
# Setting holding {file name: sha256} of the bundled files last cached.
HASHES_KEY = "bundled_catalog"
# Display names of the categories used by the bundled forms (a portal may add others).
CATEGORY_NAMES: dict[str, str] = {
    "documents": N_("Documents and certificates"),
    "social": N_("Social support"),
    "housing": N_("Housing and registration"),
    "utilities": N_("Utilities"),
    "education": N_("Education"),
    "appeals": N_("Appeals"),
    "participation": N_("Participation"),
    # Forms without a category (from ODK and Kobo libraries) are listed here.
    "other": N_("Other services"),
}
_DIGITS = re.compile(r"(\d+)")
_EXPRESSION_ATTRS: tuple[str, ...] = (
    "required",
    "relevant",
    "constraint",
    "calculation",
    "choice_filter",
    "repeat_count",
)


class CatalogError(TranslatableError, ValueError):
    """A form that cannot be used; `message(lang)` says why in the user's language."""


class ChainTooLong(CatalogError):
    """A form whose calculations chain deeper than MAX_CHAIN: both parts translated."""

    def __init__(self, name: str, field: str, depth: int) -> None:
        super().__init__(N_("The form {name} cannot be used: {reason}"), name=name)
        self.field, self.depth = field, depth

    def message(self, lang: str) -> str:
        from kiosk.expr.limits import CHAIN_TOO_LONG, MAX_CHAIN

        reason = tr(lang, CHAIN_TOO_LONG, field=self.field, depth=self.depth, limit=MAX_CHAIN)
        return tr(lang, self.msgid, name=self.kwargs["name"], reason=reason)

    text = message


class UnknownForm(CatalogError, LookupError):
    """No such form (or no such version of it) in the catalog."""

    def __init__(self, form_id: str, version: str | None = None) -> None:
        if version is None:
            super().__init__(N_("Unknown form: {id}"), id=form_id)
        else:
            super().__init__(
                N_("Unknown form: {id} version {version}"), id=form_id, version=version
            )
        self.form_id = form_id
        self.version = version


# ----- files ------------------------------------------------------------------------------


def bundled_form_files() -> list[Path]:
    """The bundled XLSForm files, sorted by name."""
    return sorted(BUNDLED_DIR.glob("*.md"))


def sample_file(form_id: str) -> Path:
    """Where a bundled form's sample answers live (the file may not exist)."""
    return BUNDLED_DIR / f"{form_id}.sample.json"


def load_sample(form_id: str) -> dict[str, object]:
    """A bundled form's realistic valid answers; CatalogError when there are none."""
    path = sample_file(form_id)
    if "/" in form_id or "\\" in form_id or not path.is_file():
        raise CatalogError(N_("No sample answers for form {id}"), id=form_id)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogError(
            N_("The sample answers of form {id} cannot be read: {reason}"), id=form_id, reason=exc
        ) from None
    if not isinstance(data, dict):
        raise CatalogError(N_("The sample answers of form {id} are not a JSON object"), id=form_id)
    return data


def load_spec_file(path: Path) -> dict[str, object]:
    """pyxform's JSON of an XLSForm file (choice files inlined); CatalogError if broken."""
    from kiosk.xlsform_load import load_spec  # pyxform is heavy: only when a file is parsed

    path = Path(path)
    if not path.is_file():
        raise CatalogError(N_("The form file does not exist: {path}"), path=str(path))
    try:
        return load_spec(path)
    except (ValueError, OSError) as exc:  # XlsformError is a ValueError
        reason = str(exc).removeprefix(f"{path.name}: ")  # the name is said once
        raise CatalogError(
            N_("The form file {name} cannot be used: {reason}"), name=path.name, reason=reason
        ) from None


def load_form_file(path: Path) -> Form:
    """The runnable Form of an XLSForm file; CatalogError (clear message) if broken.

    A ``prefill`` name that is no registry field is refused with its row and the
    closest known name (`kiosk.xlsform_check.prefill_issues`)."""
    path = Path(path)
    spec = load_spec_file(path)
    try:
        return form_from_spec(spec, origin=path.name)
    except CatalogError:
        from kiosk.xlsform_check import prefill_issues
        from kiosk.xlsform_load import read_sheets

        issues = prefill_issues(list(read_sheets(path).survey or []))
        if issues:
            raise CatalogError(
                N_("The form {name} cannot be used: {reason}"),
                name=path.name,
                reason="; ".join(str(i) for i in issues),
            ) from None
        raise


def form_from_spec(spec: object, origin: str = "") -> Form:
    """A Form from pyxform JSON, refused with CatalogError when the engine could not run it.

    Beyond `Form.from_pyxform`, every expression is parsed and every `${name}` must be
    a field of the form, so a hand-edited file fails here and not in front of a citizen.
    """
    where = origin or (spec.get("id_string") if isinstance(spec, dict) else "") or "?"
    try:
        # A spec comes from files and the portal: what is no survey fails in from_pyxform.
        form = Form.from_pyxform(spec)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:  # FormError included
        raise CatalogError(
            N_("The form {name} cannot be used: {reason}"), name=where, reason=exc
        ) from None
    if not form.id:
        raise CatalogError(N_("The form {name} has no form_id or no version"), name=where)
    if not form.version:  # an outside form's version is its content
        form.version = "h" + content_hash(form.spec)[:12]
        form.spec["version"] = form.version
    if chain := _chain_too_long(form):
        raise ChainTooLong(where, *chain)
    problems = _expression_problems(form)  # the chain is checked just above
    if problems:
        raise CatalogError(
            N_("The form {name} cannot be used: {reason}"), name=where, reason="; ".join(problems)
        )
    return form


def expression_problems(form: Form) -> list[str]:
    """Expressions of the form that do not parse or name fields the form lacks, and a
    calculation chain over MAX_CHAIN."""
    return _expression_problems(form) + _chain_problems(form)


def _expression_problems(form: Form) -> list[str]:
    from kiosk import expr

    names = {q.name for q in form.walk()}
    problems = []
    for q in form.walk():
        texts = [(attr, getattr(q, attr)) for attr in _EXPRESSION_ATTRS]
        if q.default_is_expression:
            texts.append(("default", q.default))
        for attr, text in texts:
            if not text:
                continue
            try:
                unknown = expr.references(text) - names
            except expr.ExprError as exc:
                problems.append(f"{q.name}: {attr}: {exc}")
                continue
            for name in sorted(unknown):
                problems.append(f"{q.name}: {attr}: unknown field ${{{name}}}")
        # Labels may show answers (`${household_size}`); a typo there would show raw.
        for text in (*q.labels.values(), *q.hints.values()):
            for name in sorted(set(LABEL_REF.findall(text)) - names):
                problems.append(f"{q.name}: label: unknown field ${{{name}}}")
    return problems


def _chain_problems(form: Form) -> list[str]:
    from kiosk.expr.limits import CHAIN_TOO_LONG, MAX_CHAIN

    too_long = _chain_too_long(form)
    if too_long is None:
        return []
    name, depth = too_long
    reason = CHAIN_TOO_LONG.format(field=name, depth=depth, limit=MAX_CHAIN)
    return [f"{name}: calculation: {reason}"]


def _chain_too_long(form: Form) -> tuple[str, int] | None:
    """The field ending a chain of calculations longer than MAX_CHAIN, and its depth
    (found by loops, never recursion: kiosk.calc_chain)."""
    from kiosk.calc_chain import of_questions

    return of_questions(form.walk()).too_long()


def version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """Order versions naturally: 2026112701 < 2026112702, "1.10" > "1.9"."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in _DIGITS.split(version)
        if part
    )


def category_name(category: str, lang: str) -> str:
    """A category's display name; an unknown category shows as written."""
    msgid = CATEGORY_NAMES.get(category)
    return tr(lang, msgid) if msgid else category


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _choice_files_hash() -> str:
    """One hash over the shared choice files: a change there re-parses every form."""
    digest = hashlib.sha256()
    for path in sorted(BUNDLED_DIR.glob("*.csv")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# ----- the cache --------------------------------------------------------------------------


class Catalog:
    """The forms a kiosk offers, over a Store's `forms` table. One per Store (thread)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._forms: dict[tuple[str, str], Form] = {}
        # Bundled files (or stored rows) that could not be used at the last look.
        self.problems: list[CatalogError] = []

    # -- bundled forms ---------------------------------------------------------------

    def ensure_bundled(self) -> list[CatalogError]:
        """Cache every bundled form's current version; idempotent and cheap when unchanged.

        A broken bundled file is reported (returned, and kept in `.problems`), never
        fatal: what was cached from it before stays usable.
        """
        choices = _choice_files_hash()
        current = {p.name: f"{_sha256(p)}:{choices}" for p in bundled_form_files()}
        known = self._known_hashes()
        present = self._cached_versions()
        problems: list[CatalogError] = []
        for path in bundled_form_files():
            entry = known.get(path.name)
            if entry and entry.get("hash") == current[path.name]:
                if (entry.get("form_id"), entry.get("version")) in present:
                    continue
            try:
                form = load_form_file(path)
            except CatalogError as exc:
                problems.append(exc)
                continue
            self._save(form, "bundled")
            known[path.name] = {
                "hash": current[path.name],
                "form_id": form.id,
                "version": form.version,
            }
        known = {name: entry for name, entry in known.items() if name in current}
        text = json.dumps(known, sort_keys=True)
        if text != self.store.get_setting(HASHES_KEY):  # no write (fsync) when unchanged
            self.store.set_setting(HASHES_KEY, text)
        self.problems = problems
        return problems

    def _known_hashes(self) -> dict[str, dict[str, str]]:
        raw = self.store.get_setting(HASHES_KEY)
        try:
            data = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            return {}  # a damaged setting only costs one re-parse
        return data if isinstance(data, dict) else {}

    def _cached_versions(self) -> set[tuple[str, str]]:
        # Any source counts: the portal's copy of the same version is not overwritten.
        with self.store.guard():
            rows = self.store.db.execute("SELECT form_id, version FROM forms").fetchall()
        return {(r[0], r[1]) for r in rows}

    # -- writing ---------------------------------------------------------------------

    def put(self, spec: dict[str, object], source: str = "portal") -> Form:
        """Add or refresh one version; the highest version of a form becomes active.

        Older versions stay, so a draft or outbox row keeps the version it was made
        with. CatalogError when the spec cannot be run.
        """
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
        form = form_from_spec(spec)
        self._save(form, source)
        return form

    def _save(self, form: Form, source: str) -> None:
        spec = json.dumps(form.spec, ensure_ascii=False, sort_keys=True, default=str)
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO forms (form_id, version, source, category, spec, active, fetched_at)"
                " VALUES (?, ?, ?, ?, ?, 0, ?)"
                " ON CONFLICT (form_id, version) DO UPDATE SET source = excluded.source,"
                " category = excluded.category, spec = excluded.spec,"
                " fetched_at = excluded.fetched_at",
                [form.id, form.version, source, form.category, spec, now_iso()],
            )
            versions = [
                r[0] for r in db.execute("SELECT version FROM forms WHERE form_id = ?", [form.id])
            ]
            newest = max(versions, key=version_key)
            db.execute(
                "UPDATE forms SET active = (version = ?) WHERE form_id = ?", [newest, form.id]
            )
        self._forms[(form.id, form.version)] = form

    # -- reading ---------------------------------------------------------------------

    def list(self) -> list[Form]:
        """The active version of every form, sorted by category then id.

        A stored spec that no longer loads is left out and noted in `.problems`.
        """
        with self.store.guard():
            rows = self.store.db.execute(
                "SELECT form_id, version, spec FROM forms WHERE active = 1"
                " ORDER BY category, form_id"
            ).fetchall()
        forms = []
        for form_id, version, spec in rows:
            try:
                forms.append(self._form(form_id, version, spec))
            except CatalogError as exc:
                self.problems.append(exc)
        return forms

    def get(self, form_id: str, version: str | None = None) -> Form:
        """A form's active version, or the exact `version`; UnknownForm when absent."""
        with self.store.guard():
            if version is None:
                row = self.store.db.execute(
                    "SELECT version, spec FROM forms WHERE form_id = ? AND active = 1",
                    [form_id],
                ).fetchone()
            else:
                row = self.store.db.execute(
                    "SELECT version, spec FROM forms WHERE form_id = ? AND version = ?",
                    [form_id, version],
                ).fetchone()
        if row is None:
            raise UnknownForm(form_id, version)
        return self._form(form_id, row[0], row[1])

    def versions(self, form_id: str) -> builtins.list[str]:
        """Every cached version of a form, oldest first."""
        with self.store.guard():
            rows = self.store.db.execute(
                "SELECT version FROM forms WHERE form_id = ?", [form_id]
            ).fetchall()
        return sorted((r[0] for r in rows), key=version_key)

    def categories(self) -> builtins.list[str]:
        """The categories of the active forms, sorted."""
        with self.store.guard():
            rows = self.store.db.execute(
                "SELECT DISTINCT category FROM forms WHERE active = 1 ORDER BY category"
            ).fetchall()
        return [r[0] for r in rows]

    def _form(self, form_id: str, version: str, spec_text: str) -> Form:
        cached = self._forms.get((form_id, version))
        if cached is not None:
            return cached
        try:
            spec = json.loads(spec_text)
        except json.JSONDecodeError:
            raise CatalogError(
                N_("The stored form {name} is damaged"), name=f"{form_id} {version}"
            ) from None
        form = form_from_spec(spec, origin=f"{form_id} {version}")
        self._forms[(form_id, version)] = form
        return form
