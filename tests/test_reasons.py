"""The reason-code registry: every refusal in the code is registered, documented,
translated, and a code the kiosk does not know still reads as something sensible."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from kiosk import languages, reasons
from kiosk.i18n import translation

ROOT = Path(__file__).resolve().parent.parent
# Callables whose first string-literal argument is a reason code.
TAKES_CODE = {
    "Refusal": 0,
    "refusal": 0,
    "rejected": 0,
    "refused": 2,
    "BundleError": 0,
    "DecisionRefused": 0,
    "MonthProblem": 0,
    "ParticipationRefused": 0,
    "_refused": 0,
}
# Keyword arguments naming the code a bounded reader refuses with (sync/bodies.py).
CODE_KEYWORDS = {"too_large", "damaged", "truncated"}


def codes_used_in_source() -> dict[str, list[str]]:
    used: dict[str, list[str]] = {}
    for path in sorted((ROOT / "sync").rglob("*.py")) + sorted((ROOT / "kiosk").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            # ``return "item.field", {...}``: a rule naming the code its caller refuses with.
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
                first = node.value.elts[0] if node.value.elts else None
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    if re.fullmatch(r"[a-z]+\.[a-z_]+", first.value):
                        used.setdefault(first.value, []).append(where)
            # ``_BUNDLE_SHAPE_CODES = {"depth": "bundle.too_deep", ...}``: codes by bound.
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                if any(name.endswith("_SHAPE_CODES") for name in names):
                    for value in node.value.values:
                        if isinstance(value, ast.Constant) and isinstance(value.value, str):
                            used.setdefault(value.value, []).append(where)
            # ``DECISION_STATUSES: dict[...] = {"decision.x": (...)}``: the decision reasons
            # staff give (kiosk/reasons.py), used where a status is set.
            if isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Dict):
                if getattr(node.target, "id", "") == "DECISION_STATUSES":
                    for key in node.value.keys:
                        if isinstance(key, ast.Constant) and isinstance(key.value, str):
                            used.setdefault(key.value, []).append(where)
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg in CODE_KEYWORDS and isinstance(value, ast.Constant):
                    if isinstance(value.value, str):
                        used.setdefault(value.value, []).append(where)
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            at = TAKES_CODE.get(name)
            if at is None or len(node.args) <= at:
                continue
            arg = node.args[at]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                used.setdefault(arg.value, []).append(where)
    return used


def test_every_code_the_code_uses_is_registered() -> None:
    used = codes_used_in_source()
    assert len(used) >= 20  # the scan found the call sites at all
    unknown = {code: where for code, where in used.items() if code not in reasons.REGISTRY}
    assert not unknown


def test_every_registered_code_is_used_and_documented() -> None:
    used = codes_used_in_source()
    doc = (ROOT / "docs" / "sync-protocol.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", doc, flags=re.M))
    assert documented == set(reasons.REGISTRY)
    assert set(reasons.REGISTRY) - set(used) <= {"auth.token", "body.invalid"}


def test_codes_are_stable_names_and_statuses_are_http_or_item() -> None:
    for code, reason in reasons.REGISTRY.items():
        assert re.fullmatch(r"[a-z]+\.[a-z_]+", code) and reason.code == code
        assert reason.status == reasons.ITEM or 400 <= reason.status < 500


@pytest.mark.parametrize("lang", languages.codes())
def test_every_reason_is_translated(lang: str) -> None:
    catalog = translation(lang)
    for reason in reasons.REGISTRY.values():
        said = catalog.gettext(reason.msgid)
        if lang != "en":
            assert said != reason.msgid, (lang, reason.code)
        placeholders = {n for _, n, _, _ in string.Formatter().parse(said) if n}
        assert placeholders == reason.params, (lang, reason.code)


def test_a_refusal_needs_every_param_and_carries_english_detail() -> None:
    with pytest.raises(ValueError, match="limit"):
        reasons.refusal("batch.too_many_items")
    with pytest.raises(KeyError):
        reasons.refusal("no.such_code")
    body = reasons.refusal("item.unknown_form", form_id="pension", form_version=3)
    assert body == {
        "code": "item.unknown_form",
        "params": {"form_id": "pension", "form_version": "3"},
        "detail": "The portal does not know form pension version 3.",
    }


def test_the_kiosk_says_a_refusal_in_its_language_whatever_arrives() -> None:
    params = {"form_id": "pension", "form_version": "3"}
    assert reasons.say("ru", "item.unknown_form", params) == (
        "Портал не знает форму pension версии 3."
    )
    # A newer portal's code: the kiosk's own words naming the code, never the portal's
    # English detail (issue 14); never a crash.
    said = reasons.say("ru", "item.from_the_future", {}, "Too new")
    assert "Too new" not in said and "item.from_the_future" in said and "Портал" in said
    assert "item.from_the_future" in reasons.say("uz_Latn", "item.from_the_future")
    # A "code" that is a sentence is not repeated; a known code's free text is not shown.
    assert "Too new" not in reasons.say("ru", "Too new for you", {}, "Too new")
    assert "Too new" not in reasons.say("ru", "item.answers", {"detail": "Too new"})
    prose = {"form_id": "unknown form", "form_version": "1"}
    assert "unknown form" not in reasons.say("ru", "item.unknown_form", prose)
    assert "unknown_form" in reasons.say("ru", "item.unknown_form", {"form_id": 1})
    for junk in (None, 7, ["x"], {"a": 1}):
        assert reasons.say("kaa", junk, junk, junk)
