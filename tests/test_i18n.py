"""Catalogs complete and compiled, runtime loading and fallbacks, and no raw UI strings."""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

from kiosk import i18n
from kiosk.i18n import LANGS, N_, ntr, tr

ROOT = Path(__file__).resolve().parent.parent


def _load_script() -> ModuleType:
    path = ROOT / "scripts" / "i18n"
    loader = importlib.machinery.SourceFileLoader("i18n_script", str(path))
    spec = importlib.util.spec_from_loader("i18n_script", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


script = _load_script()


@pytest.fixture(scope="module")
def source_ids() -> set[object]:
    return {m.id for m in script.extract_catalog() if m.id}


# ------------------------------------------------------------------ catalogs


@pytest.mark.parametrize("lang", LANGS)
def test_every_source_message_is_translated(lang: str, source_ids: set[object]) -> None:
    found = script.problems(lang, source_ids)
    assert not found, (
        f"{len(found)} problems; run `scripts/i18n all`, translate, run it again:\n"
        + "\n".join(found[:40])
    )


@pytest.mark.parametrize("lang", LANGS)
def test_compiled_catalog_is_not_older_than_its_po(lang: str) -> None:
    po, mo = i18n.catalog_paths(lang)
    if not mo.exists():
        pytest.skip(f"no {mo.name} built for {lang}: the setup builds them (scripts/i18n compile)")
    assert mo.stat().st_mtime >= po.stat().st_mtime, f"{mo} is stale: run scripts/i18n compile"


@pytest.mark.parametrize("lang", LANGS)
def test_plural_forms_header_follows_cldr(lang: str) -> None:
    po, _ = i18n.catalog_paths(lang)
    with po.open("rb") as fh:
        catalog = read_po(fh)
    plural = get_plural(lang)
    assert catalog.num_plurals == plural.num_plurals
    assert catalog.plural_expr == plural.plural_expr
    assert catalog.num_plurals == (3 if lang == "ru" else 2)


def test_extraction_uses_the_tr_argument_positions(source_ids: set[object]) -> None:
    # tr(lang, msgid): the id is the 2nd argument; the language must never be extracted.
    assert "Mahalla Kiosk" in source_ids
    assert not {"lang", "uz_Latn"} & {i for i in source_ids if isinstance(i, str)}
    assert any(isinstance(i, tuple) for i in source_ids), "ntr plurals are extracted"


# ------------------------------------------------------------------ runtime


def _write_po(path: Path, lang: str, entries: dict[object, object]) -> None:
    catalog = Catalog(locale=lang, domain="kiosk")
    for msgid, msgstr in entries.items():
        catalog.add(msgid, msgstr)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    write_po(buf, catalog)
    path.write_bytes(buf.getvalue())


def _write_mo(path: Path, lang: str, entries: dict[object, object]) -> None:
    catalog = Catalog(locale=lang, domain="kiosk")
    for msgid, msgstr in entries.items():
        catalog.add(msgid, msgstr)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    path.write_bytes(buf.getvalue())


@pytest.fixture
def locale_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.reload()
    yield tmp_path
    monkeypatch.undo()
    i18n.reload()


def _paths(root: Path, lang: str) -> tuple[Path, Path]:
    base = root / lang / "LC_MESSAGES" / "kiosk"
    return base.with_suffix(".po"), base.with_suffix(".mo")


def test_po_without_mo_is_compiled_in_memory(locale_dir: Path) -> None:
    po, mo = _paths(locale_dir, "ru")
    _write_po(po, "ru", {"Next": "Далее"})
    assert not mo.exists()
    assert tr("ru", "Next") == "Далее"


def test_mo_older_than_po_is_ignored(locale_dir: Path) -> None:
    po, mo = _paths(locale_dir, "ru")
    _write_po(po, "ru", {"Next": "Далее"})
    _write_mo(mo, "ru", {"Next": "Вперёд (old)"})
    os.utime(mo, (1_000_000, 1_000_000))
    assert tr("ru", "Next") == "Далее"
    os.utime(mo, None)
    os.utime(po, (1_000_000, 1_000_000))
    i18n.reload()
    assert tr("ru", "Next") == "Вперёд (old)"  # a fresh .mo is what runs


def test_missing_or_broken_catalog_shows_english(locale_dir: Path) -> None:
    assert tr("ru", "Next") == "Next"
    po, _ = _paths(locale_dir, "uz_Latn")
    po.parent.mkdir(parents=True)
    po.write_bytes(b'msgid "x"\nmsgstr "unterminated\n\x00\xff')
    assert tr("uz_Latn", "Next") == "Next"


def test_uz_cyrl_falls_back_to_transliterated_uz_latn(locale_dir: Path) -> None:
    _write_po(_paths(locale_dir, "uz_Latn")[0], "uz_Latn", {
        "Next": "Keyingi",
        "Hello {name}": "Salom, {name}! [b]Oʻqing[/b]",
        ("{n} form", "{n} forms"): ("{n} ta shakl", "{n} ta shakl"),
    })  # fmt: skip
    _write_po(_paths(locale_dir, "uz_Cyrl")[0], "uz_Cyrl", {"Back": "Орқага"})
    assert tr("uz_Cyrl", "Back") == "Орқага"
    assert tr("uz_Cyrl", "Next") == "Кейинги"
    assert tr("uz_Cyrl", "Hello {name}", name="Ali") == "Салом, Ali! [b]Ўқинг[/b]"
    assert ntr("uz_Cyrl", "{n} form", "{n} forms", 3) == "3 та шакл"
    assert tr("uz_Cyrl", "Untranslated") == "Untranslated"


def test_russian_plurals(locale_dir: Path) -> None:
    _write_po(_paths(locale_dir, "ru")[0], "ru", {
        ("{n} application", "{n} applications"): ("{n} заявка", "{n} заявки", "{n} заявок"),
    })  # fmt: skip
    forms = {n: ntr("ru", "{n} application", "{n} applications", n) for n in (1, 2, 5, 11, 21, 24)}
    assert forms == {
        1: "1 заявка",
        2: "2 заявки",
        5: "5 заявок",
        11: "11 заявок",
        21: "21 заявка",
        24: "24 заявки",
    }


def test_bad_placeholder_in_a_translation_does_not_crash(locale_dir: Path) -> None:
    _write_po(_paths(locale_dir, "ru")[0], "ru", {"Hello {name}": "Привет, {nmae}"})
    assert tr("ru", "Hello {name}", name="Ali") == "Hello Ali"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown language"):
        tr("de", "Next")


@pytest.mark.parametrize("lang", LANGS)
def test_real_catalogs_are_what_tr_shows(lang: str) -> None:
    i18n.reload()
    po, _ = i18n.catalog_paths(lang)
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    checked = 0
    for msg in catalog:
        if not msg.id or msg.fuzzy or not msg.string:
            continue
        ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
        kw = {f: f"<{f}>" for f in re.findall(r"\{(\w+)\}", " ".join(ids))}
        if isinstance(msg.id, tuple):
            kw.pop("n", None)
            got = ntr(lang, msg.id[0], msg.id[1], 1, **kw)
            assert got == msg.string[0].format(n=1, **kw)
        elif kw:
            assert tr(lang, msg.id, **kw) == msg.string.format(**kw)
        else:
            assert tr(lang, msg.id) == msg.string
        checked += 1
    assert checked > 0


@pytest.mark.parametrize(
    ("tag", "lang"),
    [("uz", "uz_Latn"), ("uz-Latn", "uz_Latn"), ("uz-Cyrl", "uz_Cyrl"), ("uz_Cyrl", "uz_Cyrl"),
     ("ru_RU", "ru"), ("en", "en"), ("de", None), ("", None)],
)  # fmt: skip
def test_normalize_lang(tag: str, lang: str | None) -> None:
    assert i18n.normalize_lang(tag) == lang


def test_update_fills_english_and_cyrillic() -> None:
    latin = Catalog(locale="uz_Latn")
    latin.add("Next", "Keyingi")
    latin.add(("{n} form", "{n} forms"), ("{n} ta shakl", "{n} ta shakl"))
    latin.add("Pending", "")
    cyr = Catalog(locale="uz_Cyrl")
    cyr.add("Next", "")
    cyr.add(("{n} form", "{n} forms"), ("", ""))
    cyr.add("Pending", "")
    cyr.add("Reviewed", "Кўрилган")
    assert script._fill_cyrillic(cyr, latin) == 2
    assert cyr.get("Next").string == "Кейинги"
    assert script.TRANSLIT_MARK in cyr.get("Next").user_comments
    assert cyr.get(("{n} form", "{n} forms")).string == ("{n} та шакл", "{n} та шакл")
    assert cyr.get("Pending").string == ""
    assert cyr.get("Reviewed").string == "Кўрилган"
    # An auto-filled entry follows later uz_Latn edits; a reviewed one does not.
    latin.get("Next").string = "Davom etish"
    script._fill_cyrillic(cyr, latin)
    assert cyr.get("Next").string == "Давом этиш"
    en = Catalog(locale="en")
    en.add("Next", "")
    en.add(("{n} form", "{n} forms"), ("", ""))
    script._fill_english(en)
    assert en.get("Next").string == "Next"
    assert en.get(("{n} form", "{n} forms")).string == ("{n} form", "{n} forms")


# ------------------------------------------------------------------ no raw UI strings

# Calls whose first positional argument is shown to the user.
TEXT_CALLS = {
    "Label", "Static", "Button", "Checkbox", "RadioButton", "Markdown", "Link", "Tab",
    "TabPane", "Collapsible", "Option", "Content", "Text", "from_markup", "notify",
    "update", "TrLabel", "TrButton", "set_msg", "Toast", "Header", "Placeholder",
    "Pretty", "Log", "write", "write_line", "add_column", "add_columns", "add_row",
    "Tabs", "RadioSet", "OptionList",
}  # fmt: skip
# Keyword arguments shown to the user, on any call.
TEXT_KWARGS = {
    "label", "placeholder", "tooltip", "title", "sub_title", "subtitle", "description",
    "prompt", "message", "text", "border_title", "border_subtitle", "renderable",
}  # fmt: skip
TEXT_ATTRS = {
    "TITLE", "SUB_TITLE", "title", "sub_title", "border_title", "border_subtitle",
    "placeholder", "tooltip", "label", "description",
}  # fmt: skip
TRANSLATORS = {"tr", "ntr", "N_", "tr_all"}
ALL_POSITIONAL = {"add_columns", "add_row", "Tabs", "RadioSet", "OptionList"}
# Calls taking (prompt, value) pairs: the prompt is shown.
PAIR_CALLS = {"Select", "SelectionList", "from_values", "set_options", "Selection"}
# Prose: a word with a lower-case letter, or an upper-case word of four letters or more.
# Symbols, digits, markup tags and example codes like "ABC-2345-6" pass.
_WORDY = re.compile(r"[^\W\d_]*[a-zа-яёўқғҳ][^\W\d_]*|[^\W\d_]{4,}")
_MARKUP = re.compile(r"\[/?[a-z@#$][^\[\]]*\]|\{[^{}]*\}")
PRAGMA = "i18n: ignore"


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_prose(text: str) -> bool:
    return any(len(w) >= 2 for w in _WORDY.findall(_MARKUP.sub(" ", text)))


def _raw_strings(node: ast.expr | None) -> Iterator[ast.Constant]:
    """String literals in an expression that reach the screen untranslated."""
    if node is None:
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if _is_prose(node.value):
            yield node
    elif isinstance(node, ast.JoinedStr):
        for part in node.values:
            yield from _raw_strings(part)
    elif isinstance(node, ast.FormattedValue):
        yield from _raw_strings(node.value)
    elif isinstance(node, ast.BinOp):
        yield from _raw_strings(node.left)
        yield from _raw_strings(node.right)
    elif isinstance(node, ast.IfExp):
        yield from _raw_strings(node.body)
        yield from _raw_strings(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _raw_strings(value)
    # Calls are visited on their own: tr()/N_() are fine, Content("...") is a sink.


def untranslated_strings(source: str, filename: str = "<src>") -> list[str]:
    """``file:line: 'text'`` for each literal shown in the UI without tr()/N_()."""
    tree = ast.parse(source, filename)
    lines = source.splitlines()
    found: list[ast.Constant] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            if name in TRANSLATORS:
                continue
            if name in TEXT_CALLS and node.args:
                for arg in node.args if name in ALL_POSITIONAL else node.args[:1]:
                    found.extend(_raw_strings(arg))
            if name in PAIR_CALLS:
                for arg in node.args:
                    pairs = arg.elts if isinstance(arg, ast.List | ast.Tuple) else [arg]
                    if name == "Selection" or (pairs and not isinstance(pairs[0], ast.Tuple)):
                        pairs = [arg]
                    for pair in pairs:
                        if isinstance(pair, ast.Tuple) and pair.elts:
                            found.extend(_raw_strings(pair.elts[0]))
                if name == "Selection" and node.args:
                    found.extend(_raw_strings(node.args[0]))
            if name == "Binding" and len(node.args) >= 3:
                found.extend(_raw_strings(node.args[2]))
            for kw in node.keywords:
                if kw.arg in TEXT_KWARGS:
                    found.extend(_raw_strings(kw.value))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {_name(t) for t in targets}
            if names & TEXT_ATTRS:
                found.extend(_raw_strings(node.value))
            if "BINDINGS" in names and isinstance(node.value, ast.List | ast.Tuple):
                for item in node.value.elts:  # ("key", "action", "Description")
                    if isinstance(item, ast.Tuple) and len(item.elts) >= 3:
                        found.extend(_raw_strings(item.elts[2]))
    return [
        f"{filename}:{c.lineno}: {c.value!r}"
        for c in sorted(found, key=lambda c: c.lineno)
        if PRAGMA not in lines[c.lineno - 1]
    ]


def test_scanner_catches_raw_strings() -> None:
    src = """
from textual.binding import Binding
class S(Screen):
    TITLE = "Services"
    BINDINGS = [("q", "quit", "Quit"), Binding("f1", "help", "Show help")]
    def compose(self):
        yield Label("Hello")
        yield Button("Next ▶", id="next", variant="primary")
        yield Input(placeholder="Type your name")
        yield Static(f"Total: {n}")
        yield TrLabel("Not marked")
        self.notify("Saved", title="Done")
        self.query_one(Static).update(Content("◀ " + "Back"))
        self.sub_title = "Sub" if x else tr(lang, "Fine")
        yield Static("Okay")  # i18n: ignore
        yield Select([("Yes", 1), (tr(lang, "No"), 0)], prompt="Pick one")
        yield RadioSet("Male", N_("Female"))
"""
    found = untranslated_strings(src)
    texts = [line.split(": ", 1)[1] for line in found]
    assert texts == [
        "'Services'", "'Quit'", "'Show help'", "'Hello'", "'Next ▶'", "'Type your name'",
        "'Total: '", "'Not marked'", "'Saved'", "'Done'", "'Back'", "'Sub'",
        "'Yes'", "'Pick one'", "'Male'",
    ]  # fmt: skip


def test_scanner_lets_translated_and_symbolic_strings_pass() -> None:
    src = """
class S(Screen):
    TITLE = N_("Services")
    BINDINGS = [Binding("ctrl+q", "request_exit", show=False)]
    def compose(self):
        yield Label(tr(lang, "Hello"))
        yield TrButton(N_("Back"), prefix="◀ ", id="back", classes="nav-back")
        yield Static("✓", id="tick")
        yield Static("[b]{n}[/b] · 12:00")
        yield Input(id="code", placeholder="ABC-2345-6", restrict=r"[0-9]*")
        yield Button(Content("◌ " + tr(lang, "Offline")))
        self.notify(ntr(lang, "{n} item", "{n} items", n), severity="warning")
        yield Static(id="x", classes="dialog-text")
"""
    assert untranslated_strings(src) == []


def _screen_files() -> list[Path]:
    return sorted((ROOT / "screens").rglob("*.py"))


def test_screens_show_no_untranslated_strings() -> None:
    files = _screen_files()
    if not files:
        pytest.skip("no screens/ modules yet")
    found = [
        line
        for path in files
        for line in untranslated_strings(
            path.read_text(encoding="utf-8"), str(path.relative_to(ROOT))
        )
    ]
    assert not found, (
        "UI text must go through tr()/ntr() or be marked with N_() "
        f"(or end the line with '# {PRAGMA}' when it is not language):\n" + "\n".join(found)
    )


def test_n_marks_without_translating() -> None:
    assert N_("Next") == "Next"


def test_tr_all_gives_every_citizen_language(locale_dir: Path) -> None:
    _write_po(_paths(locale_dir, "ru")[0], "ru", {"Next {n}": "Далее {n}"})
    _write_po(_paths(locale_dir, "uz_Latn")[0], "uz_Latn", {"Next {n}": "Keyingi {n}"})
    every = i18n.tr_all("Next {n}", n=2)
    assert tuple(every) == i18n.CITIZEN_LANGS
    assert {lang: every[lang] for lang in ("uz_Latn", "uz_Cyrl", "ru")} == {
        "uz_Latn": "Keyingi 2",
        "uz_Cyrl": "Кейинги 2",
        "ru": "Далее 2",
    }


def test_update_restores_a_string_that_moved_instead_of_a_fuzzy_guess() -> None:
    ru = Catalog(locale="ru")
    ru.add("calculation", "вычисление")
    ru.add("Education", "Образование")
    template = Catalog()
    template.add("calculation")
    ru.update(template)  # "Education" left the source: now obsolete
    assert "Education" in ru.obsolete
    memory = script._translation_memory(ru)
    template.add("Education")  # ...and came back in another file
    ru.update(template)
    assert ru.get("Education").fuzzy  # Babel alone guesses from "calculation"
    script._restore(ru, memory)
    assert ru.get("Education").string == "Образование"
    assert not ru.get("Education").fuzzy


def unmarked_constants(source: str, filename: str = "<src>") -> list[str]:
    """Msgids pybabel cannot see, so they would stay English: a name bound to a bare
    prose literal (or a dict/list of them) passed to tr()/ntr() (wrap the literal in
    N_()), and a msgid built at run time (f-string, +)."""
    tree = ast.parse(source, filename)
    plain: dict[str, int] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
            continue
        value = node.value
        if isinstance(value, ast.Dict):
            items = [v for v in value.values if v is not None]
        elif isinstance(value, ast.List | ast.Tuple):
            items = list(value.elts)
        else:
            items = [value]
        if any(
            isinstance(v, ast.Constant) and isinstance(v.value, str) and _is_prose(v.value)
            for v in items
        ):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if _name(target):
                    plain[_name(target)] = node.lineno
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in ("tr", "ntr"):
            for arg in node.args[1:3]:
                if isinstance(arg, ast.JoinedStr | ast.BinOp):  # never a catalog msgid
                    found.append(f"{filename}:{arg.lineno}: built msgid")
                if isinstance(arg, ast.Subscript):  # tr(lang, LABELS[key])
                    arg = arg.value
                if _name(arg) in plain:
                    found.append(f"{filename}:{plain[_name(arg)]}: {_name(arg)}")
    return sorted(set(found))


def test_unmarked_constant_detector() -> None:
    src = 'TITLE = "Choose a service"\nOK = N_("Fine")\ndef f(lang):\n'
    src += "    return tr(lang, TITLE) + tr(lang, OK) + tr(lang, self.TITLE)\n"
    src += 'NAMES = {"a": "Approved", "b": N_("Refused")}\nMARKED = {"a": N_("Approved")}\n'
    src += "x = tr(lang, NAMES[k]) + tr(lang, MARKED[k])\n"
    src += 'y = tr(lang, f"Hello {name}") + tr(lang, "Hello " + name)\n'
    assert unmarked_constants(src) == [
        "<src>:1: TITLE",
        "<src>:5: NAMES",
        "<src>:8: built msgid",
    ]


def test_constants_given_to_tr_are_marked_for_extraction() -> None:
    found = [
        line
        for folder in ("kiosk", "sync", "screens")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line in unmarked_constants(
            path.read_text(encoding="utf-8"), str(path.relative_to(ROOT))
        )
    ]
    assert not found, "mark these with N_() so that pybabel extracts them:\n" + "\n".join(found)
