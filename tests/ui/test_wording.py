"""Issue 14, finding 10: wording a citizen reads.

"реэстри" (the Latin "reestri" transliterated with э after a vowel), "Ayol" (woman)
offered as a child's sex, and two spellings of the PINFL's Uzbek name (JShShIR, the
official one, and JSHSHIR).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from textual.widgets import Static

from kiosk.catalog import load_sample
from kiosk.translit import to_cyrillic
from screens.widgets.answers import ChoiceButton
from tests.ui.driver import (
    answer_step,
    choose_language,
    choose_service,
    ready,
    send_keys,
    type_text,
)

ROOT = Path(__file__).resolve().parents[2]


async def reach(pilot: Any, form: str, ref: str, lang: str) -> None:
    await ready(pilot)
    await choose_language(pilot, lang, "keyboard")
    await choose_service(pilot, form, "keyboard")
    sample = load_sample(form)
    for _ in range(60):
        if pilot.app.visit.session.current.ref == ref:
            return
        await answer_step(pilot, sample, "keyboard")
    raise AssertionError(f"never reached {ref}")


def choices_on_screen(app: Any) -> list[str]:
    return [str(button.label) for button in app.screen.query(ChoiceButton)]


def test_ee_after_a_consonant_is_not_e_with_e_oborotnoye() -> None:
    assert to_cyrillic("reestri") == "реестри"
    assert to_cyrillic("Ijtimoiy himoya yagona reestri") == "Ижтимоий ҳимоя ягона реестри"
    assert to_cyrillic("REESTR") == "РЕЕСТР"
    # э after a vowel stays where Uzbek writes it.
    assert to_cyrillic("poeziya") == "поэзия" and to_cyrillic("shoir") == "шоир"


async def test_register_is_spelt_reestr_in_cyrillic(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await reach(pilot, "kindergarten_enrolment", "priority", "uz_Cyrl")
        labels = " ".join(choices_on_screen(app))
        assert "реестри" in labels and "реэстр" not in labels, labels


async def test_a_childs_sex_is_boy_or_girl(make_app) -> None:
    for form in ("kindergarten_enrolment", "child_allowance"):
        app = make_app()
        ref = "child_sex" if form == "kindergarten_enrolment" else "children[1]/child_sex"
        async with app.run_test(size=(120, 40)) as pilot:
            await reach(pilot, form, ref, "uz_Latn")
            labels = " ".join(choices_on_screen(app))
            assert "Qiz" in labels and "Oʻgʻil" in labels, (form, labels)
            assert "Ayol" not in labels and "Erkak" not in labels, (form, labels)


async def test_pinfl_message_uses_the_official_spelling(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await reach(pilot, "criminal_record_certificate", "pinfl", "uz_Latn")
        await send_keys(pilot, "home", "ctrl+k")
        await type_text(pilot, "123")
        await pilot.press("enter")
        await pilot.pause()
        error = str(app.screen.query_one("#q-error", Static).content)
        assert "JShShIR" in error and "JSHSHIR" not in error, error


def test_one_spelling_of_jshshir_everywhere() -> None:
    """Forms, catalogs, code and docs: JShShIR only (the case-insensitive match finds
    every spelling; anything but the official one fails, naming the file)."""
    found = []
    roots = ["kiosk", "screens", "sync", "mahalla", "locales", "docs"]
    for root in roots:
        for path in sorted((ROOT / root).rglob("*")):
            if path.suffix not in {".py", ".md", ".po", ".csv", ".json"}:
                continue
            text = path.read_text(encoding="utf-8")
            for m in re.finditer(r"jshshir", text, re.IGNORECASE):
                if m.group() != "JShShIR":
                    found.append(f"{path.relative_to(ROOT)}: {m.group()}")
    assert not found, found
