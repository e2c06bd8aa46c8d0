"""What a screen says aloud (issue 14, the voice-first pass): everything a citizen can
read on a screen can be heard, numbered actions with their numbers.

The texts are built here, in the citizen's language, from the same message ids the
screens show; the speech layer (kiosk/speech/prepare.py) turns the numbers into words
and spells a code character by character. A numbered item is said as "1: label." so
that the number and the label are heard as one.
"""

from __future__ import annotations

from collections.abc import Iterable

from kiosk.i18n import N_, tr

# The hint under a list longer than nine options (screens/widgets/answers.py), heard
# after the numbered nine as "0: More options: ...".
MORE_OPTIONS = N_("More options: the next nine get the numbers")


def numbered(items: Iterable[tuple[int | str, str]]) -> str:
    """ "1: first. 2: second." from (number, label) pairs."""
    return " ".join(f"{number}: {label.rstrip('.!?:; ')}." for number, label in items)


def more_options(lang: str) -> str:
    return numbered([(0, tr(lang, MORE_OPTIONS))])


def sentences(*parts: str) -> str:
    """Parts joined as sentences, the empty ones left out."""
    out = []
    for part in parts:
        part = part.strip()
        if part:
            out.append(part if part[-1] in ".!?:" else part + ".")
    return " ".join(out)


def spelled(code: str, lang: str) -> str:
    """A tracking code as the ear needs it inside a sentence (character by character)."""
    from kiosk.speech.prepare import code_prompt

    return code_prompt(code, lang)
